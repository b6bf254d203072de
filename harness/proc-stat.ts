import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Linux's /proc, read as text and parsed by pure functions (tested over sample text), for the
 * footprint sampler. Every parser returns undefined for text it does not understand: a figure is
 * then missing, never guessed.
 */

/**
 * Clock ticks per second of every tick count in /proc (USER_HZ). It is part of the kernel's ABI,
 * 100 on every architecture Node runs on, and Node cannot ask sysconf(_SC_CLK_TCK).
 */
export const USER_HZ = 100;

/** The files the sampler reads, so that tests can hand it sample text. */
export interface ProcFiles {
  /** The file's text, or undefined when it cannot be read (no /proc, a process gone). */
  read(path: string): string | undefined;
}

export const systemProc: ProcFiles = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

/** What the sampler needs of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat. */
export interface ProcessStat {
  /** user + system ticks of the process (or thread) itself. */
  ownTicks: number;
  /** user + system ticks of its children that it waited for. */
  childrenTicks: number;
  /** When it started, in ticks since boot: with the pid, it tells one process from a later one reusing the pid. */
  startTicks: number;
}

/** Fields 14-17 (utime, stime, cutime, cstime) and 22 (starttime) of proc(5), counted after the `(comm)` field, which may hold spaces and parentheses. */
export function parseProcessStat(text: string): ProcessStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // fields[0] is field 3 (state).
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  const values = [field(14), field(15), field(16), field(17), field(22)];
  if (!values.every(Number.isFinite)) return undefined;
  const [utime, stime, cutime, cstime, start] = values as [number, number, number, number, number];
  return { ownTicks: utime + stime, childrenTicks: cutime + cstime, startTicks: start };
}

/** The aggregate `cpu` line of /proc/stat, in ticks summed over every CPU, and the number of CPUs. */
export interface SystemStat {
  cpus: number;
  /** user, nice, system, irq, softirq. guest time is already inside user and nice. */
  busyTicks: number;
  stealTicks: number;
  /** idle and iowait. */
  idleTicks: number;
}

export function parseSystemStat(text: string): SystemStat | undefined {
  const lines = text.split('\n');
  const total = lines.find((l) => /^cpu\s/.test(l));
  if (!total) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = total.trim().split(/\s+/).slice(1, 9).map(Number);
  const values = [user, nice, system, idle, iowait, irq, softirq, steal];
  // Kernels before 2.6.11 have no steal column; no kernel Node 20 runs on lacks it.
  if (!values.every((v) => v !== undefined && Number.isFinite(v))) return undefined;
  const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  if (cpus === 0) return undefined;
  return {
    cpus,
    busyTicks: user! + nice! + system! + irq! + softirq!,
    stealTicks: steal!,
    idleTicks: idle! + iowait!,
  };
}

/** The 1-minute load average, the first field of /proc/loadavg. */
export function parseLoadAverage1m(text: string): number | undefined {
  const value = Number(text.trim().split(/\s+/)[0]);
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

/** Seconds since boot, the first field of /proc/uptime, as ticks: the clock of ProcessStat.startTicks. */
export function parseUptimeTicks(text: string): number | undefined {
  const seconds = Number(text.trim().split(/\s+/)[0]);
  return text.trim() !== '' && Number.isFinite(seconds) ? Math.floor(seconds * USER_HZ) : undefined;
}

/**
 * A container's processes sit in a cgroup named after its id (`/docker/<id>`,
 * `/system.slice/docker-<id>.scope`), as seen from the host. A pid from `docker inspect` that is
 * not in such a cgroup is a process of another pid namespace (a remote engine, Docker Desktop's
 * VM): reading it here would measure an unrelated process.
 */
export function cgroupNamesContainer(cgroupText: string, containerId: string): boolean {
  return containerId.length >= 12 && cgroupText.split('\n').some((line) => line.includes(containerId));
}

/** The OS thread id from the target of /proc/thread-self (`<pid>/task/<tid>`). */
export function parseThreadSelf(link: string): number | undefined {
  const match = /^(\d+)\/task\/(\d+)$/.exec(link.trim());
  return match ? Number(match[2]) : undefined;
}

/** This thread's OS thread id (a worker thread's own, not the process's); undefined without /proc. */
export function currentOsThreadId(): number | undefined {
  try {
    return parseThreadSelf(readlinkSync('/proc/thread-self'));
  } catch {
    return undefined;
  }
}

/** A thread of this process's CPU so far (utime + stime, in USER_HZ ticks); undefined without /proc or once it is gone. */
export function osThreadTicks(tid: number | undefined): number | undefined {
  if (tid === undefined) return undefined;
  try {
    return parseProcessStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'))?.ownTicks;
  } catch {
    return undefined;
  }
}
