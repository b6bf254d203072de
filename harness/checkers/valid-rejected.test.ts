import { describe, expect, it } from 'vitest';
import { accept, check, op, reject, revoke, revokeAll, token } from '../../test/support/history.ts';
import { partitionRun, SIDES_BY_HAND, sidesOps } from '../../test/support/partition-history.ts';
import { validRejected } from './valid-rejected.ts';

describe('valid-rejected', () => {
  it('an empty history proves nothing', () => {
    const result = check(validRejected, []);
    expect(result.valid).toBe('unknown');
    expect(result.examples).toEqual([]);
  });

  it('accepting live tokens is fine', () => {
    const result = check(validRejected, [accept(10, 11, token('a')), accept(20, 21, token('b'))]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ verdicts: 2, rejected: 0 });
  });

  it('a never-revoked token rejected as not allowlisted is an entry lost', () => {
    const lost = reject(500, 501, token('a'), 'ERR_NOT_ALLOWLISTED');
    const result = check(validRejected, [accept(10, 11, token('a')), lost]);
    expect(result.valid).toBe(false);
    expect(result.counts).toMatchObject({ rejected: 1, entryLost: 1 });
    expect(result.examples).toEqual([lost]);
  });

  it('fail-closed store unavailability is a measured cost, not a violation', () => {
    const unavailable = reject(500, 1500, token('a'), 'ERR_STORE_UNAVAILABLE', { degraded: true });
    const result = check(validRejected, [unavailable]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ storeUnavailable: 1, entryLost: 0 });
    expect(result.examples).toEqual([unavailable]);
  });

  it('a live token rejected by a JWT check (a clock problem) is a violation; other codes are reported', () => {
    const result = check(validRejected, [reject(500, 501, token('a', 0, 60_000), 'ERR_JWT_EXPIRED'), reject(600, 601, token('b'), 'ERR_REFRESH_REUSED')]);
    expect(result.valid).toBe(false);
    expect(result.counts).toMatchObject({ jwtOrClock: 1, other: 1 });
  });

  it('a token already expired when the verify started may be rejected', () => {
    const result = check(validRejected, [reject(500, 501, token('a', 0, 500), 'ERR_JWT_EXPIRED')]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ expired: 1, jwtOrClock: 0 });
  });

  it('a revoke in flight when the verify completed explains the rejection, even when its ack is observed later', () => {
    const a = token('a');
    // The write landed, the verify saw it, then the ack came back.
    const result = check(validRejected, [revoke(100, 200, a), reject(105, 106, a, 'ERR_REVOKED')]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 0 });
  });

  it('an explaining revoke may be observed seconds later (a slow ack during a fault)', () => {
    const a = token('a');
    const result = check(validRejected, [reject(105, 106, a, 'ERR_REVOKED'), accept(3000, 3001, token('other')), revoke(100, 5000, a)]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 0 });
  });

  it('a rejection is final once it is older than the finality window: a revoke slower than that no longer explains it', () => {
    const a = token('a', 0, 120_000);
    const result = check(validRejected, [reject(105, 106, a, 'ERR_REVOKED'), accept(20_000, 20_001, token('other')), revoke(100, 20_002, a)]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 0, entryLost: 1 });
  });

  it('an indeterminate revoke explains a rejection; a failed one does not', () => {
    const a = token('a');
    const b = token('b');
    const result = check(validRejected, [
      revoke(100, 1100, a, { type: 'info' }),
      reject(1200, 1201, a, 'ERR_REVOKED'),
      revoke(100, 101, b, { type: 'fail', code: 'ERR_STORE_UNAVAILABLE' }),
      reject(1200, 1201, b, 'ERR_REVOKED'),
    ]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 1 });
  });

  it('a revocation invoked after the verify completed does not explain it', () => {
    const a = token('a');
    const result = check(validRejected, [reject(100, 101, a, 'ERR_REVOKED'), revoke(102, 110, a)]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 0, entryLost: 1 });
  });

  it('revokeAll explains rejections of tokens issued before it completed, not after', () => {
    const inFlight = token('in-flight', 105);
    const newer = token('newer', 120);
    const result = check(validRejected, [revokeAll(100, 110), reject(200, 201, inFlight, 'ERR_REVOKED'), reject(200, 201, newer, 'ERR_REVOKED')]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 1 });
    expect(result.examples.map((o) => o.jti)).toEqual(['newer']);
  });

  it('a late revokeAll of the subject explains the pending rejection of an older token', () => {
    const a = token('a', 50);
    const result = check(validRejected, [reject(105, 106, a, 'ERR_REVOKED'), revokeAll(100, 300)]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 0 });
  });

  it('a family revocation explains rejections of the family tokens', () => {
    const access = token('access-2', 0, 60_000, { family: 'fam' });
    const result = check(validRejected, [reject(105, 106, access, 'ERR_REVOKED'), revoke(100, 300, { jti: 'access-1', family: 'fam' })]);
    expect(result.counts).toMatchObject({ touchedByRevocation: 1, entryLost: 0 });
  });

  it('a token whose issue was indeterminate may never have been recorded', () => {
    const result = check(validRejected, [op('issue', 0, 1000, { ...token('a'), type: 'info' }), reject(1100, 1101, token('a'), 'ERR_NOT_ALLOWLISTED')]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ afterIndeterminateIssue: 1, entryLost: 0 });
  });

  it('a rejection that names no token cannot be judged', () => {
    const result = check(validRejected, [reject(100, 101, {}, 'ERR_JWT_MALFORMED')]);
    expect(result.counts).toMatchObject({ untracked: 1, jwtOrClock: 0 });
  });

  it('reports violations before costs among the examples', () => {
    const costs = Array.from({ length: 6 }, (_, i) => reject(100 + i, 101 + i, token(`u${i}`), 'ERR_STORE_UNAVAILABLE', { degraded: true }));
    const lost = reject(20_000, 20_001, token('z'), 'ERR_NOT_ALLOWLISTED');
    const result = check(validRejected, [...costs, lost]);
    expect(result.counts).toMatchObject({ storeUnavailable: 6, entryLost: 1 });
    expect(result.examples[0]).toBe(lost);
    expect(result.examples).toHaveLength(5);
  });
});

describe('valid-rejected by client group', () => {
  it('counts each rejection for the group whose worker sent the verify, counted by hand', () => {
    const result = check(validRejected, sidesOps(), partitionRun());
    for (const [side, counts] of Object.entries(SIDES_BY_HAND.validRejected)) expect(result.bySide![side]).toMatchObject(counts);
    // The revocation that explains near's rejection was sent by far: the rejection stays near's.
    expect(result.counts).toMatchObject({ verdicts: 400, rejected: 47, storeUnavailable: 45, entryLost: 1, touchedByRevocation: 1 });
  });

  it('every count adds up across groups to the run', () => {
    const result = check(validRejected, sidesOps(), partitionRun());
    const sides = Object.values(result.bySide!);
    for (const key of Object.keys(result.counts) as (keyof typeof result.counts)[])
      expect(
        sides.reduce((n, side) => n + side[key], 0),
        key,
      ).toBe(result.counts[key]);
  });

  it('the default group only when it had ops; no split without client groups', () => {
    const groupsOnly = sidesOps().filter((o) => o.worker !== 0);
    expect(Object.keys(check(validRejected, groupsOnly, partitionRun()).bySide!)).toEqual(['far', 'near']);
    expect(check(validRejected, sidesOps(), partitionRun({ clientGroups: undefined }))).not.toHaveProperty('bySide');
  });
});
