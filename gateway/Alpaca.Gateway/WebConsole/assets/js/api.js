// Calls to the platform: the OpenAI routes (/v1), the gRPC bridge (/console/api/grpc) and the reports. The API key
// lives in sessionStorage only (this tab), and is asked for when the platform has authentication.
const KeyName = 'alpaca.apiKey';
let authEnabled = true;
let keyWaiters = [];

export const key = {
  get: () => sessionStorage.getItem(KeyName),
  set: (value) => sessionStorage.setItem(KeyName, value),
  forget: () => sessionStorage.removeItem(KeyName),
};

export async function init() {
  const info = await fetch('/console/api/info').then(r => r.json());
  authEnabled = info.auth;
  const forget = document.getElementById('forget-key');
  forget.hidden = !authEnabled;
  forget.onclick = () => { key.forget(); askForKey(); };
  document.getElementById('key-form').addEventListener('submit', () => {
    key.set(document.getElementById('key-input').value.trim());
    document.getElementById('key-input').value = '';
    const waiters = keyWaiters;
    keyWaiters = [];
    waiters.forEach(w => w());
  });
  if (authEnabled && !key.get()) {
    await askForKey();
  }
}

// Shows the key dialog (again, with a reason after a refusal) and resolves once a key was entered.
export function askForKey(reason = '') {
  document.getElementById('key-error').textContent = reason;
  const dialog = document.getElementById('key-dialog');
  if (!dialog.open) {
    dialog.showModal();
  }
  return new Promise(resolve => keyWaiters.push(resolve));
}

function headers(extra = {}) {
  const h = { ...extra };
  const k = key.get();
  if (authEnabled && k) {
    h.Authorization = 'Bearer ' + k;
  }
  return h;
}

// fetch with the key; a 401 asks for a key and retries once it is given.
export async function request(url, init = {}) {
  for (;;) {
    const response = await fetch(url, { ...init, headers: headers(init.headers) });
    if (response.status !== 401 || !authEnabled) {
      return response;
    }
    key.forget();
    await askForKey('That key was refused: enter a valid one.');
  }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const e = body?.error ?? {};
  return new ApiError(response.status, e.code ?? String(response.status), e.message ?? response.statusText);
}

// A unary gRPC method through the bridge, request and reply in protobuf JSON.
export async function grpc(service, method, body = {}, signal = undefined) {
  const response = await request(`/console/api/grpc/alpaca.v1.${service}/${method}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal,
  });
  if (!response.ok) {
    throw await failure(response);
  }
  return response.json();
}

// A server-streaming gRPC method through the bridge: calls onMessage for every reply until the stream ends.
export async function watch(service, method, body, onMessage, signal) {
  const response = await request(`/console/api/grpc/alpaca.v1.${service}/${method}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal,
  });
  if (!response.ok) {
    throw await failure(response);
  }
  for await (const event of sse(response)) {
    if (event.event === 'error') {
      const e = JSON.parse(event.data).error;
      throw new ApiError(200, e.code, e.message);
    }
    if (event.event === 'end') {
      return;
    }
    onMessage(JSON.parse(event.data));
  }
}

// Server-sent events from a fetch body, read as they arrive (EventSource cannot send the Authorization header).
export async function* sse(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      break;
    }
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) {
          event.event = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          event.data += (event.data ? '\n' : '') + line.slice(5).replace(/^ /, '');
        }
      }
      yield event;
    }
  }
}

export { failure };
