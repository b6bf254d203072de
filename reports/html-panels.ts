import type { StrategyRunResult } from '../result/schema.ts';
import { type Panel, panelTitle, type SuiteMatrix, strategyName } from './suite.ts';
import { escapeXml as esc, type PlotArea, type SvgChart, svgElement } from './svg.ts';

/**
 * Small multiples: a chart figure holds one panel per topology entry x fault schedule x server
 * (reports/suite.ts), side by side when there are several, under ONE legend in which each strategy
 * appears once with the colour it has in every panel and every chart.
 */

export interface LegendKey {
  label: string;
  color: string;
  /** line: a series; thin-line / dashed: a second series of the same colour; area: a bar; band: a shaded fault window; rule: an event. */
  swatch: 'line' | 'thin-line' | 'dashed' | 'area' | 'band' | 'rule';
}

/** Each strategy once, in the order the suite ran them, with its colour: the same key for every panel. */
export function strategyKeys(panels: readonly Panel[], colourOf: (run: StrategyRunResult) => string, swatch: LegendKey['swatch']): LegendKey[] {
  const keys = new Map<string, LegendKey>();
  for (const run of panels.flatMap((p) => p.runs)) {
    const name = strategyName(run);
    if (!keys.has(name)) keys.set(name, { label: name, color: colourOf(run), swatch });
  }
  return [...keys.values()];
}

export interface PanelChart {
  panel: Panel;
  chart: SvgChart;
  /** Under the panel's title: what this chart of the panel shows when the title alone does not say. */
  subtitle?: string;
}

export interface ChartFigure {
  /** The figure's id is `chart-<kind>`; each panel's svg is `data-chart="<kind>-<panel id>"`. */
  kind: string;
  title: string;
  legend: LegendKey[];
  charts: PanelChart[];
  /** HTML. */
  caption: string;
  /** Forces one panel per row (the fault zoom needs the width for its event labels). */
  wide?: boolean;
}

export interface PanelSize {
  width: number;
  height: number;
}

/** At 1280 px the page has ~1100 px for a figure: two panels of 540 side by side, at their natural size. */
const FULL_WIDTH = 1100;
const HALF_WIDTH = 540;

export function panelSize(panelCount: number, wide = false): PanelSize {
  return panelCount > 1 && !wide ? { width: HALF_WIDTH, height: 300 } : { width: FULL_WIDTH, height: 380 };
}

export function panelPlotArea(size: PanelSize, top = 12): PlotArea {
  return { width: size.width, height: size.height, left: 70, right: size.width - 16, top, bottom: size.height - 50 };
}

/** A result with no runs still gets each chart once, saying there is nothing to draw. */
export function panelsOrPlaceholder(panels: readonly Panel[]): Panel[] {
  return panels.length > 0 ? [...panels] : [{ id: 'panel-1', topology: 'no strategy ran', server: '', faults: 'no fault', hasFault: false, runs: [] }];
}

export function chartName(kind: string, panel: Panel): string {
  return `${kind}-${panel.id}`;
}

function legendHtml(keys: readonly LegendKey[]): string {
  if (keys.length === 0) return '';
  const items = keys.map((key) => {
    // A band is the fault window's tint: its colour at the 10-15% the charts shade with (#rrggbb + alpha).
    const background = key.swatch === 'area' ? key.color : key.swatch === 'band' ? `${key.color}24` : undefined;
    const style = `${background ? `background:${background};` : ''}border-color:${key.color}`;
    return `<li><span class="key key-${key.swatch}" style="${style}"></span>${esc(key.label)}</li>`;
  });
  return `<ul class="chart-legend">${items.join('')}</ul>`;
}

function panelHtml(item: PanelChart, matrix: SuiteMatrix): string {
  const { panel } = item;
  const title = panel.runs.length === 0 ? panel.topology : panelTitle(panel, matrix);
  const subtitle = item.subtitle ? `<p class="panel-subtitle">${esc(item.subtitle)}</p>` : '';
  return `<div class="panel" data-panel="${esc(panel.id)}" data-has-fault="${panel.hasFault}">
<h4>${esc(title)}</h4>${subtitle}
${svgElement(item.chart)}
</div>`;
}

export function figureHtml(figure: ChartFigure, matrix: SuiteMatrix): string {
  const columns = figure.charts.length > 1 && !figure.wide ? 2 : 1;
  return `<figure class="chart" id="chart-${esc(figure.kind)}">
<h3>${esc(figure.title)}</h3>
${legendHtml(figure.legend)}
<div class="panels panels-${columns}">
${figure.charts.map((c) => panelHtml(c, matrix)).join('\n')}
</div>
<figcaption>${figure.caption}</figcaption>
</figure>`;
}

/** Added to the page's style sheet (reports/html.ts) after its own rules for figures and axes. */
export const CHART_STYLE = `
.chart-legend { list-style: none; margin: 2px 0 12px; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 20px; font-size: 13px; color: #222; }
.chart-legend li { display: inline-flex; align-items: center; gap: 7px; }
.key { display: inline-block; width: 20px; height: 0; border-top: 3px solid; }
.key-thin-line { border-top-width: 1px; }
.key-dashed { border-top: 2px dashed; }
.key-rule { width: 0; height: 14px; border-top: 0; border-left: 1.5px dashed; }
.key-area { height: 12px; border: 0; }
.key-band { width: 18px; height: 12px; border: 0; border-left: 2px dashed; }
.panels { display: grid; gap: 18px 20px; }
.panels-1 { grid-template-columns: minmax(0, 1fr); }
.panels-2 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
.panel { min-width: 0; }
.panel h4 { margin: 0 0 2px; font-size: 13.5px; color: #222; }
.panel-subtitle { margin: 0 0 4px; font-size: 12.5px; color: #666; }
`;
