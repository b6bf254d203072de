import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientTarget, createClient, type Endpoint } from '../../topologies/client.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';

// Any address of 127.0.0.0/8 is usable as a source on Linux lo without configuration.
const SOURCE = '127.77.201.9';
const DEADLINE_MS = 30_000;

interface ClientEntry {
  id: number;
  addr: string;
  name: string;
}

/** A connection to one node that lists its clients; opened before the client under test, so it is not one of its connections. */
async function lister(endpoint: Endpoint): Promise<{ list(): Promise<ClientEntry[]>; close(): void }> {
  const probe = new Redis({ ...endpoint, lazyConnect: true, maxRetriesPerRequest: 1 });
  await probe.connect();
  return {
    async list() {
      const text = (await probe.client('LIST')) as string;
      return text
        .trim()
        .split('\n')
        .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2) as [string, string])))
        .map((f) => ({ id: Number(f.id), addr: f.addr ?? '', name: f.name ?? '' }));
    },
    close: () => probe.disconnect(),
  };
}

/** The listed node's connections opened after `since` (CLIENT ids only grow), i.e. the client under test's. */
async function connectionsSince(node: Awaited<ReturnType<typeof lister>>, since: number): Promise<ClientEntry[]> {
  return (await node.list()).filter((c) => c.id > since);
}

async function lastId(node: Awaited<ReturnType<typeof lister>>): Promise<number> {
  return Math.max(...(await node.list()).map((c) => c.id));
}

const sourceHost = (addr: string) => addr.slice(0, addr.lastIndexOf(':'));

/**
 * A TCP relay in front of a node that records the source address of every connection it accepts:
 * the only way to see connections that close at once (a sentinel query, a slots refresh), which
 * CLIENT LIST never shows. Listening on 127.0.0.1 only, it sees the kernel's source address.
 */
async function relay(to: Endpoint): Promise<{ endpoint: Endpoint; sources: string[]; close(): Promise<void> }> {
  const sources: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((incoming) => {
    sources.push(incoming.remoteAddress ?? '');
    const outgoing = tcpConnect(to);
    for (const s of [incoming, outgoing]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        incoming.destroy();
        outgoing.destroy();
      });
    }
    incoming.pipe(outgoing).pipe(incoming);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address() as import('node:net').AddressInfo;
  return {
    endpoint: { host: '127.0.0.1', port: address.port },
    sources,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readyOf(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

describe('localAddress: the source address of every connection a client opens', () => {
  it('rejects an address that is not IPv4 loopback, naming the field', () => {
    const target: ClientTarget = { kind: 'single', endpoint: { host: '127.0.0.1', port: 6379 } };
    expect(() => createClient(target, { localAddress: '10.0.0.1' })).toThrow(
      "client.localAddress: expected an IPv4 loopback address (127.0.0.0/8), got '10.0.0.1'",
    );
    expect(() => createClient(target, { localAddress: '127.0.0.256' })).toThrow(/client\.localAddress: expected an IPv4 loopback address/);
    expect(() => createClient(target, { localAddress: '::1' })).toThrow(/client\.localAddress: expected an IPv4 loopback address/);
  });

  describe.sequential('single', () => {
    let t: StartedTopology;
    beforeAll(async () => {
      t = await startTopology({ kind: 'single', backend: 'process' });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('the data connection comes from localAddress; without it, from 127.0.0.1 as before', async () => {
      const target = t.endpoints() as Extract<ClientTarget, { kind: 'single' }>;
      const node = await lister(target.endpoint);
      try {
        for (const [options, expected] of [
          [{ localAddress: SOURCE }, SOURCE],
          [{}, '127.0.0.1'],
        ] as const) {
          const since = await lastId(node);
          const client = createClient(target, options);
          try {
            expect(await client.ping()).toBe('PONG');
            const opened = await connectionsSince(node, since);
            expect(opened.map((c) => sourceHost(c.addr))).toEqual([expected]);
          } finally {
            client.disconnect();
          }
        }
      } finally {
        node.close();
      }
    });
  });

  describe.sequential('sentinel', () => {
    let t: StartedTopology;
    let target: Extract<ClientTarget, { kind: 'sentinel' }>;
    beforeAll(async () => {
      t = await startTopology({ kind: 'sentinel', backend: 'process' });
      target = t.endpoints() as typeof target;
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('failoverDetector: the subscriptions on every sentinel and the data connection on the primary come from localAddress', async () => {
      const [primary] = await t.primaries();
      const nodes = await Promise.all([...target.sentinels, primary!].map(lister));
      try {
        const since = await Promise.all(nodes.map(lastId));
        const client = createClient(target, { localAddress: SOURCE, failoverDetector: true }) as Redis;
        // Only emitted when our connector was given the client as its emitter, as Redis.js does for its own.
        const subscribed = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the client never emitted failoverSubscribed')), DEADLINE_MS);
          client.once('failoverSubscribed', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        try {
          expect(await client.set('from', SOURCE)).toBe('OK');
          await subscribed;
          const opened = await Promise.all(nodes.map((n, i) => connectionsSince(n, since[i]!)));
          const [onPrimary, ...onSentinels] = [opened.at(-1)!, ...opened.slice(0, -1)];
          for (const connections of onSentinels) {
            expect(connections.length).toBeGreaterThan(0);
            expect(connections.map((c) => sourceHost(c.addr))).toEqual(connections.map(() => SOURCE));
          }
          expect(onPrimary.map((c) => sourceHost(c.addr))).toEqual([SOURCE]);
        } finally {
          client.disconnect();
        }
      } finally {
        for (const n of nodes) n.close();
      }
    });

    it('the get-master-addr queries (short-lived, so seen through a relay) come from localAddress', async () => {
      const relays = await Promise.all(target.sentinels.map(relay));
      const client = createClient({ ...target, sentinels: relays.map((r) => r.endpoint) }, { localAddress: SOURCE, failoverDetector: false });
      try {
        expect(await client.ping()).toBe('PONG');
        const sources = relays.flatMap((r) => r.sources);
        expect(sources.length).toBeGreaterThan(0);
        expect(sources).toEqual(sources.map(() => SOURCE));
      } finally {
        client.disconnect();
        await Promise.all(relays.map((r) => r.close()));
      }
    });

    it('without localAddress, the primary sees 127.0.0.1 as before', async () => {
      const [primary] = await t.primaries();
      const node = await lister(primary!);
      try {
        const since = await lastId(node);
        const client = createClient(target, { failoverDetector: false });
        try {
          await client.ping();
          expect((await connectionsSince(node, since)).map((c) => sourceHost(c.addr))).toEqual(['127.0.0.1']);
        } finally {
          client.disconnect();
        }
      } finally {
        node.close();
      }
    });
  });

  describe.sequential('cluster', () => {
    let t: StartedTopology;
    beforeAll(async () => {
      t = await startTopology({ kind: 'cluster', backend: 'process' });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('every node connection and the slots refresh come from localAddress', async () => {
      const target = t.endpoints() as Extract<ClientTarget, { kind: 'cluster' }>;
      const primaries = await t.primaries();
      const nodes = await Promise.all(primaries.map(lister));
      // The startup node behind a relay: the first slots refresh goes through it.
      const startup = await relay(target.nodes[0]!);
      try {
        const since = await Promise.all(nodes.map(lastId));
        const client = createClient({ ...target, nodes: [startup.endpoint] }, { localAddress: SOURCE }) as Cluster;
        try {
          await readyOf(client);
          // Node connections are lazy: one command on each primary opens them all.
          await Promise.all(client.nodes('master').map((n) => n.ping()));
          await client.set('k', 'v');
          let opened: ClientEntry[][] = [];
          await waitUntil('a connection on every primary', async () => {
            opened = await Promise.all(nodes.map((n, i) => connectionsSince(n, since[i]!)));
            return opened.every((c) => c.length > 0);
          });
          for (const connections of opened) expect(connections.map((c) => sourceHost(c.addr))).toEqual(connections.map(() => SOURCE));
          expect(startup.sources.length).toBeGreaterThan(0);
          expect(startup.sources).toEqual(startup.sources.map(() => SOURCE));
        } finally {
          client.disconnect();
        }
      } finally {
        for (const n of nodes) n.close();
        await startup.close();
      }
    });
  });
});
