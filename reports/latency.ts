import { formatMs, formatNumber } from '../core/format.ts';
import type { Align } from '../core/markdown.ts';
import { OP_FUNCTIONS, type OpFunction } from '../result/checks.ts';
import type { LatencySummary, StrategyRunResult } from '../result/schema.ts';

/**
 * Corrected latency and service time side by side, for the Markdown and HTML reports alike: the
 * same words, columns and cells in both. Two names that cannot be mistaken for each other:
 * "corrected" (the figure every other table shows) and "service time".
 */

type Run = StrategyRunResult;

export const LATENCY_INTRO =
  'Corrected latency counts from when an operation was due under the offered load: what a user waits. ' +
  'Service time counts from when the generator sent it: what the server and the client took (a Redis stall is in both, as the generator goes on sending). ' +
  'Where corrected is well above service time, operations queued before they were sent, behind a paused or saturated generator (see the schedule slip).';

/**
 * Corrected p99 differs from service-time p99 when it is above it by more than this share AND by
 * more than DIFFERS_MIN_MS: the share keeps a slow operation's jitter from counting, the floor keeps
 * a few microseconds of scheduling on a sub-millisecond verify from counting.
 */
export const DIFFERS_RATIO = 1.1;
export const DIFFERS_MIN_MS = 0.1;

export const LATENCY_DIFFERS_RULE = `marked where corrected p99 is more than ${Math.round((DIFFERS_RATIO - 1) * 100)}% and more than ${formatNumber(DIFFERS_MIN_MS, 3)} ms above service-time p99`;

/** Service time is never above corrected (an op is sent no earlier than it is due): only "above" is tested. */
export function latencyDiffers(corrected: LatencySummary, serviceTime: LatencySummary | undefined): boolean {
  if (!serviceTime) return false;
  return corrected.p99 > serviceTime.p99 * DIFFERS_RATIO && corrected.p99 - serviceTime.p99 > DIFFERS_MIN_MS;
}

export const LATENCY_COLUMNS: readonly { title: string; align: Align }[] = [
  { title: 'run', align: 'left' },
  { title: 'op', align: 'left' },
  { title: 'count', align: 'right' },
  { title: 'corrected p50 ms', align: 'right' },
  { title: 'corrected p99 ms', align: 'right' },
  { title: 'corrected p99.9 ms', align: 'right' },
  { title: 'corrected max ms', align: 'right' },
  { title: 'service time p50 ms', align: 'right' },
  { title: 'service time p99 ms', align: 'right' },
  { title: 'service time p99.9 ms', align: 'right' },
];

/** Verify first (the figure the reports lead with), then the rest in the result's order; `issue` is a login. */
export const LATENCY_OP_ORDER: readonly OpFunction[] = ['verify', ...OP_FUNCTIONS.filter((f) => f !== 'verify')];

export interface LatencyRow {
  run: Run;
  op: OpFunction;
  /** One per LATENCY_COLUMNS entry; service-time cells are `-` where the result did not measure it. */
  cells: string[];
  differs: boolean;
}

/** One row per run and op type the run measured, in run order and LATENCY_OP_ORDER. */
export function latencyRows(runs: readonly Run[]): LatencyRow[] {
  return runs.flatMap((run) =>
    LATENCY_OP_ORDER.flatMap((op) => {
      const entry = run.latency[op];
      if (!entry) return [];
      const { all } = entry;
      const service = entry.serviceTime?.all;
      return [
        {
          run,
          op,
          cells: [
            `${run.label} on ${run.topology.kind}`,
            op,
            formatNumber(all.count),
            formatMs(all.p50),
            formatMs(all.p99),
            formatMs(all.p999),
            formatMs(all.max),
            formatMs(service?.p50),
            formatMs(service?.p99),
            formatMs(service?.p999),
          ],
          differs: latencyDiffers(all, service),
        },
      ];
    }),
  );
}

/** For a run's headline, beside its corrected verify p99: `service time p99 0.42 ms`, only where the two differ. */
export function serviceTimeNote(run: Run): string | undefined {
  const verify = run.latency.verify;
  if (!verify?.serviceTime || !latencyDiffers(verify.all, verify.serviceTime.all)) return undefined;
  return `service time p99 ${formatMs(verify.serviceTime.all.p99)} ms`;
}
