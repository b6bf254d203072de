import type { ScenarioInput } from '../harness/scenario.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { TopologyKind } from '../topologies/types.ts';
import { candidateTopologies, disqualifiedByDesign } from './decide.ts';
import type { Requirements } from './requirements.ts';
import { RECOMMENDED_WAIT, SCHEME_IDS, SCHEMES, type SchemeId } from './schemes.ts';

/** Start-to-ready on this 2-core machine (README, `tokenbench topology bench`), rounded up. */
const STARTUP_MS: Record<TopologyKind, number> = { single: 200, sentinel: 2500, cluster: 2300 };
/** Detection, promotion, heal and the settle wait after a kill of the primary (a 3 s Sentinel run took 17 s in all here). */
const FAILOVER_SETTLE_MS = 7000;
/** Login of the workload's sessions, checkers, MEMORY USAGE sampling and teardown. */
const PER_RUN_OVERHEAD_MS = 2500;
const RATE = 500;
const USERS = 1000;
const WARMUP_MS = 500;
export const DEFAULT_DECIDE_DURATION_MS = 8000;

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

function estimate(kind: TopologyKind, runs: number, durationMs: number, faulted: boolean): number {
  return runs * (STARTUP_MS[kind] + WARMUP_MS + durationMs + PER_RUN_OVERHEAD_MS + (faulted ? FAILOVER_SETTLE_MS : 0));
}

/**
 * The runs a decision needs when no results are given: every scheme the requirements do not rule
 * out by design, on every allowed topology, with the primary killed on Sentinel and Cluster (the
 * failover is what tells the schemes apart), plus one closed-loop run for per-node capacity.
 */
export function planRuns(r: Requirements, durationMs = DEFAULT_DECIDE_DURATION_MS): Plan {
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
  const scenarios: PlannedScenario[] = [];
  for (const kind of TOPOLOGY_KINDS) {
    const schemes = byKind.get(kind);
    if (!schemes) continue;
    const faulted = kind !== 'single';
    scenarios.push({
      name: kind,
      topology: kind,
      schemes,
      estimateMs: estimate(kind, schemes.length, durationMs, faulted),
      scenario: {
        name: `decide: ${r.name} on ${kind}`,
        topology: { kind },
        strategies: schemes.map((s) => strategyEntry(s, r)),
        jwt: { accessTtlMs: r.tokens.accessTtl, refreshTtlMs: r.tokens.refreshTtl, leewayMs: r.tokens.leeway },
        policy: { failure: r.redis.onFailure === 'deny' ? 'fail-closed' : 'fail-open' },
        workload: { users: USERS, sessionsPerUser: sessionsPerUser(r) },
        load: { rate: RATE, warmup: WARMUP_MS, duration: durationMs },
        faults: faulted ? [{ at: faultAt, action: 'kill', target: 'primary' }] : [],
      },
    });
  }
  const needsRedisCapacity = [...byKind.values()].flat().some((s) => SCHEMES[s].holds !== 'nothing');
  if (needsRedisCapacity && r.assumptions.redisOpsPerNode === null) {
    // Closed loop with the fastest JWT engine, so the generator saturates Redis before itself.
    scenarios.push({
      name: 'capacity',
      topology: 'single',
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
  return { scenarios, runs, estimateMs: scenarios.reduce((t, s) => t + s.estimateMs, 0), skipped };
}

export function formatEstimate(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

/** "decide: running 6 strategy runs on single, sentinel plus a closed-loop capacity probe on single (about 1 min 40 s)" */
export function planLine(plan: Plan): string {
  const measured = plan.scenarios.filter((s) => s.name !== 'capacity');
  const runs = measured.reduce((n, s) => n + s.schemes.length, 0);
  const probe = plan.scenarios.length > measured.length ? ' plus a closed-loop capacity probe on single' : '';
  return `decide: running ${runs} strategy run${runs === 1 ? '' : 's'} on ${measured.map((s) => s.topology).join(', ')}${probe} (about ${formatEstimate(plan.estimateMs)})`;
}
