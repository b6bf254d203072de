import { describe, expect, it } from 'vitest';
import { check, op, runInfo } from '../../test/support/history.ts';
import { partitionEvents, partitionOps, partitionRun, SIDES_BY_HAND, sidesOps } from '../../test/support/partition-history.ts';
import type { FaultRecord, Op } from '../history.ts';
import { runCheckers } from './index.ts';
import { unavailability } from './unavailability.ts';

/** A verify answered by Redis, completing at completeMs after latencyMs. */
const answered = (completeMs: number, latencyMs = 1, fields: Partial<Op> = {}) =>
  op('verify', completeMs - latencyMs, completeMs, { jti: 'a', accepted: true, ...fields });
const failClosed = (completeMs: number, latencyMs = 1) => answered(completeMs, latencyMs, { accepted: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true });

function every(stepMs: number, fromMs: number, untilMs: number, make: (ms: number) => Op): Op[] {
  const ops: Op[] = [];
  for (let ms = fromMs; ms < untilMs; ms += stepMs) ops.push(make(ms));
  return ops;
}

const fault = (atMs: number, action = 'kill'): FaultRecord => ({ action, target: 'primary', atMs });

describe('unavailability', () => {
  it('an empty run is one window without answers, from start to end', () => {
    const result = check(unavailability, [], runInfo({ durationMs: 10_000 }));
    expect(result.valid).toBe(true);
    expect(result.figures).toEqual({ longestWindowMs: 10_000, windowStartMs: 0, longestWindowOpenAtEnd: true, baselineP99Ms: null, steadySpread: null });
    expect(result.perFault).toEqual([]);
  });

  it('finds the longest gap between definite answers; degraded verdicts and outage errors are not answers', () => {
    const ops = [
      ...every(100, 100, 3001, (ms) => answered(ms)),
      failClosed(3500),
      op('revoke', 3600, 4600, { type: 'info' }),
      answered(4000, 1, { degraded: true }),
      ...every(100, 5500, 9901, (ms) => answered(ms)),
    ];
    const result = check(unavailability, ops, runInfo({ durationMs: 10_000 }));
    expect(result.figures).toMatchObject({ longestWindowMs: 2500, windowStartMs: 3000 });
    // The revoke is not a verify: authentication availability ignores it.
    expect(result.counts).toEqual({ ops: ops.length - 1, definite: ops.length - 3, errors: 2 });
  });

  it('the run start and end are boundaries; warm-up, final and late ops do not close the last window', () => {
    const ops = [
      answered(-500, 1, { phase: 'warmup' }),
      answered(2000),
      answered(4000),
      answered(10_300), // in flight when the measured phase ended
      answered(10_400, 1, { phase: 'final' }),
    ];
    const result = check(unavailability, ops, runInfo({ durationMs: 10_000 }));
    expect(result.figures).toMatchObject({ longestWindowMs: 6000, windowStartMs: 4000 });
  });

  it('only verifies count: a login that needs no Redis must not hide a verify outage', () => {
    const ops = [answered(100), op('issue', 300, 400), op('revoke', 500, 600), answered(900)];
    const result = check(unavailability, ops, runInfo({ durationMs: 1000 }));
    expect(result.counts).toEqual({ ops: 2, definite: 2, errors: 0 });
    expect(result.figures).toMatchObject({ longestWindowMs: 800, windowStartMs: 100 });
  });

  it('per fault: time to the first error, and to the first answer after it', () => {
    const ops = [...every(50, 50, 3001, (ms) => answered(ms)), failClosed(3400), failClosed(3450.5), answered(5200)];
    const [kill] = check(unavailability, ops, runInfo({ durationMs: 6000, faults: [fault(3000)] })).perFault!;
    expect(kill).toMatchObject({ action: 'kill', target: 'primary', atMs: 3000, detectMs: 400, recoverMs: 2200 });
  });

  it('a fault nobody noticed recovers in 0; one never recovered from has no recovery time', () => {
    const quiet = check(
      unavailability,
      every(5, 100, 5001, (ms) => answered(ms)),
      runInfo({ durationMs: 5000, faults: [fault(2000, 'pause')] }),
    ).perFault!;
    expect(quiet[0]).toMatchObject({ detectMs: null, recoverMs: 0, steadyP99Ms: 0 });
    const dead = check(unavailability, [answered(1000), failClosed(2500), failClosed(4000)], runInfo({ durationMs: 5000, faults: [fault(2000)] })).perFault!;
    expect(dead[0]).toMatchObject({ detectMs: 500, recoverMs: null });
  });

  it('an error after the next fault belongs to that fault; faults are taken in time order', () => {
    const ops = [answered(1000), answered(2500), failClosed(4300), answered(4800)];
    const perFault = check(unavailability, ops, runInfo({ durationMs: 6000, faults: [fault(4000, 'kill'), fault(2000, 'pause')] })).perFault!;
    expect(perFault.map((f) => [f.action, f.detectMs, f.recoverMs])).toEqual([
      ['pause', null, 0],
      ['kill', 300, 800],
    ]);
  });

  it('resolves an error inside the fault bucket to the millisecond', () => {
    // Errors before the fault (a previous outage tail) and after it, in the same 100 ms bucket.
    const ops = [answered(3000), failClosed(3005), failClosed(3060.4), failClosed(3090), answered(3200)];
    const [kill] = check(unavailability, ops, runInfo({ durationMs: 5000, faults: [fault(3050)] })).perFault!;
    expect(kill!.detectMs).toBe(10);
  });

  it('a window still open when the measured phase ended says so: its length is a lower bound', () => {
    const ops = [...every(50, 50, 2001, (ms) => answered(ms)), failClosed(2500), failClosed(2900)];
    const result = check(unavailability, ops, runInfo({ durationMs: 3000, faults: [fault(2010)] }));
    expect(result.figures).toMatchObject({ longestWindowMs: 1000, windowStartMs: 2000, longestWindowOpenAtEnd: true });
    expect(result.perFault![0]!.recoverMs).toBeNull();
    const closed = check(unavailability, [...ops, answered(2950)], runInfo({ durationMs: 3000, faults: [fault(2010)] }));
    expect(closed.figures).toMatchObject({ longestWindowMs: 950, longestWindowOpenAtEnd: false });
  });

  describe('steadyP99Ms', () => {
    /** 20 ops per 100 ms: 1 ms latency, except slowMs between the given times. */
    const load = (untilMs: number, slowFromMs: number, slowUntilMs: number, slowMs = 500) =>
      every(5, 5, untilMs, (ms) => answered(ms, ms >= slowFromMs && ms < slowUntilMs ? slowMs : 1));

    it('is the time from the fault until every window p99 is back within the steady spread', () => {
      const result = check(unavailability, load(10_000, 3000, 5000), runInfo({ durationMs: 10_000, faults: [fault(3000)] }));
      expect(result.figures!.baselineP99Ms).toBeCloseTo(1, 1);
      expect(result.perFault![0]!.steadyP99Ms).toBe(2000);
    });

    it('is null when latency never settles before the run ends', () => {
      const result = check(unavailability, load(10_000, 3000, 10_000), runInfo({ durationMs: 10_000, faults: [fault(3000)] }));
      expect(result.perFault![0]!.steadyP99Ms).toBeNull();
    });

    it('is null without a baseline (a fault in the first bucket)', () => {
      const result = check(unavailability, load(10_000, 0, 1000), runInfo({ durationMs: 10_000, faults: [fault(50)] }));
      expect(result.figures!.baselineP99Ms).toBeNull();
      expect(result.perFault![0]!.steadyP99Ms).toBeNull();
    });

    it('a window holds at least 200 verifies: at 10 ops/s there is no spread to compare with, so no claim', () => {
      const slow = every(100, 100, 10_000, (ms) => answered(ms, ms >= 3000 && ms < 5000 ? 500 : 1));
      const result = check(unavailability, slow, runInfo({ durationMs: 10_000, faults: [fault(3000)] }));
      expect(result.figures!.steadySpread).toBeNull();
      expect(result.perFault![0]!.steadyP99Ms).toBeNull();
    });

    it('a paused primary healed after 2 s: steady again within 0.3 s of the heal, whatever the outliers of the steady phase', () => {
      // 1000 verifies/s at ~0.3 ms with one 4-8 ms outlier in 80, so a window p99 often is one; paused 8-10 s:
      // nothing completes, then the 2000 queued verifies complete within 50 ms of the heal.
      const ops: Op[] = [];
      let n = 0;
      const latencyOf = () => (++n % 80 === 0 ? 4 + (n % 5) : 0.3);
      for (let ms = 1; ms < 8000; ms++) ops.push(answered(ms, latencyOf()));
      for (let i = 0; i < 2000; i++) ops.push(answered(10_000 + i * 0.025, 2000 - i));
      for (let ms = 10_051; ms < 20_000; ms++) ops.push(answered(ms, latencyOf()));
      ops.sort((a, b) => a.completeMs - b.completeMs);
      const result = check(unavailability, ops, runInfo({ durationMs: 20_000, faults: [{ ...fault(8000, 'pause'), healedAtMs: 10_000 }] }));
      const spread = result.figures!.steadySpread!;
      expect(spread.windows).toBeGreaterThan(50);
      expect(spread.highMs).toBeGreaterThan(3);
      const steadyAfterHealMs = result.perFault![0]!.steadyP99Ms! - 2000;
      expect(steadyAfterHealMs).toBeGreaterThanOrEqual(0);
      expect(steadyAfterHealMs).toBeLessThanOrEqual(300);
    });

    it('a single slow op in a busy second does not move the p99', () => {
      const ops = [...load(10_000, 0, 0), answered(4000.5, 900)];
      const result = check(unavailability, ops, runInfo({ durationMs: 10_000, faults: [fault(3000)] }));
      expect(result.perFault![0]!.steadyP99Ms).toBe(0);
    });
  });
});

describe('unavailability: what a network fault did to writes', () => {
  it('dates the demotion from the heal and counts the acknowledged revocations in each window', () => {
    const result = check(unavailability, partitionOps(), partitionRun());
    // By hand (test/support/partition-history.ts): acks at 2.1 (j), 2.2 (i), 2.5 (b), 3 (c), 3.5 (d), 4.5 (g) s
    // during the cut [2 s, 6 s), of which j, b, c and d by redis-0; e (6.5 s) and f (7 s) by redis-0 between the heal and the demotion at 8 s.
    expect(result.perFault).toEqual([
      expect.objectContaining({
        action: 'partition',
        node: 'redis-0',
        demotedAfterHealMs: 2000,
        acksDuringFault: 6,
        acksAfterHealBeforeDemotion: 2,
        acksByNode: { duringFault: 4, afterHealBeforeDemotion: 2 },
      }),
    ]);
  });

  it('no demotion seen: null, and the node with no known port has no per-node counts', () => {
    const result = check(unavailability, partitionOps(), partitionRun({ events: partitionEvents.filter((e) => e.source !== 'role'), nodes: [] }));
    expect(result.perFault![0]).toMatchObject({ demotedAfterHealMs: null, acksDuringFault: 6, acksAfterHealBeforeDemotion: 0, acksByNode: null });
  });

  it('other faults carry none of these figures', () => {
    const result = check(unavailability, partitionOps(), partitionRun({ faults: [fault(2000)] }));
    expect(result.perFault![0]).not.toHaveProperty('acksDuringFault');
  });
});

describe('unavailability by client group', () => {
  it('each group by the run-wide rule: the cut-off side had no answer for 4 s while the run as a whole never waited more than 50 ms', () => {
    const result = check(unavailability, sidesOps(), partitionRun());
    expect(result.figures).toMatchObject({ longestWindowMs: SIDES_BY_HAND.runWide.longestWindowMs, windowStartMs: SIDES_BY_HAND.runWide.windowStartMs });
    expect(result.counts).toEqual({ ops: SIDES_BY_HAND.runWide.ops, definite: SIDES_BY_HAND.runWide.definite, errors: SIDES_BY_HAND.runWide.errors });
    expect(result.bySide).toEqual(SIDES_BY_HAND.unavailability);
  });

  it('the groups add up to the run', () => {
    const result = check(unavailability, sidesOps(), partitionRun());
    const sides = Object.values(result.bySide!);
    expect(sides.reduce((n, s) => n + s.verifies, 0)).toBe(result.counts.ops);
    expect(sides.reduce((n, s) => n + s.definite, 0)).toBe(result.counts.definite);
  });

  it('a group without a single answer is unavailable the whole run, open at the end; the default group only when it had ops', () => {
    const onlyNear = sidesOps().filter((o) => o.worker === 2);
    const result = check(unavailability, onlyNear, partitionRun());
    expect(Object.keys(result.bySide!)).toEqual(['far', 'near']);
    expect(result.bySide!.far).toEqual({ longestWindowMs: 10_000, windowStartMs: 0, longestWindowOpenAtEnd: true, verifies: 0, definite: 0 });
    expect(result.bySide!.near).toEqual(SIDES_BY_HAND.unavailability.near);
    // Run-wide, the same ops give the same figure as the one group that sent them.
    expect(result.figures).toMatchObject({ longestWindowMs: 600, windowStartMs: 1970, longestWindowOpenAtEnd: false });
  });

  it('a run without client groups has no split', () => {
    expect(check(unavailability, sidesOps(), partitionRun({ clientGroups: undefined }))).not.toHaveProperty('bySide');
  });

  it('runCheckers gives the checkers the run up front', () => {
    const checks = runCheckers(
      [...sidesOps()].sort((a, b) => a.completeMs - b.completeMs),
      partitionRun(),
    );
    expect(checks.unavailability.bySide?.far?.longestWindowMs).toBe(4000);
    expect(checks['valid-rejected'].bySide?.far?.storeUnavailable).toBe(39);
  });
});
