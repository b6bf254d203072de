import type { Checks } from '../../result/checks.ts';
import { clientGroupOf } from '../../result/network-faults.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { isVerdict, keepExample, MAX_EXAMPLES, mayHaveCovered, type Revocation, RevocationIndex, revocationOf, type TokenRef, tokenOf } from './coverage.ts';

type RejectionReason = 'storeUnavailable' | 'entryLost' | 'jwtOrClock' | 'other';

function reasonOf(code: string | undefined): RejectionReason {
  if (code === 'ERR_STORE_UNAVAILABLE') return 'storeUnavailable';
  // Nothing revoked this token, so the store lost (or never got) what made it valid.
  if (code === 'ERR_REVOKED' || code === 'ERR_NOT_ALLOWLISTED') return 'entryLost';
  if (code?.startsWith('ERR_JWT_')) return 'jwtOrClock';
  return 'other';
}

type Counts = Checks['valid-rejected']['counts'];

function noCounts(): Counts {
  return {
    verdicts: 0,
    rejected: 0,
    expired: 0,
    touchedByRevocation: 0,
    afterIndeterminateIssue: 0,
    untracked: 0,
    storeUnavailable: 0,
    entryLost: 0,
    jwtOrClock: 0,
    other: 0,
  };
}

const IS_VIOLATION: Record<RejectionReason, boolean> = { storeUnavailable: false, entryLost: true, jwtOrClock: true, other: false };

interface PendingRejection {
  op: Op;
  token: TokenRef & { jti: string };
  reason: RejectionReason;
  cancelled: boolean;
}

/**
 * A revocation observed later can still explain a rejection: ops arrive in completion order, so a
 * revoke invoked before the verify completed (it landed, the verify saw it) may complete, and be
 * observed, after it. A rejection is only final once every op that could have been in flight with
 * it has completed. That is unknowable in a stream, so it is assumed for ops older than twice the
 * longest op seen so far (client timeouts bound every op), and never less than this. Memory is
 * the rejections of that recent window, not of the run.
 */
const FINALITY_FLOOR_MS = 10_000;

/** Rejections not yet final, in completion order, indexed by what a revocation can target. */
class PendingRejections {
  readonly #byJti = new Map<string, PendingRejection[]>();
  readonly #jtisByFamily = new Map<string, Set<string>>();
  readonly #jtisBySubject = new Map<string, Set<string>>();
  #queue: PendingRejection[] = [];
  #head = 0;

  add(entry: PendingRejection): void {
    const { jti, family, subject } = entry.token;
    let list = this.#byJti.get(jti);
    if (!list) {
      list = [];
      this.#byJti.set(jti, list);
      if (family !== undefined) setFor(this.#jtisByFamily, family).add(jti);
      setFor(this.#jtisBySubject, subject).add(jti);
    }
    list.push(entry);
    this.#queue.push(entry);
  }

  /** Cancels the rejections the revocation explains (those completed after it was invoked); returns their verifies. */
  cancelExplainedBy(revocation: Revocation): Op[] {
    const jtis = new Set<string>();
    if (revocation.kind === 'revokeAll') {
      for (const jti of this.#jtisBySubject.get(revocation.subject) ?? []) jtis.add(jti);
    } else {
      if (revocation.jti !== undefined) jtis.add(revocation.jti);
      if (revocation.family !== undefined) for (const jti of this.#jtisByFamily.get(revocation.family) ?? []) jtis.add(jti);
    }
    const cancelled: Op[] = [];
    for (const jti of jtis) {
      const list = this.#byJti.get(jti);
      const token = list?.[0]?.token;
      if (!list || !token || !mayHaveCovered(revocation, token)) continue;
      while (list.length > 0 && list[list.length - 1]!.op.completeMs > revocation.invokeMs) {
        const entry = list.pop()!;
        entry.cancelled = true;
        cancelled.push(entry.op);
      }
      if (list.length === 0) this.#forget(token);
    }
    return cancelled;
  }

  /** Removes and yields, oldest first, the rejections that completed before ms and were not explained. */
  *takeOlderThan(ms: number): Generator<PendingRejection> {
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.op.completeMs < ms) {
      const entry = this.#queue[this.#head++]!;
      if (entry.cancelled) continue;
      const list = this.#byJti.get(entry.token.jti);
      // Cancellation only ever removes the newest, so a live entry is the oldest of its token.
      list?.shift();
      if (list?.length === 0) this.#forget(entry.token);
      yield entry;
    }
    // Reclaim the taken prefix now and then rather than shifting the queue on every op.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #forget(token: PendingRejection['token']): void {
    this.#byJti.delete(token.jti);
    if (token.family !== undefined) deleteFrom(this.#jtisByFamily, token.family, token.jti);
    deleteFrom(this.#jtisBySubject, token.subject, token.jti);
  }
}

/**
 * Availability: a verify that rejected a live token no revocation had touched. Fail-closed store
 * outages are the measured cost of the policy; an entry lost (a whitelist write lost in a failover,
 * a revocation that was never made) or a JWT/clock rejection of a valid token is a bug.
 */
export function validRejected(run?: Pick<RunInfo, 'clientGroups'>): Checker<'valid-rejected'> {
  const revocations = new RevocationIndex();
  const indeterminateIssues = new Set<string>();
  const pending = new PendingRejections();
  let longestOpMs = 0;

  const counts = noCounts();
  // A fail-closed run-wide count hides which side of a network fault paid for it.
  const groupOf = run?.clientGroups?.length ? clientGroupOf(run.clientGroups) : undefined;
  const bySide = new Map<string, Counts>((run?.clientGroups ?? []).map((g) => [g.name, noCounts()]));

  function tally(op: Op, key: keyof Counts): void {
    counts[key]++;
    if (groupOf) sideCounts(groupOf(op.worker))[key]++;
  }

  /** A group's counts; the default group's from its first op, so it is listed only when it had any. */
  function sideCounts(name: string): Counts {
    let side = bySide.get(name);
    if (!side) {
      side = noCounts();
      bySide.set(name, side);
    }
    return side;
  }
  const violationExamples: Op[] = [];
  const costExamples: Op[] = [];

  function finalizeOlderThan(ms: number): void {
    for (const entry of pending.takeOlderThan(ms)) {
      // Checked here rather than at the verify: an issue that timed out is recorded when it gives up.
      if (indeterminateIssues.has(entry.token.jti)) {
        tally(entry.op, 'afterIndeterminateIssue');
        continue;
      }
      tally(entry.op, entry.reason);
      keepExample(IS_VIOLATION[entry.reason] ? violationExamples : costExamples, entry.op);
    }
  }

  return {
    name: 'valid-rejected',

    observe(op: Op): void {
      if (groupOf) sideCounts(groupOf(op.worker));
      longestOpMs = Math.max(longestOpMs, op.completeMs - op.invokeMs);
      finalizeOlderThan(op.completeMs - Math.max(FINALITY_FLOOR_MS, 2 * longestOpMs));

      const revocation = revocationOf(op);
      if (revocation) {
        // An indeterminate revocation may have landed: it explains a rejection as well as an ack does.
        if (revocation.type === 'fail') return;
        revocations.add(revocation);
        for (const cancelled of pending.cancelExplainedBy(revocation)) tally(cancelled, 'touchedByRevocation');
        return;
      }
      // Not refresh: a refresh that failed names the token it presented, not one it may have issued.
      if (op.f === 'issue' && op.type === 'info' && op.jti !== undefined) {
        indeterminateIssues.add(op.jti);
        return;
      }
      if (!isVerdict(op)) return;
      tally(op, 'verdicts');
      if (op.accepted) return;
      tally(op, 'rejected');
      if (op.jti === undefined) {
        tally(op, 'untracked');
        return;
      }
      if (op.tokenExpiresMs !== undefined && op.tokenExpiresMs <= op.invokeMs) {
        tally(op, 'expired');
        return;
      }
      const token = { ...tokenOf(op), jti: op.jti };
      if (revocations.mayHaveCoveredBefore(token, op.completeMs)) {
        tally(op, 'touchedByRevocation');
        return;
      }
      pending.add({ op, token, reason: reasonOf(op.code), cancelled: false });
    },

    result(_run: RunInfo): Checks['valid-rejected'] {
      finalizeOlderThan(Infinity);
      return {
        valid: counts.verdicts === 0 ? 'unknown' : counts.entryLost === 0 && counts.jwtOrClock === 0,
        counts: { ...counts },
        ...(groupOf && { bySide: Object.fromEntries([...bySide].map(([name, side]) => [name, { ...side }])) }),
        examples: [...violationExamples, ...costExamples].slice(0, MAX_EXAMPLES),
      };
    },
  };
}

function setFor(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

function deleteFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
