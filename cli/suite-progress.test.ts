import { describe, expect, it } from 'vitest';
import type { ProgressInfo, StageInfo } from '../harness/runner.ts';
import { loadScenarioFile, normalizeScenario } from '../harness/scenario.ts';
import {
  estimateLeft,
  fitColumns,
  formatClock,
  formatLeft,
  formatRunClock,
  liveLine,
  logLine,
  type PlannedRun,
  plannedRuns,
  type Status,
  SuiteProgress,
} from './suite-progress.ts';

const run = (entry: number, warmupMs = 1000, durationMs = 6000, scenario = 0): PlannedRun => ({ scenario, entry, warmupMs, durationMs });

describe('formatRunClock', () => {
  const clock = (elapsedMs: number, phase: ProgressInfo['phase'] = 'steady') => formatRunClock({ elapsedMs, warmupMs: 1000, durationMs: 6000, phase });

  it('counts the warm-up up to its length, never below zero, in tenths', () => {
    expect(clock(-1000, 'warmup')).toBe('warm-up 0.0/1s');
    expect(clock(-600, 'warmup')).toBe('warm-up 0.4/1s');
    expect(clock(-1400, 'warmup')).toBe('warm-up 0.0/1s');
    expect(clock(-1, 'warmup')).toBe('warm-up 0.9/1s');
    expect(formatRunClock({ elapsedMs: -250, warmupMs: 300, durationMs: 3000, phase: 'warmup' })).toBe('warm-up 0.0/0.3s');
  });

  it('then the measured phase in whole seconds done, with its phase, and never past its end', () => {
    expect(clock(0, 'warmup')).toBe('0/6s');
    expect(clock(2999)).toBe('2/6s steady');
    expect(clock(3000, 'fault')).toBe('3/6s fault');
    expect(clock(6800, 'recovery')).toBe('6/6s recovery');
    expect(formatRunClock({ elapsedMs: 1200, warmupMs: 0, durationMs: 2500, phase: 'steady' })).toBe('1/2.5s steady');
  });
});

describe('formatClock', () => {
  it('reads as a stopwatch', () => {
    expect([0, 499, 42_000, 59_600, 725_000, 3_723_000, -5].map(formatClock)).toEqual(['0:00', '0:00', '0:42', '1:00', '12:05', '1:02:03', '0:00']);
  });
});

describe('estimateLeft', () => {
  const suite = [run(0), run(0), run(1), run(1)];

  it('before any run has finished: the planned warm-up and measured phases only, a lower bound', () => {
    expect(estimateLeft(suite, [], 0)).toEqual({ leftMs: 28_000, basis: 'planned' });
    // Three seconds into the first run: what is left of its planned 7 s, and three more runs.
    expect(estimateLeft(suite, [], 3000)).toEqual({ leftMs: 4000 + 21_000, basis: 'planned' });
    expect(formatLeft(estimateLeft(suite, [], 3000))).toBe('≥0:25 left (rough)');
  });

  it("learns each topology entry's overhead from its own finished runs", () => {
    // Entry 0 took 9 s and 11 s (2 s and 4 s over its 7 s planned), entry 1's first 17 s (10 s over: a failover settling).
    const e = estimateLeft(suite, [9000, 11_000, 17_000], 5000);
    expect(e).toEqual({ leftMs: 17_000 - 5000, basis: 'learned' });
    expect(formatLeft(e)).toBe('~0:12 left');
  });

  it('borrows the mean of every finished run for an entry not seen yet, and says so', () => {
    const e = estimateLeft(suite, [9000, 11_000], 0);
    // Entry 1's two runs: 7 s planned plus the 3 s mean overhead each.
    expect(e).toEqual({ leftMs: 20_000, basis: 'borrowed' });
    expect(formatLeft(e)).toBe('~0:20 left (rough)');
  });

  it('a current run past its estimate adds nothing, the runs after it still do', () => {
    expect(estimateLeft(suite, [9000, 11_000, 17_000], 30_000)).toEqual({ leftMs: 0, basis: 'learned' });
    // Entry 1's two runs borrow run 1's 2 s overhead: 9 s each.
    expect(estimateLeft(suite, [9000], 60_000)).toEqual({ leftMs: 18_000, basis: 'borrowed' });
  });

  it('nothing left once every run is done', () => {
    expect(estimateLeft(suite, [9000, 11_000, 17_000, 16_000], 0)).toEqual({ leftMs: 0, basis: 'learned' });
  });
});

describe('plannedRuns', () => {
  it("the default suite: every strategy on each topology entry, in runScenario's order, with its warm-up and measured phase", () => {
    const plan = plannedRuns([loadScenarioFile('scenarios/default-suite.yaml')]);
    expect(plan).toHaveLength(15);
    expect(plan.map((r) => r.entry)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(new Set(plan.map((r) => `${r.warmupMs}+${r.durationMs}`))).toEqual(new Set(['1000+6000']));
  });

  it("decide's scenarios one after another, each with its own", () => {
    const plan = plannedRuns([
      normalizeScenario({ strategies: ['pure', 'blacklist'], load: { warmup: '500ms', duration: '8s' } }),
      normalizeScenario({ strategies: ['blacklist'], topology: { kind: 'sentinel' }, load: { warmup: '500ms', duration: '3s' } }),
    ]);
    expect(plan).toEqual([
      { ...run(0, 500, 8000, 0), priorOverheadMs: 1000 },
      { ...run(0, 500, 8000, 0), priorOverheadMs: 1000 },
      { ...run(0, 500, 3000, 1), priorOverheadMs: 3000 },
    ]);
  });

  it('guesses each topology its own overhead before any run of it finished, rather than borrowing a single server’s', () => {
    const plan = plannedRuns([
      normalizeScenario({
        strategies: ['blacklist'],
        topologies: [{ topology: { kind: 'single' } }, { topology: { kind: 'sentinel' }, faults: [{ at: '2s', action: 'kill', target: 'primary' }] }],
        load: { warmup: '1s', duration: '6s' },
      }),
    ]);
    expect(estimateLeft(plan, [], 0)).toEqual({ leftMs: 7000 + 1000 + 7000 + 13_500, basis: 'borrowed' });
    // The single run took 8 s: its own entry is learned, the Sentinel run keeps its guess.
    expect(estimateLeft(plan, [8000], 0)).toEqual({ leftMs: 7000 + 13_500, basis: 'borrowed' });
  });
});

describe('SuiteProgress', () => {
  let now = 0;
  const stage = (index: number, step: StageInfo['step'], stageText: string, label = 'blacklist'): StageInfo => ({
    run: { index, count: 3 },
    label,
    topology: index < 2 ? 'single' : 'sentinel',
    step,
    stage: stageText,
  });
  const tick = (index: number, elapsedMs: number, phase: ProgressInfo['phase'] = 'steady', windowMs = 1000): ProgressInfo => ({
    run: { index, count: 3 },
    label: 'blacklist',
    topology: 'single',
    elapsedMs,
    warmupMs: 1000,
    durationMs: 6000,
    windowMs,
    opsPerSec: 500,
    p99Ms: 2.1,
    errors: 0,
    degraded: 0,
    phase,
  });

  it('shows run k of N, the stage by name, the warm-up and measured clocks, and a line per run as it ends', () => {
    now = 0;
    const suite = new SuiteProgress([run(0), run(0), run(1)], () => now);
    expect(suite.status()).toBeUndefined();
    now = 1000;
    expect(suite.stage(0, stage(0, 'topology', 'starting single topology'))).toBeUndefined();
    expect(liveLine(suite.status()!)).toBe('[run 1/3 · 0:00 elapsed · ≥0:21 left (rough)] blacklist on single: starting single topology');
    now = 1500;
    suite.stage(0, stage(0, 'login', 'logging in 2000 sessions'));
    now = 2000;
    suite.stage(0, stage(0, 'load', 'warming up for 1000 ms, then measuring for 6000 ms'));
    // Before the harness's first tick the clock runs from the load stage.
    now = 2400;
    expect(suite.status()!.doing).toBe('warm-up 0.4/1s');
    // The first tick comes just as the warm-up ends: its window holds no measured time, so no figures yet.
    now = 3000;
    suite.progress(0, tick(0, 2, 'warmup', 2));
    expect(suite.status()!.doing).toBe('0/6s');
    now = 4000;
    suite.progress(0, tick(0, 1000));
    expect(suite.status()!.doing).toBe('1/6s steady  500 ops/s  p99 2.10 ms  errors 0  degraded 0');
    now = 6100;
    suite.progress(0, tick(0, 3000, 'fault'));
    now = 6600;
    // Between ticks the run clock moves on: 3.6 s into the measured phase.
    expect(suite.status()!.doing).toBe('3/6s fault  500 ops/s  p99 2.10 ms  errors 0  degraded 0');
    now = 9100;
    suite.stage(0, stage(0, 'settle', 'healing faults and settling'));
    expect(suite.status()!.doing).toBe('healing faults and settling');
    now = 11_000;
    const ended = suite.stage(1, stage(1, 'topology', 'starting single topology', 'pure'));
    // Run 1 took 10 s: 3 s over its 7 s planned, learned for run 2 of the same entry and borrowed for run 3 (another).
    expect(ended).toEqual({
      run: 1,
      runs: 3,
      elapsedMs: 10_000,
      estimate: { leftMs: 20_000, basis: 'borrowed' },
      title: 'blacklist on single',
      doing: 'done in 10.00 s',
    } satisfies Status);
    expect(liveLine(suite.status()!)).toBe('[run 2/3 · 0:10 elapsed · ~0:20 left (rough)] pure on single: starting single topology');
    now = 19_000;
    suite.stage(2, stage(2, 'topology', 'starting sentinel topology'));
    now = 35_000;
    const last = suite.finish()!;
    expect(last).toMatchObject({ run: 3, runs: 3, elapsedMs: 34_000, estimate: { leftMs: 0 }, title: 'blacklist on sentinel', doing: 'done in 16.00 s' });
    expect(suite.status()).toBeUndefined();
  });

  it('in a plan of several scenarios (decide), a scenario counts from its first run in the plan', () => {
    now = 0;
    const suite = new SuiteProgress([run(0, 500, 8000, 0), run(0, 500, 8000, 0), run(0, 500, 3000, 1)], () => now);
    expect([0, 1, 2].map((s) => suite.firstRunOf(s))).toEqual([0, 2, 3]);
    suite.stage(suite.firstRunOf(1) + 0, stage(0, 'topology', 'starting sentinel topology'));
    expect(suite.status()).toMatchObject({ run: 3, runs: 3 });
  });

  it('a progress tick of a run that is not the current one is ignored', () => {
    now = 0;
    const suite = new SuiteProgress([run(0), run(0)], () => now);
    suite.stage(1, stage(1, 'load', 'warming up'));
    suite.progress(0, tick(0, 3000));
    expect(suite.status()!.doing).toBe('warm-up 0.0/1s');
  });
});

describe('lines', () => {
  const status: Status = {
    run: 3,
    runs: 15,
    elapsedMs: 42_000,
    estimate: { leftMs: 130_000, basis: 'learned' },
    title: 'blacklist on sentinel',
    doing: 'healing faults and settling',
  };

  it('a log line keeps the stage line first, as CI logs and tests read it', () => {
    expect(logLine(status)).toBe('[blacklist on sentinel] healing faults and settling  (run 3/15 · 0:42 elapsed · ~2:10 left)');
  });

  it('the live line puts the plan first and fits the terminal', () => {
    const line = liveLine(status);
    expect(line).toBe('[run 3/15 · 0:42 elapsed · ~2:10 left] blacklist on sentinel: healing faults and settling');
    expect(fitColumns(line, 200)).toBe(line);
    expect(fitColumns(line, undefined)).toBe(line);
    expect(fitColumns(line, 40)).toBe('[run 3/15 · 0:42 elapsed · ~2:10 left]…');
    expect([...fitColumns(line, 40)]).toHaveLength(39);
  });
});
