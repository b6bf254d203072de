import { describe, expect, it } from 'vitest';
import { CLUSTER_SLOTS, slotRanges } from '../../topologies/owned/cluster.ts';
import { compareVersions, parseServerVersion } from '../../topologies/process/redis-binary.ts';
import { pairsToObject, parseClusterNodes, parseInfo } from '../../topologies/redis/replies.ts';

describe('CLUSTER NODES parsing', () => {
  const text = [
    'e7d1eec 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460',
    '67ed2db 127.0.0.1:30002@40002 master,fail - 0 1 2 disconnected 5461-10922 [10923->-abc]',
    '292f8b3 127.0.0.1:30004@40004 slave e7d1eec 0 1 1 connected',
    '',
  ].join('\n');

  it('reads id, port, flags, primary and slot ranges', () => {
    const [a, b, c] = parseClusterNodes(text);
    expect(a).toEqual({
      id: 'e7d1eec',
      host: '127.0.0.1',
      port: 30001,
      flags: ['myself', 'master'],
      primaryId: undefined,
      linkState: 'connected',
      slots: [[0, 5460]],
    });
    expect(b!.flags).toContain('fail');
    expect(b!.slots).toEqual([[5461, 10922]]); // migrating markers are not owned slots
    expect(c!.primaryId).toBe('e7d1eec');
  });

  it('reads IPv6 addresses and announced hostnames', () => {
    const [v6, named] = parseClusterNodes('a1 ::1:7000@17000 master - 0 0 1 connected 0-1\nb2 10.0.0.5:7001@17001,redis-b.local slave a1 0 0 1 connected\n');
    expect(v6).toMatchObject({ host: '::1', port: 7000 });
    expect(named).toMatchObject({ host: '10.0.0.5', port: 7001 });
  });
});

describe('slot ranges', () => {
  it('cover every slot once', () => {
    for (const shards of [3, 4, 5, 7]) {
      const ranges = slotRanges(shards);
      expect(ranges[0]![0]).toBe(0);
      expect(ranges.at(-1)![1]).toBe(CLUSTER_SLOTS - 1);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1);
    }
    expect(slotRanges(3)).toEqual([
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ]);
  });
});

describe('INFO and RESP2 pairs', () => {
  it('parses INFO sections', () => {
    expect(parseInfo('# Replication\r\nrole:slave\r\nmaster_port:6379\r\nmaster_link_status:up\r\n')).toEqual({
      role: 'slave',
      master_port: '6379',
      master_link_status: 'up',
    });
  });
  it('turns [k, v, k, v] into an object', () => {
    expect(pairsToObject(['name', 'x', 'port', '1'])).toEqual({ name: 'x', port: '1' });
  });
});

describe('server versions', () => {
  it('reads Redis and Valkey', () => {
    expect(parseServerVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0')).toEqual({
      flavor: 'redis',
      version: '7.0.15',
    });
    expect(parseServerVersion('Valkey server v=8.0.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1')).toEqual({ flavor: 'valkey', version: '8.0.1' });
    expect(parseServerVersion('nope')).toBeUndefined();
  });
  it('compares versions numerically', () => {
    expect(compareVersions('6.2.0', '6.10.0')).toBe(-1);
    expect(compareVersions('7.0.15', '6.2.0')).toBe(1);
    expect(compareVersions('6.2', '6.2.0')).toBe(0);
  });
});
