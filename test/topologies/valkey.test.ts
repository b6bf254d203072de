import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyOptionsInput } from '../../topologies/options.ts';
import { which } from '../../topologies/process/redis-binary.ts';
import { parseInfo } from '../../topologies/redis/replies.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import { demotionOf, EVENT_DEADLINE_MS, promotionAfter, ready, replicaLinkUp, roundTrip, stopAndExpectNothingLeft, waitForEvent } from './suite.ts';

/**
 * The process backend's topologies on Valkey: readiness (INFO and ROLE as Valkey words them), a
 * Sentinel failover and a Cluster failover, restart and pause. A subset of topologySuite, which
 * passed whole on Valkey 8.0.1 by hand: the steps that wait out Sentinel's 10 s INFO period
 * (restart, pause, graceful failover of a sentinel topology) would cost a minute of CI here.
 */
const VALKEY = 'valkey-server';
const missing = which(VALKEY) === undefined;
if (missing) console.warn(`SKIPPED: the Valkey topology tests (${VALKEY} is not on PATH; on Debian 12 scripts/install-valkey.sh installs it)`);

const onValkey = (kind: 'sentinel' | 'cluster'): TopologyOptionsInput => ({ kind, backend: 'process', redisServer: VALKEY });

async function serverInfo(t: StartedTopology, nodeId: string): Promise<Record<string, string>> {
  const node = t.nodes().find((n) => n.id === nodeId)!;
  const { Redis } = await import('ioredis');
  const probe = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await probe.connect();
    return parseInfo(await probe.info('server'));
  } finally {
    probe.disconnect();
  }
}

describe.skipIf(missing).sequential('valkey: sentinel', () => {
  let t: StartedTopology;
  beforeAll(async () => {
    t = await startTopology(onValkey('sentinel'));
  });
  afterAll(async () => {
    if (t) await stopAndExpectNothingLeft(t);
  });

  it('is ready: every node is Valkey (sentinels too), sentinels agree, replicas say role:slave and are linked', async () => {
    expect(await serverInfo(t, 'redis-0')).toMatchObject({ server_name: 'valkey', server_mode: 'standalone', valkey_version: expect.stringMatching(/^\d+\./) });
    expect(await serverInfo(t, 'sentinel-0')).toMatchObject({ server_name: 'valkey', server_mode: 'sentinel' });
    expect((await t.primaries()).map((n) => n.id)).toEqual(['redis-0']);
    for (const id of ['redis-1', 'redis-2']) expect(await replicaLinkUp(t, id)).toMatchObject({ role: 'slave', master_link_status: 'up' });
    expect(await roundTrip(t, 'k')).toBe('v');
  });

  it('kill -9 of the primary: a replica is promoted, the sentinels say +sdown, +odown, +switch-master', async () => {
    const fault = await t.inject({ action: 'kill', target: 'primary' });
    expect(fault.node).toBe('redis-0');
    const promoted = await promotionAfter(t, fault.ns);
    const switched = await waitForEvent(t, '+switch-master', (e) => e.type === '+switch-master', EVENT_DEADLINE_MS, fault.ns);
    expect(switched.node).toBe(promoted.node);
    const events = t.eventLog
      .snapshot()
      .filter((e) => e.ns >= fault.ns)
      .map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['+sdown', '+odown']));
    await t.waitUntilReady(EVENT_DEADLINE_MS);
    expect((await t.primaries()).map((n) => n.id)).toEqual([promoted.node]);
    expect(await roundTrip(t, 'after-failover')).toBe('v');
  });
});

describe.skipIf(missing).sequential('valkey: cluster', () => {
  let t: StartedTopology;
  beforeAll(async () => {
    t = await startTopology(onValkey('cluster'));
  });
  afterAll(async () => {
    if (t) await stopAndExpectNothingLeft(t);
  });

  it('is ready: 3 shards x 1 replica, cluster_state:ok, keys routed', async () => {
    expect(await serverInfo(t, 'redis-0')).toMatchObject({ server_name: 'valkey', server_mode: 'cluster' });
    expect(
      t
        .nodes()
        .filter((n) => n.role === 'primary')
        .map((n) => n.shard)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(await replicaLinkUp(t, 'redis-3')).toMatchObject({ role: 'slave', master_link_status: 'up' });
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
    expect((await promotionAfter(t, fault.ns, 'redis-4 promoted')).node).toBe('redis-4');
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
    expect((await promotionAfter(t, fault.ns, 'redis-3 promoted')).node).toBe('redis-3');
    const resumed = await t.inject({ action: 'resume' });
    await demotionOf(t, 'redis-0', resumed.ns);
    await ready(t);
  });
});
