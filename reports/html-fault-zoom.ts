import { formatSeconds as fmtSeconds } from '../core/format.ts';
import { isNetworkFault } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { type ChartFigure, chartName, type LegendKey, type PanelChart, strategyKeys } from './html-panels.ts';
import {
  bucketWidthMs,
  bucketWidthText,
  FAULT_COLOUR,
  FAULT_LABEL_FONT,
  faultBand,
  fmtOffset,
  INK,
  LabelLanes,
  mergeWindows,
  perBucketText,
  seriesPath,
  type TimeSeries,
  timelinePoints,
  timeScale,
  windowOf,
  windowUntil,
} from './html-time-axis.ts';
import { networkWindowOf } from './phrases.ts';
import { faultLabel, injectedFaults, type Panel, perFaultFigures } from './suite.ts';
import {
  clipRect,
  decadeDomain,
  escapeXml as esc,
  formatNumber,
  linearScale,
  logScale,
  maxOf,
  noDataNote,
  type PlotArea,
  round,
  type Scale,
  textWidth,
  xAxis,
  yAxis,
  zeroBasedDomain,
} from './svg.ts';

/**
 * A zoomed view of each fault of each panel, from 1 s before it to 1 s after its recovery, with
 * the ground-truth events of every run marked where they happened: what a 2 s failover in a 60 s
 * run looks like when it is not a sliver of the whole-run chart.
 */

type Run = StrategyRunResult;
type Fault = Run['faults'][number];
type Event = Run['events'][number];

const MARGIN_MS = 1000;
/** A partition healed after a minute is not a zoom any more: the view stops here and says so. */
const MAX_AFTER_FAULT_MS = 10_000;
/** Without a heal, a recovery or a new primary, the view still shows a little of what followed. */
const NOTHING_SEEN_MS = 1000;
const ZOOM_WIDTH = 1100;
const LANE_HEIGHT = 15;
/** Sentinel logs a dozen kinds of event per failover; these three say what happened to the primary. */
const SENTINEL_MARKED = new Set(['+sdown', '+odown', '+switch-master']);

/** One of the panel's faults as each of its runs had it: runs of a panel share the schedule. */
interface FaultAcrossRuns {
  index: number;
  count: number;
  occurrences: { run: Run; fault: Fault }[];
}

function faultsOfPanel(panel: Panel): FaultAcrossRuns[] {
  const count = Math.max(0, ...panel.runs.map((r) => injectedFaults(r).length));
  return Array.from({ length: count }, (_, index) => ({
    index,
    count,
    occurrences: panel.runs.flatMap((run) => {
      const fault = injectedFaults(run)[index];
      return fault ? [{ run, fault }] : [];
    }),
  }));
}

interface Recovery {
  atMs: number;
  /** What set it, for the subtitle: `blacklist: first definite verify answer again`. */
  basis: string;
}

/** The latest of: the heal, the first definite verify answer again, the new primary. */
function recoveryOf(run: Run, fault: Fault): Recovery {
  const candidates: Recovery[] = [];
  const healedAtMs = isNetworkFault(fault) ? (networkWindowOf(run, fault)?.healedAtMs ?? null) : (fault.healedAtMs ?? null);
  if (healedAtMs !== null) candidates.push({ atMs: healedAtMs, basis: 'healed' });
  const figures = perFaultFigures(run, fault);
  // recoverMs 0 is "no outage seen"; an outage with no recovery lasted to the end of the run.
  if (figures && figures.detectMs !== null && figures.recoverMs !== 0) {
    candidates.push(
      figures.recoverMs === null
        ? { atMs: run.load.durationMs, basis: 'no definite verify answer again by the end' }
        : { atMs: fault.atMs + figures.recoverMs, basis: 'first definite verify answer again' },
    );
  }
  for (const type of ['+switch-master', 'role-change']) {
    const promotion = run.events.find((e) => e.atMs >= fault.atMs && e.type === type && (type !== 'role-change' || e.detail?.endsWith('-> primary')));
    if (promotion) candidates.push({ atMs: promotion.atMs, basis: promotion.type });
  }
  const latest = candidates.sort((a, b) => b.atMs - a.atMs)[0] ?? { atMs: fault.atMs + NOTHING_SEEN_MS, basis: 'no heal, outage or new primary seen' };
  return { atMs: latest.atMs, basis: `${run.label}: ${latest.basis}` };
}

interface ZoomWindow {
  startMs: number;
  endMs: number;
  faultAtMs: number;
  recovery: Recovery;
  capped: boolean;
}

function zoomWindow(across: FaultAcrossRuns, runEndMs: number): ZoomWindow {
  const faultAtMs = Math.min(...across.occurrences.map((o) => o.fault.atMs));
  const recovery = across.occurrences.map((o) => recoveryOf(o.run, o.fault)).sort((a, b) => b.atMs - a.atMs)[0]!;
  const capped = recovery.atMs - faultAtMs > MAX_AFTER_FAULT_MS;
  const until = capped ? faultAtMs + MAX_AFTER_FAULT_MS : recovery.atMs + MARGIN_MS;
  return { startMs: Math.max(0, faultAtMs - MARGIN_MS), endMs: Math.max(faultAtMs + 1, Math.min(until, runEndMs)), faultAtMs, recovery, capped };
}

// ---------------------------------------------------------------------------------------------
// Ground-truth events

function isMarked(event: Event, fault: Fault): boolean {
  // The fault itself is drawn as the start of its window.
  const sameNode = fault.node === undefined || event.node === fault.node;
  if (event.source === 'fault' && event.type === fault.action && sameNode && Math.abs(event.atMs - fault.atMs) < MARGIN_MS) return false;
  return event.source !== 'sentinel' || SENTINEL_MARKED.has(event.type);
}

interface EventGroup {
  label: string;
  /** The first of its kind on its node in each run. */
  occurrences: { run: Run; fault: Fault; event: Event }[];
}

/** De-duplicated: the first event of each kind per node in each run, grouped across the runs. */
function eventGroups(across: FaultAcrossRuns, window: ZoomWindow): EventGroup[] {
  const groups = new Map<string, EventGroup>();
  for (const { run, fault } of across.occurrences) {
    const seen = new Set<string>();
    for (const event of [...run.events].sort((a, b) => a.atMs - b.atMs)) {
      if (event.atMs < window.startMs || event.atMs > window.endMs || !isMarked(event, fault)) continue;
      const label = `${event.type}${event.node ? ` ${event.node}` : ''}`;
      if (seen.has(label)) continue;
      seen.add(label);
      const group = groups.get(label) ?? { label, occurrences: [] };
      groups.set(label, group);
      group.occurrences.push({ run, fault, event });
    }
  }
  return [...groups.values()].sort((a, b) => firstAt(a) - firstAt(b));
}

const firstAt = (group: EventGroup) => Math.min(...group.occurrences.map((o) => o.event.atMs));

// ---------------------------------------------------------------------------------------------
// Drawing

interface Label {
  x: number;
  text: string;
  colour: string;
  /** The connector from the label down to the plot. */
  stem: string;
  title: string;
  bold?: boolean;
}

/** Labels along the top, each on a lane where it does not touch its neighbours; flipped leftwards at the right edge. */
function placeLabels(labels: readonly Label[], left: number, right: number): { lane: number; label: Label; anchorEnd: boolean }[] {
  const lanes = new LabelLanes();
  return labels.map((label) => {
    const width = textWidth(label.text, FAULT_LABEL_FONT) + 3;
    const anchorEnd = label.x + width > right;
    return { lane: lanes.place(anchorEnd ? Math.max(left, label.x - width) : label.x, width), label, anchorEnd };
  });
}

function verticalGrid(x: Scale, area: PlotArea): string {
  return `<g class="axis">${x.ticks.map((t) => `<line class="grid" x1="${round(x(t))}" y1="${area.top}" x2="${round(x(t))}" y2="${area.bottom}"/>`).join('')}</g>`;
}

/** The buckets around the window, one beyond each edge so the lines run to the edges (the plot clips them). */
function inWindow(series: TimeSeries, window: ZoomWindow, marginMs: number): TimeSeries {
  return { ...series, points: series.points.filter((p) => p === null || (p.tMs >= window.startMs - marginMs && p.tMs <= window.endMs + marginMs)) };
}

const valuesOf = (series: readonly TimeSeries[]) => series.flatMap((s) => s.points.flatMap((p) => (p === null ? [] : [p.value])));

function windowText(across: FaultAcrossRuns, window: ZoomWindow): string {
  const which = across.count > 1 ? `fault ${across.index + 1} of ${across.count}; ` : '';
  const last = `the last recovery, ${window.recovery.basis}, ${fmtOffset(window.recovery.atMs - window.faultAtMs)} after the fault`;
  return window.capped
    ? `${which}${fmtSeconds(window.startMs)} to ${fmtSeconds(window.endMs)}: cut ${MAX_AFTER_FAULT_MS / 1000} s after the fault; ${last}`
    : `${which}${fmtSeconds(window.startMs)} to ${fmtSeconds(window.endMs)}: 1 s before the fault to 1 s after ${last}`;
}

function zoomChart(panel: Panel, across: FaultAcrossRuns, result: ResultFile, colourOf: (run: Run) => string): PanelChart {
  const runs = across.occurrences.map((o) => o.run);
  const window = zoomWindow(across, Math.max(...runs.map((r) => r.load.durationMs)));
  const name = chartName(`fault-zoom-${across.index + 1}`, panel);
  const left = 70;
  const right = ZOOM_WIDTH - 16;
  const x = timeScale([window.startMs, window.endMs], { width: ZOOM_WIDTH, height: 0, left, right, top: 0, bottom: 0 });
  const bucketMs = Math.max(...runs.map((r) => bucketWidthMs(r, result)));
  const groups = eventGroups(across, window);
  const bands = mergeWindows(across.occurrences.map((o) => windowOf(o.fault, o.run)));
  const faultText = faultLabel(across.occurrences[0]!.fault, across.occurrences[0]!.run);

  const labels: Label[] = [
    ...bands.map((b) => ({
      x: x(b.startMs),
      text: b.label,
      colour: '#a11',
      stem: FAULT_COLOUR,
      bold: true,
      title: [`${b.label}: ${windowUntil(b)}`, ...b.detail].join('\n'),
    })),
    ...groups.map((g) => ({
      x: x(firstAt(g)),
      text: g.label,
      colour: '#222',
      stem: '#999',
      title: [
        g.label,
        ...g.occurrences.map((o) => `${o.run.label}: ${fmtOffset(o.event.atMs - o.fault.atMs)} after the fault${o.event.detail ? ` (${o.event.detail})` : ''}`),
      ].join('\n'),
    })),
  ];
  const placed = placeLabels(labels, left, right);
  const lanes = Math.max(1, ...placed.map((p) => p.lane + 1));
  const latencyTop = 8 + lanes * LANE_HEIGHT + 8;
  const latencyArea: PlotArea = { width: ZOOM_WIDTH, height: 0, left, right, top: latencyTop, bottom: latencyTop + 170 };
  const errorsArea: PlotArea = { ...latencyArea, top: latencyArea.bottom + 16, bottom: latencyArea.bottom + 16 + 110 };
  const height = errorsArea.bottom + 50;

  const p99 = runs.map((run) =>
    inWindow(
      { name: `${run.label} p99`, color: colourOf(run), style: 'line', points: timelinePoints(run, result, (b) => (b.ops > 0 ? b.p99 : null)) },
      window,
      bucketMs,
    ),
  );
  const errors = runs.map((run) =>
    inWindow(
      { name: `${run.label} errors + degraded`, color: colourOf(run), style: 'line', points: timelinePoints(run, result, (b) => b.errors + b.degraded) },
      window,
      bucketMs,
    ),
  );
  const latencyY = logScale(decadeDomain(valuesOf(p99)), [latencyArea.bottom, latencyArea.top]);
  const errorValues = valuesOf(errors);
  const errorsY = linearScale(zeroBasedDomain(maxOf([0, ...errorValues]) * 1.05, 4), [errorsArea.bottom, errorsArea.top]);
  const empty = valuesOf(p99).length === 0 && errorValues.length === 0;

  const rules = groups.flatMap((g) =>
    g.occurrences.map((o) => {
      const xx = round(x(o.event.atMs));
      return `<line x1="${xx}" y1="${latencyArea.top}" x2="${xx}" y2="${errorsArea.bottom}" stroke="${colourOf(o.run)}" stroke-width="1.3" stroke-dasharray="3 3"><title>${esc(`${o.run.label}: ${g.label} at ${fmtSeconds(o.event.atMs)}`)}</title></line>`;
    }),
  );
  const labelMarks = placed.map(({ lane, label, anchorEnd }) => {
    const baseline = 8 + (lane + 1) * LANE_HEIGHT - 3;
    const textX = round(anchorEnd ? label.x - 3 : label.x + 3);
    return `<g class="event-label"><title>${esc(label.title)}</title><line x1="${round(label.x)}" y1="${baseline - 10}" x2="${round(label.x)}" y2="${latencyArea.top}" stroke="${label.stem}" stroke-width="1"/><text x="${textX}" y="${baseline}"${anchorEnd ? ' text-anchor="end"' : ''} font-size="${FAULT_LABEL_FONT}"${label.bold ? ' font-weight="600"' : ''} fill="${label.colour}">${esc(label.text)}</text></g>`;
  });
  const shade = (area: PlotArea) => bands.map((b) => faultBand(b, x, area.top, area.bottom, area.left, area.right)).join('\n');
  const latencyClip = `clip-${name}-latency`;
  const errorsClip = `clip-${name}-errors`;
  const body = [
    `<defs>${clipRect(latencyClip, latencyArea)}${clipRect(errorsClip, errorsArea)}</defs>`,
    verticalGrid(x, latencyArea),
    yAxis(latencyArea, latencyY, formatNumber, 'p99 (ms, log)'),
    xAxis(errorsArea, x, (ms) => formatNumber(ms / 1000), 'time since the measured phase started (s)'),
    yAxis(errorsArea, errorsY, formatNumber, 'errors + degraded'),
    `<g class="fault-window"><title>${esc(bands.map((b) => `${b.label}: ${windowUntil(b)}`).join('\n'))}</title>${shade(latencyArea)}${shade(errorsArea)}</g>`,
    `<g class="events">${rules.join('')}</g>`,
    labelMarks.join(''),
    `<g clip-path="url(#${latencyClip})">${p99.map((s) => seriesPath(s, x, latencyY, right - left, true)).join('')}</g>`,
    `<g clip-path="url(#${errorsClip})">${errors.map((s) => seriesPath(s, x, errorsY, right - left, true)).join('')}</g>`,
    empty ? noDataNote(latencyArea, 'no timeline data around this fault') : '',
    !empty && errorValues.every((v) => v === 0) ? noDataNote(errorsArea, 'no errors or degraded answers in this window') : '',
  ];
  return {
    panel,
    subtitle: windowText(across, window),
    chart: {
      name,
      panel: panel.id,
      title: `${faultText} zoomed in, ${fmtSeconds(window.startMs)} to ${fmtSeconds(window.endMs)} · ${panel.topology}`,
      width: ZOOM_WIDTH,
      height,
      body: body.join('\n'),
      empty,
    },
  };
}

/** One zoom per fault of every panel that had one; undefined when no run had a fault. */
export function faultZoom(result: ResultFile, panels: readonly Panel[], colourOf: (run: Run) => string): ChartFigure | undefined {
  const faulted = panels.filter((p) => p.hasFault);
  const charts = faulted.flatMap((panel) =>
    faultsOfPanel(panel)
      .filter((across) => across.occurrences.length > 0)
      .map((across) => zoomChart(panel, across, result, colourOf)),
  );
  if (charts.length === 0) return undefined;
  const legend: LegendKey[] = [
    ...strategyKeys(faulted, colourOf, 'line'),
    { label: 'fault window', color: FAULT_COLOUR, swatch: 'band' },
    { label: 'ground-truth event, in its run’s colour', color: INK, swatch: 'rule' },
  ];
  const runs = faulted.flatMap((p) => p.runs);
  const width = bucketWidthText(runs, result);
  const buckets = width
    ? `Timeline buckets are ${width} wide: each dot is one bucket, so a change shows to within ${width}.`
    : 'Each dot is one timeline bucket: a change shows to within a bucket.';
  return {
    kind: 'fault-zoom',
    title: 'Each fault zoomed in: verify p99 and errors + degraded, with the ground-truth events',
    legend,
    charts,
    wide: true,
    caption: `From 1 s before each fault to 1 s after its recovery: the latest of the heal, the first definite verify answer again (the unavailability checker) and the new primary (<code>+switch-master</code>, <code>role-change</code> to primary), at most ${MAX_AFTER_FAULT_MS / 1000} s after the fault. Top: p99 latency of all operations; bottom: errors + degraded answers, ${perBucketText(runs, result)}. ${buckets} Dashed rules: each run’s ground-truth events in its strategy’s colour, the first of each kind per node (Sentinel <code>+sdown</code> / <code>+odown</code> / <code>+switch-master</code>, role changes, cluster <code>pfail</code> / <code>fail</code>, faults applied and healed); the label sits at the earliest run’s, and its tooltip gives every run’s time.`,
  };
}
