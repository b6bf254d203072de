import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandTopologies, loadScenarioFile, normalizeScenario } from './scenario.ts';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

describe('shipped scenarios', () => {
  for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} parses`, () => {
      expect(() => loadScenarioFile(join(SCENARIOS, file))).not.toThrow();
    });
  }

  it('a network fault gives every topology that has it per-node addresses, and no other', () => {
    const s = loadScenarioFile(join(SCENARIOS, 'partition-sentinel.yaml'));
    const parts = expandTopologies(s);
    expect(parts.map((p) => p.topology.addresses)).toEqual(['per-node', 'per-node', 'per-node']);
    expect(parts.map((p) => p.topologyLabel)).toEqual(['failoverDetector off', 'failoverDetector on', 'min-replicas-to-write 1']);
    expect(parts.map((p) => p.client.failoverDetector)).toEqual([false, true, false]);
    const quick = normalizeScenario({ faults: [{ at: 0, action: 'kill' }], topology: { kind: 'sentinel' } });
    expect(quick.topology.addresses).toBe('shared');
  });
});

describe('network faults in a scenario', () => {
  const base = { topology: { kind: 'sentinel' }, load: { duration: '20s' } };
  const bad =
    (fault: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    () =>
      normalizeScenario({ ...base, ...extra, faults: [{ at: '5s', ...fault }] });

  it('takes sides, a direction, and an amount', () => {
    const s = normalizeScenario({
      ...base,
      load: { duration: '20s', clientGroups: [{ name: 'near', share: 0.5 }] },
      faults: [
        { at: '5s', action: 'partition', target: 'primary+clients:near', from: 'sentinels', direction: 'outbound', for: '5s' },
        { at: '6s', action: 'loss', target: 'primary', from: 'replicas', loss: '10%' },
        { at: '7s', action: 'delay', target: 'primary', from: 'replicas', delay: '50ms', jitter: '10ms' },
      ],
    });
    expect(s.faults.map((f) => [f.action, f.loss, f.delay, f.jitter])).toEqual([
      ['partition', undefined, undefined, undefined],
      ['loss', 10, undefined, undefined],
      ['delay', undefined, 50, 10],
    ]);
  });

  it('says which field is wrong, what it expected and what it got', () => {
    expect(bad({ action: 'loss', target: 'primary' })).toThrow(/faults\[0\]\.loss: expected a percentage of packets to drop/);
    expect(bad({ action: 'delay' })).toThrow(/faults\[0\]\.delay: expected a delay per packet/);
    expect(bad({ action: 'partition', loss: 5 })).toThrow(/faults\[0\]\.loss: expected no loss on a fault other than loss/);
    expect(bad({ action: 'kill', from: 'replicas' })).toThrow(/faults\[0\]\.from: expected nothing on kill \(from is for network faults/);
    expect(bad({ action: 'kill', target: 'primary+replicas' })).toThrow(/faults\[0\]\.target: expected primary, replica, sentinel, killed, paused/);
    expect(bad({ action: 'partition', target: 'primary+clients:far' })).toThrow(
      /faults\[0\]\.target: expected a client group of load\.clientGroups \(none defined\)/,
    );
    expect(bad({ action: 'partition', target: 'the-primary' })).toThrow(/faults\[0\]\.target: expected primary, replica, sentinel/);
    expect(bad({ action: 'partition', from: 'sentinels' }, { topology: { kind: 'cluster' } })).toThrow(
      /faults\[0\]\.from: expected a target that exists in a cluster/,
    );
    expect(bad({ action: 'loss', loss: '150%' })).toThrow(/faults\[0\]\.loss/);
    expect(() =>
      normalizeScenario({
        ...base,
        load: {
          clientGroups: [
            { name: 'a', share: 0.7 },
            { name: 'b', share: 0.6 },
          ],
        },
      }),
    ).toThrow(/load\.clientGroups: expected shares that add up to at most 1, got 1\.3/);
    expect(() => normalizeScenario({ ...base, load: { workers: 2, clientGroups: [{ name: 'a', share: 0.5 }] } })).toThrow(
      /load\.workers: expected 1 with client groups/,
    );
    expect(bad({ action: 'partition' }, { topology: { kind: 'sentinel', backend: 'external', endpoints: ['127.0.0.1:1'] } })).toThrow(
      /faults\[0\]\.action: expected kill, pause, resume, restart or failover \(the links of an external deployment are not ours to cut\)/,
    );
  });
});

describe('an http strategy entry', () => {
  const http = { baseUrl: 'http://127.0.0.1:3000', login: { path: '/login' }, verify: { path: '/me' }, logout: { path: '/logout' } };

  it('names the field of a bad value inside it, with the entry index', () => {
    expect(() => normalizeScenario({ strategies: ['blacklist', { http: { ...http, login: { path: '/login', token: 'a..b' } } }] })).toThrow(
      /^strategies\[1\]\.http\.login\.token: expected a JSON path such as accessToken or data\.token/,
    );
  });

  it('keeps the label and guarantee the team gives', () => {
    const [entry] = normalizeScenario({ strategies: [{ http, label: 'orders-api', guarantee: { boundedByMs: '500ms' } }] }).strategies;
    expect(entry).toMatchObject({ label: 'orders-api', guarantee: { boundedByMs: 500 }, http: { verify: { method: 'GET' } } });
  });
});

describe('strategy modules in a scenario', () => {
  it("resolves a module file against the scenario file's directory, keeps a package name, and re-normalizes to the same", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-smod-'));
    const path = join(dir, 'team.yaml');
    writeFileSync(
      path,
      'strategies:\n  - { module: ./auth/denylist.mjs, label: ours, options: { secret: s } }\n  - { module: "@team/auth-bench" }\n  - blacklist\n',
    );
    const scenario = loadScenarioFile(path);
    expect(scenario.strategies).toEqual([
      { module: join(dir, 'auth', 'denylist.mjs'), label: 'ours', options: { secret: 's' } },
      { module: '@team/auth-bench' },
      'blacklist',
    ]);
    expect(normalizeScenario(scenario, undefined, '/elsewhere').strategies).toEqual(scenario.strategies);
    expect(normalizeScenario({ strategies: [{ module: 'x.mjs' }] }, undefined, '/base').strategies).toEqual([{ module: '/base/x.mjs' }]);
  });

  it('a module entry with a field of a built-in is refused, naming the entry', () => {
    expect(() => normalizeScenario({ strategies: [{ module: './x.mjs', failurePolicy: 'fail-open' }] })).toThrow(/strategies\[0\]/);
  });
});

describe('a servers matrix', () => {
  it('runs every topology entry once per server, topologies first; only a matrix of two or more names its server in run labels', () => {
    const s = normalizeScenario({
      topologies: [{ topology: { kind: 'single' } }, { topology: { kind: 'sentinel' }, label: 'two sentinels' }],
      servers: ['redis-server', { server: '/opt/valkey/bin/valkey-server', label: 'valkey nightly' }],
    });
    const parts = expandTopologies(s);
    expect(parts.map((p) => [p.topology.kind, p.topology.redisServer, p.topologyLabel, p.server])).toEqual([
      ['single', 'redis-server', undefined, { inRunLabel: true }],
      ['single', '/opt/valkey/bin/valkey-server', undefined, { label: 'valkey nightly', inRunLabel: true }],
      ['sentinel', 'redis-server', 'two sentinels', { inRunLabel: true }],
      ['sentinel', '/opt/valkey/bin/valkey-server', 'two sentinels', { label: 'valkey nightly', inRunLabel: true }],
    ]);
    expect(parts.every((p) => p.servers === undefined)).toBe(true);
    expect(expandTopologies(normalizeScenario({ servers: ['valkey-server'] })).map((p) => [p.topology.redisServer, p.server])).toEqual([
      ['valkey-server', { inRunLabel: false }],
    ]);
    // Without one: the scenario as it was, one part, no server choice.
    expect(expandTopologies(normalizeScenario({})).map((p) => [p.topology.redisServer, p.server])).toEqual([['redis-server', undefined]]);
  });

  it('on the container backend, plain names and { image } entries are images', () => {
    const s = normalizeScenario({ topology: { kind: 'cluster', backend: 'container' }, servers: ['redis:7.4', { image: 'valkey/valkey:8' }] });
    expect(expandTopologies(s).map((p) => [p.topology.image, p.topology.redisServer])).toEqual([
      ['redis:7.4', 'redis-server'],
      ['valkey/valkey:8', 'redis-server'],
    ]);
  });

  it.each([
    [{ servers: [] }, /^servers: expected/],
    [{ servers: [42] }, /^servers\[0\]: expected a server binary \(valkey-server\), \{ server: <binary>, label\? \} or \{ image: <ref>, label\? \}/],
    [{ servers: [{ server: 'valkey-server', lable: 'x' }] }, /^servers\[0\]\.lable: expected no such field/],
    [
      { servers: [{ image: 'valkey/valkey:8' }] },
      /^servers\[0\]: expected a server binary on the process backend, e.g. \{ server: valkey-server \}.*got 'valkey\/valkey:8'/,
    ],
    [
      { topology: { kind: 'single', backend: 'container' }, servers: [{ server: 'valkey-server' }] },
      /^servers\[0\]: expected an image on the container backend/,
    ],
    [{ topology: { kind: 'single', backend: 'container' }, servers: [{ image: 'Not An Image' }] }, /^servers\[0\]\.image: expected an image reference/],
    [
      { topology: { kind: 'single', backend: 'external', endpoints: ['127.0.0.1:6379'] }, servers: ['valkey-server'] },
      /^servers: expected no servers matrix on the external backend/,
    ],
  ])('a bad entry is one error naming it: %j', (input, message) => {
    expect(() => normalizeScenario(input)).toThrow(message);
  });
});
