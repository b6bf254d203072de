import { formatNumber, formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import { headlineFigures } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { estimateNoise } from './compare.ts';
import { injectedFaults, newPrimaryAfterMs, serverName, strategyName, topologyName } from './suite.ts';

/**
 * The same strategy on the same topology under different servers (Redis, Valkey, versions), side
 * by side, each difference marked as beyond noise or not. One run per cell gives no repeated
 * measurement, so each figure's noise comes from what the suite itself shows:
 *
 * - failover time (the first failover event after the first fault): it does not depend on the
 *   strategy, so the runs of every strategy on one server and topology are repeated measurements
 *   of it; two servers differ beyond noise when those ranges do not overlap.
 * - steady verify p50 / p99: compare's estimate from each run's steady-phase timeline
 *   (reports/compare.ts estimateNoise), beyond noise past 2 x sqrt(SE_a^2 + SE_b^2).
 * - longest unavailability: tied to the failover but also to the client (retries, timeouts):
 *   beyond noise when it differs by more than the wider of the two servers' failover-time ranges
 *   plus 0.25 s (one timeline bucket either side and the client's reconnect backoff).
 * - lost revocations: counts of a rare event; beyond noise when one server lost none and the
 *   other lost some, or when they differ by more than 2 x sqrt(a + b) (Poisson).
 * - bytes per entry: MEMORY USAGE of sampled keys, nearly deterministic for one encoding;
 *   beyond noise past 5% (allocator rounding of a sample of keys).
 */

type Run = StrategyRunResult;

export const SERVER_FIGURES = ['failover', 'unavailability', 'lost', 'steadyP50', 'steadyP99', 'bytesPerEntry'] as const;
export type ServerFigure = (typeof SERVER_FIGURES)[number];

export const SERVER_FIGURE_NAMES: Record<ServerFigure, string> = {
  failover: 'new primary after',
  unavailability: 'longest unavailability',
  lost: 'lost revocations',
  steadyP50: 'steady verify p50 ms',
  steadyP99: 'steady verify p99 ms',
  bytesPerEntry: 'bytes / entry',
};

export interface ServerCell {
  /** One value per server, in `servers` order; null: not measured (no fault, no failover, no such run). */
  values: (number | null)[];
  /** Whether the first server's value and another's differ beyond noise (see the file comment); null: not decidable. */
  beyondNoise: boolean | null;
}

export interface ServerRow {
  strategy: string;
  topology: string;
  figures: Record<ServerFigure, ServerCell>;
}

export interface ServerComparison {
  servers: string[];
  rows: ServerRow[];
}

const LOST_FLOOR = 0;

function failoverMs(run: Run): number | null {
  const first = injectedFaults(run)[0];
  return first ? newPrimaryAfterMs(run, first) : null;
}

function steady(run: Run) {
  return run.latency.verify?.byPhase.steady ?? run.latency.verify?.all;
}

/** The failover times of every run of a server on a topology: the spread that says what noise is. */
function failoverRanges(result: ResultFile): Map<string, [number, number]> {
  const ranges = new Map<string, [number, number]>();
  for (const run of result.runs) {
    const value = failoverMs(run);
    if (value === null) continue;
    const key = JSON.stringify([serverName(run, result), topologyName(run)]);
    const range = ranges.get(key);
    ranges.set(key, range ? [Math.min(range[0], value), Math.max(range[1], value)] : [value, value]);
  }
  return ranges;
}

function anyBeyond(values: readonly (number | null)[], beyond: (a: number, b: number, index: number) => boolean): boolean | null {
  const first = values[0];
  if (first === null || first === undefined) return null;
  const others = values.slice(1).map((v, i) => (v === null ? null : beyond(first, v, i + 1)));
  if (others.every((o) => o === null)) return null;
  return others.some((o) => o === true);
}

/** undefined when the result ran a single server: nothing to put side by side. */
export function serverComparison(result: ResultFile): ServerComparison | undefined {
  const servers = [...new Set(result.runs.map((r) => serverName(r, result)))];
  if (servers.length < 2) return undefined;
  const ranges = failoverRanges(result);
  const cells = new Map<string, { strategy: string; topology: string; runs: (Run | undefined)[] }>();
  for (const run of result.runs) {
    const strategy = strategyName(run);
    const topology = topologyName(run);
    const key = JSON.stringify([strategy, topology]);
    const cell = cells.get(key) ?? { strategy, topology, runs: servers.map(() => undefined) };
    cell.runs[servers.indexOf(serverName(run, result))] = run;
    cells.set(key, cell);
  }
  const rows = [...cells.values()].map(({ strategy, topology, runs }): ServerRow => {
    const rangeOf = (i: number) => ranges.get(JSON.stringify([servers[i], topology]));
    const values = (read: (run: Run) => number | null | undefined) => runs.map((run) => (run ? (read(run) ?? null) : null));
    const width = (i: number) => {
      const range = rangeOf(i);
      return range ? range[1] - range[0] : 0;
    };
    const failover = values(failoverMs);
    const unavailability = values((r) => headlineFigures(r).longestUnavailabilityMs);
    const lost = values((r) => headlineFigures(r).lostRevocations);
    const p50 = values((r) => steady(r)?.p50);
    const p99 = values((r) => steady(r)?.p99);
    const bytes = values((r) => r.redis.bytesPerEntry);
    const latencyBeyond = (figure: 'p50' | 'p99') => (a: number, b: number, i: number) => {
      const na = runs[0] && estimateNoise(runs[0], figure);
      const nb = runs[i] && estimateNoise(runs[i]!, figure);
      if (!na || !nb) return false;
      return Math.abs(a - b) > 2 * Math.sqrt(na.standardError ** 2 + nb.standardError ** 2);
    };
    return {
      strategy,
      topology,
      figures: {
        failover: {
          values: failover,
          beyondNoise: anyBeyond(failover, (_a, _b, i) => {
            const ra = rangeOf(0);
            const rb = rangeOf(i);
            return ra !== undefined && rb !== undefined && (ra[1] < rb[0] || rb[1] < ra[0]);
          }),
        },
        unavailability: {
          values: unavailability,
          beyondNoise: anyBeyond(unavailability, (a, b, i) => Math.abs(a - b) > Math.max(width(0), width(i)) + 250),
        },
        lost: {
          values: lost,
          beyondNoise: anyBeyond(lost, (a, b) => (a === LOST_FLOOR) !== (b === LOST_FLOOR) || Math.abs(a - b) > 2 * Math.sqrt(a + b)),
        },
        steadyP50: { values: p50, beyondNoise: anyBeyond(p50, latencyBeyond('p50')) },
        steadyP99: { values: p99, beyondNoise: anyBeyond(p99, latencyBeyond('p99')) },
        bytesPerEntry: { values: bytes, beyondNoise: anyBeyond(bytes, (a, b) => Math.abs(a - b) > 0.05 * Math.min(a, b)) },
      },
    };
  });
  return { servers, rows };
}

const FORMAT: Record<ServerFigure, (value: number) => string> = {
  failover: (v) => `+${seconds(v)}`,
  unavailability: (v) => seconds(v),
  lost: (v) => formatNumber(v),
  steadyP50: (v) => ms(v),
  steadyP99: (v) => ms(v),
  bytesPerEntry: (v) => v.toFixed(0),
};

/** `1.43 s / 1.61 s`, with the servers in the comparison's order; `-` where a server has no value. */
export function serverCellText(figure: ServerFigure, cell: ServerCell): string {
  return cell.values.map((v) => (v === null ? '-' : FORMAT[figure](v))).join(' / ');
}

export const SERVERS_NOTE =
  'Each cell: the figure on each server, in the order of the heading, one run each. Marked when the difference is beyond noise: failover times whose ranges over all strategies on that server and topology do not overlap; steady latency beyond the timeline-based noise estimate compare uses; unavailability apart by more than the failover-time spread plus 0.25 s; lost revocations where one server lost none, or apart by more than 2 × √(a + b); bytes per entry apart by more than 5%.';
