// The console's entry point: tabs, the key, then each page.
import { init } from './api.js';
import { initChat, loadModels } from './chat.js';
import { initDashboards } from './dashboards.js';

let active = 'chat';
let pages = {};

function show(tab) {
  active = tab;
  for (const b of document.querySelectorAll('nav button')) {
    b.classList.toggle('active', b.dataset.tab === tab);
  }
  for (const s of document.querySelectorAll('section.tab')) {
    s.hidden = s.id !== 'tab-' + tab;
  }
  if (tab === 'chat') {
    loadModels();
  }
  pages[tab]?.();
  history.replaceState(null, '', '#' + tab);
}

async function main() {
  for (const b of document.querySelectorAll('nav button')) {
    b.onclick = () => show(b.dataset.tab);
  }
  initChat();
  pages = initDashboards(() => active);
  await init();
  document.body.dataset.ready = 'true';
  show(location.hash.slice(1) || 'chat');
}

main();
