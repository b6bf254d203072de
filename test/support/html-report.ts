import { injectedFaults, suitePanels } from '../../reports/suite.ts';
import type { ResultFile } from '../../result/schema.ts';

/** Chart kinds drawn once per suite panel, in page order; the fault zooms come between the two groups. */
export const TIMELINE_CHARTS = ['latency-over-time', 'throughput-over-time', 'errors-over-time'];
export const DISTRIBUTION_CHARTS = ['percentile-spectrum', 'comparison-bars'];

/**
 * The `data-chart` names renderHtml draws for a result, in page order: each kind once per panel
 * (`latency-over-time-panel-2`), then a zoom per fault of each panel that had one
 * (`fault-zoom-1-panel-2`). A result without runs still gets each kind once, empty.
 */
export function expectedCharts(result: ResultFile): string[] {
  const panels = suitePanels(result);
  const ids = panels.length > 0 ? panels.map((p) => p.id) : ['panel-1'];
  const zooms = panels.flatMap((panel) => {
    const faults = Math.max(0, ...panel.runs.map((r) => injectedFaults(r).length));
    return Array.from({ length: faults }, (_, k) => `fault-zoom-${k + 1}-${panel.id}`);
  });
  const perPanel = (kinds: string[]) => kinds.flatMap((kind) => ids.map((id) => `${kind}-${id}`));
  return [...perPanel(TIMELINE_CHARTS), ...zooms, ...perPanel(DISTRIBUTION_CHARTS)];
}

export function chartNames(html: string): string[] {
  return [...html.matchAll(/<svg[^>]*\bdata-chart="([^"]+)"/g)].map((m) => m[1]!);
}

/** The markup of one chart, from its `<svg` to its `</svg>`. */
export function chartSvg(html: string, name: string): string {
  const start = html.indexOf(`<svg data-chart="${name}"`);
  if (start === -1) throw new Error(`no chart ${name} in the page`);
  return html.slice(start, html.indexOf('</svg>', start) + '</svg>'.length);
}

/** The legend of a chart figure (`<figure id="chart-<kind>">`): its entries' labels, in order. */
export function legendLabels(html: string, kind: string): string[] {
  const start = html.indexOf(`<figure class="chart" id="chart-${kind}">`);
  if (start === -1) throw new Error(`no figure chart-${kind} in the page`);
  const figure = html.slice(start, html.indexOf('</figure>', start));
  const legend = /<ul class="chart-legend">([\s\S]*?)<\/ul>/.exec(figure)?.[1] ?? '';
  return [...legend.matchAll(/<li>(?:<span[^>]*><\/span>)?([^<]*)<\/li>/g)].map((m) => m[1]!);
}

/** Everything in markup that could make a browser fetch something: attributes, CSS url() and @import. */
export function outsideReferences(html: string): string[] {
  const attributes = [...html.matchAll(/\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)/gi)]
    .map((m) => m[1]!)
    .filter((target) => !target.startsWith('#'));
  const cssUrls = [...html.matchAll(/url\(\s*["']?([^"')]*)/gi)].map((m) => m[1]!).filter((target) => !target.startsWith('#'));
  const protocols = [...html.matchAll(/(?:https?:|ftp:|\/\/[a-z0-9.-]+\.[a-z]{2,})[^\s"'<]*/gi)].map((m) => m[0]);
  const imports = [...html.matchAll(/@import[^;]*/gi)].map((m) => m[0]);
  return [...attributes, ...cssUrls, ...protocols, ...imports];
}

/** The page's Content-Security-Policy: nothing may be loaded, only inline style and script run. */
export const REPORT_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'`;
