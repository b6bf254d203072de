import { formatMs as fmtMs } from '../core/format.ts';
import { decodeHistogram } from '../result/histogram.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { faultZoom } from './html-fault-zoom.ts';
import {
  type ChartFigure,
  chartName,
  figureHtml,
  type PanelChart,
  type PanelSize,
  panelPlotArea,
  panelSize,
  panelsOrPlaceholder,
  strategyKeys,
} from './html-panels.ts';
import { errorsOverTime, latencyOverTime, throughputOverTime } from './html-timeline-charts.ts';
import { type Panel, suiteMatrix, suitePanels } from './suite.ts';
import { decadeDomain, escapeXml as esc, formatNumber, linearScale, linePath, logScale, noDataNote, round, type SvgChart, xAxis, yAxis } from './svg.ts';

export { CHART_STYLE } from './html-panels.ts';
export { fmtOffset } from './html-time-axis.ts';

/**
 * The charts of the HTML report, as small multiples of the suite's panels (reports/suite.ts):
 * latency, throughput and errors over time, each fault zoomed in, the percentile spectrum and the
 * whole-run bars. A strategy has the same colour in every panel and every chart.
 */

type Run = StrategyRunResult;

const SPECTRUM_PERCENTILES = [0, 50, 90, 99, 99.9, 99.99, 99.999] as const;
/** Where "max" sits on the nines axis: one step past the last percentile. */
const SPECTRUM_MAX_NINES = 6;

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

const sameY = (panels: readonly Panel[]) => (panels.length > 1 ? ' The y axis is the same in every panel.' : '');

interface Drawn<T> {
  run: Run;
  colour: string;
  data: T;
}

function spectrumPanel(panel: Panel, drawn: readonly Drawn<SpectrumPoint[]>[], yDomain: [number, number], size: PanelSize): SvgChart {
  const area = panelPlotArea(size);
  const x = linearScale(
    [0, SPECTRUM_MAX_NINES],
    [area.left + 10, area.right - 10],
    SPECTRUM_TICKS.map(([n]) => n),
  );
  const y = logScale(yDomain, [area.bottom, area.top]);
  const labelOf = new Map(SPECTRUM_TICKS.map(([n, label]) => [n, label]));
  const marks = drawn.map(({ run, colour, data }) => {
    const xy = data.map((p) => ({ x: x(p.nines), y: y(p.ms) }));
    const dots = data.map(
      (p, j) =>
        `<circle cx="${round(xy[j]!.x)}" cy="${round(xy[j]!.y)}" r="3.2" fill="${colour}"><title>${esc(run.label)} ${p.label}: ${fmtMs(p.ms)} ms</title></circle>`,
    );
    return `<g class="mark"><path d="${linePath(xy)}" fill="none" stroke="${colour}" stroke-width="2.2"/>${dots.join('')}</g>`;
  });
  const empty = drawn.length === 0;
  const body = [
    // min and 50% are a third of a nine apart: their labels lean away from each other.
    xAxis(
      area,
      x,
      (n) => labelOf.get(n) ?? '',
      'percentile (each step is one more nine)',
      (n) => (n === 0 ? 'end' : n === nines(50) ? 'start' : 'middle'),
    ),
    yAxis(area, y, formatNumber, 'verify latency (ms, log)'),
    ...marks,
    empty ? noDataNote(area, 'no verify latency histogram in this result') : '',
  ];
  const name = chartName('percentile-spectrum', panel);
  return {
    name,
    panel: panel.id,
    title: `Verify latency by percentile · ${panel.topology}`,
    width: size.width,
    height: size.height,
    body: body.join('\n'),
    empty,
  };
}

function percentileSpectrum(panels: readonly Panel[], colourOf: (run: Run) => string, size: PanelSize): ChartFigure {
  const perPanel = panels.map((panel) => {
    const spectra = panel.runs.map((run) => ({ run, spectrum: spectrumOf(run) }));
    return {
      panel,
      unreadable: spectra.filter((s) => s.spectrum === 'unreadable').map((s) => s.run.label),
      drawn: spectra.flatMap(({ run, spectrum }) => (Array.isArray(spectrum) ? [{ run, colour: colourOf(run), data: spectrum }] : [])),
    };
  });
  const yDomain = decadeDomain(perPanel.flatMap((p) => p.drawn.flatMap((d) => d.data.map((point) => point.ms))));
  const unreadable = perPanel.flatMap((p) => p.unreadable);
  const unreadableNote = unreadable.length ? ` The histogram of ${esc(unreadable.join(', '))} could not be decoded and is left out.` : '';
  return {
    kind: 'percentile-spectrum',
    title: 'Verify latency by percentile (from the HdrHistogram)',
    legend: strategyKeys(panels, colourOf, 'line'),
    charts: perPanel.map((p) => ({ panel: p.panel, chart: spectrumPanel(p.panel, p.drawn, yDomain, size) })),
    caption: `Latency at min, 50%, 90%, 99%, 99.9%, 99.99%, 99.999% and max, read from each run's verify HdrHistogram; the x axis is a log scale of 1/(1−p). Past 1 − 1/count, a percentile is the max itself.${sameY(panels)}${unreadableNote}`,
  };
}

const BAR_METRICS = [
  { key: 'p50', label: 'p50' },
  { key: 'p99', label: 'p99' },
  { key: 'p999', label: 'p99.9' },
] as const;

type VerifyFigures = NonNullable<NonNullable<Run['latency']['verify']>['all']>;

function barsPanel(panel: Panel, measured: readonly Drawn<VerifyFigures>[], yDomain: [number, number], size: PanelSize): SvgChart {
  const area = panelPlotArea(size, 24);
  const y = logScale(yDomain, [area.bottom, area.top]);
  const groupWidth = (area.right - area.left) / BAR_METRICS.length;
  const barWidth = measured.length > 0 ? Math.min(70, (groupWidth * 0.75) / measured.length) : 0;
  // Narrow bars get their value written upwards so neighbouring labels do not collide.
  const vertical = barWidth < 40;
  const bars = BAR_METRICS.flatMap((metric, g) => {
    const groupLeft = area.left + g * groupWidth + (groupWidth - barWidth * measured.length) / 2;
    return measured.map(({ run, colour, data }, i) => {
      const value = data[metric.key];
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
    yAxis(area, y, formatNumber, 'verify latency (ms, log)'),
    xAxis(area, noTicks, String, 'verify latency percentile, whole run'),
    groupNames.join(''),
    ...bars,
    empty ? noDataNote(area, 'no verify latency in this result') : '',
  ];
  const name = chartName('comparison-bars', panel);
  return {
    name,
    panel: panel.id,
    title: `Verify latency p50 / p99 / p99.9 · ${panel.topology}`,
    width: size.width,
    height: size.height,
    body: body.join('\n'),
    empty,
  };
}

function comparisonBars(panels: readonly Panel[], colourOf: (run: Run) => string, size: PanelSize): ChartFigure {
  const perPanel = panels.map((panel) => ({
    panel,
    measured: panel.runs.flatMap((run) => {
      const verify = run.latency.verify?.all;
      return verify ? [{ run, colour: colourOf(run), data: verify }] : [];
    }),
  }));
  const yDomain = decadeDomain(perPanel.flatMap((p) => p.measured.flatMap((m) => BAR_METRICS.map((b) => m.data[b.key]))));
  const charts: PanelChart[] = perPanel.map((p) => ({ panel: p.panel, chart: barsPanel(p.panel, p.measured, yDomain, size) }));
  return {
    kind: 'comparison-bars',
    title: 'Verify latency p50 / p99 / p99.9 per strategy',
    legend: strategyKeys(panels, colourOf, 'area'),
    charts,
    caption:
      'Whole-run verify percentiles, the same figures as the summary table; log scale, so equal steps are equal ratios. The y axis is the same in every panel.',
  };
}

export function chartsSection(result: ResultFile, colourOf: (run: Run) => string): string {
  const panels = panelsOrPlaceholder(suitePanels(result));
  const matrix = suiteMatrix(result);
  const size = panelSize(panels.length);
  const timeline = { result, panels, colourOf, size };
  const zoom = faultZoom(result, panels, colourOf);
  const figures = [
    latencyOverTime(timeline),
    throughputOverTime(timeline),
    errorsOverTime(timeline),
    ...(zoom ? [zoom] : []),
    percentileSpectrum(panels, colourOf, size),
    comparisonBars(panels, colourOf, size),
  ];
  return `<section id="charts">
<h2>Charts</h2>
${figures.map((f) => figureHtml(f, matrix)).join('\n')}
</section>`;
}
