import { z } from 'zod';

/**
 * The measurement's own footprint: how much CPU the load generator, the Redis servers and the rest
 * of the machine used while a run was measured. tokenbench usually shares a machine with the
 * servers it measures, so a reader needs this to tell a slow Redis from a starved one.
 *
 * CPU is in seconds of one core (user + system): 1.5 s over a 2 s phase is 75% of one core.
 * Machine figures are shares (0 to 1) of all the machine's CPUs together.
 */

const threadCpuSchema = z.strictObject({
  /** `main` (the generator when load.workers is 1) or `worker <n>`. */
  thread: z.string(),
  /** CPU seconds, user + system, of this thread alone (/proc/self/task/<tid>/stat). */
  cpuSeconds: z.number(),
});

const helperThreadCpuSchema = z.strictObject({
  /** What it does and whose it is, helperThreadName: `timer thread (main)`, `history writer (worker 1)`. */
  thread: z.string(),
  /** CPU seconds, user + system, of this thread alone, over the part of the phase it ran in. */
  cpuSeconds: z.number(),
  /**
   * It ended before the phase's last reading, or was first seen after the phase began although it
   * started before: the CPU of the time between readings it was unseen in is missing (at most one
   * sampling interval, about a second, of that thread's CPU). A helper that leaves its CPU as it
   * ends (the timer thread, closed with the load loop just before the last reading; the history
   * writer) is exact up to its end. Absent: exact.
   */
  lowerBound: z.literal(true).optional(),
});

const serverCpuSchema = z.strictObject({
  /** The node's id, as in topology.nodes (`redis-0`, `sentinel-1`). */
  id: z.string(),
  /** Its last observed role at the end of the measured phase (a killed primary stays `primary`). */
  role: z.string(),
  /**
   * CPU seconds, user + system, of the server process and the children it reaped (the forks of
   * RDB saves and replica syncs); null when its process could not be read at all.
   */
  cpuSeconds: z.number().nullable(),
  /**
   * The process ended during the measured phase (a kill fault, a crash), or was first seen after it
   * began: the CPU it used between the last reading and its end is missing, so cpuSeconds is a
   * lower bound (by at most one sampling interval, about a second, of that server's CPU).
   */
  lowerBound: z.boolean(),
});

export const footprintSchema = z.strictObject({
  /**
   * Milliseconds of wall time the figures cover: from the end of warm-up to the end of the load
   * (the wait for operations still in flight included). Settling and reconciliation are not in it.
   */
  wallMs: z.number(),
  /** Why the /proc figures are null (`no /proc` on macOS); null when /proc was read. */
  procUnavailable: z.string().nullable(),
  tokenbench: z.strictObject({
    /** CPU seconds, user + system, of the whole tokenbench process, every thread (process.cpuUsage). */
    cpuSeconds: z.number(),
    /** The highest share of one core (1 = a whole core) the process used in any sampling interval of about a second. */
    peakCoreShare: z.number(),
    /** The threads that generated load: `main` when load.workers is 1, else each worker thread; null without /proc. */
    generatorThreads: z.array(threadCpuSchema).nullable(),
    /** Runs with verifier instances (load.verifiers): each instance's thread, `verifier <k>`; null without /proc. Absent: none. */
    verifierThreads: z.array(threadCpuSchema).nullable().optional(),
    /**
     * The threads each load generator starts beside its own: the open loop's timer thread (open
     * loops with the thread scheduler, up to 10,000 ops/s per generator) and the history writer.
     * Their CPU is already in cpuSeconds (the whole process); listed so that a reader sees what the
     * generator's own machinery cost, and a generator starved by its helpers shows. Those of engines
     * in worker threads (load.workers > 1) are listed too. Null without /proc; absent in results
     * written before they were measured.
     */
    helperThreads: z.array(helperThreadCpuSchema).nullable().optional(),
  }),
  redis: z.strictObject({
    /** Why the servers' CPU is not known (an external deployment, no /proc, a Docker engine whose processes are not visible here); null when measured. */
    unmeasured: z.string().nullable(),
    /** Every server and sentinel of the topology; empty when not measured. */
    servers: z.array(serverCpuSchema),
  }),
  /** The whole machine, from /proc/stat and /proc/loadavg; null without /proc. */
  machine: z
    .strictObject({
      /** Online CPUs (the cpuN lines of /proc/stat): the shares are of all of them together. */
      cpus: z.number(),
      /** Share of the CPUs' time spent running anything: user, nice, system, irq, softirq. */
      busyShare: z.number(),
      /** Share taken by the hypervisor for other guests (steal): CPU this machine was promised and did not get. */
      stealShare: z.number(),
      /** Share idle or waiting for I/O. busy + steal + idle = 1. */
      idleShare: z.number(),
      /** The highest busy + steal share in any sampling interval of about a second. */
      peakNotIdleShare: z.number(),
      /** The 1-minute load average (/proc/loadavg) when the phase began and when it ended. */
      loadAverage1m: z.strictObject({ start: z.number(), end: z.number() }),
    })
    .nullable(),
});

export type Footprint = z.infer<typeof footprintSchema>;

/** A helper thread's name in a result: what it is, then whose (`main`, `worker <n>`, as generatorThreads). */
export function helperThreadName(kind: string, generator: string): string {
  return `${kind} (${generator})`;
}

/** What a helper thread is, without whose: `timer thread (worker 1)` is a `timer thread`. */
export function helperThreadKind(name: string): string {
  return name.replace(/ \([^()]*\)$/, '');
}

/**
 * When a report says a run was short of CPU. The generator is one JavaScript thread per worker:
 * above 90% of a core it has no headroom left to launch the next operation on time, and its
 * latencies include its own queueing. For the machine: above 90% busy + steal, Redis and the
 * generator wait for a core as often as not (run queues grow quickly near saturation), so a
 * latency may be the scheduler's rather than Redis's.
 */
export const SHORT_OF_CPU = { generatorCoreShare: 0.9, machineNotIdleShare: 0.9 } as const;

/** A run's footprint as shares, computed once for every report. */
export interface FootprintFigures {
  /** The tokenbench process, as a share of one core (can exceed 1: several threads). */
  tokenbenchCoreShare: number;
  /** The tokenbench process, as a share of the whole machine; null without /proc. */
  tokenbenchMachineShare: number | null;
  /** The busiest load-generator thread, as a share of one core; null without per-thread figures. */
  busiestGeneratorCoreShare: number | null;
  /**
   * The generators' helper threads by kind (helperThreadKind), in the order first listed: each kind
   * summed over the generators, as a share of one core. Null when not measured (no /proc, an older result).
   */
  helperThreadShares: { kind: string; threads: number; coreShare: number; lowerBound: boolean }[] | null;
  /** Every Redis server together, as a share of one core; null when not measured. */
  redisCoreShare: number | null;
  /** Everything that is neither tokenbench nor its Redis servers (other users' processes, the kernel), as a share of the machine; null without /proc or Redis figures. */
  otherMachineShare: number | null;
  /** busy + steal, as a share of the machine; null without /proc. */
  notIdleShare: number | null;
  stealShare: number | null;
  /** The generator was short of CPU (busiest thread at or above SHORT_OF_CPU.generatorCoreShare). */
  generatorShort: boolean;
  /** The machine was short of CPU (busy + steal at or above SHORT_OF_CPU.machineNotIdleShare). */
  machineShort: boolean;
}

export function footprintFigures(footprint: Footprint, generators: number): FootprintFigures {
  const wallSeconds = footprint.wallMs / 1000;
  const perCore = (cpuSeconds: number) => (wallSeconds > 0 ? cpuSeconds / wallSeconds : 0);
  const machine = footprint.machine;
  const tokenbenchCoreShare = perCore(footprint.tokenbench.cpuSeconds);
  const threads = footprint.tokenbench.generatorThreads;
  const busiestGeneratorCoreShare = threads && threads.length > 0 ? Math.max(...threads.map((t) => perCore(t.cpuSeconds))) : null;
  const helpers = footprint.tokenbench.helperThreads;
  const helperThreadShares = helpers ? helperSharesByKind(helpers, perCore) : null;
  const servers = footprint.redis.servers;
  const redisCoreShare =
    footprint.redis.unmeasured === null && servers.some((s) => s.cpuSeconds !== null) ? perCore(servers.reduce((a, s) => a + (s.cpuSeconds ?? 0), 0)) : null;
  const notIdleShare = machine ? machine.busyShare + machine.stealShare : null;
  // Without per-thread figures, the process's average per generator is a lower bound of the
  // busiest one: a warning from it is never false, only possibly missing.
  const generatorShare = busiestGeneratorCoreShare ?? tokenbenchCoreShare / Math.max(1, generators);
  return {
    tokenbenchCoreShare,
    tokenbenchMachineShare: machine ? tokenbenchCoreShare / machine.cpus : null,
    busiestGeneratorCoreShare,
    helperThreadShares,
    redisCoreShare,
    // Per-process ticks and /proc/stat jiffies round differently: a small negative remainder is rounding, not a figure.
    otherMachineShare: machine && redisCoreShare !== null ? Math.max(0, machine.busyShare - (tokenbenchCoreShare + redisCoreShare) / machine.cpus) : null,
    notIdleShare,
    stealShare: machine ? machine.stealShare : null,
    generatorShort: generatorShare >= SHORT_OF_CPU.generatorCoreShare,
    machineShort: notIdleShare !== null && notIdleShare >= SHORT_OF_CPU.machineNotIdleShare,
  };
}

function helperSharesByKind(
  helpers: NonNullable<Footprint['tokenbench']['helperThreads']>,
  perCore: (cpuSeconds: number) => number,
): NonNullable<FootprintFigures['helperThreadShares']> {
  const byKind = new Map<string, { kind: string; threads: number; coreShare: number; lowerBound: boolean }>();
  for (const helper of helpers) {
    const kind = helperThreadKind(helper.thread);
    const sum = byKind.get(kind) ?? { kind, threads: 0, coreShare: 0, lowerBound: false };
    sum.threads++;
    sum.coreShare += perCore(helper.cpuSeconds);
    sum.lowerBound ||= helper.lowerBound === true;
    byKind.set(kind, sum);
  }
  return [...byKind.values()];
}
