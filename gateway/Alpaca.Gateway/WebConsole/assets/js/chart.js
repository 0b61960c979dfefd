// A small SVG line chart (no library, nothing fetched): points [{x, y}], redrawn as points are added.
const Svg = 'http://www.w3.org/2000/svg';

function el(name, attributes, parent) {
  const node = document.createElementNS(Svg, name);
  for (const [k, v] of Object.entries(attributes)) {
    node.setAttribute(k, v);
  }
  parent?.appendChild(node);
  return node;
}

function niceTicks(min, max, count) {
  if (max === min) {
    return [min];
  }
  const step = Math.pow(10, Math.floor(Math.log10((max - min) / count)));
  const multiple = [1, 2, 5, 10].find(m => (max - min) / (step * m) <= count) ?? 10;
  const s = step * multiple;
  const ticks = [];
  for (let t = Math.ceil(min / s) * s; t <= max + 1e-12; t += s) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

export class LineChart {
  constructor(container, { xLabel = 'x', yLabel = 'y' } = {}) {
    this.container = container;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.points = [];
    this.draw();
  }

  clear() {
    this.points = [];
    this.draw();
  }

  // Adds a point unless one with the same x is there already (a watch repeats a step's snapshot).
  add(x, y) {
    if (!Number.isFinite(x) || !Number.isFinite(y) || this.points.some(p => p.x === x)) {
      return false;
    }
    this.points.push({ x, y });
    this.points.sort((a, b) => a.x - b.x);
    this.draw();
    return true;
  }

  draw() {
    const width = this.container.clientWidth || 600;
    const height = this.container.clientHeight || 260;
    const pad = { left: 52, right: 16, top: 12, bottom: 34 };
    this.container.replaceChildren();
    this.container.dataset.points = String(this.points.length);
    const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${this.yLabel} by ${this.xLabel}` }, this.container);
    const w = width - pad.left - pad.right;
    const h = height - pad.top - pad.bottom;
    const xs = this.points.map(p => p.x);
    const ys = this.points.map(p => p.y);
    const xMin = xs.length ? Math.min(...xs) : 0;
    const xMax = xs.length ? Math.max(...xs) : 1;
    const yMin = ys.length ? Math.min(0, Math.min(...ys)) : 0;
    const yMax = ys.length ? Math.max(...ys) * 1.05 || 1 : 1;
    const sx = x => pad.left + (xMax === xMin ? w / 2 : ((x - xMin) / (xMax - xMin)) * w);
    const sy = y => pad.top + h - ((y - yMin) / (yMax - yMin || 1)) * h;

    for (const t of niceTicks(yMin, yMax, 5)) {
      el('line', { class: 'grid', x1: pad.left, x2: pad.left + w, y1: sy(t), y2: sy(t) }, svg);
      el('text', { x: pad.left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, svg).textContent = String(t);
    }
    for (const t of niceTicks(xMin, xMax, 8).filter(t => Number.isInteger(t))) {
      el('text', { x: sx(t), y: pad.top + h + 16, 'text-anchor': 'middle' }, svg).textContent = String(t);
    }
    el('line', { class: 'axis', x1: pad.left, x2: pad.left, y1: pad.top, y2: pad.top + h }, svg);
    el('line', { class: 'axis', x1: pad.left, x2: pad.left + w, y1: pad.top + h, y2: pad.top + h }, svg);
    el('text', { x: pad.left + w / 2, y: height - 4, 'text-anchor': 'middle' }, svg).textContent = this.xLabel;
    el('text', { x: 12, y: pad.top + h / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${pad.top + h / 2})` }, svg).textContent = this.yLabel;
    if (this.points.length === 0) {
      el('text', { x: pad.left + w / 2, y: pad.top + h / 2, 'text-anchor': 'middle' }, svg).textContent = 'no points yet';
      return;
    }
    el('polyline', { class: 'line', 'data-testid': 'loss-line', points: this.points.map(p => `${sx(p.x)},${sy(p.y)}`).join(' ') }, svg);
    for (const p of this.points) {
      el('circle', { class: 'point', cx: sx(p.x), cy: sy(p.y), r: 2.5 }, svg);
    }
  }
}
