import { describe, expect, it } from 'vitest';
import { accept, check, reject, revoke, revokeAll, runInfo, token } from '../../test/support/history.ts';
import { revokedAccepted } from './revoked-accepted.ts';

describe('revoked-accepted', () => {
  it('an empty history proves nothing', () => {
    const result = check(revokedAccepted, []);
    expect(result.valid).toBe('unknown');
    expect(result.counts.checked).toBe(0);
    expect(result.examples).toEqual([]);
  });

  it('a revoked token accepted after the ack is a violation; rejected, it is checked and fine', () => {
    const a = token('a');
    const b = token('b');
    const lateAccept = accept(120, 121, a);
    const result = check(revokedAccepted, [revoke(100, 110, a), lateAccept, revoke(100, 110, b), reject(120, 121, b, 'ERR_REVOKED')]);
    expect(result.valid).toBe(false);
    expect(result.counts).toMatchObject({ checked: 2, rejected: 1, accepted: 1, violations: 1, withinGuarantee: 0, failOpen: 0 });
    expect(result.examples).toEqual([lateAccept]);
    expect(result.figures?.longestAcceptAfterAckMs).toBe(10);
  });

  it('a revoke still in flight when the verify started is concurrent, never a violation', () => {
    const a = token('a');
    // Ack at 110, verify invoked at 105: either verdict is linearizable.
    const result = check(revokedAccepted, [revoke(100, 110, a), accept(105, 106, a), accept(110, 112, a)]);
    expect(result.valid).toBe('unknown');
    expect(result.counts.checked).toBe(0);
  });

  it('an indeterminate revocation is not an ack: accepting its token is counted apart', () => {
    const a = token('a');
    const result = check(revokedAccepted, [revoke(100, 1100, a, { type: 'info' }), accept(1200, 1201, a)]);
    expect(result.valid).toBe('unknown');
    expect(result.counts).toMatchObject({ checked: 0, violations: 0, afterIndeterminateRevocation: 1 });
  });

  it('a failed revocation definitely did not happen', () => {
    const a = token('a');
    const result = check(revokedAccepted, [revoke(100, 101, a, { type: 'fail', code: 'ERR_STORE_UNAVAILABLE' }), accept(200, 201, a)]);
    expect(result.counts).toMatchObject({ checked: 0, afterIndeterminateRevocation: 0 });
  });

  it('revokeAll covers the tokens issued before it was invoked, not the ones after', () => {
    const older = token('older', 50);
    const newer = token('newer', 150);
    const result = check(revokedAccepted, [revokeAll(100, 110), accept(200, 201, older), accept(200, 201, newer)]);
    expect(result.counts).toMatchObject({ checked: 1, violations: 1 });
    expect(result.examples.map((o) => o.jti)).toEqual(['older']);
  });

  it('revokeAll covers only its own subject, and never a token of unknown issue time', () => {
    const bobs = token('bob-1', 0, 60_000, { subject: 'bob' });
    const result = check(revokedAccepted, [revokeAll(100, 110, 'alice'), accept(200, 201, bobs), accept(200, 201, { jti: 'x' })]);
    expect(result.counts.checked).toBe(0);
  });

  it('a revokeAll invoked long after the token expired is not about it', () => {
    const longDead = token('long-dead', 0, 1000);
    const result = check(revokedAccepted, [revokeAll(100_000, 100_010), accept(100_100, 100_101, longDead)]);
    expect(result.counts.checked).toBe(0);
  });

  it('a fail-open accept is counted apart and does not fail the check', () => {
    const a = token('a');
    const result = check(revokedAccepted, [revoke(100, 110, a), accept(200, 201, a, { degraded: true })], runInfo({ failurePolicy: 'fail-open' }));
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ checked: 1, failOpen: 1, violations: 0 });
  });

  it('double-token: an access token accepted within the bound is allowed, beyond it is a violation', () => {
    const session = token('access-1', 0, 60_000, { family: 'fam-1' });
    const sameFamilyNewerAccess = token('access-2', 50, 60_000, { family: 'fam-1' });
    const beyond = accept(1200, 1201, sameFamilyNewerAccess);
    const result = check(
      revokedAccepted,
      [revoke(100, 110, { family: 'fam-1', jti: 'refresh-1' }), accept(500, 501, session), beyond],
      runInfo({ strategy: 'double-token', guarantee: { boundedByMs: 1000 } }),
    );
    expect(result.valid).toBe(false);
    expect(result.counts).toMatchObject({ checked: 2, withinGuarantee: 1, violations: 1 });
    expect(result.examples).toEqual([beyond]);
    expect(result.figures?.allowedAfterAckMs).toBe(1000);
  });

  it('the bound is inclusive and measured from the earliest covering ack', () => {
    const a = token('a', 0, 60_000, { family: 'f' });
    // Acked at 110 (by family) and at 400 (by jti): 1110 is exactly the bound after the first.
    const result = check(
      revokedAccepted,
      [revoke(100, 110, { family: 'f' }), revoke(300, 400, a), accept(1110, 1111, a), accept(1111, 1112, a)],
      runInfo({ guarantee: { boundedByMs: 1000 } }),
    );
    expect(result.counts).toMatchObject({ checked: 2, withinGuarantee: 1, violations: 1 });
  });

  it('no guarantee: every accept is within it', () => {
    const a = token('a');
    const result = check(
      revokedAccepted,
      [revoke(100, 110, a), accept(5000, 5001, a), accept(9000, 9001, a)],
      runInfo({ strategy: 'pure', guarantee: 'none' }),
    );
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ checked: 2, withinGuarantee: 2, violations: 0 });
    expect(result.figures?.allowedAfterAckMs).toBeNull();
  });

  it('counts replays among the checked verifies', () => {
    const a = token('a');
    const result = check(revokedAccepted, [revoke(100, 110, a), reject(200, 201, a, 'ERR_REVOKED', { replay: true }), reject(300, 301, a, 'ERR_REVOKED')]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({ checked: 2, replays: 1 });
  });

  it('an expired revoked token accepted is still a violation (the revocation must hold until expiry and after)', () => {
    const a = token('a', 0, 150);
    const result = check(revokedAccepted, [revoke(100, 110, a), reject(200, 201, a, 'ERR_JWT_EXPIRED'), accept(300, 301, a)]);
    expect(result.counts).toMatchObject({ checked: 2, rejected: 1, violations: 1 });
  });

  it('keeps at most five examples, the longest after the ack first', () => {
    const a = token('a');
    const accepts = Array.from({ length: 8 }, (_, i) => accept(200 + i * 10, 201 + i * 10, a));
    const result = check(revokedAccepted, [revoke(100, 110, a), ...accepts]);
    expect(result.counts.violations).toBe(8);
    expect(result.examples).toHaveLength(5);
    expect(result.examples[0]).toBe(accepts[7]);
  });
});
