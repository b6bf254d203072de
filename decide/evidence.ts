import { headlineFigures } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { TopologyKind } from '../topologies/types.ts';
import type { SchemeId } from './schemes.ts';

/** The figures of one measured run that a decision can cite. Latencies in ms. */
export interface RunFigures {
  /** `<file> › <label>`: where a reader finds the run. */
  source: string;
  topology: TopologyKind;
  failurePolicy: 'fail-closed' | 'fail-open';
  wait: { replicas: number; timeoutMs: number } | null;
  /** A node was killed, paused or failed over during the measured phase. */
  failover: boolean;
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
  propagationMaxMs: number | null;
}

export interface SchemeEvidence {
  scheme: SchemeId;
  topology: TopologyKind;
  runs: RunFigures[];
}

/**
 * What one primary was seen to sustain: Redis round trips per second for verify, divided by the
 * primaries. It is the rate the harness reached, a lower bound on what Redis can do, never its ceiling.
 */
export interface CapacityFigure {
  opsPerSecPerPrimary: number;
  source: string;
  closedLoop: boolean;
}

export interface Evidence {
  schemes: SchemeEvidence[];
  capacity: CapacityFigure | null;
  /** Every result file read, in order. */
  files: string[];
}

export interface LoadedResult {
  path: string;
  result: ResultFile;
}

const FAULT_ACTIONS_THAT_FAIL_OVER = new Set(['kill', 'pause', 'failover']);

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

/** Matches a run to a scheme by strategy name; bucketed layout = compact blacklist, wait = + WAIT. */
export function schemeOf(run: StrategyRunResult, result: ResultFile): SchemeId | null {
  switch (run.strategy) {
    case 'pure':
      return 'pure';
    case 'double-token':
      return 'double-token';
    case 'whitelist':
      return run.wait ? 'whitelist-wait' : 'whitelist';
    case 'blacklist':
      if (isBucketed(run, result)) return 'compact-blacklist';
      return run.wait ? 'blacklist-wait' : 'blacklist';
    default:
      return null;
  }
}

function verifiesPerSec(run: StrategyRunResult): number {
  const count = run.latency.verify?.all.count ?? 0;
  return run.load.durationMs > 0 ? (count / run.load.durationMs) * 1000 : 0;
}

export function runFigures(run: StrategyRunResult, source: string): RunFigures {
  const verify = run.latency.verify;
  const steady = verify?.byPhase.steady ?? verify?.all;
  const headline = headlineFigures(run);
  const revoked = run.checks['revoked-accepted']?.counts;
  return {
    source,
    topology: run.topology.kind as TopologyKind,
    failurePolicy: run.failurePolicy,
    wait: run.wait,
    failover: run.faults.some((f) => FAULT_ACTIONS_THAT_FAIL_OVER.has(f.action) && !f.error),
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
  };
}

/**
 * Per scheme and topology kind, every open-loop run of the given results; closed-loop runs measure
 * service time at saturation, so they only feed the per-node capacity.
 */
export function extractEvidence(results: readonly LoadedResult[]): Evidence {
  const byKey = new Map<string, SchemeEvidence>();
  let capacity: CapacityFigure | null = null;
  for (const { path, result } of results) {
    result.runs.forEach((run, i) => {
      const source = `${path} › run ${i + 1} (${run.label}, ${run.topology.kind})`;
      const roundTrips = run.redis.roundTripsPerVerify ?? 0;
      if (roundTrips > 0 && !run.interrupted) {
        const primaries = Math.max(1, run.topology.nodes.filter((n) => n.role === 'primary').length);
        const perPrimary = Math.round((verifiesPerSec(run) * roundTrips) / primaries);
        if (!capacity || perPrimary > capacity.opsPerSecPerPrimary)
          capacity = { opsPerSecPerPrimary: perPrimary, source, closedLoop: run.load.mode === 'closed' };
      }
      if (run.load.mode === 'closed') return;
      const scheme = schemeOf(run, result);
      if (!scheme || !(TOPOLOGY_KINDS as readonly string[]).includes(run.topology.kind)) return;
      const key = `${scheme}/${run.topology.kind}`;
      const entry = byKey.get(key) ?? { scheme, topology: run.topology.kind as TopologyKind, runs: [] };
      entry.runs.push(runFigures(run, source));
      byKey.set(key, entry);
    });
  }
  return { schemes: [...byKey.values()], capacity, files: results.map((r) => r.path) };
}
