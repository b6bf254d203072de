import type { TopologyOptionsInput } from './options.ts';
import { createTopology } from './topology.ts';
import type { TopologyKind } from './types.ts';

export interface TimeStats {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function timeStats(values: number[]): TimeStats {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? NaN, median: sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN, max: sorted.at(-1) ?? NaN, runs: values };
}

export interface TopologyTimes {
  kind: TopologyKind;
  startToReadyMs: TimeStats;
  /** kill -9 of the primary to the first replica reporting role:master (ROLE poll, 100 ms resolution). */
  killToPromotionMs?: TimeStats;
  /** kill -9 to Sentinel's +switch-master (clients are told) / the cluster's FAIL flag. */
  killToAnnouncedMs?: TimeStats;
}

/** Starts each topology `runs` times: start-to-ready, and for HA kinds kill -9 of the primary to promotion. */
export async function measureTopologyTimes(
  topologies: readonly TopologyOptionsInput[],
  runs: number,
  onRun?: (kind: TopologyKind, run: number) => void,
): Promise<TopologyTimes[]> {
  const results: TopologyTimes[] = [];
  for (const input of topologies) {
    const topology = createTopology(input);
    const kind = topology.kind;
    const ready: number[] = [];
    const promotion: number[] = [];
    const announced: number[] = [];
    for (let i = 0; i < runs; i++) {
      onRun?.(kind, i);
      const began = performance.now();
      const t = await topology.start();
      try {
        ready.push(performance.now() - began);
        if (kind === 'single') continue;
        const fault = await t.inject({ action: 'kill', target: 'primary' });
        const promoted = await t.eventLog.waitFor(
          'a replica reporting role:master',
          (e) => e.type === 'role-change' && e.detail === 'replica -> primary',
          30_000,
          fault.ns,
        );
        promotion.push(Number(promoted.ns - fault.ns) / 1e6);
        const told = await t.eventLog.waitFor(
          kind === 'sentinel' ? '+switch-master' : 'the cluster flagging the primary FAIL',
          (e) => (kind === 'sentinel' ? e.type === '+switch-master' : e.type === 'fail' && e.node === fault.node),
          30_000,
          fault.ns,
        );
        announced.push(Number(told.ns - fault.ns) / 1e6);
      } finally {
        await t.stop();
      }
    }
    results.push({
      kind,
      startToReadyMs: timeStats(ready),
      ...(promotion.length > 0 && { killToPromotionMs: timeStats(promotion), killToAnnouncedMs: timeStats(announced) }),
    });
  }
  return results;
}
