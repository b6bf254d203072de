import type { OpFunction } from './history.ts';
import type { Scenario } from './scenario.ts';

/** mulberry32: small, fast, seedable; the same seed replays the same workload. */
export function seededRandom(seed: number): () => number {
  // Kept as int32 (the same bits as uint32): a uint32 above 2^31 is no small integer, and every
  // draw boxed the state anew in a heap number, behind a write barrier.
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws indexes 0..n-1 with P(i) proportional to 1/(i+1)^s, by binary search in the cumulative weights. */
export class ZipfSampler {
  readonly #cdf: Float64Array;
  readonly #random: () => number;

  constructor(n: number, exponent: number, random: () => number) {
    this.#random = random;
    this.#cdf = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += 1 / (i + 1) ** exponent;
      this.#cdf[i] = total;
    }
    for (let i = 0; i < n; i++) this.#cdf[i]! /= total;
  }

  next(): number {
    const u = this.#random();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A live login as the workload sees it. Times are Unix ms, as the tokens carry them. */
export interface Session {
  subject: string;
  accessToken: string;
  refreshToken?: string;
  jti: string;
  family?: string;
  issuedMs: number;
  expiresMs: number;
}

export interface PlannedOp {
  f: OpFunction;
  subject: string;
  session?: Session;
  /** A verify that replays a token this workload revoked. */
  replay?: boolean;
}

const REVOKED_KEPT = 10_000;

/**
 * A generator's part of the scenario's workload: `users` of them from `firstUser` on, so that the
 * parts of a run split across generators (`load.shard`) are, together, exactly the users one
 * generator would have (`user-0` .. `user-<users - 1>`). Not a scenario field: the runner sets it.
 */
export type WorkloadPart = Scenario['workload'] & { firstUser?: number };

/**
 * Chooses what happens next (which op, which user, which token) and keeps the pool of live and
 * revoked sessions up to date as results come in. Memory: users x sessions, plus a bounded ring of
 * revoked tokens to replay.
 */
export class Workload {
  readonly users: string[];
  /** Live sessions by user index, as `next` draws users: an array read, where a map lookup by name was a twentieth of an op's harness cost. */
  readonly #sessions: Session[][];
  readonly #userIndex: Map<string, number>;
  readonly #revoked: Session[] = [];
  #revokedNext = 0;
  readonly #random: () => number;
  readonly #pickUser: () => number;
  readonly #cumulative: [OpFunction, number][];
  readonly #replayShare: number;
  readonly #maxSessions: number;

  constructor(workload: WorkloadPart, options: { hasRefresh: boolean; userPrefix?: string }) {
    this.#random = seededRandom(workload.seed);
    const first = workload.firstUser ?? 0;
    this.users = Array.from({ length: workload.users }, (_, i) => `${options.userPrefix ?? 'user'}-${first + i}`);
    this.#sessions = this.users.map(() => []);
    this.#userIndex = new Map(this.users.map((u, i) => [u, i]));
    const zipf = workload.distribution === 'zipf' ? new ZipfSampler(workload.users, workload.zipfExponent, this.#random) : undefined;
    this.#pickUser = zipf ? () => zipf.next() : () => Math.floor(this.#random() * workload.users);
    const mix = { ...workload.mix };
    // Without refresh tokens a client just keeps using its access token.
    if (!options.hasRefresh) {
      mix.verify += mix.refresh;
      mix.refresh = 0;
    }
    const total = mix.verify + mix.issue + mix.revoke + mix.revokeAll + mix.refresh;
    let sum = 0;
    this.#cumulative = (['verify', 'issue', 'revoke', 'revokeAll', 'refresh'] as const).map((f) => {
      sum += mix[f] / total;
      return [f, sum] as [OpFunction, number];
    });
    this.#replayShare = workload.revokedVerifyShare;
    this.#maxSessions = workload.sessionsPerUser;
  }

  /** The logins to make before the load starts. */
  initialLogins(): string[] {
    return this.users.flatMap((u) => Array.from({ length: this.#maxSessions }, () => u));
  }

  next(): PlannedOp {
    const r = this.#random();
    let f: OpFunction = 'verify';
    const cumulative = this.#cumulative;
    for (let i = 0; i < cumulative.length; i++) {
      if (r < cumulative[i]![1]) {
        f = cumulative[i]![0];
        break;
      }
    }
    const user = this.#pickUser();
    const subject = this.users[user]!;
    if (f === 'verify' && this.#revoked.length > 0 && this.#random() < this.#replayShare) {
      const session = this.#revoked[Math.floor(this.#random() * this.#revoked.length)]!;
      return { f: 'verify', subject: session.subject, session, replay: true };
    }
    if (f === 'issue' || f === 'revokeAll') return { f, subject };
    const sessions = this.#sessions[user]!;
    // A user with no live session logs in instead (after a ban or logouts).
    if (sessions.length === 0) return { f: 'issue', subject };
    const session = sessions[Math.floor(this.#random() * sessions.length)]!;
    return { f, subject, session };
  }

  /** A user's live sessions; undefined for a subject that is not one of this workload's users. */
  #sessionsOf(subject: string): Session[] | undefined {
    const user = this.#userIndex.get(subject);
    return user === undefined ? undefined : this.#sessions[user];
  }

  /** A session of a subject not among this workload's users is not kept: `next` would never draw it. */
  addSession(session: Session): void {
    const sessions = this.#sessionsOf(session.subject);
    if (!sessions) return;
    sessions.push(session);
    // The client forgets its oldest login beyond the per-user count (it does not log out).
    if (sessions.length > this.#maxSessions) sessions.shift();
  }

  replaceSession(old: Session, fresh: Session): void {
    const sessions = this.#sessionsOf(old.subject);
    const i = sessions?.indexOf(old) ?? -1;
    if (sessions && i >= 0) sessions[i] = fresh;
    else this.addSession(fresh);
  }

  /** An acknowledged revocation: the session leaves the live pool and may be replayed by an attacker. */
  revoked(session: Session): void {
    const sessions = this.#sessionsOf(session.subject);
    const i = sessions?.indexOf(session) ?? -1;
    if (sessions && i >= 0) sessions.splice(i, 1);
    this.#remember(session);
  }

  revokedAll(subject: string, beforeMs: number): Session[] {
    const user = this.#userIndex.get(subject);
    if (user === undefined) return [];
    const sessions = this.#sessions[user]!;
    const gone = sessions.filter((s) => s.issuedMs < beforeMs);
    this.#sessions[user] = sessions.filter((s) => s.issuedMs >= beforeMs);
    for (const s of gone) this.#remember(s);
    return gone;
  }

  #remember(session: Session): void {
    if (this.#revoked.length < REVOKED_KEPT) this.#revoked.push(session);
    else {
      this.#revoked[this.#revokedNext] = session;
      this.#revokedNext = (this.#revokedNext + 1) % REVOKED_KEPT;
    }
  }
}
