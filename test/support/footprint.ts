import type { Footprint } from '../../result/footprint.ts';

/**
 * A measured footprint with the figures a report test asks for: the generator thread's and Redis's
 * share of one core, the machine's busy + steal share. The process uses a little more than its
 * generator thread (GC and I/O threads), as it does in a real run.
 */
export function footprintWith(figures: {
  generatorCore: number;
  redisCore: number;
  notIdle: number;
  steal?: number;
  wallMs?: number;
  cpus?: number;
}): Footprint {
  const wallMs = figures.wallMs ?? 6000;
  const seconds = wallMs / 1000;
  const steal = figures.steal ?? 0;
  return {
    wallMs,
    procUnavailable: null,
    tokenbench: {
      cpuSeconds: figures.generatorCore * seconds * 1.1,
      peakCoreShare: figures.generatorCore * 1.2,
      generatorThreads: [{ thread: 'main', cpuSeconds: figures.generatorCore * seconds }],
    },
    redis: {
      unmeasured: null,
      servers: [
        { id: 'redis-0', role: 'primary', cpuSeconds: figures.redisCore * seconds * 0.75, lowerBound: false },
        { id: 'redis-1', role: 'replica', cpuSeconds: figures.redisCore * seconds * 0.25, lowerBound: false },
      ],
    },
    machine: {
      cpus: figures.cpus ?? 2,
      busyShare: figures.notIdle - steal,
      stealShare: steal,
      idleShare: 1 - figures.notIdle,
      peakNotIdleShare: Math.min(1, figures.notIdle + 0.03),
      loadAverage1m: { start: 0.4, end: 1.7 },
    },
  };
}
