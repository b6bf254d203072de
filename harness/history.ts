/**
 * The history of a run, Jepsen-style: every operation the workload invoked, with its outcome.
 * Times are milliseconds since the start of the measured phase, from the monotonic clock
 * (performance.now()), fractional; the same origin is used for faults and topology events.
 */

export type OpFunction = 'issue' | 'verify' | 'revoke' | 'revokeAll' | 'refresh';

/**
 * ok: definitely happened (for verify: a verdict came back, accepted or rejected);
 * fail: definitely did not happen (an error reply, a refused token);
 * info: unknown (a timeout, a connection lost after sending): a write may or may not have landed.
 */
export type OpType = 'ok' | 'fail' | 'info';

export type Phase = 'warmup' | 'steady' | 'fault' | 'recovery' | 'final';

export interface Op {
  id: number;
  f: OpFunction;
  worker: number;
  phase: Phase;
  subject: string;
  /** The token the op is about: verify/revoke: the token presented; issue/refresh: the new access token. */
  jti?: string;
  /** Double-token: the refresh family (session) of the token. */
  family?: string;
  /** When the token presented (or issued) was issued / expires, in run ms (may be negative: issued in warm-up). */
  tokenIssuedMs?: number;
  tokenExpiresMs?: number;
  /** Open loop: when the op should have started. Latency is measured from here (coordinated omission). */
  intendedMs: number;
  invokeMs: number;
  completeMs: number;
  type: OpType;
  /** verify: did the verdict accept the token? */
  accepted?: boolean;
  /** Rejection code of a verify, or error code of a failed write. */
  code?: string;
  /** The verdict or ack depended on Redis being unreachable (fail-open accept, fail-closed reject). */
  degraded?: boolean;
  /** The generator sent a token it had itself revoked: an attacker replaying a stolen token. */
  replay?: boolean;
  /** Writes with WAIT: replicas that confirmed, and how many were requested. */
  replicasAcked?: number;
  replicasRequested?: number;
  /** Port of the Redis node the client was connected to when the write was acknowledged (single / sentinel). */
  ackedByPort?: number;
  error?: string;
}

/** A fault as it happened, in run ms. */
export interface FaultRecord {
  action: string;
  target: string;
  node?: string;
  atMs: number;
  /** For pause / kill with `for`: when it was healed. */
  healedAtMs?: number;
  error?: string;
}

/** A ground-truth topology event, in run ms. */
export interface EventRecord {
  atMs: number;
  source: string;
  type: string;
  node?: string;
  detail?: string;
}

export type GuaranteeInfo = 'none' | 'immediate' | { boundedByMs: number };

/** What checkers know about the run besides the history. */
export interface RunInfo {
  strategy: string;
  guarantee: GuaranteeInfo;
  failurePolicy: 'fail-closed' | 'fail-open';
  faults: FaultRecord[];
  events: EventRecord[];
  /** Ports of the primaries at the final reconciliation (single / sentinel). */
  finalPrimaryPorts: number[];
  durationMs: number;
}

export interface CheckResult {
  /** true: no violation seen; false: at least one; 'unknown': not enough information. */
  valid: true | false | 'unknown';
  counts: Record<string, number>;
  /** Extra figures (lags, windows) in ms. */
  figures?: Record<string, number | null>;
  /** Up to a few operations that show the problem. */
  examples: Op[];
  /** Per fault figures, for checkers that have them. */
  perFault?: Record<string, number | string | null>[];
}

/**
 * A checker is a pure fold over the history, ops given in completion order: observe each op,
 * then result(). Folding keeps memory bounded for long runs (the history streams from disk).
 */
export interface Checker {
  readonly name: string;
  observe(op: Op): void;
  result(run: RunInfo): CheckResult;
}

export type CheckerFactory = () => Checker;
