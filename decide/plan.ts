import type { ScenarioInput } from '../harness/scenario.ts';
import { DEFAULT_TOPOLOGY_OPTIONS, TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { TopologyKind } from '../topologies/types.ts';
import { candidateTopologies, disqualifiedByDesign } from './decide.ts';
import type { DurabilityFault } from './evidence.ts';
import type { Requirements } from './requirements.ts';
import { LOCAL_DENYLISTS, RECOMMENDED_WAIT, SCHEME_IDS, SCHEMES, type SchemeId } from './schemes.ts';

/** Start-to-ready on this 2-core machine (README, `tokenbench topology bench`), rounded up. */
const STARTUP_MS: Record<TopologyKind, number> = { single: 200, sentinel: 2500, cluster: 2300 };
/**
 * Detection, promotion, heal and the settle wait after a kill or a pause of the primary (a 3 s
 * Sentinel run with a kill took 17 s in all here, a 9.5 s one with a pause 22 s). A partition run
 * has none: its failover, heal and demotion all happen inside its longer measured phase (in a
 * planned decide here a 21 s Sentinel partition run took 24.6 s in all, an 11 s Cluster one 14.5 s;
 * the estimate says 26.5 s and 16.3 s).
 */
const FAILOVER_SETTLE_MS = 7000;
/** Login of the workload's sessions, checkers, MEMORY USAGE sampling and teardown. */
const PER_RUN_OVERHEAD_MS = 2500;
const RATE = 500;
const USERS = 1000;
const WARMUP_MS = 500;
export const DEFAULT_DECIDE_DURATION_MS = 8000;
/**
 * Verifier instances besides the writer that probe every acknowledged revocation (`load.verifiers`),
 * for the local denylists: their lag is what a fleet of gateways sees, not what the writer sees in
 * its own memory. Two: the smallest fleet where one instance's push can arrive before another's.
 */
export const LAG_VERIFIERS = 2;

/**
 * A hung primary must outlast failure detection (Sentinel's down-after, the cluster node timeout,
 * both 1 s by default) and the promotion after it, so that a replica is primary when the old one
 * resumes; and it must resume soon after, while clients still have writes pending on it (within
 * their 1 s commandTimeout) or still reach it through a sentinel that has not switched yet: those
 * are the acknowledged writes that go missing. Here a replica took over 1.8-2.7 s into a pause on
 * both topologies; an asynchronous blacklist then lost 17-18 (Sentinel) and 11 (Cluster)
 * acknowledged revocations with a 3 s pause, 4-10 and 5 with 3.5 s, none with 4 s.
 */
export const PAUSE_MS = Math.max(DEFAULT_TOPOLOGY_OPTIONS.sentinel.downAfterMs, DEFAULT_TOPOLOGY_OPTIONS.cluster.nodeTimeoutMs) + 2500;
/** Load after the resume, so the writes the old primary acknowledges then (and loses at its demotion) are in the history. */
const AFTER_RESUME_MS = 1500;

/** Measured phase of a pause run: as long as the others, longer if the pause and the time after the resume need it. */
export function pauseRunDurationMs(durationMs: number): number {
  return Math.max(durationMs, faultAtMs(durationMs) + PAUSE_MS + AFTER_RESUME_MS);
}

/**
 * A partition of the primary is the fault that loses acknowledged writes (Jepsen's): the sentinels
 * or the other masters promote a replica, while the harness's own load generator, outside the cut,
 * still reaches the old primary and has it acknowledge writes until ioredis learns of the switch
 * (failoverDetector, about 3 s after the cut here); those are lost when the old primary is demoted.
 * The cut must outlast detection (down-after / node timeout, 1 s by default), the promotion (1.9 s
 * after the cut on Sentinel, 2.4 s on Cluster, here) and the clients' switch, so that what is
 * measured is a partition that outlives its failover. Here (blacklist, Sentinel, 300 ops/s, cut at
 * 3 s for 5 s) 31-34 acknowledged revocations were lost with failoverDetector, 229 without; at 500
 * ops/s, cut at 4 s for 5 s, 63 on Sentinel and 8 on Cluster, whose minority primary stops taking
 * writes after its node timeout.
 */
export const PARTITION_MS = Math.max(DEFAULT_TOPOLOGY_OPTIONS.sentinel.downAfterMs, DEFAULT_TOPOLOGY_OPTIONS.cluster.nodeTimeoutMs) + 4000;

/**
 * From the heal to the old primary's demotion, which must fall inside the measured phase so that
 * every write it acknowledged is in the history. Sentinel: a sentinel converts it when its periodic
 * INFO (every 10 s) finds it still a master: 10.9 s after the heal here. Cluster: gossip demotes it
 * at once (0.2 s here); one node timeout more for a slow machine.
 */
const DEMOTION_AFTER_HEAL_MS: Record<Exclude<TopologyKind, 'single'>, number> = {
  sentinel: 12_000,
  cluster: DEFAULT_TOPOLOGY_OPTIONS.cluster.nodeTimeoutMs + 1000,
};

/** Measured phase of a partition run: as long as the others, longer if the cut, the heal and the demotion after it need it. */
export function partitionRunDurationMs(kind: Exclude<TopologyKind, 'single'>, durationMs: number): number {
  return Math.max(durationMs, faultAtMs(durationMs) + PARTITION_MS + DEMOTION_AFTER_HEAL_MS[kind]);
}

/**
 * When the primary is killed: late enough for a steady phase with samples for p99.9, early enough
 * that the failover (about 2-3 s here) ends inside the measured phase.
 */
export function faultAtMs(durationMs: number): number {
  return Math.max(Math.round(durationMs * 0.3), Math.min(durationMs - 4000, Math.round(durationMs * 0.5)));
}

export interface PlannedScenario {
  /** Folder name under --out, and what the progress line calls it. */
  name: string;
  topology: TopologyKind;
  /** What happens to the primary: nothing (single), kill -9, a partition or a hang through a failover, or the capacity probe. */
  fault: 'none' | 'kill' | DurabilityFault | 'capacity';
  schemes: SchemeId[];
  scenario: ScenarioInput;
  estimateMs: number;
}

export interface Plan {
  scenarios: PlannedScenario[];
  runs: number;
  estimateMs: number;
  /** Schemes left out, each with the one-line reason. */
  skipped: string[];
  /** Why the durability runs hang the primary instead of cutting it off (this machine cannot cut links); null when they cut it off or there are none. */
  pausedInsteadBecause: string | null;
}

export interface PlanMachine {
  /** Why this machine cannot cut links, as networkFaultSupport() says; undefined: it can, so the durability fault is a partition. */
  cannotCutLinks?: string | undefined;
}

function strategyEntry(scheme: SchemeId, r: Requirements): Exclude<ScenarioInput['strategies'], undefined>[number] {
  const s = SCHEMES[scheme];
  // An explicit label makes the run's scheme readable from result.json alone (evidence.ts matches on it).
  return {
    name: s.strategy,
    label: s.title,
    wait: s.wait ? { ...RECOMMENDED_WAIT } : null,
    ...(scheme === 'compact-blacklist' && { blacklist: { layout: 'bucketed' as const } }),
    ...(s.strategy === 'whitelist' && r.revocation.maxSessionsPerUser > 0 && { whitelist: { maxSessions: r.revocation.maxSessionsPerUser } }),
  };
}

function sessionsPerUser(r: Requirements): number {
  const limit = r.revocation.maxSessionsPerUser > 0 ? r.revocation.maxSessionsPerUser : 10;
  return Math.max(1, Math.min(r.scale.tokensPerUser, limit, 10));
}

function estimate(kind: TopologyKind, runs: number, durationMs: number, settlesAfter: boolean): number {
  return runs * (STARTUP_MS[kind] + WARMUP_MS + durationMs + PER_RUN_OVERHEAD_MS + (settlesAfter ? FAILOVER_SETTLE_MS : 0));
}

/**
 * The runs a decision needs when no results are given: every scheme the requirements do not rule
 * out by design, on every allowed topology, with the primary killed on Sentinel and Cluster (the
 * failover is what tells the schemes apart), plus one closed-loop run for per-node capacity. When
 * an acknowledged revocation must not be lost, the Sentinel and Cluster schemes run once more with
 * the primary cut off by a partition through a failover (hung by a pause where the machine cannot
 * cut links): kill -9 rarely loses a write, so its 0 lost proves nothing.
 */
export function planRuns(r: Requirements, durationMs = DEFAULT_DECIDE_DURATION_MS, machine: PlanMachine = {}): Plan {
  const byKind = new Map<TopologyKind, SchemeId[]>();
  const skipped: string[] = [];
  const add = (kind: TopologyKind, scheme: SchemeId) => byKind.set(kind, [...(byKind.get(kind) ?? []), scheme]);
  // A pure JWT that qualifies by design can only lose to a Redis scheme on JWT latency, which the
  // Redis schemes pay too: measuring them would cost minutes and change nothing.
  const pureSuffices = disqualifiedByDesign('pure', null, r) === null;
  for (const scheme of SCHEME_IDS) {
    if (pureSuffices && scheme !== 'pure') {
      skipped.push(`${SCHEMES[scheme].title}: not needed (a pure JWT meets every requirement by design)`);
      continue;
    }
    // WAIT only buys durability; when losing a revocation is acceptable it costs latency for nothing.
    if (SCHEMES[scheme].wait && r.redis.ackedRevocationsMayBeLost) {
      skipped.push(`${SCHEMES[scheme].title}: not needed (redis.ackedRevocationsMayBeLost is true)`);
      continue;
    }
    if (scheme === 'pure') {
      const reason = disqualifiedByDesign(scheme, null, r);
      // pure never talks to Redis: a single node is only there because the runner starts one.
      if (reason) skipped.push(reason);
      else add('single', scheme);
      continue;
    }
    for (const kind of candidateTopologies(scheme, r)) {
      const reason = disqualifiedByDesign(scheme, kind, r);
      if (reason) skipped.push(reason);
      else add(kind, scheme);
    }
  }
  const faultAt = faultAtMs(durationMs);
  // neverAcceptRevoked requires it too (findContradictions). Every Sentinel or Cluster scheme still
  // in the plan then meets the durability rows by design (WAIT): the partition (or hang) decides them.
  const durabilityMatters = !r.redis.ackedRevocationsMayBeLost;
  const durabilityFault: DurabilityFault = machine.cannotCutLinks === undefined ? 'partition' : 'pause';
  const scenarios: PlannedScenario[] = [];
  const planned = (kind: TopologyKind, schemes: SchemeId[], fault: 'none' | 'kill' | DurabilityFault, fleet: boolean): PlannedScenario => {
    const duration =
      fault === 'pause' ? pauseRunDurationMs(durationMs) : fault === 'partition' && kind !== 'single' ? partitionRunDurationMs(kind, durationMs) : durationMs;
    const faults: NonNullable<ScenarioInput['faults']> =
      fault === 'kill'
        ? [{ at: faultAt, action: 'kill', target: 'primary' }]
        : fault === 'pause'
          ? [{ at: faultAt, action: 'pause', target: 'primary', for: PAUSE_MS }]
          : fault === 'partition'
            ? [{ at: faultAt, action: 'partition', target: 'primary', for: PARTITION_MS }]
            : [];
    return {
      name: `${fault === 'pause' || fault === 'partition' ? `${kind}-${fault}` : kind}${fleet ? '-verifiers' : ''}`,
      topology: kind,
      fault,
      schemes,
      estimateMs: estimate(kind, schemes.length, duration, fault === 'kill' || fault === 'pause'),
      scenario: {
        name: `decide: ${r.name} on ${kind}${fault === 'pause' ? ', primary hung' : fault === 'partition' ? ', primary cut off' : ''}${fleet ? `, ${LAG_VERIFIERS} more verifiers` : ''}`,
        topology: { kind },
        strategies: schemes.map((s) => strategyEntry(s, r)),
        jwt: { accessTtlMs: r.tokens.accessTtl, refreshTtlMs: r.tokens.refreshTtl, leewayMs: r.tokens.leeway },
        policy: { failure: r.redis.onFailure === 'deny' ? 'fail-closed' : 'fail-open' },
        workload: { users: USERS, sessionsPerUser: sessionsPerUser(r) },
        // load.verifiers: the fleet's field (harness/scenario.ts), which this branch does not declare yet.
        load: { rate: RATE, warmup: WARMUP_MS, duration, ...(fleet && { verifiers: LAG_VERIFIERS }) },
        faults,
      },
    };
  };
  // The local denylists run apart, with the extra verifiers, so the other schemes' runs stay as they were.
  const plannedApart = (kind: TopologyKind, fault: 'none' | 'kill' | DurabilityFault) => {
    const schemes = byKind.get(kind) ?? [];
    const shared = schemes.filter((s) => !LOCAL_DENYLISTS.has(s));
    const local = schemes.filter((s) => LOCAL_DENYLISTS.has(s));
    if (shared.length > 0) scenarios.push(planned(kind, shared, fault, false));
    if (local.length > 0) scenarios.push(planned(kind, local, fault, true));
  };
  for (const kind of TOPOLOGY_KINDS) plannedApart(kind, kind === 'single' ? 'none' : 'kill');
  if (durabilityMatters) for (const kind of TOPOLOGY_KINDS) if (kind !== 'single') plannedApart(kind, durabilityFault);
  const needsRedisCapacity = [...byKind.values()].flat().some((s) => SCHEMES[s].holds !== 'nothing');
  if (needsRedisCapacity && r.assumptions.redisOpsPerNode === null) {
    // Closed loop with the fastest JWT engine, so the generator saturates Redis before itself.
    scenarios.push({
      name: 'capacity',
      topology: 'single',
      fault: 'capacity',
      schemes: ['blacklist'],
      estimateMs: estimate('single', 1, durationMs, false),
      scenario: {
        name: 'decide: per-node capacity probe',
        topology: { kind: 'single' },
        strategies: [{ name: 'blacklist', label: 'capacity probe (closed loop)' }],
        jwt: { engine: 'fast-jwt', alg: 'HS256', accessTtlMs: r.tokens.accessTtl, leewayMs: r.tokens.leeway },
        workload: { users: USERS },
        load: { mode: 'closed', concurrency: 64, warmup: WARMUP_MS, duration: durationMs },
      },
    });
  }
  const runs = scenarios.reduce((n, s) => n + s.schemes.length, 0);
  const paused = scenarios.some((s) => s.fault === 'pause');
  return {
    scenarios,
    runs,
    estimateMs: scenarios.reduce((t, s) => t + s.estimateMs, 0),
    skipped,
    pausedInsteadBecause: paused ? (machine.cannotCutLinks ?? null) : null,
  };
}

export function formatEstimate(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

const runCount = (scenarios: readonly PlannedScenario[]) => scenarios.reduce((n, s) => n + s.schemes.length, 0);

const DURABILITY_RUNS: Record<DurabilityFault, string> = {
  partition: 'with the primary cut off by a partition',
  pause: 'with the primary hung through a failover',
};

/**
 * "decide: running 4 strategy runs on sentinel, cluster (2 with the primary cut off by a partition)
 * plus a closed-loop capacity probe on single (about 1 min 35 s)"
 */
export function planLine(plan: Plan): string {
  const measured = plan.scenarios.filter((s) => s.fault !== 'capacity');
  const runs = runCount(measured);
  const kinds = [...new Set(measured.map((s) => s.topology))];
  const durability = (['partition', 'pause'] as const)
    .map((fault) => [fault, runCount(measured.filter((s) => s.fault === fault))] as const)
    .filter(([, n]) => n > 0)
    .map(([fault, n]) => `${n} ${DURABILITY_RUNS[fault]}`);
  const extra = durability.length > 0 ? ` (${durability.join(', ')})` : '';
  const probe = plan.scenarios.length > measured.length ? ' plus a closed-loop capacity probe on single' : '';
  return `decide: running ${runs} strategy run${runs === 1 ? '' : 's'} on ${kinds.join(', ')}${extra}${probe} (about ${formatEstimate(plan.estimateMs)})`;
}

const topologyTitle = (kind: Exclude<TopologyKind, 'single'>) => (kind === 'sentinel' ? 'Sentinel' : 'Cluster');

/**
 * How the planned runs treat the primary, for the record: "8 s measured each, primary killed at 4 s
 * on Sentinel and Cluster, and cut off from every other node by a partition at 4 s for 5 s, then
 * healed, on Sentinel (21 s runs) and Cluster (11 s runs)".
 */
export function planFaultsNote(plan: Plan, durationMs: number): string {
  const seconds = (ms: number) => `${ms / 1000} s`;
  const on = (fault: PlannedScenario['fault']) =>
    [...new Set(plan.scenarios.filter((s) => s.fault === fault).map((s) => topologyTitle(s.topology as Exclude<TopologyKind, 'single'>)))].join(' and ');
  const parts = [`${seconds(durationMs)} measured each`];
  const at = seconds(faultAtMs(durationMs));
  if (on('kill')) parts.push(`primary killed at ${at} on ${on('kill')}`);
  if (on('pause'))
    parts.push(`and, in ${seconds(pauseRunDurationMs(durationMs))} runs, hung (paused) at ${at} for ${seconds(PAUSE_MS)}, then resumed, on ${on('pause')}`);
  const partitioned = [...new Set(plan.scenarios.flatMap((s) => (s.fault === 'partition' && s.topology !== 'single' ? [s.topology] : [])))];
  if (partitioned.length > 0) {
    const where = partitioned.map((kind) => `${topologyTitle(kind)} (${seconds(partitionRunDurationMs(kind, durationMs))} runs)`).join(' and ');
    parts.push(`and cut off from every other node by a partition at ${at} for ${seconds(PARTITION_MS)}, then healed, on ${where}`);
  }
  return parts.join(', ');
}

/** For the record, when the durability runs could not cut the primary off: why, and what ran instead. */
export function pausedInsteadNote(plan: Plan): string | null {
  return plan.pausedInsteadBecause === null
    ? null
    : `No partition on this machine (${plan.pausedInsteadBecause}): the primary was hung (paused) through the failover instead.`;
}
