import { formatMs as fmtMs, formatSeconds as fmtSeconds } from '../core/format.ts';
import { decodeHistogram } from '../result/histogram.ts';
import { isNetworkFault } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { networkWindowOf } from './phrases.ts';
import { faultLabel, injectedFaults } from './suite.ts';
import {
  clipRect,
  decadeDomain,
  decimate,
  escapeXml as esc,
  formatNumber,
  type LegendItem,
  legend,
  legendHeight,
  linearScale,
  linearTicks,
  linePath,
  logScale,
  maxOf,
  minOf,
  niceStep,
  noDataNote,
  type PlotArea,
  round,
  type Scale,
  type SvgChart,
  svgElement,
  textWidth,
  xAxis,
  yAxis,
  zeroBasedDomain,
} from './svg.ts';

/** The charts of the HTML report: time series with fault windows, the percentile spectrum, the bars. */

type Run = StrategyRunResult;
type Fault = Run['faults'][number];

export const FAULT_COLOUR = '#d62728';
const INK = '#555';
const CHART_WIDTH = 1120;
const CHART_HEIGHT = 400;
/** Events that end a fault window: a new primary took over. */
export const FAILOVER_EVENTS = new Set(['+switch-master', 'role-change']);
/** A fault with neither a heal nor a failover event still gets a visible band, marked as a guess. */
const UNKNOWN_FAULT_WINDOW_MS = 1000;
const SPECTRUM_PERCENTILES = [0, 50, 90, 99, 99.9, 99.99, 99.999] as const;
/** Where "max" sits on the nines axis: one step past the last percentile. */
const SPECTRUM_MAX_NINES = 6;
const DEFAULT_BUCKET_MS = 100;

export function fmtOffset(ms: number): string {
  return ms < 1000 ? `+${Math.round(ms)} ms` : `+${(ms / 1000).toFixed(3)} s`;
}

// ---------------------------------------------------------------------------------------------
// Time axis and fault windows, shared by the three timeline charts

function bucketWidthMs(run: Run, result: ResultFile): number {
  const gaps = run.timeline
    .slice(1)
    .map((b, i) => b.t - run.timeline[i]!.t)
    .filter((gap) => gap > 0);
  if (gaps.length > 0) return minOf(gaps);
  const configured = (result.scenario.load as { bucket?: unknown } | undefined)?.bucket;
  return typeof configured === 'number' && configured > 0 ? configured : DEFAULT_BUCKET_MS;
}

/** A last bucket cut short by the end of the run would otherwise read as a throughput drop. */
function bucketSpanMs(run: Run, t: number, widthMs: number): number {
  const left = run.load.durationMs - t;
  return left > 0 && left < widthMs ? left : widthMs;
}

function timeDomainMs(runs: readonly Run[], result: ResultFile): [number, number] {
  let end = 0;
  for (const run of runs) {
    const last = run.timeline.at(-1);
    if (last) end = Math.max(end, last.t + bucketWidthMs(run, result));
    end = Math.max(end, run.load.durationMs);
  }
  if (!(end > 0)) return [0, 1000];
  // End on a tick: a run of 5999 ms would otherwise end its axis at an unlabelled 6 s.
  const stepMs = niceStep(end / 1000 / TIME_TICKS) * 1000;
  return [0, Math.ceil(end / stepMs) * stepMs];
}

interface FaultWindow {
  startMs: number;
  endMs: number;
  label: string;
  /** What ended the window, so a reader knows whether it was observed or assumed. */
  until: string;
  detail: string[];
}

function windowOf(fault: Fault, run: Run): FaultWindow {
  const label = faultLabel(fault, run);
  const base = { startMs: fault.atMs, label };
  if (isNetworkFault(fault)) {
    // A network fault is in effect until it is healed, whatever the topology does meanwhile (a promotion ends nothing).
    const healedAtMs = networkWindowOf(run, fault)?.healedAtMs ?? null;
    const endMs = healedAtMs ?? run.load.durationMs;
    return {
      ...base,
      endMs,
      until: healedAtMs === null ? 'in effect to the end' : `healed ${fmtOffset(healedAtMs - fault.atMs)}`,
      detail: [
        `${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, ${healedAtMs === null ? 'not healed by the last event recorded' : `healed at ${fmtSeconds(healedAtMs)}`}`,
      ],
    };
  }
  if (fault.healedAtMs !== undefined) {
    return {
      ...base,
      endMs: fault.healedAtMs,
      until: `healed ${fmtOffset(fault.healedAtMs - fault.atMs)}`,
      detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, healed at ${fmtSeconds(fault.healedAtMs)}`],
    };
  }
  const failover = run.events.filter((e) => e.atMs >= fault.atMs && FAILOVER_EVENTS.has(e.type)).sort((a, b) => a.atMs - b.atMs)[0];
  if (failover) {
    return {
      ...base,
      endMs: failover.atMs,
      until: `to ${failover.type} ${fmtOffset(failover.atMs - fault.atMs)}`,
      detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, ${failover.type} at ${fmtSeconds(failover.atMs)}`],
    };
  }
  return {
    ...base,
    endMs: fault.atMs + UNKNOWN_FAULT_WINDOW_MS,
    until: '1 s marker (no heal or failover seen)',
    detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, no heal or failover event`],
  };
}

/** Every strategy runs the same fault schedule: one band per fault, not one per run on top of each other. */
function faultWindows(runs: readonly Run[]): FaultWindow[] {
  const windows = runs.flatMap((run) => injectedFaults(run).map((fault) => windowOf(fault, run))).sort((a, b) => a.startMs - b.startMs);
  const merged: FaultWindow[] = [];
  for (const window of windows) {
    const previous = merged.at(-1);
    if (previous && previous.label === window.label && window.startMs <= previous.endMs) {
      previous.endMs = Math.max(previous.endMs, window.endMs);
      previous.detail.push(...window.detail);
    } else {
      merged.push({ ...window, detail: [...window.detail] });
    }
  }
  return merged;
}

const FAULT_LABEL_FONT = 11;

/** Labels of nearby faults go on separate lanes so they do not print over each other. */
function faultShading(windows: readonly FaultWindow[], x: Scale, area: PlotArea): string {
  const laneRight: number[] = [];
  return windows
    .map((w) => {
      const x0 = Math.max(area.left, x(w.startMs));
      const x1 = Math.min(area.right, Math.max(x(w.endMs), x0 + 2));
      const labelWidth = Math.max(textWidth(w.label, FAULT_LABEL_FONT), textWidth(w.until, FAULT_LABEL_FONT - 1));
      let lane = laneRight.findIndex((right) => x0 > right + 8);
      if (lane === -1) lane = laneRight.length;
      laneRight[lane] = x0 + 4 + labelWidth;
      const textY = area.top + 14 + lane * 28;
      // Near the right edge, the label reads leftwards from the band's end instead of running off the plot.
      const flip = x0 + 4 + labelWidth > area.right;
      const anchor = flip ? `x="${round(x1 - 4)}" text-anchor="end"` : `x="${round(x0 + 4)}"`;
      return `<g class="fault-window"><title>${esc(w.detail.join('\n'))}</title>
<rect x="${round(x0)}" y="${area.top}" width="${round(x1 - x0)}" height="${round(area.bottom - area.top)}" fill="${FAULT_COLOUR}" fill-opacity="0.10"/>
<line x1="${round(x0)}" y1="${area.top}" x2="${round(x0)}" y2="${area.bottom}" stroke="${FAULT_COLOUR}" stroke-width="1.5" stroke-dasharray="5 3"/>
<text ${anchor} y="${textY}" font-size="${FAULT_LABEL_FONT}" font-weight="600" fill="#a11">${esc(w.label)}</text>
<text ${anchor} y="${textY + 13}" font-size="${FAULT_LABEL_FONT - 1}" fill="#a11">${esc(w.until)}</text></g>`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Chart scaffolding

function plotArea(legendItems: readonly LegendItem[], extraTop = 0): PlotArea {
  const left = 78;
  const right = CHART_WIDTH - 24;
  const top = 14 + legendHeight(legendItems, right - left) + 14 + extraTop;
  return { width: CHART_WIDTH, height: CHART_HEIGHT, left, top, right, bottom: CHART_HEIGHT - 56 };
}

function runLegend(runs: readonly Run[], colours: readonly string[]): LegendItem[] {
  return runs.map((run, i) => ({ label: run.label, color: colours[i]!, swatch: 'line' as const }));
}

function faultLegend(windows: readonly FaultWindow[]): LegendItem[] {
  return windows.length > 0 ? [{ label: 'fault window', color: FAULT_COLOUR, swatch: 'band' }] : [];
}

interface TimePoint {
  tMs: number;
  value: number;
}

interface TimeSeries {
  color: string;
  style: 'line' | 'thin-line' | 'dashed';
  name: string;
  points: (TimePoint | null)[];
}

interface TimeChartSpec {
  name: string;
  title: string;
  yLabel: string;
  yScale: 'log' | 'linear';
  series: TimeSeries[];
  legendItems: LegendItem[];
  windows: FaultWindow[];
  domainMs: [number, number];
  /** Horizontal reference lines, e.g. the target arrival rate. */
  references?: { value: number; label: string }[];
  /** Said inside the plot when every series is flat zero, so an empty-looking chart is not mistaken for a bug. */
  allZeroNote?: string;
}

const STROKES: Record<TimeSeries['style'], string> = {
  line: 'stroke-width="2.4"',
  'thin-line': 'stroke-width="1.1" stroke-opacity="0.75"',
  dashed: 'stroke-width="1.5" stroke-dasharray="5 3"',
};

function seriesPath(series: TimeSeries, x: Scale, y: Scale, widthPx: number): string {
  const d = linePath(decimate(series.points, Math.ceil(widthPx)).map((p) => (p === null ? null : { x: x(p.tMs), y: y(p.value) })));
  if (d === '') return '';
  return `<path class="mark" d="${d}" fill="none" stroke="${series.color}" ${STROKES[series.style]} stroke-linejoin="round"><title>${esc(series.name)}</title></path>`;
}

const TIME_TICKS = 12;

function secondsTicks(domainMs: readonly [number, number]): number[] {
  return linearTicks(domainMs[0] / 1000, domainMs[1] / 1000, TIME_TICKS).map((s) => s * 1000);
}

function timeChart(spec: TimeChartSpec): SvgChart {
  const area = plotArea(spec.legendItems);
  const x = linearScale(spec.domainMs, [area.left, area.right], secondsTicks(spec.domainMs));
  const values = spec.series.flatMap((s) => s.points.flatMap((p) => (p === null ? [] : [p.value])));
  const references = spec.references ?? [];
  const y =
    spec.yScale === 'log'
      ? logScale(decadeDomain(values), [area.bottom, area.top])
      : linearScale(zeroBasedDomain(maxOf([0, ...references.map((r) => r.value)].concat(values)) * 1.05), [area.bottom, area.top]);
  const empty = values.length === 0;
  const clipId = `clip-${spec.name}`;
  const body = [
    `<defs>${clipRect(clipId, area)}</defs>`,
    legend(spec.legendItems, area.left, 10, area.right - area.left),
    xAxis(area, x, (ms) => formatNumber(ms / 1000), 'time since the measured phase started (s)'),
    yAxis(area, y, formatNumber, spec.yLabel),
    `<g clip-path="url(#${clipId})">`,
    faultShading(spec.windows, x, area),
    ...references.map((r) => referenceLine(r, y, area)),
    ...spec.series.map((s) => seriesPath(s, x, y, area.right - area.left)),
    '</g>',
    empty ? noDataNote(area, 'no timeline data in this result') : '',
    !empty && spec.allZeroNote && values.every((v) => v === 0) ? noDataNote({ ...area, bottom: area.bottom - 40 }, spec.allZeroNote) : '',
  ];
  return { name: spec.name, title: spec.title, width: CHART_WIDTH, height: CHART_HEIGHT, body: body.join('\n'), empty };
}

function referenceLine(reference: { value: number; label: string }, y: Scale, area: PlotArea): string {
  const yy = round(y(reference.value));
  return `<line x1="${area.left}" y1="${yy}" x2="${area.right}" y2="${yy}" stroke="${INK}" stroke-width="1" stroke-dasharray="2 4"/><text x="${area.right - 4}" y="${yy}" dy="-4" text-anchor="end" font-size="11" fill="${INK}">${esc(reference.label)}</text>`;
}

// ---------------------------------------------------------------------------------------------
// The five charts

function timelinePoints(run: Run, result: ResultFile, value: (bucket: Run['timeline'][number], spanMs: number) => number | null): (TimePoint | null)[] {
  const width = bucketWidthMs(run, result);
  return run.timeline.map((bucket) => {
    const span = bucketSpanMs(run, bucket.t, width);
    const v = value(bucket, span);
    return v === null ? null : { tMs: bucket.t + span / 2, value: v };
  });
}

function latencyOverTime(result: ResultFile, colours: readonly string[], windows: FaultWindow[], domainMs: [number, number]): SvgChart {
  const runs = result.runs;
  // An empty bucket has no latency: leave a gap rather than plot a 0 the log axis cannot show.
  const series = runs.flatMap((run, i): TimeSeries[] => [
    { name: `${run.label} p99`, color: colours[i]!, style: 'line', points: timelinePoints(run, result, (b) => (b.ops > 0 ? b.p99 : null)) },
    { name: `${run.label} p50`, color: colours[i]!, style: 'thin-line', points: timelinePoints(run, result, (b) => (b.ops > 0 ? b.p50 : null)) },
  ]);
  return timeChart({
    name: 'latency-over-time',
    title: 'Latency over time: p99 (thick) and p50 (thin) per time bucket',
    yLabel: 'latency, all operations (ms, log)',
    yScale: 'log',
    series,
    legendItems: [
      ...runLegend(runs, colours),
      { label: 'p99 (thick)', color: INK, swatch: 'line' },
      { label: 'p50 (thin)', color: INK, swatch: 'thin-line' },
      ...faultLegend(windows),
    ],
    windows,
    domainMs,
  });
}

function throughputOverTime(result: ResultFile, colours: readonly string[], windows: FaultWindow[], domainMs: [number, number]): SvgChart {
  const runs = result.runs;
  const targets = [...new Set(runs.flatMap((r) => (r.load.mode === 'open' && r.load.targetRate !== null ? [r.load.targetRate] : [])))];
  return timeChart({
    name: 'throughput-over-time',
    title: 'Throughput over time: completed operations per second, by intended start',
    yLabel: 'operations per second',
    yScale: 'linear',
    series: runs.map((run, i) => ({
      name: run.label,
      color: colours[i]!,
      style: 'line',
      points: timelinePoints(run, result, (b, span) => (b.ops * 1000) / span),
    })),
    legendItems: [...runLegend(runs, colours), ...faultLegend(windows)],
    windows,
    domainMs,
    references: targets.map((rate) => ({ value: rate, label: `target ${formatNumber(rate)} ops/s` })),
  });
}

function errorsOverTime(result: ResultFile, colours: readonly string[], windows: FaultWindow[], domainMs: [number, number]): SvgChart {
  const runs = result.runs;
  const widths = [...new Set(runs.map((r) => bucketWidthMs(r, result)))];
  const per = widths.length === 1 ? `per ${formatNumber(widths[0]!)} ms bucket` : 'per bucket';
  const series = runs.flatMap((run, i): TimeSeries[] => [
    { name: `${run.label} errors + degraded`, color: colours[i]!, style: 'line', points: timelinePoints(run, result, (b) => b.errors + b.degraded) },
    { name: `${run.label} errors`, color: colours[i]!, style: 'dashed', points: timelinePoints(run, result, (b) => b.errors) },
  ]);
  return timeChart({
    name: 'errors-over-time',
    title: 'Errors and degraded answers over time',
    yLabel: `operations ${per}`,
    yScale: 'linear',
    series,
    legendItems: [
      ...runLegend(runs, colours),
      { label: 'errors + degraded', color: INK, swatch: 'line' },
      { label: 'errors only', color: INK, swatch: 'dashed' },
      ...faultLegend(windows),
    ],
    windows,
    domainMs,
    allZeroNote: 'no errors or degraded answers in any run',
  });
}

interface SpectrumPoint {
  nines: number;
  label: string;
  ms: number;
}

/** A percentile as "nines": 90% is 1, 99% is 2, 99.9% is 3, so the tail gets as much room as the body. */
function nines(percentile: number): number {
  return Math.log10(1 / (1 - percentile / 100));
}

function spectrumOf(run: Run): SpectrumPoint[] | 'unreadable' | null {
  const encoded = run.latency.verify?.histogram;
  if (!encoded) return null;
  let histogram: ReturnType<typeof decodeHistogram>;
  try {
    histogram = decodeHistogram(encoded);
  } catch {
    return 'unreadable';
  }
  if (histogram.totalCount === 0) return null;
  const points = SPECTRUM_PERCENTILES.map((p) => ({ nines: nines(p), label: `p${p}`, ms: histogram.getValueAtPercentile(p) / 1000 }));
  return [...points, { nines: SPECTRUM_MAX_NINES, label: 'max', ms: histogram.maxValue / 1000 }];
}

const SPECTRUM_TICKS: readonly [number, string][] = [
  [0, 'min'],
  [nines(50), '50%'],
  [1, '90%'],
  [2, '99%'],
  [3, '99.9%'],
  [4, '99.99%'],
  [5, '99.999%'],
  [SPECTRUM_MAX_NINES, 'max'],
];

function percentileSpectrum(result: ResultFile, colours: readonly string[]): { chart: SvgChart; unreadable: string[] } {
  const runs = result.runs;
  const spectra = runs.map(spectrumOf);
  const unreadable = runs.filter((_, i) => spectra[i] === 'unreadable').map((r) => r.label);
  const drawn = runs.flatMap((run, i) => {
    const points = spectra[i];
    return Array.isArray(points) ? [{ run, colour: colours[i]!, points }] : [];
  });
  const legendItems = drawn.map(({ run, colour }) => ({ label: run.label, color: colour, swatch: 'line' as const }));
  const area = plotArea(legendItems);
  const x = linearScale(
    [0, SPECTRUM_MAX_NINES],
    [area.left + 10, area.right - 10],
    SPECTRUM_TICKS.map(([n]) => n),
  );
  const y = logScale(decadeDomain(drawn.flatMap((d) => d.points.map((p) => p.ms))), [area.bottom, area.top]);
  const labelOf = new Map(SPECTRUM_TICKS.map(([n, label]) => [n, label]));
  const marks = drawn.map(({ run, colour, points }) => {
    const xy = points.map((p) => ({ x: x(p.nines), y: y(p.ms) }));
    const dots = points.map(
      (p, j) =>
        `<circle cx="${round(xy[j]!.x)}" cy="${round(xy[j]!.y)}" r="3.5" fill="${colour}"><title>${esc(run.label)} ${p.label}: ${fmtMs(p.ms)} ms</title></circle>`,
    );
    return `<g class="mark"><path d="${linePath(xy)}" fill="none" stroke="${colour}" stroke-width="2.2"/>${dots.join('')}</g>`;
  });
  const empty = drawn.length === 0;
  const body = [
    legend(legendItems, area.left, 10, area.right - area.left),
    xAxis(area, x, (n) => labelOf.get(n) ?? '', 'percentile of verify latency (log scale of 1/(1−p): each step is one more nine)'),
    yAxis(area, y, formatNumber, 'verify latency (ms, log)'),
    ...marks,
    empty ? noDataNote(area, 'no verify latency histogram in this result') : '',
  ];
  return {
    chart: {
      name: 'percentile-spectrum',
      title: 'Verify latency by percentile (from the HdrHistogram)',
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      body: body.join('\n'),
      empty,
    },
    unreadable,
  };
}

const BAR_METRICS = [
  { key: 'p50', label: 'p50' },
  { key: 'p99', label: 'p99' },
  { key: 'p999', label: 'p99.9' },
] as const;

function comparisonBars(result: ResultFile, colours: readonly string[]): SvgChart {
  const measured = result.runs.flatMap((run, i) => {
    const verify = run.latency.verify?.all;
    return verify ? [{ run, colour: colours[i]!, verify }] : [];
  });
  const legendItems = measured.map(({ run, colour }) => ({ label: run.label, color: colour, swatch: 'area' as const }));
  const area = plotArea(legendItems, 10);
  const y = logScale(decadeDomain(measured.flatMap((m) => BAR_METRICS.map((b) => m.verify[b.key]))), [area.bottom, area.top]);
  const groupWidth = (area.right - area.left) / BAR_METRICS.length;
  const barWidth = measured.length > 0 ? Math.min(70, (groupWidth * 0.7) / measured.length) : 0;
  // Narrow bars get their value written upwards so neighbouring labels do not collide.
  const vertical = barWidth < 40;
  const bars = BAR_METRICS.flatMap((metric, g) => {
    const groupLeft = area.left + g * groupWidth + (groupWidth - barWidth * measured.length) / 2;
    return measured.map(({ run, colour, verify }, i) => {
      const value = verify[metric.key];
      const x0 = groupLeft + i * barWidth;
      const top = y(value);
      const cx = round(x0 + barWidth / 2);
      const text = fmtMs(value);
      const label = vertical
        ? `<text x="${cx}" y="${round(top - 6)}" transform="rotate(-90 ${cx} ${round(top - 6)})" dy="0.32em" font-size="11">${text}</text>`
        : `<text x="${cx}" y="${round(top - 6)}" text-anchor="middle" font-size="11">${text}</text>`;
      return `<g class="mark"><rect x="${round(x0 + 1)}" y="${round(top)}" width="${round(barWidth - 2)}" height="${round(area.bottom - top)}" fill="${colour}"><title>${esc(run.label)} verify ${metric.label}: ${text} ms</title></rect>${label}</g>`;
    });
  });
  // Groups are categories, not a numeric axis: the group names are written under each group.
  const noTicks = linearScale([0, 1], [area.left, area.right], []);
  const groupNames = BAR_METRICS.map(
    (metric, g) =>
      `<text x="${round(area.left + (g + 0.5) * groupWidth)}" y="${area.bottom + 20}" text-anchor="middle" font-weight="600">${metric.label}</text>`,
  );
  const empty = measured.length === 0;
  const body = [
    legend(legendItems, area.left, 10, area.right - area.left),
    yAxis(area, y, formatNumber, 'verify latency (ms, log)'),
    xAxis(area, noTicks, String, 'verify latency percentile, whole run'),
    groupNames.join(''),
    ...bars,
    empty ? noDataNote(area, 'no verify latency in this result') : '',
  ];
  return {
    name: 'comparison-bars',
    title: 'Verify latency p50 / p99 / p99.9 per strategy',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    body: body.join('\n'),
    empty,
  };
}

function figure(chart: SvgChart, caption: string): string {
  return `<figure class="chart" id="chart-${esc(chart.name)}">
<h3>${esc(chart.title)}</h3>
${svgElement(chart)}
<figcaption>${caption}</figcaption>
</figure>`;
}

export function chartsSection(result: ResultFile, colours: readonly string[]): string {
  const windows = faultWindows(result.runs);
  const domainMs = timeDomainMs(result.runs, result);
  const spectrum = percentileSpectrum(result, colours);
  const unreadable = spectrum.unreadable.length ? ` The histogram of ${esc(spectrum.unreadable.join(', '))} could not be decoded and is left out.` : '';
  const shading = windows.length
    ? ' Shaded: from each fault to its heal, or to the first <code>+switch-master</code> / <code>role-change</code> event (a new primary), or a 1 s marker when neither was seen.'
    : '';
  return `<section id="charts">
<h2>Charts</h2>
${figure(latencyOverTime(result, colours, windows, domainMs), `Per time bucket, by when each operation was due, over all operation types. Empty buckets are gaps.${shading}`)}
${figure(throughputOverTime(result, colours, windows, domainMs), `Operations per bucket divided by the bucket width; where runs kept the same rate, the last run drawn covers the others.${shading}`)}
${figure(errorsOverTime(result, colours, windows, domainMs), `Errors are failed or indeterminate writes; degraded answers are verdicts given because Redis was unreachable (fail-closed rejects, fail-open accepts).${shading}`)}
${figure(spectrum.chart, `Latency at min, 50%, 90%, 99%, 99.9%, 99.99%, 99.999% and max, read from each run's verify HdrHistogram. Past 1 − 1/count, a percentile is the max itself.${unreadable}`)}
${figure(comparisonBars(result, colours), 'Whole-run verify percentiles, the same figures as the summary table; log scale, so equal steps are equal ratios.')}
</section>`;
}
