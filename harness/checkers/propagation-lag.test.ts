import { describe, expect, it } from 'vitest';
import { accept, check, op, reject, revoke, revokeAll, runInfo, token } from '../../test/support/history.ts';
import { propagationLag } from './propagation-lag.ts';

describe('propagation-lag', () => {
  it('an empty history has no lags', () => {
    const result = check(propagationLag, []);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ count: 0, unobserved: 0, neverStable: 0 });
    expect(result.figures).toEqual({ p50Ms: null, p99Ms: null, maxMs: null, count: 0 });
  });

  it('a revocation every later verify respected has no lag', () => {
    const a = token('a');
    const result = check(propagationLag, [revoke(100, 110, a), reject(120, 121, a, 'ERR_REVOKED'), reject(200, 201, a, 'ERR_REVOKED')]);
    expect(result.figures).toMatchObject({ p50Ms: 0, maxMs: 0, count: 1 });
  });

  it('the lag runs from the ack to the completion of the last accept after it', () => {
    const a = token('a');
    const result = check(propagationLag, [revoke(100, 110, a), accept(120, 130, a), accept(150, 160, a), reject(200, 201, a, 'ERR_REVOKED')]);
    expect(result.valid).toBe(true);
    expect(result.figures).toMatchObject({ p50Ms: 50, maxMs: 50 });
    expect(result.counts).toMatchObject({ withLag: 1, neverStable: 0 });
  });

  it('verifies concurrent with the revocation and degraded verdicts do not count', () => {
    const a = token('a');
    const result = check(propagationLag, [
      revoke(100, 110, a),
      accept(105, 130, a),
      accept(150, 160, a, { degraded: true }),
      reject(200, 201, a, 'ERR_REVOKED'),
    ]);
    expect(result.figures).toMatchObject({ maxMs: 0 });
  });

  it('a revocation never verified after its ack is unobserved', () => {
    const result = check(propagationLag, [revoke(100, 110, token('a')), revoke(100, 110, token('b'), { type: 'info' })]);
    expect(result.counts).toMatchObject({ count: 0, unobserved: 1 });
  });

  it('a revocation whose last verify still accepted never became stable: a failure for an immediate guarantee only', () => {
    const a = token('a');
    const last = accept(900, 901, a);
    const ops = [revoke(100, 110, a), reject(200, 201, a, 'ERR_REVOKED'), last];
    const immediate = check(propagationLag, ops);
    expect(immediate.valid).toBe(false);
    expect(immediate.counts.neverStable).toBe(1);
    expect(immediate.examples).toEqual([last]);
    expect(check(propagationLag, ops, runInfo({ guarantee: { boundedByMs: 60_000 } })).valid).toBe(true);
  });

  it('revokeAll is measured on the tokens it covers only', () => {
    const older = token('older', 50);
    const newer = token('newer', 150);
    const result = check(propagationLag, [revokeAll(100, 110), accept(200, 201, newer), reject(200, 201, older, 'ERR_REVOKED')]);
    expect(result.figures).toMatchObject({ maxMs: 0, count: 1 });
  });

  it('reports percentiles over revocations', () => {
    const ops = Array.from({ length: 10 }, (_, i) => {
      const t = token(`t${i}`);
      return [revoke(0, 10, t), accept(20, 10 + (i + 1) * 10, t), reject(500, 501, t, 'ERR_REVOKED')];
    }).flat();
    const result = check(propagationLag, ops);
    expect(result.figures).toEqual({ p50Ms: 50, p99Ms: 100, maxMs: 100, count: 10 });
  });

  describe('across verifier instances', () => {
    const fast = { worker: 1000, probe: true, replay: true } as const;
    const slow = { worker: 1001, probe: true, replay: true } as const;
    const a = token('a');
    const b = token('b');
    const history = [
      revoke(100, 110, a),
      // The fast instance: one stale accept, rejected 5 ms after the ack.
      accept(111, 112, a, fast),
      reject(113, 115, a, 'ERR_REVOKED', fast),
      // The slow one: three stale accepts, rejected 21 ms after the ack.
      accept(114, 116, a, slow),
      accept(117, 120, a, slow),
      accept(122, 123, a, slow),
      reject(130, 131, a, 'ERR_REVOKED', slow),
      // The writer's own verify: not a probe, not in these figures.
      accept(111, 111.5, a, { replay: true }),
      revoke(200, 210, b),
      reject(212, 214, b, 'ERR_REVOKED', fast),
      // Never rejected by the slow one; an info probe and a degraded accept count for no bound or stale accept.
      accept(215, 216, b, slow),
      op('verify', 250, 260, { ...b, ...slow, type: 'info', error: 'Command timed out' }),
      accept(300, 301, b, { ...slow, degraded: true }),
      accept(1000, 1001, b, slow),
      accept(5210, 5211, b, slow),
      // A probe of a token with no acknowledged revocation belongs to no pair.
      accept(400, 401, token('c'), fast),
    ];

    it('per revocation and instance: upper and lower bounds of the lag, never rejected, stale accepts and the relay, as counted by hand', () => {
      const result = check(propagationLag, history, runInfo({ verifiers: 2 }));
      // Pairs: a x fast (relay 1, upper 5, lower 1), a x slow (relay 4, upper 21, lower 12),
      // b x fast (relay 2, upper 4, lower 0), b x slow (relay 5, never rejected).
      expect(result.acrossInstances).toEqual({
        instances: 2,
        probes: 4,
        neverRejected: 1,
        // a: 1 + 3; b: 3 (the degraded one left out).
        staleAccepts: 7,
        p50Ms: 5,
        p99Ms: 21,
        maxMs: 21,
        lowerBound: { p50Ms: 1, p99Ms: 12, maxMs: 12 },
        relayP50Ms: 2,
        relayMaxMs: 5,
      });
    });

    it('is absent from a run without verifier instances, present (empty) in one whose instances probed nothing', () => {
      expect(check(propagationLag, [revoke(100, 110, a), reject(120, 121, a, 'ERR_REVOKED')]).acrossInstances).toBeUndefined();
      expect(check(propagationLag, [revoke(100, 110, a)], runInfo({ verifiers: 3 })).acrossInstances).toEqual({
        instances: 3,
        probes: 0,
        neverRejected: 0,
        staleAccepts: 0,
        p50Ms: null,
        p99Ms: null,
        maxMs: null,
        lowerBound: { p50Ms: null, p99Ms: null, maxMs: null },
        relayP50Ms: null,
        relayMaxMs: null,
      });
    });
  });
});
