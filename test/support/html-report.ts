/** The charts renderHtml draws, in page order: the page test and the browser test both count them. */
export const CHARTS = ['latency-over-time', 'throughput-over-time', 'errors-over-time', 'percentile-spectrum', 'comparison-bars'];

export function chartNames(html: string): string[] {
  return [...html.matchAll(/<svg[^>]*\bdata-chart="([^"]+)"/g)].map((m) => m[1]!);
}
