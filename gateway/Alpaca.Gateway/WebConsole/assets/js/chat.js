// The chat playground: tokens stream from the OpenAI routes as server-sent events read from the fetch body;
// Stop aborts the request, and the server cancels the generation when the connection goes.
import { request, sse, failure } from './api.js';
import { alpacaPrompt } from './prompt.js';

const $ = id => document.getElementById(id);
let conversation = [];
let controller = null;

export function initChat() {
  $('chat-send').onclick = send;
  $('chat-stop').onclick = () => controller?.abort();
  $('models-refresh').onclick = loadModels;
  $('chat-clear').onclick = () => { conversation = []; renderTranscript(); $('chat-output').textContent = ''; $('chat-stats').textContent = ''; };
  $('chat-mode').onchange = () => {
    const instruction = $('chat-mode').value === 'instruction';
    $('input-label').hidden = !instruction;
    $('instruction-label').firstChild.textContent = instruction ? 'Instruction' : 'Message';
    $('chat-clear').hidden = instruction;
    $('chat-transcript').hidden = instruction;
  };
  $('chat-input').addEventListener('keydown', e => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      send();
    }
  });
}

export async function loadModels() {
  const select = $('model-select');
  const previous = select.value;
  const response = await request('/v1/models');
  if (!response.ok) {
    $('chat-state').textContent = (await failure(response)).message;
    return;
  }
  const models = (await response.json()).data.map(m => m.id);
  select.replaceChildren(...models.map(id => new Option(id, id)));
  if (models.includes(previous)) {
    select.value = previous;
  }
  $('chat-state').textContent = models.length ? '' : 'No model is loaded: load one on the Models tab.';
}

function sampling() {
  const number = id => ($(id).value === '' ? undefined : Number($(id).value));
  const stop = $('stop').value.split('\n').filter(s => s !== '');
  const body = {
    model: $('model-select').value || undefined,
    temperature: number('temperature'),
    top_p: number('top-p'),
    top_k: number('top-k'),
    max_tokens: number('max-tokens'),
    seed: number('seed'),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (stop.length) {
    body.stop = stop;
  }
  if ($('ignore-eos').checked) {
    body.ignore_eos = true;
  }
  return body;
}

function renderTranscript() {
  const turns = conversation.map(m => {
    const div = document.createElement('div');
    div.className = 'turn';
    const role = document.createElement('span');
    role.className = 'role';
    role.textContent = m.role === 'user' ? 'You' : 'Model';
    div.append(role, document.createTextNode(m.content));
    return div;
  });
  $('chat-transcript').replaceChildren(...turns);
}

async function send() {
  const text = $('chat-input').value;
  if (controller || text.trim() === '') {
    return;
  }
  const instruction = $('chat-mode').value === 'instruction';
  const body = sampling();
  let url;
  if (instruction) {
    url = '/v1/completions';
    body.prompt = alpacaPrompt(text, $('chat-extra').value);
    $('chat-prompt').textContent = body.prompt;
  } else {
    url = '/v1/chat/completions';
    body.messages = [...conversation, { role: 'user', content: text }];
    $('chat-prompt').textContent = JSON.stringify(body.messages, null, 2);
  }

  const output = $('chat-output');
  output.textContent = '';
  $('chat-stats').textContent = '';
  $('chat-state').textContent = 'generating…';
  $('chat-send').disabled = true;
  $('chat-stop').disabled = false;
  controller = new AbortController();
  const started = performance.now();
  let first = null;
  let last = null;
  let chunks = 0;
  let usage = null;
  let finish = null;
  let stopped = false;
  let answer = '';
  try {
    const response = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal: controller.signal });
    if (!response.ok) {
      throw await failure(response);
    }
    for await (const event of sse(response)) {
      if (event.data === '[DONE]') {
        break;
      }
      const chunk = JSON.parse(event.data);
      if (chunk.usage) {
        usage = chunk.usage;
      }
      const choice = chunk.choices?.[0];
      if (!choice) {
        continue;
      }
      const delta = instruction ? choice.text : choice.delta?.content;
      if (delta) {
        const now = performance.now();
        first ??= now;
        last = now;
        chunks++;
        answer += delta;
        output.textContent = answer;
      }
      finish = choice.finish_reason ?? finish;
    }
  } catch (e) {
    if (e.name === 'AbortError') {
      stopped = true;
    } else {
      $('chat-state').textContent = 'error: ' + e.message;
    }
  } finally {
    controller = null;
    $('chat-send').disabled = false;
    $('chat-stop').disabled = true;
  }

  const tokens = usage?.completion_tokens ?? chunks;
  const parts = [];
  if (first !== null) {
    parts.push(`time to first token ${Math.round(first - started)} ms`);
    const seconds = (last - first) / 1000;
    if (tokens > 1 && seconds > 0) {
      parts.push(`${((tokens - 1) / seconds).toFixed(1)} tokens/s`);
    }
  }
  parts.push(`${usage ? '' : '≈'}${tokens} tokens`);
  parts.push(stopped ? 'stopped' : `finish: ${finish ?? '?'}`);
  $('chat-stats').textContent = parts.join(' · ');
  if (stopped) {
    $('chat-state').textContent = 'stopped';
  } else if ($('chat-state').textContent === 'generating…') {
    $('chat-state').textContent = 'done';
  }
  if (!instruction && answer !== '') {
    conversation.push({ role: 'user', content: text }, { role: 'assistant', content: answer });
    renderTranscript();
    $('chat-input').value = '';
  }
}
