import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import { tokenbench } from '../cli/helpers.ts';

/** Generous: a failover on a loaded 2-core machine. We wait on events, never on the clock. */
const EVENT_DEADLINE_MS = 60_000;

const address = (t: StartedTopology, role: string) =>
  t
    .nodes()
    .filter((n) => n.role === role)
    .map((n) => `${n.host}:${n.port}`);

/** The external backend is tested against a deployment it does not own: a process topology this test starts. */
describe.sequential('external: sentinel', () => {
  let owned: StartedTopology;
  let external: StartedTopology;
  beforeAll(async () => {
    owned = await startTopology({ kind: 'sentinel' });
    external = await startTopology({ kind: 'sentinel', backend: 'external', endpoints: address(owned, 'sentinel'), masterName: owned.masterName! });
  });
  afterAll(async () => {
    await external?.stop();
    await owned?.stop();
  });

  it('discovers the primary, its replicas and the sentinels, and hands out a per-run key prefix', async () => {
    expect(external.backend).toBe('external');
    const nodes = external.nodes();
    expect(nodes.filter((n) => n.role === 'sentinel')).toHaveLength(3);
    expect(nodes.filter((n) => n.role !== 'sentinel')).toHaveLength(3);
    const [ownedPrimary] = await owned.primaries();
    expect((await external.primaries()).map((n) => n.port)).toEqual([ownedPrimary!.port]);
    expect(external.keyPrefix).toMatch(/^tb:[0-9a-f]{8}:$/);
    expect(external.dataDir).toBeUndefined();
  });

  it('refuses to kill or restart what it does not own, naming what it can do', async () => {
    await expect(external.inject({ action: 'kill', target: 'primary' })).rejects.toThrow(/does not own its servers.*failover.*CLIENT PAUSE/);
    await expect(startTopology({ kind: 'single', backend: 'external', endpoints: ['127.0.0.1:1'] }).then(() => undefined)).rejects.toThrow(/did not answer/);
    await expect(external.inject({ action: 'restart' })).rejects.toThrow(/does not own/);
  });

  it('graceful failover: SENTINEL FAILOVER moves the primary and its events reach the event log', async () => {
    const [before] = await external.primaries();
    const fault = await external.inject({ action: 'failover' });
    const switched = await external.eventLog.waitFor('+switch-master', (e) => e.type === '+switch-master', EVENT_DEADLINE_MS, fault.ns);
    expect(switched.node).not.toBe(before!.id);
    await external.eventLog.waitFor(
      'a promotion seen by the ROLE poller',
      (e) => e.type === 'role-change' && e.detail === 'replica -> primary',
      EVENT_DEADLINE_MS,
      fault.ns,
    );
    await external.waitUntilReady(EVENT_DEADLINE_MS);
    expect((await external.primaries())[0]!.id).toBe(switched.node);
  });

  it('pause is CLIENT PAUSE for the window: the sentinels see the primary hang and fail over; heal waits it out', async () => {
    const [before] = await external.primaries();
    const fault = await external.inject({ action: 'pause', target: 'primary', forMs: 6000 });
    expect(external.nodes().find((n) => n.id === before!.id)!.state).toBe('paused');
    await external.eventLog.waitFor(
      '+switch-master away from the paused primary',
      (e) => e.type === '+switch-master' && e.node !== before!.id,
      EVENT_DEADLINE_MS,
      fault.ns,
    );
    await external.heal();
    expect(external.nodes().every((n) => n.state === 'running')).toBe(true);
    await external.waitUntilReady(EVENT_DEADLINE_MS);
  });
});

describe('external: data safety', () => {
  let owned: StartedTopology;
  let client: Redis;
  beforeAll(async () => {
    owned = await startTopology({ kind: 'single' });
    client = owned.client() as Redis;
  });
  afterAll(async () => {
    client?.disconnect();
    await owned?.stop();
  });

  it('refuses a database that holds keys, and says how to proceed', async () => {
    const url = `redis://127.0.0.1:${owned.nodes()[0]!.port}`;
    await client.set('theirs', 'precious');
    await expect(startTopology({ kind: 'single', backend: 'external', endpoints: [url] })).rejects.toThrow(/already holds 1 key.*--allow-existing-data/);
  });

  it('with --allow-existing-data, removes exactly its own prefix at stop', async () => {
    const url = `redis://127.0.0.1:${owned.nodes()[0]!.port}`;
    const external = await startTopology({ kind: 'single', backend: 'external', endpoints: [url], allowExistingData: true });
    const ours = external.client() as Redis;
    try {
      for (let i = 0; i < 2500; i++) await ours.set(`${external.keyPrefix}k${i}`, 'x');
      await ours.set('tb:not-this-run', 'y');
    } finally {
      ours.disconnect();
    }
    await external.stop();
    expect(await client.dbsize()).toBe(2);
    expect(await client.get('theirs')).toBe('precious');
    expect(await client.get('tb:not-this-run')).toBe('y');
    await client.flushall();
  });

  it("another run's keys (tb:<8 hex>:, the other generators of a split run) do not count as data in use; one key of someone else's among them does", async () => {
    const url = `redis://127.0.0.1:${owned.nodes()[0]!.port}`;
    for (let i = 0; i < 1500; i++) await client.set(`tb:0123abcd:k${i}`, 'x');
    const beside = await startTopology({ kind: 'single', backend: 'external', endpoints: [url] });
    await beside.stop();
    expect(await client.dbsize()).toBe(1500);
    await client.set('theirs', 'precious');
    await expect(startTopology({ kind: 'single', backend: 'external', endpoints: [url] })).rejects.toThrow(/already holds 1501 keys/);
    await client.flushall();
  });

  it('bad addresses and misplaced options are one clear error each', async () => {
    await expect(startTopology({ kind: 'single', backend: 'external' })).rejects.toThrow(/endpoints: expected the addresses of the deployment/);
    await expect(startTopology({ kind: 'single', backend: 'external', endpoints: ['nowhere'] })).rejects.toThrow(
      /endpoints\[0\]: expected host:port or a redis:\/\/ URL, got 'nowhere'/,
    );
    await expect(startTopology({ kind: 'single', password: 'x' })).rejects.toThrow(/password: expected nothing with the process backend/);
    await expect(startTopology({ kind: 'single', backend: 'external', endpoints: ['127.0.0.1:1'] })).rejects.toThrow(/redis 127.0.0.1:1 did not answer/);
  });

  it('tokenbench run --redis: a short run on the external node leaves the database as it found it', async () => {
    const port = owned.nodes()[0]!.port;
    const r = await tokenbench([
      'run',
      '--redis',
      `redis://127.0.0.1:${port}`,
      '--strategy',
      'blacklist,whitelist',
      '--quick',
      '--duration',
      '1s',
      '--rate',
      '300',
      '--out',
      `${owned.dataDir}/out`,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout) as { runs: { topology: { backend: string; kind: string }; load: { completedOps: number } }[] };
    expect(result.runs.map((run) => run.topology)).toMatchObject([
      { backend: 'external', kind: 'single' },
      { backend: 'external', kind: 'single' },
    ]);
    expect(result.runs.every((run) => run.load.completedOps > 0)).toBe(true);
    expect(await client.dbsize()).toBe(0);
  });
});

describe('external: cluster', () => {
  let owned: StartedTopology;
  let external: StartedTopology;
  beforeAll(async () => {
    owned = await startTopology({ kind: 'cluster' });
    external = await startTopology({ kind: 'cluster', backend: 'external', endpoints: address(owned, 'primary').slice(0, 1) });
  });
  afterAll(async () => {
    await external?.stop();
    await owned?.stop();
  });

  it('finds every node and shard from one seed; keys written through it route and are removed at stop', async () => {
    const nodes = external.nodes();
    expect(nodes).toHaveLength(6);
    expect(
      nodes
        .filter((n) => n.role === 'primary')
        .map((n) => n.shard)
        .sort(),
    ).toEqual([0, 1, 2]);
    const client = external.client() as Cluster;
    try {
      for (const k of ['a', 'b', 'c', 'd']) await client.set(`${external.keyPrefix}{${k}}`, k);
    } finally {
      client.disconnect();
    }
  });

  it('CLUSTER FAILOVER on shard 1 hands it to its replica; stopped right after, every key of the run is removed', async () => {
    const fault = await external.inject({ action: 'failover', target: 'shard-primary:1' });
    const promoted = await external.eventLog.waitFor(
      'a replica promoted',
      (e) => e.type === 'role-change' && e.detail === 'replica -> primary',
      EVENT_DEADLINE_MS,
      fault.ns,
    );
    expect(external.nodes().find((n) => n.id === promoted.node)!.shard).toBe(1);
    // Stopped at once, while other nodes may still name the old primary: its keys go all the same.
    await external.stop();
    await owned.waitUntilReady(EVENT_DEADLINE_MS);
    const client = owned.client() as Cluster;
    try {
      for (const k of ['a', 'b', 'c', 'd']) expect(await client.get(`${external.keyPrefix}{${k}}`)).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});
