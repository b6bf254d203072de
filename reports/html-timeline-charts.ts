import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { type ChartFigure, chartName, type LegendKey, type PanelChart, type PanelSize, panelPlotArea, strategyKeys } from './html-panels.ts';
import {
  FAULT_COLOUR,
  type FaultWindow,
  faultShading,
  faultWindows,
  INK,
  perBucketText,
  seriesPath,
  type TimeSeries,
  timeDomainMs,
  timelinePoints,
  timeScale,
  timeTickCount,
} from './html-time-axis.ts';
import type { Panel } from './suite.ts';
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
  type SvgChart,
  xAxis,
  yAxis,
  zeroBasedDomain,
} from './svg.ts';

/**
 * Latency, throughput and errors over time, one panel per topology entry and fault schedule: each
 * panel's time axis spans its own runs, and the y axis is the same in every panel of a chart, so
 * heights compare across topologies.
 */

type Run = StrategyRunResult;
type Bucket = Run['timeline'][number];

export interface TimelineContext {
  result: ResultFile;
  panels: Panel[];
  colourOf: (run: Run) => string;
  size: PanelSize;
}

interface PanelSeries {
  panel: Panel;
  series: TimeSeries[];
  windows: FaultWindow[];
  domainMs: [number, number];
  references: { value: number; label: string }[];
}

interface TimelineSpec {
  kind: string;
  title: string;
  yLabel: string;
  yScale: 'log' | 'linear';
  seriesOf: (run: Run) => TimeSeries[];
  referencesOf?: (runs: readonly Run[]) => { value: number; label: string }[];
  /** Said inside a panel whose series are all flat zero, so an empty-looking chart is not mistaken for a bug. */
  allZeroNote?: string;
}

function valuesOf(series: readonly TimeSeries[]): number[] {
  return series.flatMap((s) => s.points.flatMap((p) => (p === null ? [] : [p.value])));
}

function referenceLine(reference: { value: number; label: string }, y: Scale, area: PlotArea): string {
  const yy = round(y(reference.value));
  return `<line x1="${area.left}" y1="${yy}" x2="${area.right}" y2="${yy}" stroke="${INK}" stroke-width="1" stroke-dasharray="2 4"/><text x="${area.right - 4}" y="${yy}" dy="-4" text-anchor="end" font-size="11" fill="${INK}">${esc(reference.label)}</text>`;
}

function timelinePanel(spec: TimelineSpec, data: PanelSeries, yDomain: [number, number], size: PanelSize): SvgChart {
  const area = panelPlotArea(size);
  const x = timeScale(data.domainMs, area);
  const y = spec.yScale === 'log' ? logScale(yDomain, [area.bottom, area.top]) : linearScale(yDomain, [area.bottom, area.top]);
  const values = valuesOf(data.series);
  const empty = values.length === 0;
  const name = chartName(spec.kind, data.panel);
  const clipId = `clip-${name}`;
  const body = [
    `<defs>${clipRect(clipId, area)}</defs>`,
    xAxis(area, x, (ms) => formatNumber(ms / 1000), 'time since the measured phase started (s)'),
    yAxis(area, y, formatNumber, spec.yLabel),
    `<g clip-path="url(#${clipId})">`,
    faultShading(data.windows, x, area),
    ...data.references.map((r) => referenceLine(r, y, area)),
    ...data.series.map((s) => seriesPath(s, x, y, area.right - area.left)),
    '</g>',
    empty ? noDataNote(area, 'no timeline data in this result') : '',
    !empty && spec.allZeroNote && values.every((v) => v === 0) ? noDataNote({ ...area, bottom: area.bottom - 40 }, spec.allZeroNote) : '',
  ];
  return { name, panel: data.panel.id, title: `${spec.title} · ${data.panel.topology}`, width: size.width, height: size.height, body: body.join('\n'), empty };
}

function timelineCharts(spec: TimelineSpec, context: TimelineContext): { charts: PanelChart[]; anyWindow: boolean } {
  const ticks = timeTickCount(panelPlotArea(context.size));
  const data: PanelSeries[] = context.panels.map((panel) => ({
    panel,
    series: panel.runs.flatMap(spec.seriesOf),
    windows: faultWindows(panel.runs),
    domainMs: timeDomainMs(panel.runs, context.result, ticks),
    references: spec.referencesOf?.(panel.runs) ?? [],
  }));
  const all = data.flatMap((d) => valuesOf(d.series));
  const yDomain =
    spec.yScale === 'log' ? decadeDomain(all) : zeroBasedDomain(maxOf([0, ...data.flatMap((d) => d.references.map((r) => r.value)), ...all]) * 1.05);
  return {
    charts: data.map((d) => ({ panel: d.panel, chart: timelinePanel(spec, d, yDomain, context.size) })),
    anyWindow: data.some((d) => d.windows.length > 0),
  };
}

const FAULT_KEY: LegendKey = { label: 'fault window', color: FAULT_COLOUR, swatch: 'band' };

const SHADING =
  ' Shaded, only in panels whose runs had a fault: from each fault to its heal, or to the first <code>+switch-master</code> / <code>role-change</code> event (a new primary), or a 1 s marker when neither was seen.';

const sharedAxes = (context: TimelineContext) =>
  context.panels.length > 1
    ? 'One panel per topology and fault schedule; each panel’s time axis spans its own runs, the y axis is the same in every panel. '
    : '';

export function latencyOverTime(context: TimelineContext): ChartFigure {
  const { result, colourOf } = context;
  const { charts, anyWindow } = timelineCharts(
    {
      kind: 'latency-over-time',
      title: 'Latency over time',
      yLabel: 'latency, all operations (ms, log)',
      yScale: 'log',
      // An empty bucket has no latency: leave a gap rather than plot a 0 the log axis cannot show.
      seriesOf: (run) => [
        { name: `${run.label} p99`, color: colourOf(run), style: 'line', points: timelinePoints(run, result, (b: Bucket) => (b.ops > 0 ? b.p99 : null)) },
        { name: `${run.label} p50`, color: colourOf(run), style: 'thin-line', points: timelinePoints(run, result, (b: Bucket) => (b.ops > 0 ? b.p50 : null)) },
      ],
    },
    context,
  );
  return {
    kind: 'latency-over-time',
    title: 'Latency over time: p99 (thick) and p50 (thin) per time bucket',
    legend: [
      ...strategyKeys(context.panels, colourOf, 'line'),
      { label: 'p99 (thick)', color: INK, swatch: 'line' },
      { label: 'p50 (thin)', color: INK, swatch: 'thin-line' },
      ...(anyWindow ? [FAULT_KEY] : []),
    ],
    charts,
    caption: `${sharedAxes(context)}Per time bucket, by when each operation was due, over all operation types. Empty buckets are gaps.${anyWindow ? SHADING : ''}`,
  };
}

export function throughputOverTime(context: TimelineContext): ChartFigure {
  const { result, colourOf } = context;
  const { charts, anyWindow } = timelineCharts(
    {
      kind: 'throughput-over-time',
      title: 'Throughput over time',
      yLabel: 'operations per second',
      yScale: 'linear',
      seriesOf: (run) => [
        { name: run.label, color: colourOf(run), style: 'line', points: timelinePoints(run, result, (b: Bucket, span) => (b.ops * 1000) / span) },
      ],
      referencesOf: (runs) =>
        [...new Set(runs.flatMap((r) => (r.load.mode === 'open' && r.load.targetRate !== null ? [r.load.targetRate] : [])))].map((rate) => ({
          value: rate,
          label: `target ${formatNumber(rate)} ops/s`,
        })),
    },
    context,
  );
  return {
    kind: 'throughput-over-time',
    title: 'Throughput over time: completed operations per second, by intended start',
    legend: [...strategyKeys(context.panels, colourOf, 'line'), ...(anyWindow ? [FAULT_KEY] : [])],
    charts,
    caption: `${sharedAxes(context)}Operations per bucket divided by the bucket width; where runs kept the same rate, the last run drawn covers the others.${anyWindow ? SHADING : ''}`,
  };
}

export function errorsOverTime(context: TimelineContext): ChartFigure {
  const { result, colourOf } = context;
  const per = perBucketText(
    context.panels.flatMap((p) => p.runs),
    result,
  );
  const { charts, anyWindow } = timelineCharts(
    {
      kind: 'errors-over-time',
      title: 'Errors and degraded answers over time',
      yLabel: `operations ${per}`,
      yScale: 'linear',
      seriesOf: (run) => [
        {
          name: `${run.label} errors + degraded`,
          color: colourOf(run),
          style: 'line',
          points: timelinePoints(run, result, (b: Bucket) => b.errors + b.degraded),
        },
        { name: `${run.label} errors`, color: colourOf(run), style: 'dashed', points: timelinePoints(run, result, (b: Bucket) => b.errors) },
      ],
      allZeroNote: 'no errors or degraded answers in any run',
    },
    context,
  );
  return {
    kind: 'errors-over-time',
    title: 'Errors and degraded answers over time',
    legend: [
      ...strategyKeys(context.panels, colourOf, 'line'),
      { label: 'errors + degraded', color: INK, swatch: 'line' },
      { label: 'errors only', color: INK, swatch: 'dashed' },
      ...(anyWindow ? [FAULT_KEY] : []),
    ],
    charts,
    caption: `${sharedAxes(context)}Errors are failed or indeterminate writes; degraded answers are verdicts given because Redis was unreachable (fail-closed rejects, fail-open accepts).${anyWindow ? SHADING : ''}`,
  };
}
