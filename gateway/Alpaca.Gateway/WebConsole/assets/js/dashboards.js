// The dashboards: generation runs, dedup namespaces, training jobs (with a live loss chart) and models, read
// through the gRPC bridge; reports from the reports folder.
import { grpc, watch, request, failure } from './api.js';
import { LineChart } from './chart.js';
import { loadModels as reloadChatModels } from './chat.js';

const $ = id => document.getElementById(id);
const PollMs = 1500;

function cells(row, values) {
  row.replaceChildren(...values.map(v => {
    const td = document.createElement('td');
    if (v instanceof Node) {
      td.append(v);
    } else {
      td.textContent = v ?? '';
    }
    return td;
  }));
  return row;
}

const short = state => (state ?? '').replace(/^[A-Z]+_STATE_/, '').toLowerCase();
const time = ts => (ts ? new Date(ts).toLocaleTimeString() : '');
const num = v => (v === undefined || v === null || v === '' ? '' : Number(v));
const fixed = (v, digits) => (v === undefined || v === null ? '' : Number(v).toFixed(digits));

function duration(d) {
  if (!d) {
    return '';
  }
  const s = Math.round(parseFloat(d));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

// Runs `refresh` every PollMs while `active()` holds (the tab is shown); one loop at a time.
function poll(refresh, active) {
  let looping = false;
  const loop = async () => {
    looping = true;
    try {
      while (active()) {
        await refresh();
        await new Promise(resolve => setTimeout(resolve, PollMs));
      }
    } finally {
      looping = false;
    }
  };
  return () => { if (!looping) { loop(); } };
}

function showError(id, e) {
  $(id).textContent = e ? `${e.code ?? ''} ${e.message}`.trim() : '';
}

// Generation runs.
async function refreshRuns() {
  try {
    const { runs } = await grpc('GeneratorService', 'ListRuns', { pageSize: 50 });
    $('runs-body').replaceChildren(...runs.map(run => {
      const p = run.progress ?? {};
      const reasons = Object.entries(p.rejectedByReason ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ');
      const row = cells(document.createElement('tr'), [run.spec?.displayName || run.id, short(run.state), num(p.rounds), num(p.generated), num(p.kept), reasons, fixed(p.keptPerMinute, 1), time(run.updatedAt)]);
      row.dataset.run = run.id;
      return row;
    }));
    showError('runs-error', null);
  } catch (e) {
    showError('runs-error', e);
  }
}

// Dedup namespaces.
async function refreshDedup() {
  try {
    const { namespaces } = await grpc('DedupService', 'ListNamespaces', { pageSize: 100 });
    $('dedup-body').replaceChildren(...namespaces.map(n => cells(document.createElement('tr'),
      [n.namespace, num(n.seedCount), num(n.poolSize), num(n.decided), num(n.kept), num(n.rejected), num(n.pairsScored), num(n.pairsAvoided), time(n.createdAt)])));
    showError('dedup-error', null);
  } catch (e) {
    showError('dedup-error', e);
  }
}

// Training jobs; the selected one (by default the newest that is not finished) is watched and its loss drawn.
let chart = null;
let watchedJob = null;
let watchController = null;
let pinnedJob = null;
const ended = state => ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(state);

async function refreshJobs() {
  try {
    const { jobs } = await grpc('TrainerService', 'ListJobs', { pageSize: 50 });
    $('jobs-body').replaceChildren(...jobs.map(job => {
      const p = job.progress ?? {};
      const row = cells(document.createElement('tr'), [job.id, job.spec?.modelName || '', short(job.state), `${num(p.step)} / ${num(p.totalSteps)}`, fixed(p.epoch, 2), fixed(p.loss, 4), fixed(p.tokensPerSecond, 0), duration(p.eta)]);
      row.dataset.job = job.id;
      row.classList.toggle('selected', job.id === watchedJob);
      row.onclick = () => { pinnedJob = job.id; watchJob(job.id); };
      return row;
    }));
    const target = pinnedJob ?? jobs.find(j => !ended(j.state))?.id ?? jobs[0]?.id;
    if (target && target !== watchedJob) {
      watchJob(target);
    }
    showError('jobs-error', null);
  } catch (e) {
    showError('jobs-error', e);
  }
}

function watchJob(id) {
  watchController?.abort();
  watchedJob = id;
  chart.clear();
  $('loss-job').textContent = id;
  const controller = new AbortController();
  watchController = controller;
  watch('TrainerService', 'WatchJob', { jobId: id }, ({ job }) => {
    const p = job.progress ?? {};
    if (Number(p.step) > 0) {
      chart.add(Number(p.step), Number(p.loss));
    }
    $('loss-job').textContent = `${id} · ${short(job.state)}`;
  }, controller.signal).catch(e => {
    if (e.name !== 'AbortError') {
      showError('jobs-error', e);
    }
  });
}

// Models: load, unload, make default (admin).
async function refreshModels() {
  try {
    const { models } = await grpc('InferenceService', 'ListModels', {});
    $('models-body').replaceChildren(...models.map(m => {
      const actions = document.createElement('span');
      if (m.state === 'MODEL_STATE_READY') {
        if (!m.isDefault) {
          actions.append(button('make default', 'make-default', () => act('SetDefaultModel', { model: m.name })));
        }
        actions.append(' ', button('unload', 'unload', () => act('UnloadModel', { model: m.name })));
      }
      const row = cells(document.createElement('tr'), [m.name, short(m.state), m.isDefault ? 'default' : '', m.quantization, num(m.parameterCount)?.toLocaleString(), num(m.contextLength), m.path, actions]);
      row.dataset.model = m.name;
      return row;
    }));
    showError('models-error', null);
  } catch (e) {
    showError('models-error', e);
  }
}

function button(text, testid, onclick) {
  const b = document.createElement('button');
  b.textContent = text;
  b.dataset.testid = testid;
  b.onclick = onclick;
  return b;
}

async function act(method, body) {
  try {
    await grpc('InferenceService', method, body);
    showError('models-error', null);
  } catch (e) {
    showError('models-error', e);
  }
  await refreshModels();
  await reloadChatModels();
}

// Reports: listed from the reports folder, opened in a sandboxed frame (an opaque origin without the key).
async function refreshReports() {
  const response = await request('/console/api/reports');
  if (!response.ok) {
    showError('reports-error', await failure(response));
    return;
  }
  const { configured, reports } = await response.json();
  showError('reports-error', configured ? null : { message: 'No reports folder is configured (Alpaca:Console:ReportsDir).' });
  $('reports-list').replaceChildren(...reports.map(r => {
    const li = document.createElement('li');
    const open = button(r.path, 'report-link', () => openReport(r.path));
    li.append(open, ` · ${(r.size / 1024).toFixed(1)} KiB · ${new Date(r.modified).toLocaleString()}`);
    return li;
  }));
}

async function openReport(path) {
  const response = await request('/console/api/reports/' + path.split('/').map(encodeURIComponent).join('/'));
  if (!response.ok) {
    showError('reports-error', await failure(response));
    return;
  }
  const frame = $('report-frame');
  frame.srcdoc = await response.text();
  frame.hidden = false;
}

export function initDashboards(activeTab) {
  chart = new LineChart($('loss-chart'), { xLabel: 'step', yLabel: 'loss' });
  $('load-form').addEventListener('submit', e => {
    e.preventDefault();
    act('LoadModel', { path: $('load-path').value, name: $('load-name').value, makeDefault: $('load-default').checked });
  });
  return {
    runs: poll(refreshRuns, () => activeTab() === 'runs'),
    dedup: poll(refreshDedup, () => activeTab() === 'dedup'),
    training: poll(refreshJobs, () => activeTab() === 'training'),
    models: poll(refreshModels, () => activeTab() === 'models'),
    reports: refreshReports,
  };
}
