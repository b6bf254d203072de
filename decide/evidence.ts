import type { AcrossInstances } from '../result/checks.ts';
import { headlineFigures } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { STRATEGY_NAMES } from '../strategies/options.ts';
import type { Guarantee } from '../strategies/types.ts';
import { DEFAULT_TOPOLOGY_OPTIONS, TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { TopologyKind } from '../topologies/types.ts';
import type { SchemeId } from './schemes.ts';

/** The figures of one measured run that a decision can cite. Latencies in ms. */
export interface RunFigures {
  /** `<file> › <label>`: where a reader finds the run. */
  source: string;
  topology: TopologyKind;
  failurePolicy: 'fail-closed' | 'fail-open';
  wait: { replicas: number; timeoutMs: number } | null;
  /** A node was killed, paused, cut off or failed over during the measured phase. */
  failover: boolean;
  /** The fault actions applied without error, in order: `kill`, `pause`, `partition`, `failover`... */
  faultActions: string[];
  /**
   * The fault that loses acknowledged writes, when the run had one: a primary hung (`pause`) or cut
   * off (`partition`) past failure detection while a replica was promoted, then back inside the run.
   * kill -9 rarely loses a write, so only these make a 0 lost say something about durability.
   */
  durabilityFault: DurabilityFault | null;
  interrupted: boolean;
  targetRate: number | null;
  /** Verify latency before the first fault: what users see day to day. */
  verifyP99Ms: number | null;
  verifyP999Ms: number | null;
  /** How many verifies those percentiles rest on: p99.9 of a few hundred is the worst one or two. */
  steadyVerifies: number;
  /** The whole run, failover included. */
  verifyP99AllMs: number | null;
  revokeP50Ms: number | null;
  verifiesPerSec: number;
  roundTripsPerVerify: number | null;
  bytesPerEntry: number | null;
  revokedReplays: number | null;
  revokedAccepted: number | null;
  revokedAcceptedFailOpen: number | null;
  violations: number | null;
  validRejectedStoreUnavailable: number | null;
  lostRevocations: number | null;
  longestUnavailabilityMs: number | null;
  /** Lag from the ack to the first rejecting verify on the instance that wrote the revocation (propagation-lag figures.maxMs). */
  propagationMaxMs: number | null;
  /** The same lag seen by the other verifier instances (`load.verifiers`), when the run had them; null: not measured. */
  lagAcrossInstances: AcrossInstancesLag | null;
  /** The strategy's own promise when it is bounded (`guarantee.boundedByMs`); null: immediate or none. */
  guaranteeBoundMs: number | null;
  /** The strategy's promise as the run states it: all a decision knows of a team's verifier's design. */
  guarantee: Guarantee;
  /** The run's checker verdict, and why it is not valid: shown beside the run in the record. */
  verdict: StrategyRunResult['verdict'];
}

/** `checks['propagation-lag'].acrossInstances`: what the other verifier instances saw (upper bounds of the lag). */
export type AcrossInstancesLag = AcrossInstances;

export interface SchemeEvidence {
  scheme: SchemeId;
  topology: TopologyKind;
  runs: RunFigures[];
}

/**
 * What one primary was seen to sustain in a closed-loop run: Redis round trips per second for verify,
 * divided by the primaries. It is the rate the harness reached, a lower bound on what Redis can do,
 * never its ceiling. An open-loop run reaches the rate it was asked for, so it never gives one.
 */
export interface CapacityFigure {
  opsPerSecPerPrimary: number;
  source: string;
}

/** A team's own verifier: a strategy module it wrote, or its running service driven over HTTP. */
export type VerifierKind = 'module' | 'http';

/** The runs of one team verifier, by the team's label for it, on one topology kind. */
export interface VerifierEvidence {
  label: string;
  kind: VerifierKind;
  topology: TopologyKind;
  runs: RunFigures[];
}

export interface Evidence {
  schemes: SchemeEvidence[];
  /** Runs of verifiers that are not ours; absent: none (evidence made before they existed). */
  verifiers?: VerifierEvidence[];
  capacity: CapacityFigure | null;
  /** Every result file read, in order. */
  files: string[];
}

export interface LoadedResult {
  path: string;
  result: ResultFile;
}

/** Faults that leave an old primary acknowledging writes that the replica promoted in its place never sees. */
export type DurabilityFault = 'pause' | 'partition';
const DURABILITY_FAULTS: ReadonlySet<string> = new Set<DurabilityFault>(['pause', 'partition']);
const FAULT_ACTIONS_THAT_FAIL_OVER = new Set(['kill', 'pause', 'partition', 'failover']);
const PRIMARY_TARGET = /^(primary|shard-primary:\d+)$/;

/** How long the run's topology waits before it declares a silent primary failed (down-after / node timeout). */
function failureDetectionMs(kind: TopologyKind, result: ResultFile): number | null {
  if (kind === 'single') return null;
  const scenario = result.scenario as { topology?: Record<string, unknown>; topologies?: { topology?: Record<string, unknown> }[] };
  const options = [scenario.topology, ...(scenario.topologies ?? []).map((entry) => entry.topology)].find((t) => t?.kind === kind);
  const [field, fallback] =
    kind === 'sentinel' ? ['downAfterMs', DEFAULT_TOPOLOGY_OPTIONS.sentinel.downAfterMs] : ['nodeTimeoutMs', DEFAULT_TOPOLOGY_OPTIONS.cluster.nodeTimeoutMs];
  const value = options?.[field];
  return typeof value === 'number' ? value : fallback;
}

/**
 * A pause or a partition of a primary that outlasted failure detection, saw a replica promoted
 * while the primary was away, and ended inside the run (by its `for`, or a later `resume`): the old
 * primary then acknowledges what it queued, and what clients that still reach it send, until it is
 * demoted. A shorter one, or one never healed, is only an outage. The first such fault, or null.
 */
export function durabilityFaultOf(run: StrategyRunResult, result: ResultFile): DurabilityFault | null {
  const detectionMs = failureDetectionMs(run.topology.kind as TopologyKind, result);
  if (detectionMs === null) return null;
  const fault = run.faults.find((fault) => {
    if (!DURABILITY_FAULTS.has(fault.action) || fault.error || !PRIMARY_TARGET.test(fault.target)) return false;
    const backAtMs =
      fault.healedAtMs ??
      (fault.action === 'pause'
        ? run.faults.find(
            (later) => later.action === 'resume' && !later.error && later.atMs > fault.atMs && (later.node === undefined || later.node === fault.node),
          )?.atMs
        : undefined);
    if (backAtMs === undefined || backAtMs - fault.atMs <= detectionMs) return false;
    return run.events.some(
      (e) => e.type === 'role-change' && e.detail === 'replica -> primary' && e.node !== fault.node && e.atMs > fault.atMs && e.atMs < backAtMs,
    );
  });
  return (fault?.action as DurabilityFault | undefined) ?? null;
}

function isBucketed(run: StrategyRunResult, result: ResultFile): boolean {
  if (/bucketed|compact/i.test(run.label)) return true;
  const entries = (result.scenario.strategies as unknown[] | undefined) ?? [];
  return entries.some(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      (e as { label?: string }).label === run.label &&
      (e as { blacklist?: { layout?: string } }).blacklist?.layout === 'bucketed',
  );
}

/** Matches a run to a scheme by strategy name; bucketed layout = compact blacklist, wait = + WAIT (the local denylists have no WAIT variant). */
export function schemeOf(run: StrategyRunResult, result: ResultFile): SchemeId | null {
  switch (run.strategy) {
    case 'pure':
      return 'pure';
    case 'double-token':
      return 'double-token';
    case 'replicated-blacklist':
      return 'replicated-blacklist';
    case 'cached-blacklist':
      return 'cached-blacklist';
    case 'whitelist':
      return run.wait ? 'whitelist-wait' : 'whitelist';
    case 'blacklist':
      if (isBucketed(run, result)) return 'compact-blacklist';
      return run.wait ? 'blacklist-wait' : 'blacklist';
    default:
      return null;
  }
}

/** `http`: the team's service; a strategy name that is not ours: the team's module (conformance keeps it from taking one of ours). */
export function verifierKindOf(run: StrategyRunResult): VerifierKind | null {
  if (run.strategy === 'http') return 'http';
  return (STRATEGY_NAMES as readonly string[]).includes(run.strategy) ? null : 'module';
}

function verifiesPerSec(run: StrategyRunResult): number {
  const count = run.latency.verify?.all.count ?? 0;
  return run.load.durationMs > 0 ? (count / run.load.durationMs) * 1000 : 0;
}

export function runFigures(run: StrategyRunResult, source: string, result: ResultFile): RunFigures {
  const verify = run.latency.verify;
  const steady = verify?.byPhase.steady ?? verify?.all;
  const headline = headlineFigures(run);
  const revoked = run.checks['revoked-accepted']?.counts;
  return {
    source,
    verdict: run.verdict,
    topology: run.topology.kind as TopologyKind,
    failurePolicy: run.failurePolicy,
    wait: run.wait,
    failover: run.faults.some((f) => FAULT_ACTIONS_THAT_FAIL_OVER.has(f.action) && !f.error),
    faultActions: run.faults.filter((f) => !f.error).map((f) => f.action),
    durabilityFault: durabilityFaultOf(run, result),
    interrupted: run.interrupted,
    targetRate: run.load.targetRate,
    verifyP99Ms: steady?.p99 ?? null,
    verifyP999Ms: steady?.p999 ?? null,
    steadyVerifies: steady?.count ?? 0,
    verifyP99AllMs: verify?.all.p99 ?? null,
    revokeP50Ms: (run.latency.revoke?.byPhase.steady ?? run.latency.revoke?.all)?.p50 ?? null,
    verifiesPerSec: verifiesPerSec(run),
    roundTripsPerVerify: run.redis.roundTripsPerVerify,
    bytesPerEntry: run.redis.bytesPerEntry,
    revokedReplays: revoked?.checked ?? null,
    revokedAccepted: headline.revokedAccepted,
    revokedAcceptedFailOpen: revoked?.failOpen ?? null,
    violations: headline.violations,
    validRejectedStoreUnavailable: run.checks['valid-rejected']?.counts.storeUnavailable ?? null,
    lostRevocations: headline.lostRevocations,
    longestUnavailabilityMs: headline.longestUnavailabilityMs,
    propagationMaxMs: run.checks['propagation-lag']?.figures?.maxMs ?? null,
    lagAcrossInstances: run.checks['propagation-lag'].acrossInstances ?? null,
    guaranteeBoundMs: typeof run.guarantee === 'object' ? run.guarantee.boundedByMs : null,
    guarantee: run.guarantee,
  };
}

/**
 * Per scheme and topology kind, every open-loop run of the given results; closed-loop runs measure
 * service time at saturation, so they only feed the per-node capacity, and only they do.
 */
export function extractEvidence(results: readonly LoadedResult[]): Evidence {
  const byKey = new Map<string, SchemeEvidence>();
  const verifiers = new Map<string, VerifierEvidence>();
  let capacity: CapacityFigure | null = null;
  for (const { path, result } of results) {
    result.runs.forEach((run, i) => {
      const source = `${path} › run ${i + 1} (${run.label}, ${run.topology.kind})`;
      if (run.load.mode === 'closed') {
        const roundTrips = run.redis.roundTripsPerVerify ?? 0;
        if (roundTrips > 0 && !run.interrupted) {
          const primaries = Math.max(1, run.topology.nodes.filter((n) => n.role === 'primary').length);
          const perPrimary = Math.round((verifiesPerSec(run) * roundTrips) / primaries);
          if (!capacity || perPrimary > capacity.opsPerSecPerPrimary) capacity = { opsPerSecPerPrimary: perPrimary, source };
        }
        return;
      }
      if (!(TOPOLOGY_KINDS as readonly string[]).includes(run.topology.kind)) return;
      const scheme = schemeOf(run, result);
      const kind = verifierKindOf(run);
      if (!scheme && kind) {
        const key = `${kind}/${run.label}/${run.topology.kind}`;
        const entry = verifiers.get(key) ?? { label: run.label, kind, topology: run.topology.kind as TopologyKind, runs: [] };
        entry.runs.push(runFigures(run, source, result));
        verifiers.set(key, entry);
        return;
      }
      if (!scheme) return;
      const key = `${scheme}/${run.topology.kind}`;
      const entry = byKey.get(key) ?? { scheme, topology: run.topology.kind as TopologyKind, runs: [] };
      entry.runs.push(runFigures(run, source, result));
      byKey.set(key, entry);
    });
  }
  return { schemes: [...byKey.values()], verifiers: [...verifiers.values()], capacity, files: results.map((r) => r.path) };
}
