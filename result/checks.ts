import { z } from 'zod';

/**
 * What each checker finds, as the result file holds it: one typed shape per checker, so a count
 * renamed in a checker fails to compile in every reader instead of reading as 0.
 */

export const OP_FUNCTIONS = ['issue', 'verify', 'revoke', 'revokeAll', 'refresh'] as const;
export const OP_TYPES = ['ok', 'fail', 'info'] as const;
export const PHASES = ['warmup', 'steady', 'fault', 'recovery', 'final'] as const;

/** One operation of the history (times in run ms); checkers keep a few as examples. */
export const opSchema = z.strictObject({
  id: z.number(),
  f: z.enum(OP_FUNCTIONS),
  worker: z.number(),
  phase: z.enum(PHASES),
  subject: z.string(),
  /** The token the op is about: verify/revoke: the token presented; issue/refresh: the new access token. */
  jti: z.string().optional(),
  /** Double-token: the refresh family (session) of the token. */
  family: z.string().optional(),
  /** When the token presented (or issued) was issued / expires, in run ms (may be negative: issued in warm-up). */
  tokenIssuedMs: z.number().optional(),
  tokenExpiresMs: z.number().optional(),
  /** Open loop: when the op should have started. Latency is measured from here (coordinated omission). */
  intendedMs: z.number(),
  invokeMs: z.number(),
  completeMs: z.number(),
  /** ok: definitely happened; fail: definitely did not; info: unknown (a timeout, a connection lost after sending). */
  type: z.enum(OP_TYPES),
  /** verify: did the verdict accept the token? */
  accepted: z.boolean().optional(),
  /** Rejection code of a verify, or error code of a failed write. */
  code: z.string().optional(),
  /** The verdict or ack depended on Redis being unreachable (fail-open accept, fail-closed reject). */
  degraded: z.boolean().optional(),
  /** The generator sent a token it had itself revoked: an attacker replaying a stolen token. */
  replay: z.boolean().optional(),
  /** Writes with WAIT: replicas that confirmed, and how many were requested. */
  replicasAcked: z.number().optional(),
  replicasRequested: z.number().optional(),
  /** Port of the Redis node the client was connected to when the write was acknowledged (single / sentinel). */
  ackedByPort: z.number().optional(),
  error: z.string().optional(),
  /**
   * A verifier instance's probe (load.verifiers): a verify, by an instance that made no load of its
   * own, of a token another instance's revocation had just been acknowledged for.
   */
  probe: z.boolean().optional(),
});

/** true: no violation seen; false: at least one; 'unknown': not enough information. */
const valid = z.union([z.boolean(), z.literal('unknown')]);
const count = z.number();
const ms = z.number().nullable();
const examples = z.array(opSchema);

export const revokedAcceptedCheck = z.strictObject({
  valid,
  counts: z.strictObject({
    /** Verifies invoked after an acknowledged revocation of their token. */
    checked: count,
    rejected: count,
    accepted: count,
    /** Accepted as the strategy's guarantee allows (double-token's access TTL; anything for pure). */
    withinGuarantee: count,
    /** Accepted while Redis was unreachable, by a fail-open policy. */
    failOpen: count,
    /** Accepted although the guarantee forbids it. */
    violations: count,
    replays: count,
    /** Accepted after a revocation whose outcome is unknown: not claimed a violation. */
    afterIndeterminateRevocation: count,
  }),
  figures: z.strictObject({ allowedAfterAckMs: ms, longestAcceptAfterAckMs: ms }),
  examples,
});

const validRejectedCounts = z.strictObject({
  verdicts: count,
  rejected: count,
  expired: count,
  touchedByRevocation: count,
  afterIndeterminateIssue: count,
  untracked: count,
  /** Fail-closed rejections while the store was unavailable: the measured cost of the policy. */
  storeUnavailable: count,
  /** Never-revoked tokens rejected as revoked or not allowlisted: the store lost what made them valid. */
  entryLost: count,
  jwtOrClock: count,
  other: count,
});

export const validRejectedCheck = z.strictObject({
  valid,
  counts: validRejectedCounts,
  /**
   * Runs with client groups: the same counts by the group whose worker sent the verify ('default':
   * a worker in none; listed when it had ops); each count adds up across groups to `counts`.
   */
  bySide: z.record(z.string(), validRejectedCounts).optional(),
  examples,
});

/** Who acknowledged the revocations a loss went against: failover explains a loss only when no current primary did. */
const ackedBy = z.strictObject({ ackedByFormerPrimary: count, ackedByCurrentPrimary: count, ackPortUnknown: count });

export const lostRevocationsCheck = z.strictObject({
  valid,
  counts: z.strictObject({
    /** Reconciliation verifies of tokens with an acknowledged revocation. */
    reconciled: count,
    /** Accepted at reconciliation as the guarantee allows: within its bound, or anything without one. */
    allowedAtReconciliation: count,
    degradedAtReconciliation: count,
    /** Accepting verifies, during the run, of tokens a verify had already rejected as revoked (operations, not tokens). */
    resurrectedVerifies: count,
    /** Successful refreshes in a family whose revocation had been acknowledged (operations, not families). */
    refreshesAfterRevocation: count,
    /**
     * Tokens rejected as revoked and accepted later, none of whose revocations was acknowledged (a
     * timeout, a WAIT short of replicas): a flip-flop, not a lost acknowledged revocation. Absent: none.
     */
    resurrectedWithoutAck: count.optional(),
  }),
  /**
   * The tokens (access tokens by jti, refresh families by family) whose acknowledged revocation did
   * not hold, each counted once, under the first way it showed: resurrected during the run, a
   * refresh after the revocation, or accepted at the final reconciliation. The causes and the
   * acknowledging nodes each add up to `total`. null: not known (a version 2 result with losses,
   * which counted a token once per way it showed).
   */
  lost: z
    .strictObject({
      total: count,
      byCause: z.strictObject({ resurrected: count, refreshAfterRevocation: count, lostAtReconciliation: count }),
      byAck: ackedBy,
      /**
       * Runs with a network fault: by when the earliest acknowledged revocation a loss went against
       * was acknowledged (result/network-faults.ts): while a fault was in effect, after its heal
       * before its node was demoted, or neither; unknown: the loss went against no acknowledged
       * revocation (a resurrection after a revocation of unknown outcome).
       */
      byWindow: z.strictObject({ duringFault: count, afterHealBeforeDemotion: count, outside: count, unknown: count }).optional(),
      /** Runs with a network fault: by the client group that made that acknowledgement ('default': a worker in no group; 'unknown' as in byWindow); every group listed. */
      bySide: z.record(z.string(), count).optional(),
      /** Runs with a network fault: by the node that acknowledged it ('unknown': no port, or a port of no node); only nodes with a loss. */
      byNode: z.record(z.string(), count).optional(),
    })
    .nullable(),
  /** notApplicable: the strategy promises nothing; boundedByMs: losses count only past its bound. */
  figures: z.strictObject({ notApplicable: z.literal(1).optional(), boundedByMs: z.number().optional() }).optional(),
  examples,
});

const percentiles = z.strictObject({ p50Ms: ms, p99Ms: ms, maxMs: ms });

/**
 * Runs with verifier instances (load.verifiers): how long after a revocation was acknowledged by
 * one instance the others still accepted the token, from their probes. Per revocation and probing
 * instance (a pair): the lag is at most the first probe rejecting it as revoked completing, and at
 * least the last probe accepting it before that being invoked, both counted from the ack.
 */
export const acrossInstancesSchema = z.strictObject({
  /** Verifier instances in the run. */
  instances: count,
  /** Pairs (acknowledged revocation, instance) with at least one probe. */
  probes: count,
  /** Pairs no probe rejected as revoked: the deadline (or the end of the run) came first. */
  neverRejected: count,
  /** Probes that accepted the token after the ack (operations; degraded verdicts not counted). */
  staleAccepts: count,
  /** Upper bounds of the lag, over the pairs that were rejected: first rejecting probe's completion - the ack. */
  p50Ms: ms,
  p99Ms: ms,
  maxMs: ms,
  /** Lower bounds over the same pairs: the last accepting probe's invocation - the ack (0: none accepted). */
  lowerBound: percentiles,
  /** Ack to the pair's first probe invoked: the hand-off from the writing instance, over every pair. */
  relayP50Ms: ms,
  relayMaxMs: ms,
});

export const propagationLagCheck = z.strictObject({
  valid,
  counts: z.strictObject({ count, unobserved: count, neverStable: count, withLag: count }),
  figures: z.strictObject({ p50Ms: ms, p99Ms: ms, maxMs: ms, count }),
  examples,
  /** Present when the run had verifier instances (load.verifiers > 0). */
  acrossInstances: acrossInstancesSchema.optional(),
});

export const faultFiguresSchema = z.strictObject({
  action: z.string(),
  target: z.string(),
  node: z.string().nullable(),
  atMs: z.number(),
  /** Fault to the first verify without a definite answer. */
  detectMs: ms,
  /** Fault to the next definite answer after that (0: no outage seen). */
  recoverMs: ms,
  /** Fault to the first window from which verify p99 stays within the steady spread (0: never left it). */
  steadyP99Ms: ms,
  /**
   * Network faults (result/network-faults.ts): the demotion of the fault's node after the heal
   * (negative: before it; null: no demotion seen), and the acknowledged revocations, by any node,
   * while the fault was in effect and after its heal before the demotion; acksByNode: the same by
   * the fault's own node (null: its port is not known).
   */
  demotedAfterHealMs: ms.optional(),
  acksDuringFault: count.optional(),
  acksAfterHealBeforeDemotion: count.optional(),
  acksByNode: z.strictObject({ duringFault: count, afterHealBeforeDemotion: count }).nullable().optional(),
});

export const unavailabilityCheck = z.strictObject({
  valid,
  counts: z.strictObject({ ops: count, definite: count, errors: count }),
  figures: z.strictObject({
    /** The longest time verify had no definite answer, and when it began. */
    longestWindowMs: z.number(),
    windowStartMs: z.number(),
    /** The window was still open when the measured phase ended: it lasted at least longestWindowMs. */
    longestWindowOpenAtEnd: z.boolean(),
    /** Verify p99 over everything before the first fault. */
    baselineP99Ms: ms,
    /**
     * The range of verify p99s of the windows (>= 1 s and >= 200 verifies) before the first fault:
     * what steadyP99Ms compares with. null: too few such windows (a fault too early).
     */
    steadySpread: z.strictObject({ lowMs: z.number(), highMs: z.number(), windows: count }).nullable(),
  }),
  examples,
  perFault: z.array(faultFiguresSchema).optional(),
  /**
   * Runs with client groups: the longest window without a definite verify answer as each group saw
   * it, by the same rule as `figures` ('default': the workers in no group, listed when they had
   * ops); `verifies` and `definite` add up across groups to `counts.ops` and `counts.definite`.
   * A group cut off by a network fault can be unavailable for seconds while the run-wide figure,
   * kept short by the other groups, is not.
   */
  bySide: z
    .record(
      z.string(),
      z.strictObject({ longestWindowMs: z.number(), windowStartMs: z.number(), longestWindowOpenAtEnd: z.boolean(), verifies: count, definite: count }),
    )
    .optional(),
});

/** Every checker's result, by checker name, in the order reports list them: security, availability, durability, timing. */
export const checksSchema = z.strictObject({
  'revoked-accepted': revokedAcceptedCheck,
  'valid-rejected': validRejectedCheck,
  'lost-revocations': lostRevocationsCheck,
  'propagation-lag': propagationLagCheck,
  unavailability: unavailabilityCheck,
});

export type Op = z.infer<typeof opSchema>;
export type OpFunction = Op['f'];
export type OpType = Op['type'];
export type Phase = Op['phase'];
export type Checks = z.infer<typeof checksSchema>;
export type CheckName = keyof Checks;
export type RevokedAcceptedCheck = z.infer<typeof revokedAcceptedCheck>;
export type ValidRejectedCheck = z.infer<typeof validRejectedCheck>;
export type LostRevocationsCheck = z.infer<typeof lostRevocationsCheck>;
export type PropagationLagCheck = z.infer<typeof propagationLagCheck>;
export type AcrossInstances = z.infer<typeof acrossInstancesSchema>;
export type UnavailabilityCheck = z.infer<typeof unavailabilityCheck>;
export type FaultFigures = z.infer<typeof faultFiguresSchema>;
