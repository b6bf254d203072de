import { describe, expect, it } from 'vitest';
import { accept, check, reject, revoke, revokeAll, runInfo, token } from '../../test/support/history.ts';
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
});
