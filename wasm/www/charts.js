// Hand-drawn canvas charts: line, bars, scatter. No dependencies. They draw the numbers they
// are given (from the WASM module); metrics are never computed here.

const PAD = { l: 52, r: 12, t: 10, b: 26 };
const INK = '#1d2330';
const MUTED = '#667085';
const GRID = '#e6e9ef';

function setup(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px system-ui, sans-serif';
  return {
    ctx,
    w: canvas.width - PAD.l - PAD.r,
    h: canvas.height - PAD.t - PAD.b,
  };
}

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

function axes(c, xlo, xhi, ylo, yhi, xlabel) {
  const { ctx, w, h } = c;
  const X = (x) => PAD.l + ((x - xlo) / (xhi - xlo || 1)) * w;
  const Y = (y) => PAD.t + h - ((y - ylo) / (yhi - ylo || 1)) * h;
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of niceTicks(ylo, yhi)) {
    if (t < ylo || t > yhi) continue;
    ctx.beginPath();
    ctx.moveTo(PAD.l, Y(t));
    ctx.lineTo(PAD.l + w, Y(t));
    ctx.stroke();
    ctx.fillText(fmt(t), PAD.l - 4, Y(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of niceTicks(xlo, xhi, 6)) {
    if (t < xlo || t > xhi) continue;
    ctx.fillText(fmt(t), X(t), PAD.t + h + 4);
  }
  if (xlabel) {
    ctx.textAlign = 'right';
    ctx.fillText(xlabel, PAD.l + w, PAD.t + h + 14);
  }
  ctx.strokeStyle = MUTED;
  ctx.beginPath();
  ctx.moveTo(PAD.l, PAD.t);
  ctx.lineTo(PAD.l, PAD.t + h);
  ctx.lineTo(PAD.l + w, PAD.t + h);
  ctx.stroke();
  return { X, Y };
}

function empty(c, text) {
  c.ctx.fillStyle = MUTED;
  c.ctx.textAlign = 'center';
  c.ctx.fillText(text, PAD.l + c.w / 2, PAD.t + c.h / 2);
}

/** Line chart of one or more series `[{ys, color, label}]` against their index. */
export function lineChart(canvas, series, { xlabel = '', baseline = null } = {}) {
  const c = setup(canvas);
  const all = series.flatMap((s) => s.ys);
  if (all.length === 0) return empty(c, 'no data yet');
  let ylo = Math.min(...all);
  let yhi = Math.max(...all);
  if (baseline !== null) { ylo = Math.min(ylo, baseline); yhi = Math.max(yhi, baseline); }
  const padY = (yhi - ylo) * 0.05 || Math.abs(yhi) * 0.01 || 1;
  const n = Math.max(...series.map((s) => s.ys.length));
  const { X, Y } = axes(c, 0, Math.max(1, n - 1), ylo - padY, yhi + padY, xlabel);
  const { ctx } = c;
  if (baseline !== null) {
    ctx.strokeStyle = '#b0b7c3';
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(X(0), Y(baseline));
    ctx.lineTo(X(Math.max(1, n - 1)), Y(baseline));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  series.forEach((s, k) => {
    ctx.strokeStyle = s.color || INK;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    // Decimate to at most ~2 points per pixel.
    const stride = Math.max(1, Math.floor(s.ys.length / (c.w * 2)));
    for (let i = 0; i < s.ys.length; i += stride) {
      if (i === 0) ctx.moveTo(X(i), Y(s.ys[i]));
      else ctx.lineTo(X(i), Y(s.ys[i]));
    }
    ctx.lineTo(X(s.ys.length - 1), Y(s.ys[s.ys.length - 1]));
    ctx.stroke();
    ctx.lineWidth = 1;
    if (s.ys.length <= 60) {
      ctx.fillStyle = s.color || INK;
      s.ys.forEach((y, i) => { ctx.beginPath(); ctx.arc(X(i), Y(y), 2.5, 0, 2 * Math.PI); ctx.fill(); });
    }
    if (s.label) {
      ctx.fillStyle = s.color || INK;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(s.label, PAD.l + 6, PAD.t + 2 + 12 * k);
    }
  });
}

/** Vertical bars with category labels. `colors` may be a function of the index. */
export function barChart(canvas, labels, values, { color = '#2e5aac', labelEvery = 1 } = {}) {
  const c = setup(canvas);
  if (values.length === 0 || values.every((v) => v === 0)) return empty(c, 'no data yet');
  const { ctx, w, h } = c;
  const yhi = Math.max(...values) * 1.08;
  const Y = (y) => PAD.t + h - (y / yhi) * h;
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of niceTicks(0, yhi)) {
    if (t > yhi) continue;
    ctx.beginPath();
    ctx.moveTo(PAD.l, Y(t));
    ctx.lineTo(PAD.l + w, Y(t));
    ctx.stroke();
    ctx.fillText(fmt(t), PAD.l - 4, Y(t));
  }
  const bw = w / values.length;
  values.forEach((v, i) => {
    ctx.fillStyle = typeof color === 'function' ? color(i) : color;
    const x = PAD.l + i * bw + bw * 0.12;
    ctx.fillRect(x, Y(v), bw * 0.76, PAD.t + h - Y(v));
    if (i % labelEvery === 0) {
      ctx.fillStyle = MUTED;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(labels[i], PAD.l + (i + 0.5) * bw, PAD.t + h + 4);
    }
  });
  ctx.strokeStyle = MUTED;
  ctx.beginPath();
  ctx.moveTo(PAD.l, PAD.t);
  ctx.lineTo(PAD.l, PAD.t + h);
  ctx.lineTo(PAD.l + w, PAD.t + h);
  ctx.stroke();
}

/** Scatter of `{x, y}` points (no fit: the statistics come from the module's report). */
export function scatter(canvas, points, { xlabel = '', empty: emptyText = 'no round trips yet' } = {}) {
  const c = setup(canvas);
  if (points.length === 0) return empty(c, emptyText);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  let xlo = Math.min(0, ...xs);
  let xhi = Math.max(0, ...xs);
  const padX = (xhi - xlo) * 0.05 || 1;
  if (xlo < 0) xlo -= padX;
  xhi += padX;
  let ylo = Math.min(0, ...ys);
  let yhi = Math.max(0, ...ys);
  const pad = (yhi - ylo) * 0.08 || 1;
  ylo -= pad;
  yhi += pad;
  const { X, Y } = axes(c, xlo, xhi, ylo, yhi, xlabel);
  const { ctx } = c;
  ctx.strokeStyle = '#b0b7c3';
  ctx.beginPath();
  ctx.moveTo(X(xlo), Y(0));
  ctx.lineTo(X(xhi), Y(0));
  ctx.stroke();
  for (const p of points) {
    ctx.fillStyle = p.y > 0 ? 'rgba(26,127,75,0.7)' : 'rgba(180,35,24,0.7)';
    ctx.beginPath();
    ctx.arc(X(p.x), Y(p.y), 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}
