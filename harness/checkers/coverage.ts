/**
 * How the checkers read a history: which revocations cover a token, what counts as a verdict, how
 * many examples a result carries, and percentiles.
 */
import type { Op, OpType } from '../history.ts';

/** A revoke or revokeAll as the checkers need it: what it targets and when it ran. */
export interface Revocation {
  kind: 'revoke' | 'revokeAll';
  subject: string;
  jti?: string;
  family?: string;
  invokeMs: number;
  completeMs: number;
  type: OpType;
  ackedByPort?: number;
  /** The load generator (client group) that made it. */
  worker?: number;
}

/** The token a verify (or refresh) presented. */
export interface TokenRef {
  subject: string;
  jti?: string;
  family?: string;
  tokenIssuedMs?: number;
  tokenExpiresMs?: number;
}

export function revocationOf(op: Op): Revocation | undefined {
  if (op.f !== 'revoke' && op.f !== 'revokeAll') return undefined;
  return {
    kind: op.f,
    subject: op.subject,
    jti: op.jti,
    family: op.family,
    invokeMs: op.invokeMs,
    completeMs: op.completeMs,
    type: op.type,
    ackedByPort: op.ackedByPort,
    worker: op.worker,
  };
}

function sameTokenOrFamily(revocation: Revocation, token: TokenRef): boolean {
  return (revocation.jti !== undefined && revocation.jti === token.jti) || (revocation.family !== undefined && revocation.family === token.family);
}

/**
 * The revocation, had it taken effect, must make the token invalid. A revokeAll only promises the
 * tokens issued before it was invoked; a token whose issue time is unknown is never claimed covered,
 * so no violation is reported that the history cannot prove.
 */
export function covers(revocation: Revocation, token: TokenRef): boolean {
  if (revocation.kind === 'revoke') return sameTokenOrFamily(revocation, token);
  return (
    revocation.subject === token.subject && token.tokenIssuedMs !== undefined && token.tokenIssuedMs < revocation.invokeMs && !deadLongBefore(token, revocation)
  );
}

/**
 * A token expired longer ago than any verifier's leeway (seconds) needs no revocation: a revokeAll
 * invoked after that is not about it. Without this cut, every replay of an old token of a busy user
 * would be checked against every revokeAll since, and the fold would grow quadratic.
 */
const EXPIRED_FOR_GOOD_MS = 60_000;

function deadLongBefore(token: TokenRef, revocation: Revocation): boolean {
  return token.tokenExpiresMs !== undefined && revocation.invokeMs > token.tokenExpiresMs + EXPIRED_FOR_GOOD_MS;
}

/**
 * The revocation could legitimately have made the token invalid. Wider than `covers`: a revokeAll
 * is applied when the server executes it (the blacklist stamps its watermark with the server's
 * clock, the whitelist deletes the whole set), so a token issued while it was in flight may be
 * caught too; and a token of unknown issue time may have been.
 */
export function mayHaveCovered(revocation: Revocation, token: TokenRef): boolean {
  if (revocation.kind === 'revoke') return sameTokenOrFamily(revocation, token);
  return (
    revocation.subject === token.subject &&
    (token.tokenIssuedMs === undefined || token.tokenIssuedMs < revocation.completeMs) &&
    !deadLongBefore(token, revocation)
  );
}

/**
 * Revocations indexed by what they target, so that finding the ones relevant to a token costs a
 * few map lookups rather than a scan of every revocation. Memory is one entry per revocation.
 */
export class RevocationIndex<R extends Revocation = Revocation> {
  readonly #byJti = new Map<string, R[]>();
  readonly #byFamily = new Map<string, R[]>();
  /** revokeAll per subject, sorted by invokeMs so a token's issue time bounds the search. */
  readonly #bySubject = new Map<string, R[]>();
  /** The longest revokeAll seen: one invoked this long before a token was issued may still have caught it. */
  #longestRevokeAllMs = 0;

  add(revocation: R): void {
    if (revocation.kind === 'revokeAll') {
      this.#longestRevokeAllMs = Math.max(this.#longestRevokeAllMs, revocation.completeMs - revocation.invokeMs);
      insertSortedByInvoke(listFor(this.#bySubject, revocation.subject), revocation);
      return;
    }
    if (revocation.jti !== undefined) listFor(this.#byJti, revocation.jti).push(revocation);
    if (revocation.family !== undefined) listFor(this.#byFamily, revocation.family).push(revocation);
  }

  /**
   * Every revocation that may concern the token (a superset of both `covers` and `mayHaveCovered`),
   * each once: the revokes of its jti or family first, then its subject's revokeAlls in order of
   * invocation, so a caller looking for the earliest may stop as soon as later ones cannot matter.
   */
  *candidates(token: TokenRef): Generator<R> {
    if (token.jti !== undefined) yield* this.#byJti.get(token.jti) ?? [];
    if (token.family !== undefined) {
      for (const revocation of this.#byFamily.get(token.family) ?? []) {
        // Indexed under its jti too: already yielded above.
        if (revocation.jti === undefined || revocation.jti !== token.jti) yield revocation;
      }
    }
    const revokeAlls = this.#bySubject.get(token.subject);
    if (!revokeAlls) return;
    const from = token.tokenIssuedMs === undefined ? 0 : firstInvokedAfter(revokeAlls, token.tokenIssuedMs - this.#longestRevokeAllMs);
    for (let i = from; i < revokeAlls.length; i++) {
      const revocation = revokeAlls[i]!;
      if (deadLongBefore(token, revocation)) return;
      yield revocation;
    }
  }

  /** The revocations covering the token that had completed before ms: what a verify invoked at ms must respect. */
  *coveringCompletedBefore(token: TokenRef, ms: number): Generator<R> {
    for (const revocation of this.candidates(token)) {
      if (revocation.kind === 'revokeAll' && revocation.invokeMs >= ms) return;
      if (revocation.completeMs < ms && covers(revocation, token)) yield revocation;
    }
  }

  /** Whether a revocation invoked before ms may have caught the token. */
  mayHaveCoveredBefore(token: TokenRef, ms: number): boolean {
    for (const revocation of this.candidates(token)) {
      if (revocation.kind === 'revokeAll' && revocation.invokeMs >= ms) return false;
      if (revocation.invokeMs < ms && mayHaveCovered(revocation, token)) return true;
    }
    return false;
  }
}

function listFor<R>(map: Map<string, R[]>, key: string): R[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

/** Completion order is nearly invocation order, so the right place is almost always at the end. */
function insertSortedByInvoke<R extends Revocation>(list: R[], revocation: R): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.invokeMs > revocation.invokeMs) i--;
  list.splice(i, 0, revocation);
}

function firstInvokedAfter(list: readonly Revocation[], ms: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.invokeMs > ms) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The token presented by a verify, refresh or issue op. */
export function tokenOf(op: Op): TokenRef {
  return { subject: op.subject, jti: op.jti, family: op.family, tokenIssuedMs: op.tokenIssuedMs, tokenExpiresMs: op.tokenExpiresMs };
}

/** Nearest-rank percentile of ascending values (q in 0..1); null when there are none. */
export function percentile(ascending: readonly number[], q: number): number | null {
  if (ascending.length === 0) return null;
  const rank = Math.min(ascending.length, Math.max(1, Math.ceil(q * ascending.length)));
  return ascending[rank - 1]!;
}

/** A verify that produced a verdict (accepted or rejected). */
export function isVerdict(op: Op): op is Op & { f: 'verify'; accepted: boolean } {
  return op.f === 'verify' && op.type === 'ok' && typeof op.accepted === 'boolean';
}

/** Keeps the first few ops that show a problem: reports need evidence, not every instance. */
export const MAX_EXAMPLES = 5;

export function keepExample(examples: Op[], op: Op): void {
  if (examples.length < MAX_EXAMPLES) examples.push(op);
}

export function isRevokedRejection(op: Op): boolean {
  return op.accepted === false && (op.code === 'ERR_REVOKED' || op.code === 'ERR_NOT_ALLOWLISTED');
}
