import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { chartNames, chartSvg, expectedCharts, legendLabels, outsideReferences } from '../test/support/html-report.ts';
import { sidesOps, withPartition } from '../test/support/partition-history.ts';
import { renderHtml } from './html.ts';
import { decimate } from './svg.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const sentinel = loadResult(fixture('sentinel-kill.json'));
const single = loadResult(fixture('single-quick.json'));
const suite = loadResult(fixture('default-suite.json'));

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
  it("draws each chart for the run's one panel, and a zoom of its fault", () => {
    const html = renderHtml(sentinel);
    const names = [
      'latency-over-time-panel-1',
      'throughput-over-time-panel-1',
      'errors-over-time-panel-1',
      'fault-zoom-1-panel-1',
      'percentile-spectrum-panel-1',
      'comparison-bars-panel-1',
    ];
    expect(chartNames(html)).toEqual(names);
    expect(expectedCharts(sentinel)).toEqual(names);
    for (const name of names) expect(chartSvg(html, name), name).toMatch(/class="mark"/);
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
    const latency = chartSvg(html, 'latency-over-time-panel-1');
    expect(latency).toMatch(/<g class="fault-window">/);
    expect(latency).toContain('kill primary (redis-0)');
    // blacklist: role-change 1.466 s after its fault, whitelist 1.503 s after its own: one band to the later.
    expect(latency).toContain('to role-change +1.466 s … +1.503 s');
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
    for (const result of [sentinel, single, suite]) {
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
    expect(chartNames(html)).toEqual(expectedCharts(withEmptyRun(sentinel)));
    expect(html).toContain('no timeline data in this result');
    expect(html).toContain('no verify latency histogram in this result');
    expect(html).toContain('class="banner"');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('renders a result with no runs at all', () => {
    const html = renderHtml({ ...single, runs: [] });
    expect(chartNames(html)).toEqual([
      'latency-over-time-panel-1',
      'throughput-over-time-panel-1',
      'errors-over-time-panel-1',
      'percentile-spectrum-panel-1',
      'comparison-bars-panel-1',
    ]);
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
    const latency = chartSvg(html, 'latency-over-time-panel-1');
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

describe('a suite in the HTML report (4 strategies x single / sentinel / cluster, primary killed at 2 s in the HA ones)', () => {
  const html = renderHtml(suite);
  const strategies = ['pure', 'blacklist', 'whitelist', 'double-token'];
  const panelIds = ['panel-1', 'panel-2', 'panel-3'];

  it('draws every chart once per topology panel, and a zoom of each panel’s fault', () => {
    const names = chartNames(html);
    expect(names).toEqual(expectedCharts(suite));
    expect(names).toHaveLength(5 * 3 + 2);
    expect(names.filter((n) => n.startsWith('fault-zoom-'))).toEqual(['fault-zoom-1-panel-2', 'fault-zoom-1-panel-3']);
    for (const name of names) expect(chartSvg(html, name), name).toMatch(/class="mark"/);
  });

  it('has one legend per chart in which each strategy appears once, in one colour everywhere', () => {
    for (const kind of ['latency-over-time', 'throughput-over-time', 'errors-over-time', 'fault-zoom', 'percentile-spectrum', 'comparison-bars']) {
      const labels = legendLabels(html, kind);
      expect(
        labels.filter((l) => strategies.includes(l)),
        kind,
      ).toEqual(strategies);
      expect(new Set(labels).size, kind).toBe(labels.length);
    }
    // Each strategy's p99 series, in every panel and in the zooms, has the colour of its legend entry; no two strategies share one.
    const keyColour = new Map(
      [...html.matchAll(/<li><span class="key key-line" style="border-color:(#[0-9A-Fa-f]{6})"><\/span>([^<]*)<\/li>/g)].map((m) => [m[2]!, m[1]!]),
    );
    expect(new Set(strategies.map((s) => keyColour.get(s))).size).toBe(4);
    for (const strategy of strategies) {
      const drawn = [...html.matchAll(new RegExp(`<g class="mark"><title>${strategy} p99</title><path d="[^"]*" fill="none" stroke="(#[0-9A-Fa-f]{6})"`, 'g'))];
      expect(drawn, strategy).toHaveLength(3 + 2);
      expect(new Set(drawn.map((m) => m[1])), strategy).toEqual(new Set([keyColour.get(strategy)]));
    }
  });

  it('shades a fault window only on the panels whose runs had the fault, labelled with that panel’s own fault', () => {
    for (const kind of ['latency-over-time', 'throughput-over-time', 'errors-over-time']) {
      expect(chartSvg(html, `${kind}-panel-1`)).not.toContain('class="fault-window"');
      for (const id of ['panel-2', 'panel-3']) {
        const svg = chartSvg(html, `${kind}-${id}`);
        expect(svg.match(/<g class="fault-window">/g), `${kind}-${id}`).toHaveLength(1);
        expect(svg).toContain('>kill primary (redis-0)<');
      }
    }
    expect(html).toContain('<div class="panel" data-panel="panel-1" data-has-fault="false">\n<h4>single · no fault</h4>');
    expect(html).toContain('<h4>sentinel · kill primary (redis-0) at 2.00 s</h4>');
    expect(panelIds.every((id) => html.includes(`data-panel="${id}"`))).toBe(true);
  });

  it('zooms from 1 s before each fault to 1 s after the last recovery of the panel’s runs', () => {
    // By hand from the fixture: the sentinel runs' faults at 1.9996-1.9999 s; the latest recovery is blacklist's first
    // definite answer again, 2382.8 ms after its fault (4.382 s), later than any +switch-master (4.31 s at most).
    expect(html).toContain(
      '<p class="panel-subtitle">1.00 s to 5.38 s: 1 s before the fault to 1 s after the last recovery, blacklist: first definite verify answer again, +2.383 s after the fault</p>',
    );
    // Cluster: no recovery figure as late as whitelist's promotion of redis-3 (role-change at 4.606 s, 2.606 s after its fault).
    expect(html).toContain(
      '<p class="panel-subtitle">1.00 s to 5.61 s: 1 s before the fault to 1 s after the last recovery, whitelist: role-change, +2.606 s after the fault</p>',
    );
    expect(html).toContain('Timeline buckets are 100 ms wide: each dot is one bucket, so a change shows to within 100 ms.');
  });

  it('marks each run’s first ground-truth event of each kind per node on the zoom, one label per kind and node', () => {
    const labels = (svg: string) => [...svg.matchAll(/<g class="event-label">[\s\S]*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]);
    const rules = (svg: string) => (/<g class="events">(.*?)<\/g>/.exec(svg)?.[1] ?? '').match(/<line /g)?.length ?? 0;
    const sentinelZoom = chartSvg(html, 'fault-zoom-1-panel-2');
    // Sentinel's +new-epoch, +try-failover, +elected-leader ... are left to the faults table; each run has one +sdown and
    // one +odown of redis-0, a promotion (redis-1 in three runs, redis-2 in blacklist's) and its +switch-master: 4 x 4 rules.
    // In order of the earliest run: double-token promoted redis-1 at 3.41 s, blacklist redis-2 at 3.43 s.
    expect(labels(sentinelZoom)).toEqual([
      'kill primary (redis-0)',
      '+sdown redis-0',
      '+odown redis-0',
      'role-change redis-1',
      'role-change redis-2',
      '+switch-master redis-1',
      '+switch-master redis-2',
    ]);
    expect(rules(sentinelZoom)).toBe(16);
    const clusterZoom = chartSvg(html, 'fault-zoom-1-panel-3');
    // Cluster: pfail, fail and the promotion of redis-3 in each of the 4 runs; the restart at 6.00 s is past the window.
    expect(labels(clusterZoom)).toEqual(['kill primary (redis-0)', 'pfail redis-0', 'fail redis-0', 'role-change redis-3']);
    expect(rules(clusterZoom)).toBe(12);
    expect(clusterZoom).toContain('whitelist: +2.606 s after the fault (replica -&gt; primary)');
  });
});

describe('the fault zoom', () => {
  it('stops 10 s after a fault that took longer to recover, and says so', () => {
    const long = withPartition(sentinel);
    const run = long.runs[0]!;
    run.faults[0]!.healedAtMs = 70_000;
    run.load.durationMs = 80_000;
    const html = renderHtml(long);
    expect(html).toContain(
      '<p class="panel-subtitle">1.00 s to 12.00 s: cut 10 s after the fault; the last recovery, blacklist: healed, +68.000 s after the fault</p>',
    );
  });

  it('zooms on each fault of a schedule with several, in its own panel', () => {
    const twice = structuredClone(sentinel);
    for (const run of twice.runs) run.faults.push({ ...run.faults[0]!, action: 'pause', atMs: 4500, healedAtMs: 5000 });
    const html = renderHtml(twice);
    expect(chartNames(html).filter((n) => n.startsWith('fault-zoom-'))).toEqual(['fault-zoom-1-panel-1', 'fault-zoom-2-panel-1']);
    expect(html).toMatch(/<p class="panel-subtitle">fault 2 of 2; 3\.50 s to 6\.00 s: /);
  });

  it('is left out when no run had a fault', () => {
    const html = renderHtml(single);
    expect(html).not.toContain('id="chart-fault-zoom"');
    expect(chartNames(html)).toEqual(expectedCharts(single));
  });
});
