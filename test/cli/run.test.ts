import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import hdr from 'hdr-histogram-js';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultFile } from '../../cli/run-command.ts';
import { isAlive } from '../topologies/suite.ts';
import { BIN, serversOwnedBy, stderrBesidesRunLines, tokenbench } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-run-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function readResult(dir: string): ResultFile {
  return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ResultFile;
}

describe('tokenbench run', () => {
  it('runs every strategy on single and writes a result with latency, history and checks', async () => {
    const out = join(scratch, 'quick');
    const r = await tokenbench(['run', '--scenario', 'scenarios/quick.yaml', '--duration', '2s', '--out', out]);
    expect(stderrBesidesRunLines(r.stderr)).toBe('');
    // Off a terminal, a line as each run ends: a CI log sees the suite move.
    expect(r.stderr).toMatch(/^\[double-token on single\] done in [\d.]+ s {2}\(run 4\/4 · \d+:\d\d elapsed · ~0:00 left\)$/m);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('| strategy | topology |');
    const result = readResult(out);
    expect(result.interrupted).toBe(false);
    expect(result.runs.map((run) => run.strategy)).toEqual(['pure', 'blacklist', 'whitelist', 'double-token']);
    for (const run of result.runs) {
      expect(run.load.completedOps).toBeGreaterThan(500);
      expect(run.latency.verify?.all.count).toBeGreaterThan(0);
      expect(run.latency.verify?.histogram).toMatch(/^[A-Za-z0-9+/=]+$/);
      expect(run.slip).not.toBeNull();
      expect(Object.keys(run.checks).sort()).toEqual(['lost-revocations', 'propagation-lag', 'revoked-accepted', 'unavailability', 'valid-rejected']);
      // No faults on a single healthy node: nothing revoked may be accepted, nothing valid rejected.
      expect(run.checks['valid-rejected']?.counts.entryLost ?? 0).toBe(0);
      if (run.strategy === 'blacklist' || run.strategy === 'whitelist') {
        expect(run.checks['revoked-accepted']?.counts.violations).toBe(0);
        expect(run.checks['revoked-accepted']?.counts.checked).toBeGreaterThan(0);
        expect(run.redis.roundTripsPerVerify).toBe(1);
      } else {
        expect(run.redis.roundTripsPerVerify).toBe(0);
      }
      for (const file of run.historyFiles) expect(existsSync(file)).toBe(true);
    }
  });

  it('thresholds: each measured beside its limit, a broken one exits 3; the verdict is printed either way', async () => {
    const out = join(scratch, 'thresholds');
    const r = await tokenbench([
      'run',
      '--strategy',
      'blacklist',
      '--quick',
      '--duration',
      '2s',
      '--out',
      out,
      '--threshold',
      'violations=0',
      '--threshold',
      'verify.all.p99=0.001ms',
      '--threshold',
      'throughput=1',
      '--ci-outputs',
      'all',
    ]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/^verdict: valid: no checker found a violation in the run; thresholds: 1 of 3 broken$/m);
    expect(r.stdout).toMatch(/blacklist on single: BROKEN verify\.all\.p99 \(verify p99 latency\) <= 0 ms: [\d.]+ ms \(broken\)/);
    const result = readResult(out);
    const [run] = result.runs;
    expect(run!.thresholds.map((t) => [t.metric, t.ok])).toEqual([
      ['violations', true],
      ['verify.all.p99', false],
      ['throughput', true],
    ]);
    // The measured value is the result's own figure.
    expect(run!.thresholds[1]!.measured).toBe(run!.latency.verify!.all.p99);
    expect(result.verdict).toMatchObject({ valid: true, thresholdsBroken: 1 });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Verdict');
    // --ci-outputs all: every CI output beside report.md, each path printed like the reports'.
    for (const file of ['junit.xml', 'benchmark-action.json', 'bencher.json', 'metrics.om.txt', 'summary.md', 'hdr/0-blacklist.hlog'])
      expect(r.stdout.split('\n')).toContain(`report: ${join(out, file)}`);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain(
      `<failure message="measured ${Math.round(run!.latency.verify!.all.p99 * 100) / 100} ms, limit &lt;= 0 ms" type="AssertionError">verify.all.p99 (verify p99 latency) &lt;= 0 ms:`,
    );
    // The interval log, read back by HdrHistogram's reader, counts what the result's histograms do: one from the history files, the other from the generator's own recording.
    const log = readFileSync(join(out, 'hdr/0-blacklist.hlog'), 'utf8');
    const reader = new hdr.HistogramLogReader(log);
    const counted: Record<string, number> = {};
    for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) counted[h.tag] = (counted[h.tag] ?? 0) + h.totalCount;
    expect(counted).toEqual(Object.fromEntries(Object.entries(run!.latency).map(([op, latency]) => [op, latency.all.count])));
    // report --format renders the same bytes from result.json alone (hdr-log from the history files beside it).
    for (const [format, file] of [
      ['junit', 'junit.xml'],
      ['summary', 'summary.md'],
      ['openmetrics', 'metrics.om.txt'],
    ]) {
      const again = await tokenbench(['report', join(out, 'result.json'), '--format', format!]);
      expect(again.exitCode, format).toBe(0);
      expect(again.stdout, format).toBe(readFileSync(join(out, file!), 'utf8').replace(/\n$/, ''));
    }
    const hdrDir = join(scratch, 'thresholds-hdr');
    const logs = await tokenbench(['report', join(out, 'result.json'), '--format', 'hdr-log', '--out', hdrDir]);
    expect(logs.stdout).toBe(join(hdrDir, '0-blacklist.hlog'));
    expect(readFileSync(join(hdrDir, '0-blacklist.hlog'), 'utf8')).toBe(log);
    const kept = await tokenbench([
      'run',
      '--strategy',
      'pure',
      '--quick',
      '--duration',
      '1s',
      '--out',
      join(scratch, 'thresholds-ok'),
      '--threshold',
      'violations=0',
    ]);
    expect(kept.exitCode).toBe(0);
    const typo = await tokenbench(['run', '--strategy', 'pure', '--quick', '--ci-outputs', 'junit,junt']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr.trim()).toBe(
      "tokenbench: --ci-outputs: expected a comma-separated list of junit, benchmark-action, bencher, openmetrics, summary, hdr-log, or all, got 'junt'",
    );
    const bad = await tokenbench(['run', '--threshold', 'verify.steady.p98=1ms']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--threshold (thresholds): expected a metric among violations');
  });

  it('warns, before running, of a fault whose outage will likely outlast the measured phase', async () => {
    const r = await tokenbench([
      'run',
      '--topology',
      'single',
      '--strategy',
      'pure',
      '--quick',
      '--duration',
      '1s',
      '--fault',
      'kill:primary@500ms',
      '--out',
      join(scratch, 'late-fault'),
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('faults[0] on single: kill at 500 ms leaves 500 ms of the measured phase, and nothing heals it before the load ends (no `for`)');
  });

  it('a bad scenario is one line naming the field, exit 2', async () => {
    const r = await tokenbench(['run', '--rate', 'fast']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe("tokenbench: --rate: expected a number of operations per second, got 'fast'");
    const fault = await tokenbench(['run', '--fault', 'explode@1s']);
    expect(fault.exitCode).toBe(2);
    expect(fault.stderr).toContain('--fault (faults[0].action): expected one of');
    const late = await tokenbench(['run', '--duration', '5s', '--fault', 'kill:primary@9s']);
    expect(late.stderr).toContain('--fault (faults[0].at): expected a time within the measured phase');
  });

  it('Ctrl-C writes the partial result marked interrupted and leaves no server behind', async () => {
    const out = join(scratch, 'interrupted');
    const child = execa('node', [BIN, 'run', '--topology', 'sentinel', '--duration', '60s', '--warmup', '0', '--users', '200', '--out', out], {
      reject: false,
      env: { TOKENBENCH_NO_INSTALL: '1' },
    });
    // Interrupt once the measured phase has produced history.
    await expect
      .poll(
        () => existsSync(join(out, 'history-0-blacklist.ndjson')) && readFileSync(join(out, 'history-0-blacklist.ndjson'), 'utf8').split('\n').length > 200,
        { timeout: 60_000, interval: 200 },
      )
      .toBe(true);
    const pids = serversOwnedBy(child.pid!);
    expect(pids.length).toBe(6);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain('SIGINT: stopping the load');
    const result = readResult(out);
    expect(result.interrupted).toBe(true);
    expect(result.runs[0]?.interrupted).toBe(true);
    expect(result.runs[0]?.load.completedOps).toBeGreaterThan(0);
    await expect.poll(() => pids.filter(isAlive), { timeout: 10_000 }).toEqual([]);
  });
});

describe('the main job', () => {
  it('the default suite (shortened with --quick) runs every strategy on every topology and writes the reports', async () => {
    const out = join(scratch, 'suite');
    const r = await tokenbench(['run', '--scenario', 'scenarios/default-suite.yaml', '--quick', '--out', out]);
    expect(r.exitCode).toBe(0);
    const result = readResult(out);
    const cells = result.runs.map((run) => `${run.strategy}@${run.topology.kind}`);
    for (const kind of ['single', 'sentinel', 'cluster'])
      for (const s of ['pure', 'blacklist', 'replicated-blacklist', 'whitelist', 'double-token']) expect(cells).toContain(`${s}@${kind}`);
    for (const run of result.runs.filter((x) => x.topology.kind !== 'single')) expect(run.faults[0]).toMatchObject({ action: 'kill' });
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/data-chart="latency-over-time-panel-\d+"/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## What this means');
    expect(r.stdout).toContain(`report: ${join(out, 'report.md')}`);
    const again = await tokenbench(['report', join(out, 'result.json')]);
    expect(again.exitCode).toBe(0);
    // execa strips the final newline of stdout.
    expect(again.stdout).toBe(readFileSync(join(out, 'report.md'), 'utf8').replace(/\n$/, ''));
  }, 400_000);
});

describe('tokenbench report', () => {
  it('renders a fixture; a truncated file is one line naming the file, exit 2', async () => {
    const ok = await tokenbench(['report', 'reports/fixtures/sentinel-kill.json']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('## Summary');
    const truncated = join(scratch, 'truncated.json');
    writeFileSync(truncated, readFileSync('reports/fixtures/sentinel-kill.json', 'utf8').slice(0, 500));
    const bad = await tokenbench(['report', truncated]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(`${truncated}: not valid JSON`);
  });

  it('--format for each CI output; hdr-log needs a directory and the history files, each said in one line', async () => {
    for (const format of ['junit', 'benchmark-action', 'bencher', 'openmetrics', 'summary']) {
      const r = await tokenbench(['report', 'reports/fixtures/sentinel-kill.json', '--format', format]);
      expect(r.exitCode, format).toBe(0);
      expect(r.stdout.length, format).toBeGreaterThan(100);
    }
    const noDir = await tokenbench(['report', 'reports/fixtures/sentinel-kill.json', '--format', 'hdr-log']);
    expect(noDir.exitCode).toBe(2);
    expect(noDir.stderr.trim()).toBe('tokenbench: report: --format hdr-log writes one file per run: give the directory with --out <dir>');
    // The fixture was committed without its history files.
    const noHistory = await tokenbench(['report', 'reports/fixtures/sentinel-kill.json', '--format', 'hdr-log', '--out', join(scratch, 'hdr')]);
    expect(noHistory.exitCode).toBe(2);
    expect(noHistory.stderr.trim().split('\n')).toHaveLength(1);
    expect(noHistory.stderr).toContain("history/history-0-blacklist.ndjson: history file of run 'blacklist on sentinel' not found");
  });
});
