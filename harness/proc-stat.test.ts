import { describe, expect, it } from 'vitest';
import { cgroupNamesContainer, parseLoadAverage1m, parseProcessStat, parseSystemStat, parseThreadSelf, parseUptimeTicks } from './proc-stat.ts';

// Taken from this machine (Linux 6.x, 2 CPUs), comm changed where a test needs it.
const BASH_STAT =
  '3853 (bash) S 3852 3853 3853 0 -1 4194560 12615 1113487 0 47 2 6 3943 391 20 0 1 0 453088 5251072 934 18446744073709551615 93869933494272 93869934283677 140727901437360 0 0 0 65536 4 1132560123 1 0 0 17 1 0 0 0 0 0 93869934516976 93869934565220 93870776348672 140727901440893 140727901440908 140727901440908 140727901442026 0\n';
const SYSTEM_STAT = `cpu  279434 375 57776 636452 895 0 2224 70 0 0
cpu0 135176 127 27618 324335 169 0 986 32 0 0
cpu1 144257 247 30158 312116 725 0 1237 37 0 0
intr 123456 0 9 0
ctxt 987654
btime 1700000000
processes 16173
procs_running 5
procs_blocked 0
`;

describe('/proc/<pid>/stat', () => {
  it('reads utime + stime, cutime + cstime and starttime', () => {
    // utime 2, stime 6, cutime 3943, cstime 391, starttime 453088.
    expect(parseProcessStat(BASH_STAT)).toEqual({ ownTicks: 8, childrenTicks: 4334, startTicks: 453088 });
  });

  it('counts fields after the last parenthesis: a process title may hold spaces and parentheses', () => {
    const redis = BASH_STAT.replace('(bash)', '(redis-server 127.0.0.1:6379 (x) tokenbench-owner=42)');
    expect(parseProcessStat(redis)).toEqual({ ownTicks: 8, childrenTicks: 4334, startTicks: 453088 });
  });

  it('refuses text it does not understand rather than guess', () => {
    expect(parseProcessStat('')).toBeUndefined();
    expect(parseProcessStat('3853 (bash) S 3852')).toBeUndefined();
    expect(parseProcessStat('3853 bash S 3852 3853 3853 0 -1 4194560 12615 1113487 0 47 2 6 3943 391 20 0 1 0 453088')).toBeUndefined();
  });
});

describe('/proc/stat', () => {
  it('sums the aggregate line into busy, steal and idle ticks and counts the CPUs', () => {
    expect(parseSystemStat(SYSTEM_STAT)).toEqual({
      cpus: 2,
      busyTicks: 279434 + 375 + 57776 + 0 + 2224,
      stealTicks: 70,
      idleTicks: 636452 + 895,
    });
  });

  it('refuses a file without the aggregate line or its columns', () => {
    expect(parseSystemStat(SYSTEM_STAT.split('\n').slice(1).join('\n'))).toBeUndefined();
    expect(parseSystemStat('cpu  1 2 3\ncpu0 1 2 3\n')).toBeUndefined();
    expect(parseSystemStat('')).toBeUndefined();
  });
});

describe('/proc/loadavg, /proc/uptime, /proc/thread-self, cgroups', () => {
  it('reads the 1-minute load average', () => {
    expect(parseLoadAverage1m('7.09 3.61 1.89 5/285 16173\n')).toBe(7.09);
    expect(parseLoadAverage1m('')).toBeUndefined();
    expect(parseLoadAverage1m('high')).toBeUndefined();
  });

  it('reads uptime as clock ticks, the clock of a process start time', () => {
    expect(parseUptimeTicks('4927.43 6364.52\n')).toBe(492743);
    expect(parseUptimeTicks('\n')).toBeUndefined();
  });

  it("reads a thread's OS id from the /proc/thread-self link", () => {
    expect(parseThreadSelf('9856/task/9861')).toBe(9861);
    expect(parseThreadSelf('9856')).toBeUndefined();
  });

  it('knows a container by its id in the cgroup path (v1 and v2), and not by a short prefix', () => {
    const id = 'f48fe7af3d695c599be006aa692f5930f48fe7af3d695c599be006aa692f5930';
    expect(cgroupNamesContainer(`0::/system.slice/docker-${id}.scope\n`, id)).toBe(true);
    expect(cgroupNamesContainer(`12:cpu,cpuacct:/docker/${id}\n4:memory:/docker/${id}\n`, id)).toBe(true);
    expect(cgroupNamesContainer('0::/user.slice/user-1000.slice/session-2.scope\n', id)).toBe(false);
    expect(cgroupNamesContainer('0::/\n', '')).toBe(false);
  });
});
