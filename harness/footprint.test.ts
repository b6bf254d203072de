import { describe, expect, it } from 'vitest';
import type { Backend, NodeRole, RedisNode } from '../topologies/types.ts';
import { FootprintSampler } from './footprint.ts';
import type { HelperThreadKind } from './helper-threads.ts';
import type { ProcFiles } from './proc-stat.ts';

/** /proc/<pid>/stat with the fields the sampler reads (utime, stime, cutime, cstime, starttime); the rest plausible filler. */
function stat(pid: number, ticks: { user: number; system?: number; children?: number; start: number }): string {
  return `${pid} (redis-server 127.0.0.1:7000) S 1 1 1 0 -1 0 0 0 0 0 ${ticks.user} ${ticks.system ?? 0} ${ticks.children ?? 0} 0 20 0 4 0 ${ticks.start} 0 0\n`;
}
function systemStat(busy: number, steal: number, idle: number): string {
  // user carries the busy ticks; both CPUs listed so the count is 2.
  return `cpu  ${busy} 0 0 ${idle} 0 0 0 ${steal} 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n`;
}

/** A machine under test: files by path, a clock, the process's cpuUsage and nodes that can be killed and restarted. */
class FakeMachine {
  readonly files = new Map<string, string>();
  nowMs = 0;
  cpuMicros = 0;
  readonly nodes: { id: string; role: NodeRole; pid?: number; containerId?: string; state: RedisNode['state'] }[] = [];
  readonly proc: ProcFiles = { read: (path) => this.files.get(path) };

  /** The sampler a run builds for its engines (an external deployment: no servers), on this machine. */
  runSampler(handles: readonly unknown[], verifiers: readonly { osThreadId: number | undefined }[] = [], intervalMs: number | undefined = 60_000) {
    return FootprintSampler.forRun({ backend: 'external', nodes: () => [] }, handles as never, verifiers, {
      proc: this.proc,
      now: () => this.nowMs,
      cpuUsage: () => ({ user: this.cpuMicros, system: 0 }),
      ...(intervalMs !== undefined && { intervalMs }),
    });
  }

  sampler(backend: Backend, generatorThreads: { thread: string; tid: number | undefined }[], containerPid?: (id: string) => Promise<number | undefined>) {
    return new FootprintSampler(
      { backend, nodes: () => this.nodes.map((n) => ({ ...n, host: '127.0.0.1', port: 7000 })), generatorThreads },
      {
        proc: this.proc,
        now: () => this.nowMs,
        cpuUsage: () => ({ user: this.cpuMicros, system: 0 }),
        ...(containerPid && { containerPid }),
        intervalMs: 60_000,
      },
    );
  }
}

const threadStat = (tid: number) => `/proc/${process.pid}/task/${tid}/stat`;

describe('footprint sampler', () => {
  it('measures the process, its generator thread, each server across a kill and restart, and the machine', () => {
    const m = new FakeMachine();
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    m.files.set(threadStat(process.pid), stat(process.pid, { user: 0, start: 50 }));
    m.nodes.push({ id: 'redis-0', role: 'primary', pid: 100, state: 'running' }, { id: 'redis-1', role: 'replica', pid: 101, state: 'running' });
    m.files.set('/proc/100/stat', stat(100, { user: 500, start: 90_000 }));
    m.files.set('/proc/101/stat', stat(101, { user: 700, children: 40, start: 90_001 }));
    const sampler = m.sampler('process', [{ thread: 'main', tid: process.pid }]);
    sampler.start();

    m.nowMs = 1000;
    m.cpuMicros = 900_000;
    m.files.set('/proc/stat', systemStat(1180, 10, 1010));
    m.files.set(threadStat(process.pid), stat(process.pid, { user: 85, start: 50 }));
    m.files.set('/proc/100/stat', stat(100, { user: 520, system: 10, start: 90_000 }));
    m.files.set('/proc/101/stat', stat(101, { user: 710, children: 40, start: 90_001 }));
    sampler.sampleNow();

    // kill -9 of redis-0: no pid, no /proc entry; a restart later under a new pid.
    m.nodes[0]!.pid = undefined;
    m.nodes[0]!.state = 'killed';
    m.files.delete('/proc/100/stat');
    m.nowMs = 2000;
    m.cpuMicros = 1_500_000;
    m.files.set('/proc/stat', systemStat(1280, 10, 1110));
    m.files.set(threadStat(process.pid), stat(process.pid, { user: 140, start: 50 }));
    m.files.set('/proc/101/stat', stat(101, { user: 730, children: 40, start: 90_001 }));
    sampler.sampleNow();

    m.nodes[0]!.pid = 200;
    m.nodes[0]!.state = 'running';
    m.nodes[0]!.role = 'replica';
    m.files.set('/proc/200/stat', stat(200, { user: 5, start: 100_150 }));
    m.nowMs = 3000;
    m.cpuMicros = 2_000_000;
    m.files.set('/proc/stat', systemStat(1380, 20, 1200));
    m.files.set('/proc/loadavg', '1.50 0.60 0.35 3/300 1001\n');
    m.files.set(threadStat(process.pid), stat(process.pid, { user: 180, start: 50 }));
    m.files.set('/proc/101/stat', stat(101, { user: 740, children: 60, start: 90_001 }));
    sampler.stop();

    expect(sampler.result()).toEqual({
      wallMs: 3000,
      procUnavailable: null,
      tokenbench: { cpuSeconds: 2, peakCoreShare: 0.9, generatorThreads: [{ thread: 'main', cpuSeconds: 1.8 }] },
      redis: {
        unmeasured: null,
        servers: [
          // 30 ticks before the kill, 5 after its restart (born during the phase: all its CPU counts); the tail before the kill is lost.
          { id: 'redis-0', role: 'replica', cpuSeconds: 0.35, lowerBound: true },
          // own 40 ticks and 20 of reaped children.
          { id: 'redis-1', role: 'replica', cpuSeconds: 0.6, lowerBound: false },
        ],
      },
      machine: {
        cpus: 2,
        busyShare: 0.633,
        stealShare: 0.033,
        idleShare: 0.333,
        // The first second: 190 of 200 ticks busy or stolen.
        peakNotIdleShare: 0.95,
        loadAverage1m: { start: 0.5, end: 1.5 },
      },
    });
  });

  it('tells a new process that reuses a pid from the old one by its start time', () => {
    const m = new FakeMachine();
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    m.nodes.push({ id: 'redis-0', role: 'primary', pid: 100, state: 'running' });
    m.files.set('/proc/100/stat', stat(100, { user: 900, start: 90_000 }));
    const sampler = m.sampler('process', []);
    sampler.start();
    m.nowMs = 1000;
    m.files.set('/proc/100/stat', stat(100, { user: 7, start: 100_050 }));
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    sampler.stop();
    expect(sampler.result()!.redis.servers).toEqual([{ id: 'redis-0', role: 'primary', cpuSeconds: 0.07, lowerBound: true }]);
  });

  it('measures nothing when stopped before the measured phase began', () => {
    const m = new FakeMachine();
    const sampler = m.sampler('process', []);
    sampler.startIn(60_000);
    sampler.stop();
    expect(sampler.result()).toBeNull();
  });

  it('without /proc (macOS): the process CPU from Node, every /proc figure null with the reason', () => {
    const m = new FakeMachine();
    m.nodes.push({ id: 'redis-0', role: 'primary', pid: 100, state: 'running' });
    const sampler = m.sampler('process', [{ thread: 'main', tid: undefined }]);
    sampler.start();
    m.nowMs = 2000;
    m.cpuMicros = 500_000;
    sampler.stop();
    expect(sampler.result()).toEqual({
      wallMs: 2000,
      procUnavailable: 'no /proc',
      tokenbench: { cpuSeconds: 0.5, peakCoreShare: 0.25, generatorThreads: null },
      redis: { unmeasured: 'no /proc', servers: [] },
      machine: null,
    });
  });

  it('an external deployment: the servers are not measured, and the result says why', () => {
    const m = new FakeMachine();
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.nodes.push({ id: 'external-0', role: 'primary', state: 'running' });
    const sampler = m.sampler('external', []);
    sampler.start();
    m.nowMs = 1000;
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    sampler.stop();
    expect(sampler.result()!.redis).toEqual({ unmeasured: expect.stringContaining('external deployment'), servers: [] });
    expect(sampler.result()!.machine).not.toBeNull();
  });

  it("containers: the engine's pid is used only when that process is in the container's cgroup", async () => {
    const id = (n: number) => `${String(n).repeat(12)}abcdef`;
    const m = new FakeMachine();
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.nodes.push({ id: 'redis-0', role: 'primary', containerId: id(1), state: 'running' });
    m.files.set('/proc/300/cgroup', `0::/system.slice/docker-${id(1)}.scope\n`);
    m.files.set('/proc/300/stat', stat(300, { user: 100, start: 90_000 }));
    const sampler = m.sampler('container', [], async (containerId) => (containerId === id(1) ? 300 : undefined));
    await sampler.prepare();
    sampler.start();
    m.nowMs = 1000;
    m.files.set('/proc/300/stat', stat(300, { user: 112, start: 90_000 }));
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    sampler.stop();
    expect(sampler.result()!.redis).toEqual({ unmeasured: null, servers: [{ id: 'redis-0', role: 'primary', cpuSeconds: 0.12, lowerBound: false }] });

    // Killed and restarted by a fault: the old pid now belongs to an unrelated process, the container to pid 301.
    const restarted = new FakeMachine();
    for (const [path, text] of m.files) restarted.files.set(path, text);
    restarted.nodes.push({ id: 'redis-0', role: 'primary', containerId: id(1), state: 'running' });
    let enginePid = 300;
    const following = restarted.sampler('container', [], async () => enginePid);
    await following.prepare();
    following.start();
    restarted.files.set('/proc/300/cgroup', '0::/user.slice/user-1000.slice/session-2.scope\n');
    restarted.files.set('/proc/300/stat', stat(300, { user: 9000, start: 100_020 }));
    enginePid = 301;
    restarted.files.set('/proc/301/cgroup', `0::/system.slice/docker-${id(1)}.scope\n`);
    restarted.files.set('/proc/301/stat', stat(301, { user: 3, start: 100_030 }));
    restarted.nowMs = 1000;
    // This reading finds pid 300 gone from the container and asks the engine again, off the sampling path.
    following.sampleNow();
    await new Promise((resolve) => setImmediate(resolve));
    restarted.nowMs = 2000;
    following.stop();
    // Nothing of pid 300's new owner; 3 ticks of the restarted server, and the killed one's tail missing.
    expect(following.result()!.redis.servers).toEqual([{ id: 'redis-0', role: 'primary', cpuSeconds: 0.03, lowerBound: true }]);

    // A remote engine's pid means nothing here: pid 300 of this machine is someone else.
    const remote = new FakeMachine();
    for (const [path, text] of m.files) remote.files.set(path, text);
    remote.files.set('/proc/300/cgroup', '0::/user.slice/user-1000.slice/session-2.scope\n');
    remote.nodes.push({ id: 'redis-0', role: 'primary', containerId: id(1), state: 'running' });
    const blind = remote.sampler('container', [], async () => 300);
    await blind.prepare();
    blind.start();
    remote.nowMs = 1000;
    blind.stop();
    expect(blind.result()!.redis).toEqual({ unmeasured: expect.stringContaining('not visible from here'), servers: [] });
  });

  it('samples verifier instance threads like generator threads, listed apart', () => {
    const m = new FakeMachine();
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    for (const tid of [11, 21, 22]) m.files.set(threadStat(tid), stat(tid, { user: 10, start: 50 }));
    const sampler = m.runSampler([{ osThreadId: 11, helperThreads: () => ({ running: [], ended: [] }) }], [{ osThreadId: 21 }, { osThreadId: 22 }]);
    sampler.start();
    m.nowMs = 1000;
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    m.files.set(threadStat(11), stat(11, { user: 90, start: 50 }));
    m.files.set(threadStat(21), stat(21, { user: 12, start: 50 }));
    m.files.set(threadStat(22), stat(22, { user: 13, system: 1, start: 50 }));
    sampler.stop();
    const tokenbench = sampler.result()!.tokenbench;
    expect(tokenbench.generatorThreads).toEqual([{ thread: 'main', cpuSeconds: 0.8 }]);
    expect(tokenbench.verifierThreads).toEqual([
      { thread: 'verifier 0', cpuSeconds: 0.02 },
      { thread: 'verifier 1', cpuSeconds: 0.04 },
    ]);
    expect(tokenbench.helperThreads).toEqual([]);
  });

  it("samples each generator's helper threads as they come and go, a lower bound for those not seen throughout", () => {
    const m = new FakeMachine();
    // The phase starts at 100,000 ticks since boot.
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    const running: { thread: HelperThreadKind; tid: number }[][] = [
      [
        { thread: 'timer thread', tid: 31 },
        { thread: 'history writer', tid: 32 },
      ],
      [],
    ];
    const handles = running.map((helpers, w) => ({ osThreadId: 10 + w, helperThreads: () => ({ running: helpers, ended: [] }) }));
    for (const tid of [10, 11]) m.files.set(threadStat(tid), stat(tid, { user: 0, start: 50 }));
    m.files.set(threadStat(31), stat(31, { user: 5, start: 99_990 }));
    m.files.set(threadStat(32), stat(32, { user: 10, start: 99_980 }));
    const sampler = m.runSampler(handles);
    sampler.start();

    m.nowMs = 1000;
    m.files.set(threadStat(31), stat(31, { user: 25, start: 99_990 }));
    // Worker 1's helpers are first seen now: its history writer started during the phase (all its
    // CPU counts), its timer thread before it (only what it uses from now on can be counted).
    running[1]!.push({ thread: 'timer thread', tid: 42 }, { thread: 'history writer', tid: 41 });
    m.files.set(threadStat(42), stat(42, { user: 50, start: 99_000 }));
    m.files.set(threadStat(41), stat(41, { user: 4, start: 100_050 }));
    sampler.sampleNow();

    // Worker 0's timer thread is gone without leaving its last ticks: what it used since the last reading is lost.
    running[0]!.shift();
    m.files.delete(threadStat(31));
    m.nowMs = 2000;
    m.files.set(threadStat(32), stat(32, { user: 30, start: 99_980 }));
    m.files.set(threadStat(42), stat(42, { user: 60, start: 99_000 }));
    m.files.set(threadStat(41), stat(41, { user: 14, start: 100_050 }));
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    sampler.stop();
    expect(sampler.result()!.tokenbench.helperThreads).toEqual([
      { thread: 'timer thread (worker 0)', cpuSeconds: 0.2, lowerBound: true },
      { thread: 'history writer (worker 0)', cpuSeconds: 0.2 },
      { thread: 'timer thread (worker 1)', cpuSeconds: 0.1, lowerBound: true },
      { thread: 'history writer (worker 1)', cpuSeconds: 0.14 },
    ]);
  });

  it('a helper that ended leaving its CPU as it ended is counted up to its end, not as a lower bound', () => {
    const m = new FakeMachine();
    m.files.set('/proc/uptime', '1000.00 1500.00\n');
    m.files.set('/proc/loadavg', '0.50 0.40 0.30 2/300 999\n');
    m.files.set('/proc/stat', systemStat(1000, 0, 1000));
    m.files.set(threadStat(10), stat(10, { user: 0, start: 50 }));
    m.files.set(threadStat(31), stat(31, { user: 5, start: 99_990 }));
    const helpers = { running: [{ thread: 'timer thread' as const, tid: 31 }], ended: [] as { thread: HelperThreadKind; tid: number; finalTicks: number }[] };
    const sampler = m.runSampler([{ osThreadId: 10, helperThreads: () => helpers }]);
    sampler.start();
    m.nowMs = 1000;
    m.files.set(threadStat(31), stat(31, { user: 25, start: 99_990 }));
    sampler.sampleNow();
    // The open loop closed its timer thread after reading its ticks (40): 15 more than the last reading saw.
    helpers.running = [];
    helpers.ended = [{ thread: 'timer thread', tid: 31, finalTicks: 40 }];
    m.files.delete(threadStat(31));
    m.nowMs = 2000;
    m.files.set('/proc/stat', systemStat(1100, 0, 1100));
    sampler.stop();
    expect(sampler.result()!.tokenbench.helperThreads).toEqual([{ thread: 'timer thread (main)', cpuSeconds: 0.35 }]);
  });

  it('without /proc, helper threads are not measured', () => {
    const m = new FakeMachine();
    const handle = { osThreadId: undefined, helperThreads: () => ({ running: [], ended: [] }) };
    const sampler = m.runSampler([handle], [], undefined);
    sampler.start();
    m.nowMs = 1000;
    sampler.stop();
    expect(sampler.result()!.tokenbench.helperThreads).toBeNull();
  });
});
