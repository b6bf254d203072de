import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.ts';
import { loadResult } from '../../result/schema.ts';
import { CHARTS, chartNames } from '../support/html-report.ts';
import { CHROMIUM } from '../support/optional-tools.ts';

const sentinel = loadResult(fileURLToPath(new URL('../../reports/fixtures/sentinel-kill.json', import.meta.url)));

const BROWSER_TIMEOUT_MS = 60_000;
/** Taller than a screen: the header, the summary and all five charts fit in one picture for review. */
const SCREENSHOT_WINDOW = '1280,3400';
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  console.warn(`SKIPPED: the headless-browser check of the HTML report did not run: ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`);
}

describe.skipIf(chromiumMissing)('the HTML report in headless Chromium', () => {
  // Kept after the run so a person can look at what the page looks like.
  const outputDir = fileURLToPath(new URL('../../.vitest-output/', import.meta.url));
  const screenshot = join(outputDir, 'report.png');
  let workDir = '';
  let htmlUrl = '';
  let dom = '';

  /** A fresh profile per launch: no state from an earlier run, and no lock held by a concurrent one. */
  async function chromium(...args: string[]): Promise<string> {
    const profile = mkdtempSync(join(workDir, 'profile-'));
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
    ];
    const run = await execa(CHROMIUM, [...flags, ...args, htmlUrl], { timeout: BROWSER_TIMEOUT_MS, reject: false });
    if (run.exitCode !== 0 || run.timedOut)
      throw new Error(`chromium ${args.join(' ')} failed (exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}):\n${run.stderr.slice(-2000)}`);
    return run.stdout;
  }

  beforeAll(
    async () => {
      workDir = mkdtempSync(join(tmpdir(), 'tokenbench-html-'));
      const htmlPath = join(workDir, 'report.html');
      writeFileSync(htmlPath, renderHtml(sentinel));
      htmlUrl = pathToFileURL(htmlPath).href;
      mkdirSync(outputDir, { recursive: true });
      rmSync(screenshot, { force: true });
      await chromium(`--screenshot=${screenshot}`, `--window-size=${SCREENSHOT_WINDOW}`);
      dom = await chromium('--dump-dom');
    },
    2 * BROWSER_TIMEOUT_MS + 10_000,
  );

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
