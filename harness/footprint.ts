import { type Footprint, helperThreadName } from '../result/footprint.ts';
import { containerRuntime } from '../topologies/container/docker.ts';
import type { Backend, RedisNode } from '../topologies/types.ts';
import type { EngineHandle } from './engine-handle.ts';
import {
  cgroupNamesContainer,
  type ProcFiles,
  parseLoadAverage1m,
  parseProcessStat,
  parseSystemStat,
  parseUptimeTicks,
  type SystemStat,
  systemProc,
  USER_HZ,
} from './proc-stat.ts';

/**
 * A reading about once a second is enough to catch a server that a fault kills and to see a peak,
 * and costs a few reads of small files: far below anything the run measures.
 */
const SAMPLE_INTERVAL_MS = 1000;
/** A peak over a shorter interval (the last one, cut by the end) is mostly tick rounding. */
const MIN_PEAK_INTERVAL_MS = 500;

/** What the sampler watches: the topology's servers and the threads that generate load. */
export interface FootprintSubjects {
  backend: Backend;
  nodes(): readonly RedisNode[];
  /** By OS thread id; undefined where it is not known (no /proc). */
  generatorThreads: readonly { thread: string; tid: number | undefined }[];
  /** Verifier instances' threads (load.verifiers), sampled the same way. */
  verifierThreads?: readonly { thread: string; tid: number | undefined }[];
  /**
   * The generators' helper threads, by name (result/footprint.ts helperThreadName): those running
   * now, and the last of each that ended with its CPU ticks as it ended (`finalTicks`). Asked at
   * every reading, since they start and end during the phase. Absent: not measured.
   */
  helperThreads?: () => readonly { thread: string; tid: number; finalTicks?: number }[];
}

export interface SamplerOptions {
  proc?: ProcFiles;
  /** Milliseconds, monotonic. */
  now?: () => number;
  cpuUsage?: () => NodeJS.CpuUsage;
  /** The host pid of a container's main process, as the engine reports it (docker inspect State.Pid). */
  containerPid?: (containerId: string) => Promise<number | undefined>;
  intervalMs?: number;
}

interface Reading {
  atMs: number;
  cpu: NodeJS.CpuUsage;
  system: SystemStat | undefined;
  /** Generator threads, then verifier threads. */
  threadTicks: (number | undefined)[];
  loadAverage1m: number | undefined;
}

/** One life of a server process (a kill fault ends it, a restart begins another under a new pid) or of a helper thread. */
interface Incarnation {
  id: number;
  startTicks: number;
  baseTicks: number;
  lastTicks: number;
  ended: boolean;
}

/** A server's or a helper thread's CPU over the phase, summed over its incarnations. */
class TaskCpu {
  readonly incarnations: Incarnation[] = [];
  lowerBound = false;

  /**
   * `id`: its pid or tid, undefined when it is not running; `ticks`: its CPU so far, undefined when
   * its stat could not be read. `bornAfterTicks`: the phase's start on the clock of ProcessStat.startTicks.
   */
  observe(id: number | undefined, ticks: number | undefined, startTicks: number, first: boolean, bornAfterTicks: number | undefined): void {
    const current = this.incarnations.at(-1);
    const alive = current && !current.ended ? current : undefined;
    if (id === undefined || ticks === undefined) {
      if (alive) this.#end(alive);
      return;
    }
    if (alive && alive.id === id && alive.startTicks === startTicks) {
      alive.lastTicks = ticks;
      return;
    }
    if (alive) this.#end(alive);
    // Started during the phase: all its CPU is the phase's. Already running but first seen now
    // (its id was not known at the start): only what it uses from now on can be counted.
    const bornDuring = !first && bornAfterTicks !== undefined && startTicks >= bornAfterTicks;
    if (!first && !bornDuring) this.lowerBound = true;
    this.incarnations.push({ id, startTicks, baseTicks: bornDuring ? 0 : ticks, lastTicks: ticks, ended: false });
  }

  /** It ended as `id`, with `ticks` of CPU read as it ended: its count is exact up to its end (a helper thread that says so). */
  endedWith(id: number, ticks: number): void {
    const current = this.incarnations.at(-1);
    if (!current || current.ended || current.id !== id) return;
    current.lastTicks = Math.max(current.lastTicks, ticks);
    current.ended = true;
  }

  /** Its CPU after the last reading is lost with it (a process's goes to the parent that reaps it, a thread's to the process total). */
  #end(incarnation: Incarnation): void {
    incarnation.ended = true;
    this.lowerBound = true;
  }

  get cpuSeconds(): number | null {
    if (this.incarnations.length === 0) return null;
    return this.incarnations.reduce((a, i) => a + (i.lastTicks - i.baseTicks), 0) / USER_HZ;
  }
}

/**
 * The measurement's own footprint over the measured phase: CPU of the tokenbench process and of
 * each load-generator thread and its helper threads, of each Redis server, and of the machine (busy,
 * steal, idle, load).
 * Reads at the start, about once a second, and at the end; nothing per operation.
 */
export class FootprintSampler {
  readonly #subjects: FootprintSubjects;
  readonly #proc: ProcFiles;
  readonly #now: () => number;
  readonly #cpuUsage: () => NodeJS.CpuUsage;
  readonly #containerPid: (containerId: string) => Promise<number | undefined>;
  readonly #intervalMs: number;
  readonly #procUnavailable: string | null;
  #startTimer: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;
  #first: Reading | undefined;
  #last: Reading | undefined;
  #bootTicksAtStart: number | undefined;
  #peakCoreShare = 0;
  #peakNotIdleShare = 0;
  #peakSeen = false;
  readonly #servers = new Map<string, TaskCpu>();
  /** By name, in the order first seen. */
  readonly #helpers = new Map<string, TaskCpu>();
  /** Container id -> verified host pid of its main process. */
  readonly #containerPids = new Map<string, number>();
  readonly #resolving = new Set<string>();
  #stopped = false;
  #result: Footprint | null = null;

  constructor(subjects: FootprintSubjects, options: SamplerOptions = {}) {
    this.#subjects = subjects;
    this.#proc = options.proc ?? systemProc;
    this.#now = options.now ?? (() => performance.now());
    this.#cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.#containerPid = options.containerPid ?? inspectContainerPid;
    this.#intervalMs = options.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.#procUnavailable = this.#proc.read('/proc/stat') === undefined ? 'no /proc' : null;
  }

  /** For a run: the engines' threads are the generators (one engine runs in the main thread, several in worker threads). */
  static forRun(
    topology: Omit<FootprintSubjects, 'generatorThreads' | 'verifierThreads'>,
    handles: readonly EngineHandle[],
    verifiers: readonly { osThreadId: number | undefined }[] = [],
    options?: SamplerOptions,
  ): FootprintSampler {
    const generatorName = (i: number) => (handles.length === 1 ? 'main' : `worker ${i}`);
    const generatorThreads = handles.map((h, i) => ({ thread: generatorName(i), tid: h.osThreadId }));
    const verifierThreads = verifiers.map((v, k) => ({ thread: `verifier ${k}`, tid: v.osThreadId }));
    const helperThreads = () =>
      handles.flatMap((h, i) => {
        const { running, ended } = h.helperThreads();
        // Ended first: a helper of the same name may already run again under another id.
        return [...ended, ...running].map((helper) => ({ ...helper, thread: helperThreadName(helper.thread, generatorName(i)) }));
      });
    return new FootprintSampler(
      {
        backend: topology.backend,
        nodes: () => topology.nodes(),
        generatorThreads,
        ...(verifierThreads.length > 0 && { verifierThreads }),
        helperThreads,
      },
      options,
    );
  }

  /** Looks up what takes a round trip (container pids), so the start itself is a few file reads. */
  async prepare(): Promise<void> {
    if (this.#subjects.backend !== 'container' || this.#procUnavailable) return;
    await Promise.all(this.#subjects.nodes().map((n) => (n.containerId ? this.#resolveContainer(n.containerId) : undefined)));
  }

  /** Starts the phase `delayMs` from now (the end of warm-up). */
  startIn(delayMs: number): void {
    this.#startTimer = setTimeout(() => this.start(), Math.max(0, delayMs));
  }

  start(): void {
    if (this.#first || this.#stopped) return;
    this.#bootTicksAtStart = this.#readUptimeTicks();
    this.#first = this.#read(true);
    this.#last = this.#first;
    this.#interval = setInterval(() => this.sampleNow(), this.#intervalMs);
    this.#interval.unref();
  }

  /** One reading between start and stop (the interval's); public for tests. */
  sampleNow(): void {
    if (!this.#first || this.#stopped) return;
    this.#advance(this.#read(false));
  }

  /** Ends the phase: the last reading. Idempotent; before start, nothing was measured. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#startTimer);
    clearInterval(this.#interval);
    if (!this.#first) return;
    this.#advance(this.#read(false));
    this.#result = this.#summarize(this.#first, this.#last!);
  }

  /** The footprint of the phase; null if it never started (stopped during warm-up). */
  result(): Footprint | null {
    return this.#result;
  }

  #advance(reading: Reading): void {
    const previous = this.#last!;
    const spanMs = reading.atMs - previous.atMs;
    if (spanMs >= MIN_PEAK_INTERVAL_MS) {
      this.#peakSeen = true;
      this.#peakCoreShare = Math.max(this.#peakCoreShare, cpuMicros(reading.cpu, previous.cpu) / 1000 / spanMs);
      const shares = systemShares(previous.system, reading.system);
      if (shares) this.#peakNotIdleShare = Math.max(this.#peakNotIdleShare, shares.busy + shares.steal);
    }
    this.#last = reading;
  }

  #read(first: boolean): Reading {
    const atMs = this.#now();
    const cpu = this.#cpuUsage();
    if (this.#procUnavailable) return { atMs, cpu, system: undefined, threadTicks: [], loadAverage1m: undefined };
    const text = (path: string) => this.#proc.read(path);
    const threadTicks = this.#threads().map(({ tid }) => {
      if (tid === undefined) return undefined;
      const stat = parseOr(text(`/proc/${process.pid}/task/${tid}/stat`), parseProcessStat);
      return stat?.ownTicks;
    });
    if (this.#subjects.backend !== 'external') this.#readServers(first);
    this.#readHelpers(first);
    return {
      atMs,
      cpu,
      system: parseOr(text('/proc/stat'), parseSystemStat),
      threadTicks,
      loadAverage1m: parseOr(text('/proc/loadavg'), parseLoadAverage1m),
    };
  }

  #readServers(first: boolean): void {
    for (const node of this.#subjects.nodes()) {
      const server = this.#servers.get(node.id) ?? new TaskCpu();
      this.#servers.set(node.id, server);
      const pid = this.#pidOf(node);
      const stat = pid === undefined ? undefined : parseOr(this.#proc.read(`/proc/${pid}/stat`), parseProcessStat);
      if (stat === undefined && node.containerId && node.state !== 'killed') void this.#resolveContainer(node.containerId);
      server.observe(pid, stat && stat.ownTicks + stat.childrenTicks, stat?.startTicks ?? 0, first, this.#bootTicksAtStart);
    }
  }

  /**
   * A helper first seen after the phase began counts from 0 if its stat says it started since (all
   * its CPU is the phase's), else from that reading, as a lower bound; one gone before the end
   * counts up to the ticks it left as it ended, or else keeps what its last reading saw, as a lower
   * bound (TaskCpu's rules, as for a server's process).
   */
  #readHelpers(first: boolean): void {
    const running = new Set<string>();
    for (const { thread, tid, finalTicks } of this.#subjects.helperThreads?.() ?? []) {
      if (finalTicks !== undefined) {
        this.#helpers.get(thread)?.endedWith(tid, finalTicks);
        continue;
      }
      running.add(thread);
      const cpu = this.#helpers.get(thread) ?? new TaskCpu();
      this.#helpers.set(thread, cpu);
      const stat = parseOr(this.#proc.read(`/proc/${process.pid}/task/${tid}/stat`), parseProcessStat);
      cpu.observe(tid, stat?.ownTicks, stat?.startTicks ?? 0, first, this.#bootTicksAtStart);
    }
    for (const [thread, cpu] of this.#helpers) if (!running.has(thread)) cpu.observe(undefined, undefined, 0, first, this.#bootTicksAtStart);
  }

  #pidOf(node: RedisNode): number | undefined {
    if (this.#subjects.backend === 'process') return node.pid;
    const pid = node.containerId ? this.#containerPids.get(node.containerId) : undefined;
    // A restarted container's old pid may already belong to another process: only one still in the container counts.
    return pid !== undefined && this.#inContainer(pid, node.containerId!) ? pid : undefined;
  }

  #inContainer(pid: number, containerId: string): boolean {
    const cgroup = this.#proc.read(`/proc/${pid}/cgroup`);
    return cgroup !== undefined && cgroupNamesContainer(cgroup, containerId);
  }

  /** A container restarted by a fault has a new main process: look it up again, off the sampling path. */
  async #resolveContainer(containerId: string): Promise<void> {
    if (this.#resolving.has(containerId)) return;
    this.#resolving.add(containerId);
    try {
      const pid = await this.#containerPid(containerId).catch(() => undefined);
      if (pid && this.#inContainer(pid, containerId)) this.#containerPids.set(containerId, pid);
      else this.#containerPids.delete(containerId);
    } finally {
      this.#resolving.delete(containerId);
    }
  }

  #threads(): readonly { thread: string; tid: number | undefined }[] {
    return [...this.#subjects.generatorThreads, ...(this.#subjects.verifierThreads ?? [])];
  }

  #readUptimeTicks(): number | undefined {
    return this.#procUnavailable ? undefined : parseOr(this.#proc.read('/proc/uptime'), parseUptimeTicks);
  }

  #summarize(first: Reading, last: Reading): Footprint {
    const wallMs = last.atMs - first.atMs;
    const cpuSeconds = cpuMicros(last.cpu, first.cpu) / 1e6;
    const averageCoreShare = wallMs > 0 ? cpuSeconds / (wallMs / 1000) : 0;
    const allThreads = this.#threads().map((t, i) => {
      const start = first.threadTicks[i];
      const end = last.threadTicks[i];
      return start === undefined || end === undefined ? undefined : { thread: t.thread, cpuSeconds: (end - start) / USER_HZ };
    });
    const known = (list: typeof allThreads) =>
      this.#procUnavailable || list.some((t) => t === undefined) ? null : (list as { thread: string; cpuSeconds: number }[]);
    const generatorCount = this.#subjects.generatorThreads.length;
    const threads = allThreads.slice(0, generatorCount);
    const verifierThreads = this.#subjects.verifierThreads && known(allThreads.slice(generatorCount));
    const shares = systemShares(first.system, last.system);
    const loadStart = first.loadAverage1m;
    const loadEnd = last.loadAverage1m;
    return {
      wallMs: round(wallMs, 1),
      procUnavailable: this.#procUnavailable,
      tokenbench: {
        cpuSeconds: round(cpuSeconds, 3),
        peakCoreShare: round(this.#peakSeen ? this.#peakCoreShare : averageCoreShare, 3),
        generatorThreads: known(threads),
        ...(verifierThreads !== undefined && { verifierThreads }),
        ...(this.#subjects.helperThreads && { helperThreads: this.#helperThreadsCpu() }),
      },
      redis: this.#redis(),
      machine:
        shares && first.system && loadStart !== undefined && loadEnd !== undefined
          ? {
              cpus: first.system.cpus,
              busyShare: round(shares.busy, 3),
              stealShare: round(shares.steal, 3),
              idleShare: round(shares.idle, 3),
              peakNotIdleShare: round(this.#peakSeen ? this.#peakNotIdleShare : shares.busy + shares.steal, 3),
              loadAverage1m: { start: loadStart, end: loadEnd },
            }
          : null,
    };
  }

  #helperThreadsCpu(): NonNullable<Footprint['tokenbench']['helperThreads']> | null {
    if (this.#procUnavailable) return null;
    return [...this.#helpers].flatMap(([thread, cpu]) => {
      const cpuSeconds = cpu.cpuSeconds;
      return cpuSeconds === null ? [] : [{ thread, cpuSeconds: round(cpuSeconds, 2), ...(cpu.lowerBound && { lowerBound: true }) }];
    });
  }

  #redis(): Footprint['redis'] {
    const backend = this.#subjects.backend;
    if (backend === 'external') return { unmeasured: 'an external deployment: its servers run elsewhere, out of sight of this machine', servers: [] };
    if (this.#procUnavailable) return { unmeasured: this.#procUnavailable, servers: [] };
    const servers = this.#subjects.nodes().map((node) => {
      const cpu = this.#servers.get(node.id);
      return { id: node.id, role: node.role, cpuSeconds: cpu?.cpuSeconds ?? null, lowerBound: cpu?.lowerBound ?? false };
    });
    if (backend === 'container' && servers.every((s) => s.cpuSeconds === null)) {
      return { unmeasured: "the Docker engine's container processes are not visible from here (a remote engine or a virtual machine)", servers: [] };
    }
    return { unmeasured: null, servers: servers.map((s) => ({ ...s, cpuSeconds: s.cpuSeconds === null ? null : round(s.cpuSeconds, 2) })) };
  }
}

function parseOr<T>(text: string | undefined, parse: (text: string) => T | undefined): T | undefined {
  return text === undefined ? undefined : parse(text);
}

function cpuMicros(to: NodeJS.CpuUsage, from: NodeJS.CpuUsage): number {
  return to.user - from.user + (to.system - from.system);
}

function systemShares(from: SystemStat | undefined, to: SystemStat | undefined): { busy: number; steal: number; idle: number } | undefined {
  if (!from || !to) return undefined;
  const busy = to.busyTicks - from.busyTicks;
  const steal = to.stealTicks - from.stealTicks;
  const idle = to.idleTicks - from.idleTicks;
  const total = busy + steal + idle;
  return total > 0 ? { busy: busy / total, steal: steal / total, idle: idle / total } : undefined;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function inspectContainerPid(containerId: string): Promise<number | undefined> {
  const client = await containerRuntime();
  const info = await client.container.inspect(client.container.getById(containerId));
  return info.State?.Pid || undefined;
}
