import { describe, expect, it } from 'vitest';
import type { Checks } from '../../result/checks.ts';
import { accept, check, op, reject, revoke, revokeAll, runInfo, token } from '../../test/support/history.ts';
import { PARTITION_LOSSES, partitionEvents, partitionFault, partitionOps, partitionRun } from '../../test/support/partition-history.ts';
import { lostRevocations } from './lost-revocations.ts';

const FINAL = { phase: 'final' as const, replay: true };

/** Counts, distinct losses, their causes and acknowledging nodes, side by side. */
function summary(result: Checks['lost-revocations']) {
  return { ...result.counts, total: result.lost!.total, ...result.lost!.byCause, ...result.lost!.byAck };
}
const sentinelRun = runInfo({ finalPrimaryPorts: [6380] });

describe('lost-revocations', () => {
  it('an empty history proves nothing', () => {
    const result = check(lostRevocations, []);
    expect(result.valid).toBe('unknown');
    expect(result.examples).toEqual([]);
  });

  it('a revoked token still rejected at reconciliation is fine', () => {
    const a = token('a');
    const result = check(lostRevocations, [revoke(100, 110, a, { ackedByPort: 6379 }), reject(9000, 9001, a, 'ERR_REVOKED', FINAL)], sentinelRun);
    expect(result.valid).toBe(true);
    expect(summary(result)).toMatchObject({ reconciled: 1, lostAtReconciliation: 0 });
  });

  it('a token accepted at reconciliation lost its revocation; acked by a former primary, failover explains it', () => {
    const a = token('a');
    const lost = accept(9000, 9001, a, FINAL);
    const result = check(lostRevocations, [revoke(100, 110, a, { ackedByPort: 6379 }), accept(200, 201, a), lost], sentinelRun);
    expect(result.valid).toBe(false);
    expect(summary(result)).toMatchObject({ reconciled: 1, lostAtReconciliation: 1, ackedByFormerPrimary: 1, ackedByCurrentPrimary: 0 });
    expect(result.examples).toEqual([lost]);
  });

  it('a loss acked by the node that is still primary is tagged so, and an unknown port as unknown', () => {
    const a = token('a');
    const b = token('b');
    const result = check(
      lostRevocations,
      [revoke(100, 110, a, { ackedByPort: 6380 }), revoke(100, 110, b), accept(9000, 9001, a, FINAL), accept(9000, 9001, b, FINAL)],
      sentinelRun,
    );
    expect(summary(result)).toMatchObject({ lostAtReconciliation: 2, ackedByFormerPrimary: 0, ackedByCurrentPrimary: 1, ackPortUnknown: 1 });
  });

  it('without the final primaries (cluster) the port cannot be judged', () => {
    const a = token('a');
    const result = check(
      lostRevocations,
      [revokeAll(100, 110, 'alice', { ackedByPort: 6379 }), accept(9000, 9001, a, FINAL)],
      runInfo({ finalPrimaryPorts: [] }),
    );
    expect(summary(result)).toMatchObject({ lostAtReconciliation: 1, ackPortUnknown: 1 });
  });

  it('ignores tokens already expired at reconciliation, and revocations that were never acknowledged', () => {
    const expired = token('expired', 0, 5000);
    const b = token('b');
    const result = check(lostRevocations, [
      revoke(100, 110, expired),
      revoke(100, 1100, b, { type: 'info' }),
      accept(9000, 9001, expired, FINAL),
      accept(9000, 9001, b, FINAL),
    ]);
    expect(summary(result)).toMatchObject({ reconciled: 1, lostAtReconciliation: 0 });
  });

  it('a strategy without a guarantee cannot lose a revocation at reconciliation', () => {
    const a = token('a');
    const result = check(lostRevocations, [revoke(100, 110, a), accept(9000, 9001, a, FINAL)], runInfo({ strategy: 'pure', guarantee: 'none' }));
    expect(result.valid).toBe(true);
    expect(summary(result).lostAtReconciliation).toBe(0);
    expect(result.figures).toEqual({ notApplicable: 1 });
  });

  it('double-token: an access token accepted at reconciliation within its bound is expected, beyond it is a loss', () => {
    const inside = token('inside', 8000, 60_000, { family: 'f1' });
    const beyond = token('beyond', 0, 60_000, { family: 'f2' });
    const result = check(
      lostRevocations,
      [revoke(8500, 8510, { family: 'f1' }), revoke(100, 110, { family: 'f2' }), accept(9000, 9001, inside, FINAL), accept(9000, 9001, beyond, FINAL)],
      runInfo({ strategy: 'double-token', guarantee: { boundedByMs: 5000 } }),
    );
    expect(summary(result)).toMatchObject({ reconciled: 2, allowedAtReconciliation: 1, lostAtReconciliation: 1 });
  });

  it('double-token: a refresh succeeding in a revoked family is a lost revocation', () => {
    const refreshed = op('refresh', 300, 305, token('access-2', 302, 60_000, { family: 'f1' }));
    const result = check(
      lostRevocations,
      [
        op('issue', 0, 5, token('access-1', 2, 60_000, { family: 'f1' })),
        revoke(100, 110, { jti: 'access-1', family: 'f1' }, { ackedByPort: 6379 }),
        refreshed,
      ],
      runInfo({ strategy: 'double-token', guarantee: { boundedByMs: 5000 }, finalPrimaryPorts: [6380] }),
    );
    expect(result.valid).toBe(false);
    expect(summary(result)).toMatchObject({ refreshAfterRevocation: 1, ackedByFormerPrimary: 1 });
    expect(result.examples).toEqual([refreshed]);
  });

  it('double-token: revokeAll kills the families that existed before it, not those created after', () => {
    const result = check(lostRevocations, [
      op('issue', 0, 5, token('old-access', 2, 60_000, { family: 'old' })),
      revokeAll(100, 110),
      op('issue', 120, 125, token('new-access', 122, 60_000, { family: 'new' })),
      op('refresh', 300, 305, token('old-access-2', 302, 60_000, { family: 'old' })),
      op('refresh', 300, 305, token('new-access-2', 302, 60_000, { family: 'new' })),
    ]);
    expect(summary(result).refreshAfterRevocation).toBe(1);
  });

  it('a refresh concurrent with the revocation is not a loss', () => {
    const result = check(lostRevocations, [
      op('issue', 0, 5, token('a1', 2, 60_000, { family: 'f' })),
      revoke(100, 110, { family: 'f' }),
      op('refresh', 105, 112, token('a2', 106, 60_000, { family: 'f' })),
    ]);
    expect(summary(result).refreshAfterRevocation).toBe(0);
  });

  it('a token rejected as revoked and accepted by a later verify, after an acknowledged revocation, is resurrected', () => {
    const a = token('a');
    const resurrection = accept(300, 301, a);
    const result = check(lostRevocations, [revoke(50, 60, a), reject(100, 101, a, 'ERR_NOT_ALLOWLISTED'), resurrection, accept(400, 401, a)]);
    expect(result.valid).toBe(false);
    expect(summary(result)).toMatchObject({ resurrectedVerifies: 2, resurrected: 1, total: 1 });
    expect(result.examples[0]).toBe(resurrection);
  });

  it('an accept by another verifier instance after one rejected is propagation lag, not a resurrection; by the same instance it is one', () => {
    const a = token('a');
    const probe = (worker: number) => ({ worker, probe: true, replay: true });
    const across = check(lostRevocations, [revoke(50, 60, a), reject(61, 62, a, 'ERR_REVOKED'), accept(70, 71, a, probe(1000))]);
    expect(summary(across)).toMatchObject({ resurrectedVerifies: 0, total: 0 });
    const same = check(lostRevocations, [revoke(50, 60, a), reject(61, 62, a, 'ERR_REVOKED', probe(1000)), accept(70, 71, a, probe(1000))]);
    expect(summary(same)).toMatchObject({ resurrectedVerifies: 1, resurrected: 1, total: 1 });
  });

  it('rejected then accepted with no acknowledged revocation (a timeout, a WAIT short of replicas) is counted apart, not lost', () => {
    const a = token('a');
    const b = token('b');
    const unknown = revoke(50, 60, b, { type: 'info', code: 'ERR_NOT_REPLICATED' });
    const result = check(lostRevocations, [
      unknown,
      reject(100, 101, a, 'ERR_REVOKED'),
      accept(300, 301, a),
      reject(100, 101, b, 'ERR_REVOKED'),
      accept(300, 301, b),
    ]);
    expect(summary(result)).toMatchObject({ resurrectedVerifies: 0, resurrected: 0, total: 0 });
    expect(result.counts.resurrectedWithoutAck).toBe(2);
  });

  it('an accept overlapping the rejection, or a fail-open accept, is no resurrection', () => {
    const a = token('a');
    const result = check(lostRevocations, [reject(100, 110, a, 'ERR_REVOKED'), accept(105, 111, a), accept(300, 301, a, { degraded: true })]);
    expect(result.valid).toBe(true);
    expect(summary(result).resurrected).toBe(0);
  });

  it('each lost token is counted once: resurrected during the run and accepted again at reconciliation is one loss', () => {
    const a = token('a');
    const b = token('b');
    const history = [
      revoke(100, 110, a, { ackedByPort: 6379 }),
      revoke(100, 110, b, { ackedByPort: 6379 }),
      reject(200, 201, a, 'ERR_REVOKED'),
      accept(300, 301, a),
      accept(400, 401, a),
      // Reconciliation: a again (already lost), b for the first time.
      accept(9000, 9001, a, FINAL),
      accept(9000, 9001, b, FINAL),
    ];
    const result = check(lostRevocations, history, sentinelRun);
    // Counted by hand from the history: two tokens lost, a first by resurrection, b at reconciliation, both acked by 6379, no longer primary.
    expect(summary(result)).toMatchObject({
      total: 2,
      resurrected: 1,
      lostAtReconciliation: 1,
      refreshAfterRevocation: 0,
      ackedByFormerPrimary: 2,
      resurrectedVerifies: 2,
    });
    expect(result.examples.map((o) => o.jti)).toEqual(['a', 'b']);
  });

  it('a reconciliation verify after a rejection is a loss at reconciliation, not a resurrection', () => {
    const a = token('a');
    const result = check(lostRevocations, [revoke(100, 110, a), reject(200, 201, a, 'ERR_REVOKED'), accept(9000, 9001, a, FINAL)]);
    expect(summary(result)).toMatchObject({ total: 1, resurrected: 0, lostAtReconciliation: 1, resurrectedVerifies: 0 });
  });

  it('the causes and the acknowledging nodes each add up to the total', () => {
    const history = [
      op('issue', 0, 5, token('x1', 2, 60_000, { family: 'f1' })),
      revoke(50, 60, { jti: 'x1', family: 'f1' }, { ackedByPort: 6380 }),
      op('refresh', 300, 305, token('x2', 302, 60_000, { family: 'f1' })),
      op('refresh', 400, 405, token('x3', 402, 60_000, { family: 'f1' })),
      revoke(100, 110, token('a'), { ackedByPort: 6379 }),
      reject(200, 201, token('a'), 'ERR_REVOKED'),
      accept(300, 301, token('a')),
      revoke(100, 110, token('b')),
      accept(9000, 9001, token('b'), FINAL),
    ];
    const s = summary(check(lostRevocations, history, runInfo({ finalPrimaryPorts: [6380] })));
    expect(s.total).toBe(3);
    expect(s.resurrected + s.refreshAfterRevocation + s.lostAtReconciliation).toBe(s.total);
    expect(s.ackedByFormerPrimary + s.ackedByCurrentPrimary + s.ackPortUnknown).toBe(s.total);
    expect(s).toMatchObject({ refreshAfterRevocation: 1, refreshesAfterRevocation: 2, ackedByCurrentPrimary: 1, ackedByFormerPrimary: 1, ackPortUnknown: 1 });
  });
});

describe('lost-revocations across a network fault', () => {
  /** The hand count of PARTITION_LOSSES, one split at a time. */
  function handCount(column: 1 | 2 | 3): Record<string, number> {
    const out: Record<string, number> = {};
    for (const loss of PARTITION_LOSSES) out[loss[column]] = (out[loss[column]] ?? 0) + 1;
    return out;
  }
  const sum = (split: Record<string, number>) => Object.values(split).reduce((a, b) => a + b, 0);

  it('splits the losses by the window, client group and node of their earliest acknowledgement', () => {
    const lost = check(lostRevocations, partitionOps(), partitionRun()).lost!;
    expect(lost.total).toBe(PARTITION_LOSSES.length);
    expect(lost.total).toBe(7);
    expect(lost.byCause).toEqual({ resurrected: 1, refreshAfterRevocation: 0, lostAtReconciliation: 6 });
    // j was acknowledged by redis-0 and later by redis-1 (still primary): not explained by the failover.
    expect(lost.byAck).toEqual({ ackedByFormerPrimary: 4, ackedByCurrentPrimary: 2, ackPortUnknown: 1 });
    expect(lost.byWindow).toEqual({ duringFault: 4, afterHealBeforeDemotion: 2, outside: 1, unknown: 0 });
    expect(lost.byWindow).toEqual({ unknown: 0, ...handCount(1) });
    expect(lost.bySide).toEqual({ default: 3, far: 3, near: 1 });
    expect(lost.bySide).toEqual(handCount(2));
    expect(lost.byNode).toEqual({ 'redis-0': 5, 'redis-1': 1, unknown: 1 });
    expect(lost.byNode).toEqual(handCount(3));
    for (const split of [lost.byCause, lost.byAck, lost.byWindow!, lost.bySide!, lost.byNode!]) expect(sum(split)).toBe(lost.total);
  });

  it('without a network fault the result has no such split', () => {
    const lost = check(lostRevocations, partitionOps(), partitionRun({ faults: [{ ...partitionFault, action: 'kill', sides: undefined }] })).lost!;
    expect(lost.total).toBe(7);
    expect(lost).not.toHaveProperty('byWindow');
    expect(lost).not.toHaveProperty('bySide');
    expect(lost).not.toHaveProperty('byNode');
  });

  it('lists every client group, even one that lost nothing', () => {
    const lost = check(
      lostRevocations,
      partitionOps(),
      partitionRun({ clientGroups: [...partitionRun().clientGroups!, { name: 'idle', worker: 9, address: null, share: 0 }] }),
    ).lost!;
    expect(lost.bySide).toEqual({ default: 3, far: 3, near: 1, idle: 0 });
  });

  it('a partition still in effect when the load ended lasts until its heal event at settle', () => {
    const { healedAtMs: _, ...unhealed } = partitionFault;
    const events = [
      ...partitionEvents.filter((e) => e.type !== 'partition-healed' && e.node !== 'redis-0'),
      { atMs: 10_500, source: 'fault', type: 'partition-healed', node: 'redis-0' },
    ];
    const lost = check(lostRevocations, partitionOps(), partitionRun({ faults: [unhealed], events })).lost!;
    // e and f (6.5 s, 7 s) fall inside the cut now; h (9 s) too.
    expect(lost.byWindow).toEqual({ duringFault: 7, afterHealBeforeDemotion: 0, outside: 0, unknown: 0 });
  });

  it('after the heal: open until the end when another node was promoted and the old one never demoted; empty when nobody took over', () => {
    const noDemotion = partitionEvents.filter((e) => !(e.node === 'redis-0' && e.source === 'role'));
    const stale = check(lostRevocations, partitionOps(), partitionRun({ events: noDemotion })).lost!;
    // h (redis-1, 9 s) is after the heal, and redis-0 was never seen demoted.
    expect(stale.byWindow).toEqual({ duringFault: 4, afterHealBeforeDemotion: 3, outside: 0, unknown: 0 });
    const nobody = check(lostRevocations, partitionOps(), partitionRun({ events: noDemotion.filter((e) => e.source !== 'role') })).lost!;
    expect(nobody.byWindow).toEqual({ duringFault: 4, afterHealBeforeDemotion: 0, outside: 3, unknown: 0 });
  });
});
