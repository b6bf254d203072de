import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from './html.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { decimate } from './svg.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const sentinel = loadResult(fixture('sentinel-kill.json'));
const single = loadResult(fixture('single-quick.json'));
const CHARTS = ['latency-over-time', 'throughput-over-time', 'errors-over-time', 'percentile-spectrum', 'comparison-bars'];

function chartNames(html: string): string[] {
  return [...html.matchAll(/<svg[^>]*\bdata-chart="([^"]+)"/g)].map((m) => m[1]!);
}

/** Everything in markup that could make a browser fetch something: attributes, CSS url() and @import. */
function outsideReferences(html: string): string[] {
  const attributes = [...html.matchAll(/\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!).filter((target) => !target.startsWith('#'));
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
    const summary = html.slice(html.indexOf('<table class="summary">'), html.indexOf('</table>'));
    expect(summary.match(/<tr>\n<th scope="row">/g)).toHaveLength(2);
    // valid-rejected = storeUnavailable (624) + entryLost + jwtOrClock + other; verify p99 from latency.verify.all.
    expect(summary).toContain('>624<');
    expect(summary).toContain('>804<');
    expect(summary).toContain('>84.4<');
    expect(summary).toContain('>2.38 s<');
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
    expect(faults.match(/<article class="fault">/g)).toHaveLength(2);
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

  it('says so when no fault was injected', () => {
    const html = renderHtml(single);
    expect(html).toContain('No faults were injected in this result.');
    expect(html).toContain('no errors or degraded answers in any run');
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });
});

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_TIMEOUT_MS = 60_000;
/** Taller than a screen: the header, the summary and all five charts fit in one picture for review. */
const SCREENSHOT_WINDOW = '1280,3400';
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  console.warn(`SKIPPED: the headless-browser check of the HTML report did not run: ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`);
}

describe.skipIf(chromiumMissing)('the HTML report in headless Chromium', () => {
  // Kept after the run so a person can look at what the page looks like.
  const outputDir = fileURLToPath(new URL('../.vitest-output/', import.meta.url));
  const screenshot = join(outputDir, 'report.png');
  let workDir = '';
  let htmlUrl = '';
  let dom = '';

  /** A fresh profile per launch: no state from an earlier run, and no lock held by a concurrent one. */
  async function chromium(...args: string[]): Promise<string> {
    const profile = mkdtempSync(join(workDir, 'profile-'));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`];
    const run = await execa(CHROMIUM, [...flags, ...args, htmlUrl], { timeout: BROWSER_TIMEOUT_MS, reject: false });
    if (run.exitCode !== 0 || run.timedOut) throw new Error(`chromium ${args.join(' ')} failed (exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}):\n${run.stderr.slice(-2000)}`);
    return run.stdout;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenbench-html-'));
    const htmlPath = join(workDir, 'report.html');
    writeFileSync(htmlPath, renderHtml(sentinel));
    htmlUrl = pathToFileURL(htmlPath).href;
    mkdirSync(outputDir, { recursive: true });
    rmSync(screenshot, { force: true });
    await chromium(`--screenshot=${screenshot}`, `--window-size=${SCREENSHOT_WINDOW}`);
    dom = await chromium('--dump-dom');
  }, 2 * BROWSER_TIMEOUT_MS + 10_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('takes a screenshot with something on it', () => {
    expect(existsSync(screenshot)).toBe(true);
    // A blank 1280x2400 page compresses to a few kB; charts and tables do not.
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
  });

  it('keeps the five charts after its scripts ran', () => {
    expect(chartNames(dom)).toEqual(CHARTS);
  });

  it('draws every chart and raises no script error', () => {
    const body = /<body([^>]*)>/.exec(dom)?.[1] ?? '';
    expect(body).not.toContain('data-errors');
    expect(body).toContain('data-rendered="ok"');
  });
});
