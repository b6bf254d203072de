import type { Checks } from '../../result/checks.ts';
import { type AckWindow, ackWindowOf, clientGroupOf, DEFAULT_CLIENT_GROUP, networkFaultWindows } from '../../result/network-faults.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { isRevokedRejection, isVerdict, keepExample, MAX_EXAMPLES, type Revocation, RevocationIndex, revocationOf, tokenOf } from './coverage.ts';

/** Which nodes acknowledged the revocations a loss went against, and the earliest of those acknowledgements. */
interface AckPorts {
  ports: number[];
  anyUnknown: boolean;
  earliest: Revocation | undefined;
}

function ackPortsOf(acks: readonly Revocation[]): AckPorts {
  const ports = new Set<number>();
  let anyUnknown = false;
  let earliest: Revocation | undefined;
  for (const ack of acks) {
    if (ack.ackedByPort === undefined) anyUnknown = true;
    else ports.add(ack.ackedByPort);
    if (earliest === undefined || ack.completeMs < earliest.completeMs) earliest = ack;
  }
  return { ports: [...ports], anyUnknown, earliest };
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

type Lost = NonNullable<Checks['lost-revocations']['lost']>;
type Cause = keyof Lost['byCause'];

/**
 * With a network fault, each loss is placed by its earliest acknowledgement: when (the fault
 * windows), from which client group and by which node. The first acknowledgement is the one the
 * client relied on from then on, so it is the one that should have held.
 */
function networkSplit(losses: Iterable<Loss>, run: RunInfo): Pick<Lost, 'byWindow' | 'bySide' | 'byNode'> {
  const windows = networkFaultWindows(run.faults, run.events);
  if (windows.length === 0) return {};
  const nodeByPort = new Map(run.nodes.map((n) => [n.port, n.id]));
  const groupOf = clientGroupOf(run.clientGroups ?? []);
  const byWindow: Record<AckWindow | 'unknown', number> = { duringFault: 0, afterHealBeforeDemotion: 0, outside: 0, unknown: 0 };
  const bySide: Record<string, number> = { [DEFAULT_CLIENT_GROUP]: 0 };
  for (const group of run.clientGroups ?? []) bySide[group.name] = 0;
  const byNode: Record<string, number> = {};
  for (const { ackPorts } of losses) {
    const ack = ackPorts.earliest;
    const side = ack === undefined ? 'unknown' : ack.worker !== undefined ? groupOf(ack.worker) : DEFAULT_CLIENT_GROUP;
    const node = (ack?.ackedByPort !== undefined && nodeByPort.get(ack.ackedByPort)) || 'unknown';
    byWindow[ack === undefined ? 'unknown' : ackWindowOf(ack.completeMs, windows)]++;
    bySide[side] = (bySide[side] ?? 0) + 1;
    byNode[node] = (byNode[node] ?? 0) + 1;
  }
  return { byWindow, bySide, byNode };
}

/** The first sign that a token's (or family's) acknowledged revocation did not hold. */
interface Loss {
  cause: Cause;
  ackPorts: AckPorts;
  op: Op;
}

/** An accepted reconciliation verify of a token with acknowledged revocations. */
interface ReconciliationAccept {
  op: Op & { jti: string };
  /** Since the earliest ack: what a bounded guarantee is measured against. */
  sinceAckMs: number;
  ackPorts: AckPorts;
}

/**
 * Acknowledged revocations that did not stick, each lost token counted once:
 * - resurrected: during the run, a token rejected as revoked is accepted by a later verify, after
 *   an acknowledged revocation of it (without one, its fate was unknown: counted apart, not lost);
 * - refresh after revocation (double-token): a refresh succeeds in a family whose revocation was
 *   acknowledged, the one loss a bounded strategy can show (its access tokens live out their TTL
 *   by design);
 * - lost at reconciliation: with faults healed and the topology settled, a token whose revocation
 *   was acknowledged is accepted again: the write was lost, typically acked by a primary that
 *   failed before replicating it.
 * A token that shows several of these (resurrected during the run, then accepted at
 * reconciliation) is one loss, under the first. The reconciliation count is about the guarantee,
 * so it is decided in result(): nothing for a strategy that promises nothing, and only beyond the
 * bound for a bounded one.
 */
export function lostRevocations(): Checker<'lost-revocations'> {
  const acks = new RevocationIndex();
  /** The earliest a family is known to have existed: a revokeAll invoked later covers it. */
  const familyExistedAtMs = new Map<string, number>();
  /**
   * Per token and verifying instance (`<worker>:<jti>`), when a verify first rejected it as revoked.
   * Per instance: another instance accepting it later is propagation lag (propagation-lag's
   * acrossInstances; a violation of an immediate guarantee for revoked-accepted), not a lost
   * revocation. A generator's tokens are its own, so without verifier instances this is per token.
   */
  const rejectedAsRevokedAtMs = new Map<string, number>();
  const reconciliationAccepts: ReconciliationAccept[] = [];
  /** Losses seen during the run, by `jti:<jti>` or `family:<family>`: the first sign of each. */
  const duringRun = new Map<string, Loss>();
  const counts = { reconciled: 0, degradedAtReconciliation: 0, resurrectedVerifies: 0, refreshesAfterRevocation: 0 };
  /** Tokens rejected as revoked, then accepted, whose revocation was never acknowledged. */
  const unacknowledged = new Set<string>();

  function noteFamily(op: Op): void {
    if (op.family === undefined || op.tokenIssuedMs === undefined) return;
    const known = familyExistedAtMs.get(op.family);
    if (known === undefined || op.tokenIssuedMs < known) familyExistedAtMs.set(op.family, op.tokenIssuedMs);
  }

  function noteLoss(key: string, loss: Loss): void {
    if (!duringRun.has(key)) duringRun.set(key, loss);
  }

  function observeRefresh(op: Op): void {
    if (op.type !== 'ok' || op.family === undefined) return;
    const family = { subject: op.subject, family: op.family, tokenIssuedMs: familyExistedAtMs.get(op.family) };
    const before = [...acks.coveringCompletedBefore(family, op.invokeMs)];
    if (before.length === 0) return;
    counts.refreshesAfterRevocation++;
    noteLoss(`family:${op.family}`, { cause: 'refreshAfterRevocation', ackPorts: ackPortsOf(before), op });
  }

  function observeVerdict(op: Op & { accepted: boolean }): void {
    if (op.jti !== undefined && op.phase !== 'final') {
      const instanceToken = `${op.worker}:${op.jti}`;
      const rejectedAt = rejectedAsRevokedAtMs.get(instanceToken);
      if (isRevokedRejection(op) && (rejectedAt === undefined || op.completeMs < rejectedAt)) rejectedAsRevokedAtMs.set(instanceToken, op.completeMs);
      if (op.accepted && !op.degraded && rejectedAt !== undefined && op.invokeMs > rejectedAt) {
        const acked = [...acks.coveringCompletedBefore(tokenOf(op), op.invokeMs)];
        // Rejected, then accepted, with no acknowledged revocation behind it: the revocation's fate
        // was unknown (a timeout, a WAIT that came back short), so nothing acknowledged was lost.
        if (acked.length === 0) unacknowledged.add(op.jti);
        else {
          counts.resurrectedVerifies++;
          noteLoss(`jti:${op.jti}`, { cause: 'resurrected', ackPorts: ackPortsOf(acked), op });
        }
      }
    }
    if (op.phase !== 'final') return;
    const before = [...acks.coveringCompletedBefore(tokenOf(op), op.invokeMs)];
    if (before.length === 0) return;
    counts.reconciled++;
    if (!op.accepted || op.jti === undefined) return;
    if (op.tokenExpiresMs !== undefined && op.tokenExpiresMs <= op.invokeMs) return;
    if (op.degraded) {
      counts.degradedAtReconciliation++;
      return;
    }
    const earliestAckMs = Math.min(...before.map((ack) => ack.completeMs));
    reconciliationAccepts.push({ op: op as Op & { jti: string }, sinceAckMs: op.invokeMs - earliestAckMs, ackPorts: ackPortsOf(before) });
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
      const lostAtReconciliation =
        guarantee === 'none'
          ? []
          : guarantee === 'immediate'
            ? reconciliationAccepts
            : reconciliationAccepts.filter((accept) => accept.sinceAckMs > guarantee.boundedByMs);
      const losses = new Map(duringRun);
      for (const accept of lostAtReconciliation) {
        if (!losses.has(`jti:${accept.op.jti}`))
          losses.set(`jti:${accept.op.jti}`, { cause: 'lostAtReconciliation', ackPorts: accept.ackPorts, op: accept.op });
      }
      const byCause: Record<Cause, number> = { resurrected: 0, refreshAfterRevocation: 0, lostAtReconciliation: 0 };
      const byAck: Record<AckedBy, number> = { ackedByFormerPrimary: 0, ackedByCurrentPrimary: 0, ackPortUnknown: 0 };
      const examples: Op[] = [];
      for (const loss of losses.values()) {
        byCause[loss.cause]++;
        byAck[ackedBy(loss.ackPorts, run.finalPrimaryPorts)]++;
        keepExample(examples, loss.op);
      }
      const anythingChecked = counts.reconciled > 0 || rejectedAsRevokedAtMs.size > 0 || counts.refreshesAfterRevocation > 0;
      return {
        valid: !anythingChecked ? 'unknown' : losses.size === 0,
        counts: {
          ...counts,
          allowedAtReconciliation: reconciliationAccepts.length - lostAtReconciliation.length,
          ...(unacknowledged.size > 0 && { resurrectedWithoutAck: unacknowledged.size }),
        },
        lost: { total: losses.size, byCause, byAck, ...networkSplit(losses.values(), run) },
        // A strategy that promises nothing cannot lose a revocation at reconciliation; a bounded one only past its bound.
        ...(guarantee === 'none' && { figures: { notApplicable: 1 as const } }),
        ...(typeof guarantee === 'object' && { figures: { boundedByMs: guarantee.boundedByMs } }),
        examples: examples.slice(0, MAX_EXAMPLES),
      };
    },
  };
}
