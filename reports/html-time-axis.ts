import { formatSeconds as fmtSeconds } from '../core/format.ts';
import { isNetworkFault } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { networkWindowOf } from './phrases.ts';
import { faultLabel, firstFailoverAfter, injectedFaults } from './suite.ts';
import { decimate, escapeXml as esc, linearScale, linearTicks, linePath, minOf, niceStep, type PlotArea, round, type Scale, textWidth } from './svg.ts';

/**
 * What the timeline charts and the fault zoom share: time buckets, the time axis, series drawn
 * from `run.timeline`, and fault windows (from a fault to its heal or to the new primary).
 */

type Run = StrategyRunResult;
type Fault = Run['faults'][number];

export const FAULT_COLOUR = '#d62728';
export const INK = '#555';
/** A fault with neither a heal nor a failover event still gets a visible band, marked as a guess. */
const UNKNOWN_FAULT_WINDOW_MS = 1000;
const DEFAULT_BUCKET_MS = 100;

export function fmtOffset(ms: number): string {
  return ms < 1000 ? `+${Math.round(ms)} ms` : `+${(ms / 1000).toFixed(3)} s`;
}

export function bucketWidthMs(run: Run, result: ResultFile): number {
  const gaps = run.timeline
    .slice(1)
    .map((b, i) => b.t - run.timeline[i]!.t)
    .filter((gap) => gap > 0);
  if (gaps.length > 0) return minOf(gaps);
  const configured = (result.scenario.load as { bucket?: unknown } | undefined)?.bucket;
  return typeof configured === 'number' && configured > 0 ? configured : DEFAULT_BUCKET_MS;
}

/** The one bucket width of the runs, e.g. `100 ms`; undefined when they used several. */
export function bucketWidthText(runs: readonly Run[], result: ResultFile): string | undefined {
  const widths = [...new Set(runs.map((r) => bucketWidthMs(r, result)))];
  return widths.length === 1 ? `${widths[0]} ms` : undefined;
}

/** `per 100 ms bucket` when every run used one width, else `per bucket`. */
export function perBucketText(runs: readonly Run[], result: ResultFile): string {
  const width = bucketWidthText(runs, result);
  return width ? `per ${width} bucket` : 'per bucket';
}

/** A last bucket cut short by the end of the run would otherwise read as a throughput drop. */
function bucketSpanMs(run: Run, t: number, widthMs: number): number {
  const left = run.load.durationMs - t;
  return left > 0 && left < widthMs ? left : widthMs;
}

/** How many labelled seconds fit: one every ~70 px. */
export function timeTickCount(area: PlotArea): number {
  return Math.max(4, Math.round((area.right - area.left) / 70));
}

/** From 0 to the end of the longest run, ended on a tick: a run of 5999 ms would otherwise end its axis at an unlabelled 6 s. */
export function timeDomainMs(runs: readonly Run[], result: ResultFile, ticks: number): [number, number] {
  let end = 0;
  for (const run of runs) {
    const last = run.timeline.at(-1);
    if (last) end = Math.max(end, last.t + bucketWidthMs(run, result));
    end = Math.max(end, run.load.durationMs);
  }
  if (!(end > 0)) return [0, 1000];
  const stepMs = niceStep(end / 1000 / ticks) * 1000;
  return [0, Math.ceil(end / stepMs) * stepMs];
}

export function timeScale(domainMs: readonly [number, number], area: PlotArea): Scale {
  const ticks = linearTicks(domainMs[0] / 1000, domainMs[1] / 1000, timeTickCount(area)).map((s) => s * 1000);
  return linearScale(domainMs, [area.left, area.right], ticks);
}

// ---------------------------------------------------------------------------------------------
// Series

export interface TimePoint {
  tMs: number;
  value: number;
}

export interface TimeSeries {
  color: string;
  style: 'line' | 'thin-line' | 'dashed';
  name: string;
  points: (TimePoint | null)[];
}

const STROKES: Record<TimeSeries['style'], string> = {
  line: 'stroke-width="2.2"',
  'thin-line': 'stroke-width="1.1" stroke-opacity="0.75"',
  dashed: 'stroke-width="1.5" stroke-dasharray="5 3"',
};

/** One point per bucket at its middle; value null leaves a gap (a bucket with nothing to show). */
export function timelinePoints(run: Run, result: ResultFile, value: (bucket: Run['timeline'][number], spanMs: number) => number | null): (TimePoint | null)[] {
  const width = bucketWidthMs(run, result);
  return run.timeline.map((bucket) => {
    const span = bucketSpanMs(run, bucket.t, width);
    const v = value(bucket, span);
    return v === null ? null : { tMs: bucket.t + span / 2, value: v };
  });
}

/** `dots`: a point per bucket as well, where the buckets are few enough to see (the zoom). */
export function seriesPath(series: TimeSeries, x: Scale, y: Scale, widthPx: number, dots = false): string {
  const points = decimate(series.points, Math.ceil(widthPx));
  const d = linePath(points.map((p) => (p === null ? null : { x: x(p.tMs), y: y(p.value) })));
  if (d === '') return '';
  const circles = dots
    ? points.map((p) => (p === null ? '' : `<circle cx="${round(x(p.tMs))}" cy="${round(y(p.value))}" r="2.2" fill="${series.color}"/>`)).join('')
    : '';
  return `<g class="mark"><title>${esc(series.name)}</title><path d="${d}" fill="none" stroke="${series.color}" ${STROKES[series.style]} stroke-linejoin="round"/>${circles}</g>`;
}

// ---------------------------------------------------------------------------------------------
// Fault windows

interface WindowEnd {
  /** `healed`, the failover event's type, `in effect to the end`, or the guessed marker. */
  kind: string;
  /** From the fault; null for a window that has no observed end. */
  offsetMs: number | null;
}

export interface FaultWindow {
  startMs: number;
  endMs: number;
  label: string;
  ends: WindowEnd[];
  detail: string[];
}

const GUESSED_END = '1 s marker (no heal or failover seen)';

export function windowOf(fault: Fault, run: Run): FaultWindow {
  const label = faultLabel(fault, run);
  const base = { startMs: fault.atMs, label };
  if (isNetworkFault(fault)) {
    // A network fault is in effect until it is healed, whatever the topology does meanwhile (a promotion ends nothing).
    const healedAtMs = networkWindowOf(run, fault)?.healedAtMs ?? null;
    return {
      ...base,
      endMs: healedAtMs ?? run.load.durationMs,
      ends: [healedAtMs === null ? { kind: 'in effect to the end', offsetMs: null } : { kind: 'healed', offsetMs: healedAtMs - fault.atMs }],
      detail: [
        `${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, ${healedAtMs === null ? 'not healed by the last event recorded' : `healed at ${fmtSeconds(healedAtMs)}`}`,
      ],
    };
  }
  if (fault.healedAtMs !== undefined) {
    return {
      ...base,
      endMs: fault.healedAtMs,
      ends: [{ kind: 'healed', offsetMs: fault.healedAtMs - fault.atMs }],
      detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, healed at ${fmtSeconds(fault.healedAtMs)}`],
    };
  }
  const failover = firstFailoverAfter(run, fault.atMs);
  if (failover) {
    return {
      ...base,
      endMs: failover.atMs,
      ends: [{ kind: `to ${failover.type}`, offsetMs: failover.atMs - fault.atMs }],
      detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, ${failover.type} at ${fmtSeconds(failover.atMs)}`],
    };
  }
  return {
    ...base,
    endMs: fault.atMs + UNKNOWN_FAULT_WINDOW_MS,
    ends: [{ kind: GUESSED_END, offsetMs: null }],
    detail: [`${run.label}: ${label} at ${fmtSeconds(fault.atMs)}, no heal or failover event`],
  };
}

/**
 * `to role-change +1.503 s`; runs merged into one band that ended at different times give the
 * range, so the label covers the whole band: `to role-change +1.412 s … +1.503 s`.
 */
export function windowUntil(window: FaultWindow): string {
  const kinds = [...new Set(window.ends.map((e) => e.kind))];
  return kinds
    .map((kind) => {
      const offsets = window.ends.filter((e) => e.kind === kind && e.offsetMs !== null).map((e) => e.offsetMs!);
      if (offsets.length === 0) return kind;
      const lo = Math.min(...offsets);
      const hi = Math.max(...offsets);
      return `${kind} ${fmtOffset(lo)}${hi - lo >= 1 ? ` … ${fmtOffset(hi)}` : ''}`;
    })
    .join('; ');
}

/** Windows of one fault in several runs become one band when they name the same fault and overlap. */
export function mergeWindows(windows: readonly FaultWindow[]): FaultWindow[] {
  const merged: FaultWindow[] = [];
  for (const window of [...windows].sort((a, b) => a.startMs - b.startMs)) {
    const previous = merged.at(-1);
    if (previous && previous.label === window.label && window.startMs <= previous.endMs) {
      previous.endMs = Math.max(previous.endMs, window.endMs);
      previous.ends.push(...window.ends);
      previous.detail.push(...window.detail);
    } else {
      merged.push({ ...window, ends: [...window.ends], detail: [...window.detail] });
    }
  }
  return merged;
}

/** The runs of a panel share a fault schedule: one band per fault, not one per run on top of each other. */
export function faultWindows(runs: readonly Run[]): FaultWindow[] {
  return mergeWindows(runs.flatMap((run) => injectedFaults(run).map((fault) => windowOf(fault, run))));
}

export const FAULT_LABEL_FONT = 11;

/**
 * Greedy lanes for labels along a time axis: a label goes on the first lane where it starts clear
 * of the one before, so labels of nearby marks never print over each other.
 */
export class LabelLanes {
  private readonly laneRight: number[] = [];

  place(x: number, width: number): number {
    let lane = this.laneRight.findIndex((right) => x > right + 8);
    if (lane === -1) lane = this.laneRight.length;
    this.laneRight[lane] = x + width;
    return lane;
  }

  get count(): number {
    return this.laneRight.length;
  }
}

export function faultBand(w: FaultWindow, x: Scale, top: number, bottom: number, left: number, right: number): string {
  const x0 = Math.max(left, x(w.startMs));
  const x1 = Math.min(right, Math.max(x(w.endMs), x0 + 2));
  return `<rect x="${round(x0)}" y="${round(top)}" width="${round(x1 - x0)}" height="${round(bottom - top)}" fill="${FAULT_COLOUR}" fill-opacity="0.10"/>
<line x1="${round(x0)}" y1="${round(top)}" x2="${round(x0)}" y2="${round(bottom)}" stroke="${FAULT_COLOUR}" stroke-width="1.5" stroke-dasharray="5 3"/>`;
}

/** Each window shaded, with its label and how it ended in the top of the plot. */
export function faultShading(windows: readonly FaultWindow[], x: Scale, area: PlotArea): string {
  const lanes = new LabelLanes();
  return windows
    .map((w) => {
      const until = windowUntil(w);
      const x0 = Math.max(area.left, x(w.startMs));
      const x1 = Math.min(area.right, Math.max(x(w.endMs), x0 + 2));
      const labelWidth = Math.max(textWidth(w.label, FAULT_LABEL_FONT), textWidth(until, FAULT_LABEL_FONT - 1));
      const lane = lanes.place(x0, 4 + labelWidth);
      const textY = area.top + 14 + lane * 28;
      // Near the right edge, the label reads leftwards from the band's end instead of running off the plot.
      const flip = x0 + 4 + labelWidth > area.right;
      const anchor = flip ? `x="${round(x1 - 4)}" text-anchor="end"` : `x="${round(x0 + 4)}"`;
      return `<g class="fault-window"><title>${esc(w.detail.join('\n'))}</title>
${faultBand(w, x, area.top, area.bottom, area.left, area.right)}
<text ${anchor} y="${textY}" font-size="${FAULT_LABEL_FONT}" font-weight="600" fill="#a11">${esc(w.label)}</text>
<text ${anchor} y="${textY + 13}" font-size="${FAULT_LABEL_FONT - 1}" fill="#a11">${esc(until)}</text></g>`;
    })
    .join('\n');
}
