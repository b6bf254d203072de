import type { Checks } from '../../result/checks.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { isRevokedRejection, isVerdict, keepExample, MAX_EXAMPLES, type Revocation, RevocationIndex, revocationOf, tokenOf } from './coverage.ts';

/** Which nodes acknowledged the revocations a loss went against. */
interface AckPorts {
  ports: number[];
  anyUnknown: boolean;
}

function ackPortsOf(acks: readonly Revocation[]): AckPorts {
  const ports = new Set<number>();
  let anyUnknown = false;
  for (const ack of acks) {
    if (ack.ackedByPort === undefined) anyUnknown = true;
    else ports.add(ack.ackedByPort);
  }
  return { ports: [...ports], anyUnknown };
}

type AckedBy = 'ackedByFormerPrimary' | 'ackedByCurrentPrimary' | 'ackPortUnknown';

/**
 * A loss is explained by failover (asynchronous replication dropped the write) only when every ack
 * it went against came from a node that is no longer a primary; an ack from a node that still is one
 * and was lost anyway points elsewhere.
 */
function ackedBy({ ports, anyUnknown }: AckPorts, finalPrimaryPorts: readonly number[]): AckedBy {
  if (finalPrimaryPorts.length === 0 || ports.length === 0) return 'ackPortUnknown';
  if (ports.some((port) => finalPrimaryPorts.includes(port))) return 'ackedByCurrentPrimary';
  return anyUnknown ? 'ackPortUnknown' : 'ackedByFormerPrimary';
}

/** An accepted reconciliation verify of a token with acknowledged revocations. */
interface ReconciliationAccept {
  op: Op;
  /** Since the earliest ack: what a bounded guarantee is measured against. */
  sinceAckMs: number;
  ackPorts: AckPorts;
}

/**
 * Acknowledged revocations that did not stick:
 * - at the final reconciliation (faults healed, topology settled), a token whose revocation was
 *   acknowledged is accepted again: the write was lost, typically acked by a primary that failed
 *   before replicating it;
 * - a token rejected as revoked and accepted by a later verify (resurrected);
 * - double-token: a refresh succeeding in a family whose revocation was acknowledged, the one loss
 *   a bounded strategy can show (its access tokens live out their TTL by design).
 * The reconciliation count is about the guarantee, so it is decided in result(): nothing for a
 * strategy that promises nothing, and only beyond the bound for a bounded one.
 */
export function lostRevocations(): Checker<'lost-revocations'> {
  const acks = new RevocationIndex();
  /** The earliest a family is known to have existed: a revokeAll invoked later covers it. */
  const familyExistedAtMs = new Map<string, number>();
  /** Per token, when a verify first rejected it as revoked. */
  const rejectedAsRevokedAtMs = new Map<string, number>();
  const reconciliationAccepts: ReconciliationAccept[] = [];
  const refreshLossesByAckedBy = new Map<string, { ackPorts: AckPorts; count: number }>();
  const resurrectedTokens = new Set<string>();
  const resurrectionExamples: Op[] = [];
  const refreshExamples: Op[] = [];
  let reconciled = 0;
  let degradedAtReconciliation = 0;
  let resurrected = 0;
  let refreshAfterRevocation = 0;

  function noteFamily(op: Op): void {
    if (op.family === undefined || op.tokenIssuedMs === undefined) return;
    const known = familyExistedAtMs.get(op.family);
    if (known === undefined || op.tokenIssuedMs < known) familyExistedAtMs.set(op.family, op.tokenIssuedMs);
  }

  function observeRefresh(op: Op): void {
    if (op.type !== 'ok' || op.family === undefined) return;
    const family = { subject: op.subject, family: op.family, tokenIssuedMs: familyExistedAtMs.get(op.family) };
    const before = [...acks.coveringCompletedBefore(family, op.invokeMs)];
    if (before.length === 0) return;
    refreshAfterRevocation++;
    const ackPorts = ackPortsOf(before);
    const key = `${[...ackPorts.ports].sort().join(',')}|${ackPorts.anyUnknown}`;
    const tally = refreshLossesByAckedBy.get(key) ?? { ackPorts, count: 0 };
    tally.count++;
    refreshLossesByAckedBy.set(key, tally);
    keepExample(refreshExamples, op);
  }

  function observeVerdict(op: Op & { accepted: boolean }): void {
    if (op.jti !== undefined) {
      const rejectedAt = rejectedAsRevokedAtMs.get(op.jti);
      if (isRevokedRejection(op) && (rejectedAt === undefined || op.completeMs < rejectedAt)) rejectedAsRevokedAtMs.set(op.jti, op.completeMs);
      if (op.accepted && !op.degraded && rejectedAt !== undefined && op.invokeMs > rejectedAt) {
        resurrected++;
        resurrectedTokens.add(op.jti);
        keepExample(resurrectionExamples, op);
      }
    }
    if (op.phase !== 'final') return;
    const before = [...acks.coveringCompletedBefore(tokenOf(op), op.invokeMs)];
    if (before.length === 0) return;
    reconciled++;
    if (!op.accepted) return;
    if (op.tokenExpiresMs !== undefined && op.tokenExpiresMs <= op.invokeMs) return;
    if (op.degraded) {
      degradedAtReconciliation++;
      return;
    }
    const earliestAckMs = Math.min(...before.map((ack) => ack.completeMs));
    reconciliationAccepts.push({ op, sinceAckMs: op.invokeMs - earliestAckMs, ackPorts: ackPortsOf(before) });
  }

  return {
    name: 'lost-revocations',

    observe(op: Op): void {
      noteFamily(op);
      const revocation = revocationOf(op);
      if (revocation) {
        if (revocation.type === 'ok') acks.add(revocation);
        return;
      }
      if (op.f === 'refresh') observeRefresh(op);
      else if (isVerdict(op)) observeVerdict(op);
    },

    result(run: RunInfo): Checks['lost-revocations'] {
      const guarantee = run.guarantee;
      const lost =
        guarantee === 'none'
          ? []
          : guarantee === 'immediate'
            ? reconciliationAccepts
            : reconciliationAccepts.filter((accept) => accept.sinceAckMs > guarantee.boundedByMs);
      // Tagged: the losses at reconciliation and the refreshes after revocation alike.
      const tags: Record<AckedBy, number> = { ackedByFormerPrimary: 0, ackedByCurrentPrimary: 0, ackPortUnknown: 0 };
      for (const loss of lost) tags[ackedBy(loss.ackPorts, run.finalPrimaryPorts)]++;
      for (const { ackPorts, count } of refreshLossesByAckedBy.values()) tags[ackedBy(ackPorts, run.finalPrimaryPorts)] += count;

      const lostAtReconciliation = lost.length;
      const anythingChecked = reconciled > 0 || rejectedAsRevokedAtMs.size > 0 || refreshAfterRevocation > 0;
      return {
        valid: !anythingChecked ? 'unknown' : lostAtReconciliation === 0 && resurrected === 0 && refreshAfterRevocation === 0,
        counts: {
          reconciled,
          lostAtReconciliation,
          // Accepted at reconciliation as the guarantee allows: within the bound, or anything without one.
          allowedAtReconciliation: reconciliationAccepts.length - lostAtReconciliation,
          degradedAtReconciliation,
          ...tags,
          resurrected,
          resurrectedTokens: resurrectedTokens.size,
          refreshAfterRevocation,
        },
        // A strategy that promises nothing cannot lose a revocation at reconciliation; a bounded one only past its bound.
        ...(guarantee === 'none' && { figures: { notApplicable: 1 } }),
        ...(typeof guarantee === 'object' && { figures: { boundedByMs: guarantee.boundedByMs } }),
        examples: [...lost.map((loss) => loss.op), ...refreshExamples, ...resurrectionExamples].slice(0, MAX_EXAMPLES),
      };
    },
  };
}
