import { formatBytes, formatNumber as num } from '../core/format.ts';
import type { Evidence } from './evidence.ts';
import type { Requirements } from './requirements.ts';
import { COMPACT_BUCKET_MS, SCHEMES, type SchemeId } from './schemes.ts';

const DAY_S = 86_400;

/** Where the per-primary throughput in the shard arithmetic comes from; the record says which. */
export interface NodeCapacity {
  opsPerSec: number | null;
  kind: 'assumed' | 'measured' | 'none';
  note: string;
}

/** The cost of an option at the stated scale, each figure with the arithmetic that produced it; null: not known. */
export interface CostEstimate {
  /** null: a team's verifier, whose Redis use tokenbench does not know. */
  scheme: SchemeId | null;
  liveEntries: number | null;
  entriesArithmetic: string;
  bytesPerEntry: number | null;
  memoryBytes: number | null;
  memoryArithmetic: string;
  opsPerSec: number | null;
  opsArithmetic: string;
  nodes: number | null;
  nodesArithmetic: string;
  /** What each verifier holds in its own memory (a local denylist); null: it holds nothing. */
  verifier: VerifierState | null;
}

/** One of our schemes: its design gives every entry and operation count. */
export interface SchemeCost extends CostEstimate {
  scheme: SchemeId;
  liveEntries: number;
  opsPerSec: number;
}

/** Why a team verifier's cost is unknown: what it stores and how often it asks Redis are its design, which no run shows. */
export const TEAM_VERIFIER_UNKNOWN = "a team's verifier: only what was measured is known";

/** A team verifier's cost: nothing of it can be derived from its runs. */
export function teamVerifierCost(): CostEstimate {
  const why = `not measured: ${TEAM_VERIFIER_UNKNOWN}, and what it stores in Redis and how often it asks it are not measured`;
  return {
    scheme: null,
    liveEntries: null,
    entriesArithmetic: why,
    bytesPerEntry: null,
    memoryBytes: null,
    memoryArithmetic: why,
    opsPerSec: null,
    opsArithmetic: why,
    nodes: null,
    nodesArithmetic: why,
    verifier: null,
  };
}

/** A verifier's local copy of the denylist, per verifier instance: every instance holds its own. */
export interface VerifierState {
  entries: number;
  entriesArithmetic: string;
  memoryBytes: number;
  memoryArithmetic: string;
}

/**
 * One denylist entry in a verifier's V8 heap: a `tb:bl:{sub}:<jti>` key (about 56 B as a flat
 * one-byte string) plus its slot in a Map with the entry's expiry (45-64 B). Measured on Node 20
 * with --expose-gc, heapUsed before and after, at 9,000 to 1,000,000 entries: 101-120 B; the top
 * of that range. Redis's MEMORY USAGE of the same key (the runs' bytesPerEntry) measures another
 * process's allocator, so it is not used for this.
 */
export const LOCAL_BYTES_PER_ENTRY = 120;

/** What the record says instead of a node count when no closed-loop run measured per-node capacity. */
export const CAPACITY_PROBE_HINT =
  'run the capacity probe (tokenbench decide without --result, or a closed-loop run: tokenbench run --mode closed --concurrency 64 --engine fast-jwt --alg HS256, then pass its result.json with --result)';

/** An assumption from the requirements wins over a measurement; either way the note says which it is. */
export function nodeCapacity(requirements: Requirements, evidence: Evidence): NodeCapacity {
  const assumed = requirements.assumptions.redisOpsPerNode;
  const measured = evidence.capacity;
  const measuredNote = measured
    ? `${num(measured.opsPerSecPerPrimary)} ops/s per primary measured (closed loop, ${measured.source}): the rate the harness reached, a lower bound on what one Redis primary can do, not its ceiling`
    : 'no closed-loop run in the evidence (an open-loop run reaches the rate it was asked for, so it says nothing about capacity)';
  if (assumed !== null)
    return {
      opsPerSec: assumed,
      kind: 'assumed',
      note: `${num(assumed)} ops/s per primary, an ASSUMPTION (requirements: assumptions.redisOpsPerNode), not measured here; for comparison, ${measuredNote}`,
    };
  if (measured)
    return {
      opsPerSec: measured.opsPerSecPerPrimary,
      kind: 'measured',
      note: `${measuredNote}; so the node counts below are upper bounds. Set assumptions.redisOpsPerNode to use your own figure`,
    };
  return { opsPerSec: null, kind: 'none', note: `not measured: ${measuredNote}; ${CAPACITY_PROBE_HINT}, or set assumptions.redisOpsPerNode` };
}

function measured(evidence: Evidence, scheme: SchemeId, pick: (r: Evidence['schemes'][number]['runs'][number]) => number | null): number | null {
  const values = evidence.schemes
    .filter((e) => e.scheme === scheme)
    .flatMap((e) => e.runs.map(pick))
    .filter((v): v is number => v !== null);
  // The largest figure: a cost model should not be optimistic.
  return values.length > 0 ? Math.max(...values) : null;
}

/** Round trips per verify as designed, for when no run measured them. */
const DESIGN_ROUND_TRIPS: Record<SchemeId, number> = {
  pure: 0,
  blacklist: 1,
  'blacklist-wait': 1,
  'compact-blacklist': 1,
  whitelist: 1,
  'whitelist-wait': 1,
  'double-token': 0,
  // Verify reads the local replica; a reload after a failover is not per verify.
  'replicated-blacklist': 0,
  // Unmeasured, every verify is counted as a miss: an upper bound, and labelled so.
  'cached-blacklist': 1,
};

/** `95% hits`: a cached verify costs one round trip on a miss and none on a hit, so the measured round trips per verify are the miss ratio. */
function hitRatioText(measuredTrips: number | null): string {
  if (measuredTrips === null) return 'hit ratio not measured: every verify counted as a miss (an upper bound)';
  return `measured: ${num(Math.max(0, 1 - measuredTrips) * 100, 1)}% hits, as a miss is one round trip and a hit none; in the run's workload, not necessarily production's`;
}

function verifierState(scheme: SchemeId, liveEntries: number, liveTokens: number, requirements: Requirements): VerifierState | null {
  if (scheme === 'replicated-blacklist') {
    const memoryBytes = liveEntries * LOCAL_BYTES_PER_ENTRY;
    return {
      entries: liveEntries,
      entriesArithmetic: `the whole denylist, in every verifier: the ${num(liveEntries)} live entries Redis holds`,
      memoryBytes,
      memoryArithmetic: `${num(liveEntries)} entries × ${LOCAL_BYTES_PER_ENTRY} B (a key and its expiry in a JS Map, measured in V8, see LOCAL_BYTES_PER_ENTRY) = ${formatBytes(memoryBytes)}`,
    };
  }
  if (scheme === 'cached-blacklist') {
    // Negative answers are cached too: the cache holds the tokens a verifier checked, not just the revoked ones.
    const memoryBytes = liveTokens * LOCAL_BYTES_PER_ENTRY;
    const { activeUsers, tokensPerUser } = requirements.scale;
    return {
      entries: liveTokens,
      entriesArithmetic: `up to one per token it verified, negative answers included: at most ${num(activeUsers)} users × ${num(tokensPerUser)} tokens = ${num(liveTokens)} (the cache's maxEntries caps it)`,
      memoryBytes,
      memoryArithmetic: `${num(liveTokens)} entries × ${LOCAL_BYTES_PER_ENTRY} B (a replica entry measured in V8; node-redis keeps the reply and its own bookkeeping on top, not measured, so a lower bound) = ${formatBytes(memoryBytes)}`,
    };
  }
  return null;
}

export function estimateCost(
  scheme: SchemeId,
  requirements: Requirements,
  evidence: Evidence,
  capacity: NodeCapacity = nodeCapacity(requirements, evidence),
): SchemeCost {
  const { activeUsers, tokensPerUser, revocationsPerDay } = requirements.scale;
  const { accessTtl, leeway } = requirements.tokens;
  const holds = SCHEMES[scheme].holds;
  const lifetimeS = (accessTtl + leeway) / 1000;
  const liveTokens = activeUsers * tokensPerUser;
  const revocationsPerSec = revocationsPerDay / DAY_S;

  let liveEntries = 0;
  let entriesArithmetic = 'Redis holds nothing';
  if (holds === 'revocations') {
    const keptS = scheme === 'compact-blacklist' ? lifetimeS + COMPACT_BUCKET_MS / 1000 : lifetimeS;
    liveEntries = Math.ceil(revocationsPerSec * keptS);
    const kept =
      scheme === 'compact-blacklist'
        ? `${num(keptS)} s (access ${num(accessTtl / 1000)} s + leeway ${num(leeway / 1000)} s + one ${num(COMPACT_BUCKET_MS / 1000)} s bucket)`
        : `${num(keptS)} s (access ${num(accessTtl / 1000)} s + leeway ${num(leeway / 1000)} s)`;
    entriesArithmetic = `${num(revocationsPerDay)} revocations/day ÷ ${num(DAY_S)} s × ${kept} = ${num(liveEntries)} live entries (upper bound: an entry lives the token's remaining lifetime, at most all of it)`;
  } else if (holds === 'live tokens' || holds === 'sessions') {
    liveEntries = liveTokens;
    entriesArithmetic = `${num(activeUsers)} users × ${num(tokensPerUser)} ${holds === 'sessions' ? 'sessions' : 'tokens'} per user = ${num(liveEntries)} live entries (every live ${holds === 'sessions' ? 'session' : 'token'})`;
  }

  const bytesPerEntry = holds === 'nothing' ? 0 : measured(evidence, scheme, (r) => r.bytesPerEntry);
  const memoryBytes = bytesPerEntry === null ? null : liveEntries * bytesPerEntry;
  const memoryArithmetic =
    holds === 'nothing'
      ? '0 B'
      : memoryBytes === null
        ? `${num(liveEntries)} entries × bytes per entry (not measured) = unknown`
        : `${num(liveEntries)} entries × ${num(bytesPerEntry!, 1)} B (measured) = ${formatBytes(memoryBytes)}`;

  const measuredTrips = measured(evidence, scheme, (r) => r.roundTripsPerVerify);
  const trips = measuredTrips ?? DESIGN_ROUND_TRIPS[scheme];
  const verifyOps = requirements.latency.peakVerifyRate * trips;
  const tripsNote = scheme === 'cached-blacklist' ? ` (${hitRatioText(measuredTrips)})` : measuredTrips === null ? ' (by design, not measured)' : '';
  const parts = [`${num(requirements.latency.peakVerifyRate)} verifies/s × ${num(trips, 3)} round trips/verify${tripsNote} = ${num(verifyOps)}`];
  let opsPerSec = verifyOps;
  if (holds !== 'nothing') {
    opsPerSec += revocationsPerSec;
    parts.push(
      `${num(revocationsPerDay)} revocations/day ÷ ${num(DAY_S)} s = ${num(revocationsPerSec, 2)}${scheme === 'replicated-blacklist' ? ' (each also pushed to every verifier as one invalidation message)' : ''}`,
    );
  }
  // A whitelist writes each token it issues, double-token each refresh: about once per access lifetime per live token.
  if (holds === 'live tokens' || holds === 'sessions') {
    const renewals = liveTokens / (accessTtl / 1000);
    opsPerSec += renewals;
    parts.push(
      `${num(liveTokens)} live ${holds === 'sessions' ? 'sessions' : 'tokens'} ÷ ${num(accessTtl / 1000)} s access lifetime = ${num(renewals, 2)} ${holds === 'sessions' ? 'refreshes' : 'logins'}/s`,
    );
  }
  const opsArithmetic = `${parts.join(' + ')} → ${num(opsPerSec, 2)} Redis ops/s`;

  let nodes: number | null;
  let nodesArithmetic: string;
  if (holds === 'nothing') {
    nodes = 0;
    nodesArithmetic = 'no Redis';
  } else if (capacity.opsPerSec === null) {
    nodes = null;
    nodesArithmetic = 'not measured: run the capacity probe (see per-node throughput above)';
  } else {
    nodes = Math.max(1, Math.ceil(opsPerSec / capacity.opsPerSec));
    // Divided by a lower bound on capacity, more than one primary is a ceiling on what is needed.
    const count = nodes === 1 ? '1 primary' : capacity.kind === 'measured' ? `at most ${nodes} primaries` : `${nodes} primaries`;
    nodesArithmetic = `⌈${num(opsPerSec, 2)} ÷ ${num(capacity.opsPerSec)} (${capacity.kind === 'measured' ? 'measured lower bound' : capacity.kind})⌉ = ${count}`;
  }
  return {
    scheme,
    liveEntries,
    entriesArithmetic,
    bytesPerEntry,
    memoryBytes,
    memoryArithmetic,
    opsPerSec,
    opsArithmetic,
    nodes,
    nodesArithmetic,
    verifier: verifierState(scheme, liveEntries, liveTokens, requirements),
  };
}
