import type { Cluster, Redis } from 'ioredis';

export interface RedisCost {
  bytesPerEntry: number | null;
  keys: number | null;
  entries: number | null;
}

const SAMPLE_KEYS = 200;

/** How many entries a key holds: one for a string, the members of a set, sorted set or hash. */
async function entriesOf(node: Redis, key: string, type: string): Promise<number> {
  if (type === 'set') return node.scard(key);
  if (type === 'zset') return node.zcard(key);
  if (type === 'hash') return node.hlen(key);
  return 1;
}

/**
 * What the strategy's state costs in Redis: MEMORY USAGE of a sample of its keys divided by the
 * entries (revoked tokens, live tokens, sessions) they hold, and the key count, over every primary.
 */
export async function measureRedisCost(redis: Redis | Cluster, prefix: string): Promise<RedisCost> {
  const nodes: Redis[] = (redis as Cluster).isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  let keys = 0;
  let sampledBytes = 0;
  let sampledEntries = 0;
  let totalEntriesEstimate = 0;
  try {
    for (const node of nodes) {
      const sample: string[] = [];
      let nodeKeys = 0;
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        nodeKeys += batch.length;
        for (const k of batch) if (sample.length < SAMPLE_KEYS) sample.push(k);
      } while (cursor !== '0');
      keys += nodeKeys;
      let nodeBytes = 0;
      let nodeEntries = 0;
      for (const key of sample) {
        const [bytes, type] = await Promise.all([node.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>, node.type(key)]);
        if (bytes === null) continue;
        nodeBytes += bytes;
        nodeEntries += await entriesOf(node, key, type);
      }
      sampledBytes += nodeBytes;
      sampledEntries += nodeEntries;
      // The sample's entries per key, scaled to every key on this node.
      if (sample.length > 0) totalEntriesEstimate += (nodeEntries / sample.length) * nodeKeys;
    }
  } catch {
    return { bytesPerEntry: null, keys: null, entries: null };
  }
  return {
    bytesPerEntry: sampledEntries > 0 ? Math.round((sampledBytes / sampledEntries) * 10) / 10 : null,
    keys,
    entries: sampledEntries > 0 ? Math.round(totalEntriesEstimate) : 0,
  };
}
