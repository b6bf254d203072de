/**
 * Just enough hand-written SVG for the HTML report: scales, axes and line paths.
 * Everything is a string so the report stays one self-contained file with no chart library.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Scale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly ticks: readonly number[];
}

export interface PlotArea {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Text from the result file goes into markup: a label like `<script>` must stay text. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Two decimals are plenty at chart resolution and keep the document small. */
export function round(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : '0';
}

/** A step of 1, 2 or 5 times a power of ten, so tick labels read as round numbers. */
export function niceStep(roughStep: number): number {
  if (!(roughStep > 0) || !Number.isFinite(roughStep)) return 1;
  const power = 10 ** Math.floor(Math.log10(roughStep));
  const fraction = roughStep / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

export function linearTicks(lo: number, hi: number, approxCount: number): number[] {
  const step = niceStep((hi - lo) / Math.max(1, approxCount));
  const ticks: number[] = [];
  // Rounding to the step's precision avoids labels like 0.30000000000000004.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(digits)));
  return ticks;
}

/** Zero to a round number at or above max: counts and rates start at zero so heights compare. */
export function zeroBasedDomain(max: number, approxTicks = 5): [number, number] {
  if (!(max > 0)) return [0, 1];
  const step = niceStep(max / approxTicks);
  return [0, Math.ceil(max / step) * step];
}

/** Math.max(...values) overflows the call stack on an hour-long timeline: fold instead. */
export function maxOf(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(b, a), -Infinity);
}

export function minOf(values: readonly number[]): number {
  return values.reduce((a, b) => Math.min(b, a), Infinity);
}

/** Whole decades around the values: a log axis that starts mid-decade is hard to read. */
export function decadeDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [0.1, 10];
  const lo = 10 ** Math.floor(Math.log10(minOf(positive)));
  let hi = 10 ** Math.ceil(Math.log10(maxOf(positive)));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

/** Decades, plus 2 and 5 when there are few decades, so a narrow range still has several labels. */
export function logTicks(lo: number, hi: number): number[] {
  const decades = Math.round(Math.log10(hi / lo));
  const multiples = decades <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let p = Math.round(Math.log10(lo)); p <= Math.round(Math.log10(hi)); p++) {
    for (const m of multiples) {
      const v = Number((m * 10 ** p).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number], ticks?: readonly number[]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const scale = (value: number) => r0 + ((value - d0) / span) * (r1 - r0);
  return Object.assign(scale, { domain, ticks: ticks ?? linearTicks(d0, d1, 5) });
}

/** Values at or below zero cannot be placed on a log axis: they sit on its lower edge. */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [l0, l1] = [Math.log10(domain[0]), Math.log10(domain[1])];
  const [r0, r1] = range;
  const scale = (value: number) => {
    const clamped = Math.min(Math.max(value, domain[0]), domain[1]);
    return r0 + ((Math.log10(clamped) - l0) / (l1 - l0 || 1)) * (r1 - r0);
  };
  return Object.assign(scale, { domain, ticks: logTicks(domain[0], domain[1]) });
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (abs >= 1) return String(Number(value.toPrecision(4)));
  return String(Number(value.toPrecision(2)));
}

/**
 * A path through the points, broken where a point is null: a gap in the data (no completed
 * operation in a bucket) shows as a gap, not as a line across it.
 */
export function linePath(points: readonly (Point | null)[]): string {
  let d = '';
  let drawing = false;
  for (const p of points) {
    if (p === null) {
      drawing = false;
      continue;
    }
    d += `${drawing ? 'L' : 'M'}${round(p.x)} ${round(p.y)}`;
    drawing = true;
  }
  return d;
}

/**
 * At most two points per group (its lowest and highest, in time order): an hour of 100 ms buckets
 * would otherwise put 36,000 points on 1,000 pixels, while spikes and dips must stay visible.
 */
export function decimate<T extends { value: number }>(points: readonly (T | null)[], maxGroups: number): (T | null)[] {
  if (points.length <= maxGroups * 2) return [...points];
  const size = Math.ceil(points.length / maxGroups);
  const out: (T | null)[] = [];
  for (let start = 0; start < points.length; start += size) {
    const group = points.slice(start, start + size).filter((p): p is T => p !== null);
    if (group.length === 0) {
      out.push(null);
      continue;
    }
    let low = group[0]!;
    let high = group[0]!;
    for (const p of group) {
      if (p.value < low.value) low = p;
      if (p.value > high.value) high = p;
    }
    if (low === high) out.push(low);
    else out.push(...(group.indexOf(low) < group.indexOf(high) ? [low, high] : [high, low]));
  }
  return out;
}

/** Rough width of sans-serif text: enough to lay legends out without measuring in a browser. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** `anchorOf`: where a tick's label sits on its tick, for ticks too close to centre both labels. */
export function xAxis(
  area: PlotArea,
  scale: Scale,
  format: (v: number) => string,
  label: string,
  anchorOf: (v: number) => 'start' | 'middle' | 'end' = () => 'middle',
): string {
  const parts = scale.ticks.map((v) => {
    const x = round(scale(v));
    return `<line class="grid" x1="${x}" y1="${area.top}" x2="${x}" y2="${area.bottom}"/><line class="tick" x1="${x}" y1="${area.bottom}" x2="${x}" y2="${area.bottom + 5}"/><text x="${x}" y="${area.bottom + 19}" text-anchor="${anchorOf(v)}">${escapeXml(format(v))}</text>`;
  });
  const mid = round((area.left + area.right) / 2);
  return `<g class="axis x-axis">${parts.join('')}<line class="domain" x1="${area.left}" y1="${area.bottom}" x2="${area.right}" y2="${area.bottom}"/><text class="axis-label" x="${mid}" y="${area.bottom + 40}" text-anchor="middle">${escapeXml(label)}</text></g>`;
}

export function yAxis(area: PlotArea, scale: Scale, format: (v: number) => string, label: string): string {
  const parts = scale.ticks.map((v) => {
    const y = round(scale(v));
    return `<line class="grid" x1="${area.left}" y1="${y}" x2="${area.right}" y2="${y}"/><line class="tick" x1="${area.left - 5}" y1="${y}" x2="${area.left}" y2="${y}"/><text x="${area.left - 8}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(format(v))}</text>`;
  });
  const mid = round((area.top + area.bottom) / 2);
  return `<g class="axis y-axis">${parts.join('')}<line class="domain" x1="${area.left}" y1="${area.top}" x2="${area.left}" y2="${area.bottom}"/><text class="axis-label" transform="translate(16 ${mid}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text></g>`;
}

/** Marks drawn outside the plot (a clamped outlier, a long fault window) would cover the axes. */
export function clipRect(id: string, area: PlotArea): string {
  return `<clipPath id="${id}"><rect x="${area.left}" y="${area.top}" width="${round(area.right - area.left)}" height="${round(area.bottom - area.top)}"/></clipPath>`;
}

export function noDataNote(area: PlotArea, text: string): string {
  return `<text class="no-data" x="${round((area.left + area.right) / 2)}" y="${round((area.top + area.bottom) / 2)}" text-anchor="middle">${escapeXml(text)}</text>`;
}

export interface SvgChart {
  /** The `data-chart` name tests and the page's self-check look for. */
  name: string;
  /** The suite panel (reports/suite.ts) the chart draws, as `data-panel`. */
  panel?: string;
  title: string;
  width: number;
  height: number;
  body: string;
  /** True when there was nothing to draw: the chart shows a note instead of marks. */
  empty: boolean;
}

export function svgElement(chart: SvgChart): string {
  const panel = chart.panel === undefined ? '' : ` data-panel="${escapeXml(chart.panel)}"`;
  return `<svg data-chart="${escapeXml(chart.name)}"${panel}${chart.empty ? ' data-empty="true"' : ''} viewBox="0 0 ${chart.width} ${chart.height}" width="${chart.width}" height="${chart.height}" role="img" aria-label="${escapeXml(chart.title)}"><title>${escapeXml(chart.title)}</title>${chart.body}</svg>`;
}
