import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { CHARTS, chartNames } from '../test/support/html-report.ts';
import { sidesOps, withPartition } from '../test/support/partition-history.ts';
import { renderHtml } from './html.ts';
import { decimate } from './svg.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const sentinel = loadResult(fixture('sentinel-kill.json'));
const single = loadResult(fixture('single-quick.json'));

/** Everything in markup that could make a browser fetch something: attributes, CSS url() and @import. */
function outsideReferences(html: string): string[] {
  const attributes = [...html.matchAll(/\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)/gi)]
    .map((m) => m[1]!)
    .filter((target) => !target.startsWith('#'));
  const cssUrls = [...html.matchAll(/url\(\s*["']?([^"')]*)/gi)].map((m) => m[1]!).filter((target) => !target.startsWith('#'));
  const protocols = [...html.matchAll(/(?:https?:|ftp:|\/\/[a-z0-9.-]+\.[a-z]{2,})[^\s"'<]*/gi)].map((m) => m[0]);
  const imports = [...html.matchAll(/@import[^;]*/gi)].map((m) => m[0]);
  return [...attributes, ...cssUrls, ...protocols, ...imports];
}

/** A copy of a fixture run with hostile strings wherever the file supplies text. */
function withHostileText(result: ResultFile): ResultFile {
  const copy = structuredClone(result);
  const run = copy.runs[0]!;
  run.label = '<script>alert("label")</script>';
  run.engine = 'jose"><b>engine</b>';
  run.events[1] = { ...run.events[1]!, type: '<img src=x onerror=alert(1)>', detail: '</td></tr></table><script>alert("detail")</script>' };
  run.faults[0] = { ...run.faults[0]!, node: '<i>node</i>', error: "it's <broken> & gone" };
  copy.scenario = { ...copy.scenario, name: '<h1>scenario</h1>' };
  copy.environment = { ...copy.environment, cpuModel: '<marquee>cpu</marquee>' };
  return copy;
}

/** A run that stopped before its first bucket: nothing measured, nothing to draw. */
function withEmptyRun(result: ResultFile): ResultFile {
  const copy = structuredClone(result);
  const run = copy.runs[0]!;
  run.timeline = [];
  run.events = [];
  run.faults = [];
  run.latency = {};
  run.interrupted = true;
  return { ...copy, runs: [run], interrupted: true };
}

describe('renderHtml', () => {
  it('draws the five charts for a failover run', () => {
    const html = renderHtml(sentinel);
    expect(chartNames(html)).toEqual(CHARTS);
    for (const name of CHARTS) {
      const svg = html.slice(html.indexOf(`data-chart="${name}"`));
      expect(svg.slice(0, svg.indexOf('</svg>')), name).toMatch(/class="mark"/);
    }
  });

  it('starts with a title, the creation time and the environment', () => {
    const html = renderHtml(sentinel);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>scenario · tokenbench report</title>');
    expect(html).toContain('2026-11-28 00:56:58 UTC');
    expect(html).toContain('redis 7.0.15');
    expect(html).toContain('Node v20.20.2');
    expect(html).not.toContain('class="banner"');
  });

  it('has one summary row per run with the figures from the checks', () => {
    const html = renderHtml(sentinel);
    const start = html.indexOf('<table class="summary">');
    const summary = html.slice(start, html.indexOf('</table>', start));
    expect(summary.match(/<tr><th scope="row">/g)).toHaveLength(2);
    // valid-rejected = storeUnavailable (624) + entryLost + jwtOrClock + other; verify p99 from latency.verify.all.
    expect(summary).toContain('>624<');
    expect(summary).toContain('>804<');
    expect(summary).toContain('>2.38 s<');
    const details = html.slice(html.indexOf('<details class="figures-per-run">'));
    expect(details.slice(0, details.indexOf('</details>'))).toContain('>84.4<');
  });

  it('shades the fault window to the first failover event', () => {
    const html = renderHtml(sentinel);
    const latency = html.slice(html.indexOf('data-chart="latency-over-time"'));
    expect(latency).toMatch(/<g class="fault-window">/);
    expect(latency).toContain('kill primary (redis-0)');
    expect(latency).toContain('to role-change +1.503 s');
  });

  it('lists each fault with its ground-truth events and unavailability figures', () => {
    const html = renderHtml(sentinel);
    const faults = html.slice(html.indexOf('<section id="faults">'));
    expect(faults.match(/<details class="fault">/g)).toHaveLength(2);
    expect(faults.match(/<article class="fault-panel"/g)).toHaveLength(1);
    expect(faults).toContain('64.7 ms');
    expect(faults).toContain('2392 ms');
    expect(faults).toContain('not settled by the end');
    expect(faults).toMatch(/<tr class="key-event"><td class="num">\+2\.205 s<\/td><td>sentinel<\/td><td><code>\+switch-master<\/code>/);
  });

  it('fetches nothing from outside the document', () => {
    for (const result of [sentinel, single]) {
      const html = renderHtml(result);
      expect(outsideReferences(html)).toEqual([]);
      expect(html).toContain('href="#charts"');
    }
  });

  it('renders every string from the file as text', () => {
    const html = renderHtml(withHostileText(sentinel));
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(2);
    expect(scripts.join('')).not.toContain('alert');
    expect(html).not.toMatch(/<(img|marquee|i>|h1>scenario|b>engine)/);
    expect(html).toContain('&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('it&#39;s &lt;broken&gt; &amp; gone');
    expect(html).toContain('<title>&lt;h1&gt;scenario&lt;/h1&gt; · tokenbench report</title>');
  });

  it('renders a run with an empty timeline and no latency without crashing', () => {
    const html = renderHtml(withEmptyRun(sentinel));
    expect(chartNames(html)).toEqual(CHARTS);
    expect(html).toContain('no timeline data in this result');
    expect(html).toContain('no verify latency histogram in this result');
    expect(html).toContain('class="banner"');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('renders a result with no runs at all', () => {
    const html = renderHtml({ ...single, runs: [] });
    expect(chartNames(html)).toEqual(CHARTS);
    expect(html).toContain('No strategy ran.');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('keeps an hour-long timeline to a size a browser opens at once', () => {
    const long = structuredClone(single);
    for (const run of long.runs) {
      const bucket = run.timeline[0]!;
      run.timeline = Array.from({ length: 36_000 }, (_, i) => ({ ...bucket, t: i * 100, p99: i === 20_000 ? 900 : bucket.p99 }));
      run.load.durationMs = 3_600_000;
    }
    expect(renderHtml(long).length).toBeLessThan(1_000_000);
  });

  it('thins long series without losing a spike, a dip or a gap', () => {
    const points = Array.from({ length: 10_000 }, (_, i) => (i >= 3000 && i < 3100 ? null : { tMs: i, value: i === 7777 ? 900 : i === 5555 ? 0 : 1 }));
    const thinned = decimate(points, 500);
    expect(thinned.length).toBeLessThanOrEqual(1000);
    expect(thinned).toContainEqual({ tMs: 7777, value: 900 });
    expect(thinned).toContainEqual({ tMs: 5555, value: 0 });
    expect(thinned).toContain(null);
    const times = thinned.flatMap((p) => (p ? [p.tMs] : []));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('shows the measurement footprint in the header, and a banner when the run was short of CPU', () => {
    const calm = structuredClone(single);
    for (const run of calm.runs) run.footprint = footprintWith({ generatorCore: 0.4, redisCore: 0.2, notIdle: 0.5 });
    const header = (html: string) => html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
    expect(header(renderHtml(calm))).toContain(
      '<summary>Measurement footprint: load generator up to 40% of a core, tokenbench up to 44% of a core, Redis up to 20% of a core',
    );
    expect(header(renderHtml(calm))).toContain('<th scope="row">pure on single</th><td class="num">40% of a core</td>');
    expect(renderHtml(calm)).not.toContain('class="banner"');

    const starved = structuredClone(calm);
    starved.runs[0]!.footprint = footprintWith({ generatorCore: 0.95, redisCore: 0.5, notIdle: 0.97 });
    const banner = header(renderHtml(starved)).match(/<div class="banner" role="alert"><strong>Short of CPU\.<\/strong> ([^<]*)<\/div>/);
    expect(banner?.[1]).toContain('In 1 of 4 runs (pure on single)');
    expect(banner?.[1]).toContain('the machine was up to 97% busy');
  });

  it('says when a result holds no footprint', () => {
    expect(renderHtml(single)).toContain(
      '<p class="meta">Measurement footprint: not in this result (written before result schemaVersion 3, or stopped before its measured phase).</p>',
    );
  });

  it('says so when no fault was injected', () => {
    const html = renderHtml(single);
    expect(html).toContain('No faults were injected in this result.');
    expect(html).toContain('no errors or degraded answers in any run');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });
});

describe('a network partition in the HTML report', () => {
  const html = renderHtml(withPartition(sentinel));

  it('draws its window from the fault to the heal, labelled with its sides', () => {
    const latency = html.slice(html.indexOf('data-chart="latency-over-time"'));
    expect(latency).toContain('<title>blacklist: partition redis-0, clients far | sentinels, replicas at 2.00 s, healed at 6.00 s');
    expect(latency).toContain('>healed +4.000 s<');
  });

  it('a partition still in effect when the load ended is drawn to the end, not to the promotion', () => {
    const unhealed = withPartition(sentinel);
    const run = unhealed.runs[0]!;
    delete run.faults[0]!.healedAtMs;
    run.events = run.events.filter((e) => e.type !== 'partition-healed');
    expect(renderHtml(unhealed)).toContain('>in effect to the end<');
  });

  it('gives the demotion after the heal and the acks of each window, and the durability split', () => {
    const faults = html.slice(html.indexOf('<section id="faults">'));
    // By hand (test/support/partition-history.ts): 6 acks during the cut (4 by redis-0), 2 after the heal before the demotion (both by redis-0).
    expect(faults).toContain('<dt>demoted after the heal</dt><dd>2000 ms</dd>');
    expect(faults).toContain('<dt>acked during the fault</dt><dd>6</dd><dd class="explain">revocations, all nodes, 4 by redis-0</dd>');
    expect(faults).toContain('<dt>acked after the heal</dt><dd>2</dd><dd class="explain">before the demotion, all nodes, 2 by redis-0</dd>');
    expect(faults).toMatch(/<td><code>partition-healed<\/code><\/td><td>redis-0<\/td>/);
    const durability = html.slice(html.indexOf('<section id="durability">'));
    expect(durability).toContain(
      '<tr><th scope="row">blacklist on sentinel</th><td class="num">7</td><td class="num">4</td><td class="num">2</td><td class="num">1</td><td>redis-0 5, redis-1 1, unknown 1</td><td>default 3, far 3, near 1</td></tr>',
    );
    expect(html).toContain('<a href="#durability">Durability</a>');
    expect(renderHtml(sentinel)).not.toContain('id="durability"');
  });
});

describe('client groups in the HTML report', () => {
  it('names the group that waited longer than the run next to the run-wide figure in the summary', () => {
    // By hand (test/support/partition-history.ts, sidesOps): far 4 s, the run as a whole 50 ms.
    expect(renderHtml(withPartition(sentinel, sidesOps()))).toContain('<td class="num">0.05 s (far: 4.00 s)</td>');
  });
});
