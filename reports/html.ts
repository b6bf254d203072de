import { formatNumber as fmtCount, formatMs as fmtMs, formatSeconds as fmtSeconds } from '../core/format.ts';
import { redactUrls } from '../core/secrets.ts';
import type { FaultFigures } from '../result/checks.ts';
import { headlineFigures } from '../result/figures.ts';
import { decodeHistogram } from '../result/histogram.ts';
import { isNetworkFault, networkFaultLabel } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { verdictWord } from '../result/verdict.ts';
import { FOOTPRINT_COLUMNS, FOOTPRINT_INTRO, footprintMissingReason, footprintRow, footprintSuiteSummary, footprintWarning } from './footprint.ts';
import {
  acrossInstancesText,
  DURABILITY_COLUMNS,
  DURABILITY_INTRO,
  durabilityRow,
  localStateText,
  missStormText,
  networkWindowOf,
  unavailabilityText,
  verdictLines,
} from './phrases.ts';
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

type Run = StrategyRunResult;
type Fault = Run['faults'][number];

/** Okabe-Ito first: distinguishable with the common colour-vision deficiencies, and on paper. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#8C564B', '#4D4D4D', '#B8860B', '#7F3C8D'];
const FAULT_COLOUR = '#d62728';
const INK = '#555';
const CHART_WIDTH = 1120;
const CHART_HEIGHT = 400;
/** The topology events that end a failover: the moment a new primary exists. */
const FAILOVER_EVENTS = new Set(['+switch-master', 'role-change']);
/** A fault with neither a heal nor a failover event still gets a visible band, marked as a guess. */
const UNKNOWN_FAULT_WINDOW_MS = 1000;
/** Sentinel logs dozens of events per failover; the rest stay in result.json. */
const MAX_EVENTS_PER_FAULT = 40;
const SPECTRUM_PERCENTILES = [0, 50, 90, 99, 99.9, 99.99, 99.999] as const;
/** Where "max" sits on the nines axis: one step past the last percentile. */
const SPECTRUM_MAX_NINES = 6;
const DEFAULT_BUCKET_MS = 100;

export function renderHtml(result: ResultFile): string {
  const runs = result.runs;
  const colours = runs.map((_, i) => PALETTE[i % PALETTE.length]!);
  const title = scenarioName(result);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)} · tokenbench report</title>
<style>${STYLE}</style>
</head>
<body>
<script>${ERROR_CAPTURE_SCRIPT}</script>
<main>
${headerSection(result, title)}
${summarySection(runs, colours)}
${chartsSection(result, colours)}
${faultsSection(runs, colours)}
${durabilitySection(runs)}
${propagationSection(runs)}
<footer>Rendered from result.json (schema ${result.schemaVersion}) by tokenbench ${esc(result.tokenbenchVersion)}. Self-contained: no external resources.</footer>
</main>
<script>${RENDER_CHECK_SCRIPT}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function scenarioName(result: ResultFile): string {
  const name = result.scenario.name;
  // The only scenario text the page shows; an old or hand-made result may hold a URL with a password.
  return typeof name === 'string' && name.trim() !== '' ? redactUrls(name) : 'tokenbench run';
}

function fmtOffset(ms: number): string {
  return ms < 1000 ? `+${Math.round(ms)} ms` : `+${(ms / 1000).toFixed(3)} s`;
}

function fmtCreated(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A network fault names its sides: `partition redis-0 | sentinels, replicas`. */
function faultLabel(fault: Fault, run: Run): string {
  if (isNetworkFault(fault)) return networkFaultLabel(fault, run.topology.nodes);
  return `${fault.action} ${fault.target}${fault.node && fault.node !== fault.target ? ` (${fault.node})` : ''}`;
}

/** 'settle' records a failed heal after the load stopped, not a fault anyone injected. */
function injectedFaults(run: Run): Fault[] {
  return run.faults.filter((f) => f.action !== 'settle').sort((a, b) => a.atMs - b.atMs);
}

function swatch(colour: string): string {
  return `<span class="swatch" style="background:${colour}"></span>`;
}

// ---------------------------------------------------------------------------------------------
// Header and summary

function headerSection(result: ResultFile, title: string): string {
  const env = result.environment;
  const environment = [
    `tokenbench ${env.tokenbench}${env.gitSha ? ` (${env.gitSha.slice(0, 12)})` : ''}`,
    `Node ${env.node}`,
    env.redis,
    `${env.cpus} × ${env.cpuModel}`,
    env.platform,
  ];
  const banner = result.interrupted
    ? '<div class="banner" role="alert"><strong>Interrupted.</strong> This run was stopped before it finished: the figures cover only what completed, and runs marked “interrupted” are partial.</div>'
    : '';
  const merged = result.mergedFrom
    ? `<div class="banner" role="note"><strong>Merged</strong> from ${result.mergedFrom.files.length} results (${result.mergedFrom.files.map(esc).join(', ')}): ${esc(result.mergedFrom.note)}</div>`
    : '';
  const shortOfCpu = footprintWarning(result.runs);
  const shortBanner = shortOfCpu
    ? `<div class="banner" role="alert"><strong>${esc(shortOfCpu.title)}.</strong> ${esc(shortOfCpu.text)} Per run: the measurement footprint above.</div>`
    : '';
  return `<header>
<p class="eyebrow">tokenbench report</p>
<h1>${esc(title)}</h1>
<p class="meta">Created ${esc(fmtCreated(result.createdAt))}</p>
<p class="meta">${environment.map(esc).join(' · ')}</p>
${loadLine(result.runs)}
${footprintDetails(result)}
${banner}${merged}${shortBanner}
${verdictBox(result)}
<nav><a href="#summary">Summary</a><a href="#charts">Charts</a><a href="#faults">Faults</a>${result.runs.some((r) => durabilityRow(r)) ? '<a href="#durability">Durability</a>' : ''}</nav>
</header>`;
}

/** The answer first: the suite's verdict, why, the thresholds and the anomalies, as the Markdown report says them. */
function verdictBox(result: ResultFile): string {
  const { headline, reasons, thresholds, anomalies } = verdictLines(result);
  const list = (title: string, lines: readonly string[]) =>
    lines.length === 0 ? '' : `<p class="verdict-title">${esc(title)}</p><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`;
  return `<section class="verdict verdict-${verdictWord(result.verdict.valid)}" aria-label="verdict">
<p class="verdict-headline"><strong>${esc(headline)}</strong></p>
${list('Why', reasons)}${list(
  'Thresholds',
  thresholds.map((t) => t.line),
)}${list('Anomalies (from the ground truth; they do not change the verdict)', anomalies)}
</section>`;
}

/** The suite's footprint in one line, each run's in a table beneath it. */
function footprintDetails(result: ResultFile): string {
  const summary = footprintSuiteSummary(result.runs);
  if (summary === undefined) return `<p class="meta">Measurement footprint: ${esc(footprintMissingReason(result))}.</p>`;
  const measured = result.runs.filter((r) => r.footprint !== null);
  const missing = result.runs.filter((r) => r.footprint === null);
  const rows = measured
    .map(
      (r) =>
        `<tr>${footprintRow(r, r.footprint!)
          .map((text, i) => (i === 0 ? `<th scope="row">${esc(text)}</th>` : `<td class="num">${esc(text)}</td>`))
          .join('')}</tr>`,
    )
    .join('\n');
  const head = FOOTPRINT_COLUMNS.map((c, i) => `<th scope="col"${i === 0 ? '' : ' class="num"'}>${esc(c)}</th>`).join('');
  const missingNote =
    missing.length > 0
      ? `<p class="note">Not measured for ${esc(missing.map((r) => `${r.label} on ${r.topology.kind}`).join(', '))}: ${esc(footprintMissingReason(result))}.</p>`
      : '';
  return `<details class="meta footprint"><summary>Measurement footprint: ${esc(summary)}</summary>
<p class="note">${esc(FOOTPRINT_INTRO)}</p>
<div class="table-scroll"><table class="footprint">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></div>${missingNote}
</details>`;
}

function loadLine(runs: readonly Run[]): string {
  const first = runs[0];
  if (!first) return '<p class="meta">No strategy ran.</p>';
  const load = first.load;
  const how = load.mode === 'open' ? `open loop at ${load.targetRate ?? '?'} ops/s` : `closed loop, ${load.concurrency ?? '?'} in flight`;
  const faults = injectedFaults(first).map((f) => `${faultLabel(f, first)} at ${fmtSeconds(f.atMs)}`);
  return `<p class="meta">${esc(first.topology.kind)} · ${runs.length} strateg${runs.length === 1 ? 'y' : 'ies'} · ${esc(how)} · ${fmtSeconds(load.durationMs)} measured after ${fmtSeconds(load.warmupMs)} warm-up · ${faults.length ? esc(faults.join(', ')) : 'no faults'}</p>`;
}

function countCell(value: number | null, severity: 'bad' | 'warn' | 'plain'): string {
  if (value === null) return '<td class="num muted">-</td>';
  const flag = value > 0 && severity !== 'plain' ? ` ${severity}` : '';
  return `<td class="num${flag}">${value.toLocaleString('en-US')}</td>`;
}

function summaryRow(run: Run, colour: string): string {
  const verify = run.latency.verify?.all;
  const figures = headlineFigures(run);
  const num = (text: string) => `<td class="num">${text}</td>`;
  return `<tr>
<th scope="row">${swatch(colour)}${esc(run.label)}${run.interrupted ? ' <span class="tag">interrupted</span>' : ''}${run.verdict.valid === true ? '' : ` <span class="tag">${verdictWord(run.verdict.valid)}</span>`}</th>
<td>${esc(run.topology.kind)}</td>
<td class="nowrap">${esc(run.engine)} ${esc(run.alg)}</td>
${num(run.load.achievedRate.toLocaleString('en-US'))}
${num(fmtMs(verify?.p50))}${num(fmtMs(verify?.p99))}${num(fmtMs(verify?.p999))}
${num(run.redis.roundTripsPerVerify === null ? '-' : formatNumber(run.redis.roundTripsPerVerify))}
${num(run.redis.bytesPerEntry === null ? '-' : run.redis.bytesPerEntry.toFixed(1))}
${countCell(figures.revokedAccepted, 'plain')}${countCell(figures.violations, 'bad')}${countCell(figures.validRejected, 'warn')}${countCell(figures.lostRevocations, 'bad')}
${num(esc(unavailabilityText(run, 'short')))}
</tr>`;
}

function summarySection(runs: readonly Run[], colours: readonly string[]): string {
  const rows = runs.map((run, i) => summaryRow(run, colours[i]!)).join('\n');
  return `<section id="summary">
<h2>Summary</h2>
<div class="table-scroll"><table class="summary">
<thead><tr>
<th scope="col">strategy</th><th scope="col">topology</th><th scope="col">JWT</th><th scope="col" class="num">ops/s</th>
<th scope="col" class="num">verify<br>p50 ms</th><th scope="col" class="num">p99<br>ms</th><th scope="col" class="num">p99.9<br>ms</th>
<th scope="col" class="num">Redis round<br>trips / verify</th><th scope="col" class="num">bytes<br>/ entry</th>
<th scope="col" class="num">revoked<br>accepted</th><th scope="col" class="num">of which<br>violations</th>
<th scope="col" class="num">valid<br>rejected</th><th scope="col" class="num">lost<br>revocations</th><th scope="col" class="num">longest<br>unavailability</th>
</tr></thead>
<tbody>
${rows || '<tr><td colspan="14" class="muted">No strategy ran.</td></tr>'}
</tbody></table></div>
<p class="note">Latency counts from when each operation was due (coordinated omission corrected). <em>Revoked accepted</em>: replayed revoked tokens that verified (within the strategy's guarantee, fail-open, or violations of it). <em>Valid rejected</em>: never-revoked tokens rejected because the store was unavailable, an entry was lost, or the JWT or clock failed. <em>Lost revocations</em>: acknowledged revocations missing at reconciliation or resurrected. <em>Longest unavailability</em>: the longest time verify gave no definite answer; with client groups, the group that waited longer than the run as a whole is named next to it.</p>
</section>`;
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

function chartsSection(result: ResultFile, colours: readonly string[]): string {
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

// ---------------------------------------------------------------------------------------------
// Faults and the ground truth that followed

/** perFault is ordered by time, not by the fault list: match on the injection time. */
function perFaultFor(run: Run, fault: Fault, index: number): FaultFigures | undefined {
  const all = run.checks.unavailability.perFault ?? [];
  return all.find((f) => Math.abs(f.atMs - fault.atMs) < 0.5) ?? all[index];
}

function figureValue(value: number | string | null | undefined, missing: string): string {
  return typeof value === 'number' ? `${fmtMs(value)} ms` : `<span class="muted">${missing}</span>`;
}

function faultFigures(figures: FaultFigures | undefined): string {
  if (!figures) return '<p class="muted">No unavailability figures for this fault.</p>';
  return `<dl class="figures">
<div><dt>detected after</dt><dd>${figureValue(figures.detectMs, 'no outage seen')}</dd><dd class="explain">first verify without a definite answer</dd></div>
<div><dt>recovered after</dt><dd>${figureValue(figures.recoverMs, 'not within the run')}</dd><dd class="explain">first definite verify answer again</dd></div>
<div><dt>p99 steady after</dt><dd>${figureValue(figures.steadyP99Ms, 'not settled by the end')}</dd><dd class="explain">verify p99 back within its steady spread</dd></div>${networkFigures(figures)}
</dl>`;
}

/** A network fault: the demotion after the heal, and the revocations acknowledged in each window. */
function networkFigures(figures: FaultFigures): string {
  if (figures.acksDuringFault === undefined) return '';
  const byNode = (n: number | undefined) => (n === undefined ? '' : `, ${fmtCount(n)} by ${esc(figures.node ?? figures.target)}`);
  return `
<div><dt>demoted after the heal</dt><dd>${figureValue(figures.demotedAfterHealMs, 'no demotion seen')}</dd><dd class="explain">the fault's node, primary -> replica</dd></div>
<div><dt>acked during the fault</dt><dd>${fmtCount(figures.acksDuringFault)}</dd><dd class="explain">revocations, all nodes${byNode(figures.acksByNode?.duringFault)}</dd></div>
<div><dt>acked after the heal</dt><dd>${fmtCount(figures.acksAfterHealBeforeDemotion ?? 0)}</dd><dd class="explain">before the demotion, all nodes${byNode(figures.acksByNode?.afterHealBeforeDemotion)}</dd></div>`;
}

function eventsTable(run: Run, fault: Fault, untilMs: number): string {
  const after = run.events.filter((e) => e.atMs >= fault.atMs && e.atMs < untilMs).sort((a, b) => a.atMs - b.atMs);
  if (after.length === 0) return '<p class="muted">No topology events were recorded after this fault.</p>';
  const rows = after
    .slice(0, MAX_EVENTS_PER_FAULT)
    .map(
      (e) =>
        `<tr${FAILOVER_EVENTS.has(e.type) ? ' class="key-event"' : ''}><td class="num">${fmtOffset(e.atMs - fault.atMs)}</td><td>${esc(e.source)}</td><td><code>${esc(e.type)}</code></td><td>${esc(e.node ?? '')}</td><td class="detail">${esc(e.detail ?? '')}</td></tr>`,
    );
  const more =
    after.length > MAX_EVENTS_PER_FAULT
      ? `<tr><td colspan="5" class="muted">… ${after.length - MAX_EVENTS_PER_FAULT} more events in result.json</td></tr>`
      : '';
  return `<div class="table-scroll"><table class="events"><thead><tr><th class="num">after fault</th><th>source</th><th>event</th><th>node</th><th>detail</th></tr></thead><tbody>
${rows.join('\n')}${more}
</tbody></table></div>`;
}

function anomaliesIn(run: Run, fromMs: number, untilMs: number): string {
  const found = run.anomalies.filter((a) => a.atMs !== null && a.atMs >= fromMs && a.atMs < untilMs);
  return found.length === 0 ? '' : `<ul class="anomalies">${found.map((a) => `<li><strong>${esc(a.kind)}</strong>: ${esc(a.sentence)}</li>`).join('')}</ul>`;
}

function faultArticle(run: Run, colour: string, fault: Fault, index: number, nextAtMs: number): string {
  const healed = fault.healedAtMs === undefined ? '' : `, healed at ${fmtSeconds(fault.healedAtMs)}`;
  const error = fault.error ? `<p class="warning">The fault could not be applied: ${esc(fault.error)}</p>` : '';
  return `<article class="fault">
<h3>${swatch(colour)}${esc(run.label)}: ${esc(faultLabel(fault, run))} at ${fmtSeconds(fault.atMs)}${esc(healed)}</h3>
${error}
${faultFigures(perFaultFor(run, fault, index))}
${anomaliesIn(run, fault.atMs, nextAtMs)}
<h4>Ground-truth events after the fault</h4>
${eventsTable(run, fault, nextAtMs)}
</article>`;
}

function runFaults(run: Run, colour: string): string {
  const faults = injectedFaults(run);
  const articles = faults.map((fault, i) => faultArticle(run, colour, fault, i, faults[i + 1]?.atMs ?? Infinity));
  const settle = run.faults.filter((f) => f.action === 'settle' && f.error);
  const settleNotes = settle.map((f) => `<p class="warning">${esc(run.label)}: after the load stopped, the topology did not settle: ${esc(f.error ?? '')}</p>`);
  return [...articles, ...settleNotes].join('\n');
}

function faultsSection(runs: readonly Run[], colours: readonly string[]): string {
  const content = runs
    .map((run, i) => runFaults(run, colours[i]!))
    .filter(Boolean)
    .join('\n');
  return `<section id="faults">
<h2>Faults</h2>
${content || '<p class="muted">No faults were injected in this result.</p>'}
</section>`;
}

/** Runs with a network fault: where their losses were acknowledged (result lost.byWindow / byNode / bySide). */
function durabilitySection(runs: readonly Run[]): string {
  const rows = runs.map(durabilityRow).filter((row) => row !== undefined);
  if (rows.length === 0) return '';
  const head = DURABILITY_COLUMNS.map((c, i) => `<th scope="col"${i >= 1 && i <= 4 ? ' class="num"' : ''}>${esc(c)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((text, i) => (i === 0 ? `<th scope="row">${esc(text)}</th>` : `<td${i <= 4 ? ' class="num"' : ''}>${esc(text)}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<section id="durability">
<h2>Durability</h2>
<p class="note">${esc(DURABILITY_INTRO)}</p>
<div class="table-scroll"><table class="durability"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div>
</section>`;
}

/** Runs with verifier instances (the lag across instances) or with state in the verifier (what it held): one line each. */
function propagationSection(runs: readonly Run[]): string {
  const items = runs.flatMap((run) =>
    [acrossInstancesText(run), localStateText(run), missStormText(run)].flatMap((text) =>
      text ? [`<li>${esc(`${run.label} on ${run.topology.kind}: ${text}.`)}</li>`] : [],
    ),
  );
  if (items.length === 0) return '';
  return `<section id="propagation">
<h2>Propagation</h2>
<ul>
${items.join('\n')}
</ul>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Page assets

/** First thing in the body, so an error anywhere later in the page is recorded where a test can see it. */
const ERROR_CAPTURE_SCRIPT = `window.onerror = function (message) { var b = document.body; b.dataset.errors = (b.dataset.errors ? b.dataset.errors + ' | ' : '') + String(message); };`;

/**
 * Last thing in the body: says "ok" only when every chart laid out with a size and has marks (or
 * says it had no data), so a headless browser can tell a drawn page from a blank one.
 */
const RENDER_CHECK_SCRIPT = `(function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll('svg[data-chart]'));
  var missing = charts.filter(function (svg) {
    var box = svg.getBoundingClientRect();
    var drawn = svg.querySelectorAll('.mark').length > 0 || svg.getAttribute('data-empty') === 'true';
    return !drawn || box.width === 0 || box.height === 0;
  }).map(function (svg) { return svg.getAttribute('data-chart'); });
  document.body.dataset.rendered = charts.length > 0 && missing.length === 0 ? 'ok' : 'incomplete: ' + (missing.join(' ') || 'no charts');
})();`;

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fafaf8; color: #1d1d1f; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 1px solid #ddd; padding-bottom: 16px; margin-bottom: 24px; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: 0.08em; font-size: 12px; color: #777; }
h1 { margin: 2px 0 6px; font-size: 30px; }
h2 { font-size: 21px; margin: 36px 0 12px; }
h3 { font-size: 16px; margin: 0 0 8px; }
h4 { font-size: 14px; margin: 14px 0 6px; color: #444; }
.meta { margin: 2px 0; color: #555; font-size: 14px; }
nav { margin-top: 12px; display: flex; gap: 18px; font-size: 14px; }
nav a { color: #0b5cad; text-decoration: none; }
.verdict { margin: 14px 0 4px; padding: 10px 14px; border-radius: 6px; border: 1px solid; }
.verdict-valid { background: #e9f6ec; border-color: #2e8b57; }
.verdict-invalid { background: #fdecea; border-color: #c0392b; }
.verdict-unknown { background: #f2f2f2; border-color: #888; }
.verdict p, .verdict ul { margin: 4px 0; }
.verdict-title { font-weight: 600; }
details.footprint summary { cursor: pointer; }
details.footprint table { margin: 6px 0; }
table.footprint td.num { white-space: normal; }
.banner { margin: 14px 0 4px; padding: 10px 14px; border-radius: 6px; background: #fff4d6; border: 1px solid #e0b100; color: #5c4500; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13.5px; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
thead th { background: #f1f1ee; font-weight: 600; font-size: 12.5px; color: #333; }
table.summary thead th { vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tbody th { white-space: nowrap; }
table.summary th, table.summary td { padding: 6px 8px; }
table.summary thead th { white-space: nowrap; }
td.bad { color: #b00020; font-weight: 700; background: #fdecee; }
td.warn { color: #8a5a00; font-weight: 600; background: #fff7e0; }
.muted { color: #888; }
.nowrap { white-space: nowrap; }
.tag { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 3px; background: #fff4d6; color: #5c4500; border: 1px solid #e0b100; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px; vertical-align: -1px; }
.note { color: #555; font-size: 13px; max-width: 900px; }
figure.chart { margin: 0 0 28px; padding: 16px 16px 10px; background: #fff; border: 1px solid #e3e3e0; border-radius: 8px; }
figure.chart svg { display: block; max-width: 100%; height: auto; font-size: 12px; fill: #333; }
figcaption { color: #555; font-size: 13px; margin-top: 6px; }
svg .grid { stroke: #ececec; stroke-width: 1; }
svg .tick, svg .domain { stroke: #888; stroke-width: 1; }
svg .axis text { fill: #444; font-size: 12px; }
svg .axis-label { fill: #222; font-size: 13px; font-weight: 600; }
svg .no-data { fill: #888; font-size: 15px; font-style: italic; }
svg .legend text { fill: #222; }
article.fault { background: #fff; border: 1px solid #e3e3e0; border-radius: 8px; padding: 14px 16px; margin-bottom: 18px; }
dl.figures { display: flex; flex-wrap: wrap; gap: 12px 36px; margin: 6px 0 4px; }
dl.figures div { min-width: 200px; }
dl.figures dt { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: 0.04em; }
dl.figures dd { margin: 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
dl.figures dd.explain { font-size: 12px; font-weight: 400; color: #777; }
table.events td.detail { color: #555; font-size: 12.5px; word-break: break-word; }
tr.key-event td { background: #eef5ff; font-weight: 600; }
.warning { color: #8a3a00; background: #fff1e6; border: 1px solid #f0b58a; border-radius: 6px; padding: 6px 10px; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
`;
