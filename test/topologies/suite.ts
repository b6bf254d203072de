import { existsSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkFaultSupport } from '../../topologies/network/nft.ts';
import type { TopologyOptionsInput } from '../../topologies/options.ts';
import { parseInfo } from '../../topologies/redis/replies.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology, TopologyEvent } from '../../topologies/types.ts';

/** Generous: a failover on a loaded 2-core machine. We wait on events, never on the clock. */
// A loaded 2-core machine can put Sentinel in TILT mode, which suspends failovers for 30 s.
export const EVENT_DEADLINE_MS = 60_000;

const networkUnsupported = await networkFaultSupport({});
if (networkUnsupported) console.warn(`SKIPPED: the network-fault topology tests (${networkUnsupported})`);

/** Every nft table on the machine, by name (ours are `tokenbench_<pid>_<block>`). */
async function nftTables(): Promise<string[]> {
  const { execa } = await import('execa');
  const { stdout } = await execa('nft', ['list', 'tables']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' ').at(-1)!)
    .filter(Boolean);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Containers of ours the engine still knows, by id (running or not). */
async function existingContainers(ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { containerRuntime } = await import('../../topologies/container/docker.ts');
  const client = await containerRuntime();
  const all = await client.container.dockerode.listContainers({ all: true });
  return all.map((c) => c.Id).filter((id) => ids.includes(id));
}

export async function stopAndExpectNothingLeft(t: StartedTopology): Promise<void> {
  const pids = t
    .nodes()
    .map((n) => n.pid)
    .filter((p): p is number => p !== undefined);
  const containers = t
    .nodes()
    .map((n) => n.containerId)
    .filter((id): id is string => id !== undefined);
  expect(pids.length + containers.length).toBeGreaterThan(0);
  if (t.backend === 'container') expect(await existingContainers(containers)).toHaveLength(containers.length);
  await t.stop();
  await t.stop(); // idempotent
  expect(pids.filter(isAlive)).toEqual([]);
  expect(await existingContainers(containers)).toEqual([]);
  if (t.dataDir) expect(existsSync(t.dataDir)).toBe(false);
}

export async function roundTrip(t: StartedTopology, key: string): Promise<string | null> {
  const client = t.client();
  try {
    await client.set(key, 'v');
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}

export function promotionAfter(t: StartedTopology, ns: bigint, what = 'a replica promoted'): Promise<TopologyEvent> {
  return waitForEvent(t, what, (e) => e.type === 'role-change' && e.detail === 'replica -> primary', EVENT_DEADLINE_MS, ns);
}

export function demotionOf(t: StartedTopology, node: string, ns: bigint): Promise<TopologyEvent> {
  return waitForEvent(
    t,
    `${node} demoted to replica`,
    (e) => e.type === 'role-change' && e.node === node && e.detail === 'primary -> replica',
    EVENT_DEADLINE_MS,
    ns,
  );
}

export async function replicaLinkUp(t: StartedTopology, nodeId: string): Promise<Record<string, string>> {
  const node = t.nodes().find((n) => n.id === nodeId)!;
  const { Redis } = await import('ioredis');
  const probe = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await probe.connect();
    return parseInfo(await probe.info('replication'));
  } finally {
    probe.disconnect();
  }
}

/**
 * Ready again, with the same generous deadline as events: after a graceful SENTINEL FAILOVER the
 * old primary and a replica chained behind it are only fixed by the sentinels' periodic INFO
 * (every 10 s), which on a loaded machine took longer than the topology's own 30 s default once.
 * A failure shows the last events, so the next one can be understood instead of retried.
 */
export async function ready(t: StartedTopology): Promise<void> {
  try {
    // Each step starts the next fault: wait for the sentinels' own views too (see waitUntilSettled).
    await t.waitUntilSettled(EVENT_DEADLINE_MS);
  } catch (error) {
    throw withRecentEvents(error, t);
  }
}

/** The last 30 events, timed relative to `sinceNs`, appended to a failure: what the topology did meanwhile. */
function withRecentEvents(error: unknown, t: StartedTopology, sinceNs = 0n): Error {
  const tail = t.eventLog
    .snapshot()
    .slice(-30)
    .map((e) => `${sinceNs ? `${(Number(e.ns - sinceNs) / 1e6).toFixed(0)} ms ` : ''}${e.source} ${e.type} ${e.node ?? ''} ${e.detail ?? ''}`.trim());
  return new Error(`${(error as Error).message}\nlast events (ms after the fault):\n  ${tail.join('\n  ')}`);
}

export async function waitForEvent(
  t: StartedTopology,
  what: string,
  predicate: (e: TopologyEvent) => boolean,
  timeoutMs: number,
  sinceNs: bigint,
): Promise<TopologyEvent> {
  try {
    return await t.eventLog.waitFor(what, predicate, timeoutMs, sinceNs);
  } catch (error) {
    throw withRecentEvents(error, t, sinceNs);
  }
}

/**
 * The behaviour every backend must show. Each describe block owns one topology and walks it
 * through faults in order, like a Jepsen run: later steps start from the state earlier ones left.
 */
export function topologySuite(backend: string, options: (kind: 'single' | 'sentinel' | 'cluster') => TopologyOptionsInput): void {
  describe(`${backend}: single`, () => {
    it('starts, answers, and stops leaving no process and no temp dir', async () => {
      const t = await startTopology(options('single'));
      try {
        expect(t.nodes()).toMatchObject([{ id: 'redis-0', role: 'primary', host: '127.0.0.1', state: 'running' }]);
        expect(t.backend).toBe(backend);
        expect(await roundTrip(t, 'k')).toBe('v');
        expect(await t.primaries()).toHaveLength(1);
      } finally {
        await stopAndExpectNothingLeft(t);
      }
    });

    it('kill then restart brings the node back on the same port', async () => {
      await using t = await startTopology(options('single'));
      const port = t.nodes()[0]!.port;
      const killed = await t.inject({ action: 'kill' });
      expect(killed.node).toBe('redis-0');
      expect(t.nodes()[0]!.state).toBe('killed');
      await t.inject({ action: 'restart' });
      await ready(t);
      expect(t.nodes()[0]).toMatchObject({ port, state: 'running' });
      await expect(t.inject({ action: 'failover' })).rejects.toThrow(/single node has nothing to fail over to/);
    });
  });

  describe.sequential(`${backend}: sentinel`, () => {
    let t: StartedTopology;
    beforeAll(async () => {
      t = await startTopology(options('sentinel'));
    });
    afterAll(async () => {
      if (t) await stopAndExpectNothingLeft(t);
    });

    it('is ready: sentinels agree, see every replica and each other, replicas linked', async () => {
      const nodes = t.nodes();
      expect(nodes.filter((n) => n.role === 'sentinel')).toHaveLength(3);
      expect(nodes.filter((n) => n.role === 'replica')).toHaveLength(2);
      expect((await t.primaries()).map((n) => n.id)).toEqual(['redis-0']);
      for (const id of ['redis-1', 'redis-2']) expect(await replicaLinkUp(t, id)).toMatchObject({ role: 'slave', master_link_status: 'up' });
      expect(await roundTrip(t, 'k')).toBe('v');
    });

    it('kill -9 of the primary: a replica is promoted and the event stream reports it', async () => {
      const fault = await t.inject({ action: 'kill', target: 'primary' });
      expect(fault.node).toBe('redis-0');
      const promoted = await promotionAfter(t, fault.ns);
      const switched = await waitForEvent(t, '+switch-master', (e) => e.type === '+switch-master', EVENT_DEADLINE_MS, fault.ns);
      expect(switched.node).toBe(promoted.node);
      const events = t.eventLog
        .snapshot()
        .filter((e) => e.ns >= fault.ns)
        .map((e) => e.type);
      expect(events).toContain('+sdown');
      expect(events).toContain('+odown');
      await ready(t);
      expect((await t.primaries()).map((n) => n.id)).toEqual([promoted.node]);
    });

    it('restart of the old primary: it rejoins as a replica', async () => {
      const fault = await t.inject({ action: 'restart', target: 'killed' });
      expect(fault.node).toBe('redis-0');
      await demotionOf(t, 'redis-0', fault.ns);
      await ready(t);
      expect(t.nodes().find((n) => n.id === 'redis-0')).toMatchObject({ role: 'replica', state: 'running' });
      expect(await replicaLinkUp(t, 'redis-0')).toMatchObject({ role: 'slave', master_link_status: 'up' });
    });

    it('pause (SIGSTOP) of the primary: sentinels fail over; resumed, it is demoted', async () => {
      const [before] = await t.primaries();
      const fault = await t.inject({ action: 'pause', target: 'primary' });
      expect(fault.node).toBe(before!.id);
      await waitForEvent(
        t,
        '+switch-master away from the paused primary',
        (e) => e.type === '+switch-master' && e.node !== before!.id,
        EVENT_DEADLINE_MS,
        fault.ns,
      );
      const resumed = await t.inject({ action: 'resume' });
      await demotionOf(t, before!.id, resumed.ns);
      await ready(t);
      expect((await t.primaries())[0]!.id).not.toBe(before!.id);
    });

    it('graceful failover (SENTINEL FAILOVER) moves the primary', async () => {
      const [before] = await t.primaries();
      const fault = await t.inject({ action: 'failover' });
      await waitForEvent(t, '+switch-master', (e) => e.type === '+switch-master' && e.node !== before!.id, EVENT_DEADLINE_MS, fault.ns);
      await ready(t);
      expect((await t.primaries())[0]!.id).not.toBe(before!.id);
      expect(await roundTrip(t, 'after-failover')).toBe('v');
    });

    it('kill and heal of a sentinel', async () => {
      const fault = await t.inject({ action: 'kill', target: 'sentinel' });
      expect(fault.node).toMatch(/^sentinel-/);
      await t.heal();
      await ready(t);
      expect(t.nodes().every((n) => n.state === 'running')).toBe(true);
    });
  });

  describe.sequential(`${backend}: cluster`, () => {
    let t: StartedTopology;
    beforeAll(async () => {
      t = await startTopology(options('cluster'));
    });
    afterAll(async () => {
      if (t) await stopAndExpectNothingLeft(t);
    });

    it('is ready: 3 shards x 1 replica, cluster_state:ok, keys routed', async () => {
      const nodes = t.nodes();
      expect(nodes).toHaveLength(6);
      expect(
        nodes
          .filter((n) => n.role === 'primary')
          .map((n) => n.shard)
          .sort(),
      ).toEqual([0, 1, 2]);
      expect((await t.primaries()).length).toBe(3);
      const client = t.client() as Cluster;
      try {
        for (const key of ['a', 'b', 'c', 'd', 'e']) await client.set(key, key);
        expect(await client.get('e')).toBe('e');
      } finally {
        client.disconnect();
      }
    });

    it('kill -9 of a shard primary: its replica is promoted and the cluster marks it FAIL', async () => {
      const fault = await t.inject({ action: 'kill', target: 'shard-primary:1' });
      expect(fault.node).toBe('redis-1');
      const promoted = await promotionAfter(t, fault.ns, 'redis-4 promoted');
      expect(promoted.node).toBe('redis-4');
      await waitForEvent(t, 'redis-1 flagged fail', (e) => e.source === 'cluster' && e.type === 'fail' && e.node === 'redis-1', EVENT_DEADLINE_MS, fault.ns);
      await ready(t);
    });

    it('restart of the old primary: it rejoins as a replica of its successor', async () => {
      const fault = await t.inject({ action: 'restart' });
      expect(fault.node).toBe('redis-1');
      await demotionOf(t, 'redis-1', fault.ns);
      await ready(t);
      expect(t.nodes().find((n) => n.id === 'redis-1')).toMatchObject({ role: 'replica', shard: 1 });
    });

    it('pause of a primary: the cluster fails over; resumed, it is demoted', async () => {
      const fault = await t.inject({ action: 'pause', target: 'primary' });
      expect(fault.node).toBe('redis-0');
      const promoted = await promotionAfter(t, fault.ns, 'redis-3 promoted');
      expect(promoted.node).toBe('redis-3');
      const resumed = await t.inject({ action: 'resume' });
      await demotionOf(t, 'redis-0', resumed.ns);
      await ready(t);
    });

    it('graceful failover (CLUSTER FAILOVER) hands shard 2 to its replica', async () => {
      const fault = await t.inject({ action: 'failover', target: 'shard-primary:2' });
      expect(fault.node).toBe('redis-2');
      const promoted = await promotionAfter(t, fault.ns, 'redis-5 promoted');
      expect(promoted.node).toBe('redis-5');
      await ready(t);
      const client = t.client() as Cluster;
      try {
        await client.set('z', '1');
        expect(await client.get('z')).toBe('1');
      } finally {
        client.disconnect();
      }
    });
  });

  describe(`${backend}: isolation`, () => {
    it('two topologies started at once do not collide', async () => {
      const [a, b] = await Promise.all([startTopology(options('sentinel')), startTopology(options('single'))]);
      try {
        const portsA = a.nodes().map((n) => n.port);
        const portsB = b.nodes().map((n) => n.port);
        expect(portsA.filter((p) => portsB.includes(p))).toEqual([]);
        const ca = a.client() as Redis;
        const cb = b.client() as Redis;
        try {
          await ca.set('only-in-a', '1');
          expect(await cb.get('only-in-a')).toBeNull();
        } finally {
          ca.disconnect();
          cb.disconnect();
        }
      } finally {
        await Promise.all([stopAndExpectNothingLeft(a), stopAndExpectNothingLeft(b)]);
      }
    });
  });

  describe.skipIf(networkUnsupported).sequential(`${backend}: network faults (per-node addresses, nft)`, () => {
    it('sentinel: each node on its own address; the isolated primary is replaced, and demoted once the partition heals', async () => {
      const t = await startTopology({ ...options('sentinel'), addresses: 'per-node' });
      try {
        const hosts = t.nodes().map((n) => n.host);
        expect(new Set(hosts).size).toBe(hosts.length);
        expect(hosts.every((h) => /^127\.77\.\d+\.\d+$/.test(h))).toBe(true);
        const [primary] = await t.primaries();
        const info = await replicaLinkUp(t, primary!.id);
        // Replicas link from their own address (bind-source-addr): what a partition cuts.
        for (const replica of t.nodes().filter((n) => n.role === 'replica'))
          expect(Object.values(info).join(' ')).toContain(`ip=${replica.host},port=${replica.port}`);

        const fault = await t.inject({ action: 'partition', target: 'primary' });
        expect(fault.sides).toMatchObject({ isolated: [primary!.id], direction: 'both' });
        expect(fault.sides!.from).toHaveLength(5);
        expect(await nftTables()).toEqual(expect.arrayContaining([expect.stringMatching(/^tokenbench_/)]));
        // The harness's own connections come from 127.0.0.1: outside the cut, the old primary still answers.
        expect(await roundTrip(t, 'during-cut')).toBe('v');
        await waitForEvent(
          t,
          '+switch-master away from the isolated primary',
          (e) => e.type === '+switch-master' && e.node !== primary!.id,
          EVENT_DEADLINE_MS,
          fault.ns,
        );
        expect(t.nodes().find((n) => n.id === primary!.id)!.role).toBe('primary');
        await t.restoreLinks!(fault.faultId!);
        const healed = await waitForEvent(t, 'partition-healed', (e) => e.type === 'partition-healed', EVENT_DEADLINE_MS, fault.ns);
        await demotionOf(t, primary!.id, healed.ns);
        await ready(t);
      } finally {
        await stopAndExpectNothingLeft(t);
      }
      expect((await nftTables()).filter((name) => name.startsWith(`tokenbench_${process.pid}_`))).toEqual([]);
    });

    it('cluster: a shard primary cut from the other nodes is failed over; healed, it rejoins as a replica', async () => {
      const t = await startTopology({ ...options('cluster'), addresses: 'per-node' });
      try {
        const fault = await t.inject({ action: 'partition', target: 'shard-primary:1' });
        expect(fault.sides!.from).toHaveLength(5);
        const promoted = await promotionAfter(t, fault.ns, 'shard 1 replica promoted');
        expect(promoted.node).not.toBe(fault.node);
        await t.heal();
        await demotionOf(t, fault.node, fault.ns);
        await ready(t);
      } finally {
        await stopAndExpectNothingLeft(t);
      }
    });

    it('a client group sends from its own address: cut from the node, its commands time out; healed, they answer', async () => {
      const t = await startTopology({ ...options('single'), addresses: 'per-node' });
      const address = t.clientAddress!(0)!;
      const client = t.client({ localAddress: address, commandTimeout: 300, maxRetriesPerRequest: 0 }) as Redis;
      const outside = t.client() as Redis;
      try {
        expect(await client.ping()).toBe('PONG');
        const fault = await t.inject({ action: 'partition', target: 'client-0', from: 'primary' });
        expect(fault.sides).toMatchObject({ isolated: ['client-0'], from: ['redis-0'] });
        await expect(client.ping()).rejects.toThrow(/timed out/i);
        expect(await outside.ping()).toBe('PONG');
        await t.restoreLinks!(fault.faultId!);
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
        outside.disconnect();
        await stopAndExpectNothingLeft(t);
      }
    });

    it('a network fault without per-node addresses, or on a side with nobody, is one clear error', async () => {
      const shared = await startTopology(options('single'));
      try {
        await expect(shared.inject({ action: 'partition' })).rejects.toThrow(
          /partition primary: network faults need per-node addresses \(topology option addresses: per-node\)/,
        );
      } finally {
        await stopAndExpectNothingLeft(shared);
      }
      const t = await startTopology({ ...options('single'), addresses: 'per-node' });
      try {
        await expect(t.inject({ action: 'partition', target: 'primary' })).rejects.toThrow(/partition primary: nothing on the other side \(rest\)/);
        await expect(t.inject({ action: 'partition', target: 'client-3' })).rejects.toThrow(/no client group 3 sends from its own address/);
      } finally {
        await stopAndExpectNothingLeft(t);
      }
    });
  });
}
