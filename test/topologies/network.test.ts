import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AddressBlock, allocateAddressBlock } from '../../topologies/network/address-block.ts';
import { findLeftoverNetwork, removeLeftoverNetwork } from '../../topologies/network/leftovers.ts';
import { NetworkFaults, networkFaultSupport } from '../../topologies/network/nft.ts';
import { isAlive } from '../../topologies/pids.ts';
import { firstStdoutLine } from '../cli/helpers.ts';

const why = await networkFaultSupport({ delay: true });
const FIXTURE = new URL('../fixtures/network-child.ts', import.meta.url).pathname;
const lockPath = (k: number) => join(tmpdir(), `tokenbench-net-${k}.json`);

async function tables(): Promise<string[]> {
  return (await execa('nft', ['list', 'tables', 'inet'])).stdout
    .split('\n')
    .map((line) => line.replace(/^table inet /, '').trim())
    .filter(Boolean);
}

/** Polls `check` until it holds; the deadline is generous, the poll is fast. */
async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not seen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A UDP socket on `address` that keeps what it receives, in order. */
async function udp(address: string): Promise<{ socket: UdpSocket; port: number; received: string[]; next: () => Promise<string> }> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  const waiters: ((message: string) => void)[] = [];
  socket.on('message', (message) => {
    const text = message.toString();
    const waiter = waiters.shift();
    if (waiter) waiter(text);
    else received.push(text);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return {
    socket,
    port: socket.address().port,
    received,
    next: () => (received.length > 0 ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiters.push(resolve))),
  };
}

const send = (socket: UdpSocket, text: string, port: number, address: string) =>
  new Promise<void>((resolve, reject) => socket.send(text, port, address, (error) => (error ? reject(error) : resolve())));

/** Round trip of one datagram A -> B -> A, in ms. */
async function roundTrip(a: Awaited<ReturnType<typeof udp>>, b: Awaited<ReturnType<typeof udp>>, aAddress: string, bAddress: string): Promise<number> {
  const started = performance.now();
  await send(a.socket, 'ping', b.port, bAddress);
  await b.next();
  await send(b.socket, 'pong', a.port, aAddress);
  await a.next();
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

if (why) {
  console.warn(`SKIPPED: network fault tests: ${why}`);
  it.skip(`network faults (${why})`, () => {});
} else {
  describe('network faults on real sockets', () => {
    let block: AddressBlock;
    let faults: NetworkFaults;
    let A: string;
    let B: string;
    const closers: (() => void)[] = [];

    beforeAll(async () => {
      block = await allocateAddressBlock();
      faults = await NetworkFaults.open(block);
      A = block.node(0);
      B = block.node(1);
    });
    afterEach(async () => {
      for (const close of closers.splice(0)) close();
      for (const id of faults.active) await faults.remove(id);
    });
    afterAll(async () => {
      await faults?.close();
      block?.release();
    });

    async function tcpServer(): Promise<{ server: Server; port: number; data: () => string; connections: Socket[] }> {
      let data = '';
      const connections: Socket[] = [];
      const server = createServer((socket) => {
        connections.push(socket);
        socket.on('data', (chunk) => {
          data += chunk.toString();
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => server.listen(0, B, resolve));
      closers.push(() => {
        for (const c of connections) c.destroy();
        server.close();
      });
      return { server, port: (server.address() as { port: number }).port, data: () => data, connections };
    }

    function connect(port: number): { socket: Socket; connected: Promise<void> } {
      const socket = createConnection({ host: B, port, localAddress: A });
      socket.on('error', () => {});
      closers.push(() => socket.destroy());
      return { socket, connected: new Promise((resolve) => socket.once('connect', () => resolve())) };
    }

    it('a drop both ways stops an established connection and holds back a new one; remove() heals both', async () => {
      const { port, data } = await tcpServer();
      const established = connect(port);
      await established.connected;
      established.socket.write('before;');
      await until('data before the partition', () => data() === 'before;');

      await faults.add('partition', [
        { from: A, to: B, effect: { kind: 'drop' } },
        { from: B, to: A, effect: { kind: 'drop' } },
      ]);
      expect(faults.active).toEqual(['partition']);
      established.socket.write('during;');
      const late = connect(port);
      let lateConnected = false;
      void late.connected.then(() => {
        lateConnected = true;
      });
      // Proving an absence takes a window: 500 ms is over twice loopback's minimum TCP retransmission timeout.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(data()).toBe('before;');
      expect(lateConnected).toBe(false);

      await faults.remove('partition');
      expect(faults.active).toEqual([]);
      await until('the held-back data after the heal', () => data() === 'before;during;', 15_000);
      await late.connected;
    });

    it('a one-way drop blocks only that direction', async () => {
      const a = await udp(A);
      const b = await udp(B);
      closers.push(
        () => a.socket.close(),
        () => b.socket.close(),
      );
      await faults.add('one-way', [{ from: A, to: B, effect: { kind: 'drop' } }]);
      await send(a.socket, 'lost', b.port, B);
      await send(b.socket, 'back', a.port, A);
      expect(await a.next()).toBe('back');
      await faults.remove('one-way');
      await send(a.socket, 'marker', b.port, B);
      // Loopback delivers in order: had 'lost' arrived, it would come first.
      expect(await b.next()).toBe('marker');
    });

    it('overlapping faults compose, and healing one leaves the other exact', async () => {
      const a = await udp(A);
      const b = await udp(B);
      closers.push(
        () => a.socket.close(),
        () => b.socket.close(),
      );
      await faults.add('first', [{ from: A, to: B, effect: { kind: 'drop' } }]);
      await faults.add('second', [{ from: A, to: B, effect: { kind: 'drop' } }]);
      await faults.remove('first');
      await send(a.socket, 'still-lost', b.port, B);
      await faults.remove('second');
      await send(a.socket, 'marker', b.port, B);
      expect(await b.next()).toBe('marker');
    });

    it('loss of 50 % drops about half of 400 datagrams', async () => {
      const a = await udp(A);
      const b = await udp(B);
      closers.push(
        () => a.socket.close(),
        () => b.socket.close(),
      );
      await faults.add('lossy', [{ from: A, to: B, effect: { kind: 'loss', percent: 50 } }]);
      for (let i = 0; i < 400; i++) {
        await send(a.socket, `d${i}`, b.port, B);
        // Let the receiver drain: 400 queued datagrams would overflow its default buffer and count as loss.
        if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
      }
      await faults.remove('lossy');
      await send(a.socket, 'marker', b.port, B);
      let arrived = 0;
      while ((await b.next()) !== 'marker') arrived++;
      console.log(`loss 50 %: ${400 - arrived} of 400 datagrams dropped`);
      expect(arrived).toBeGreaterThan(120);
      expect(arrived).toBeLessThan(280);
    });

    it('a 50 ms delay adds at least 45 ms to a round trip; jitter spreads it', async () => {
      const a = await udp(A);
      const b = await udp(B);
      closers.push(
        () => a.socket.close(),
        () => b.socket.close(),
      );
      const baseline: number[] = [];
      for (let i = 0; i < 5; i++) baseline.push(await roundTrip(a, b, A, B));

      await faults.add('slow', [{ from: A, to: B, effect: { kind: 'delay', delayMs: 50, jitterMs: 0 } }]);
      const delayed: number[] = [];
      for (let i = 0; i < 10; i++) delayed.push(await roundTrip(a, b, A, B));
      expect(Math.min(...delayed)).toBeGreaterThanOrEqual(45);
      await faults.remove('slow');

      await faults.add('jittery', [{ from: A, to: B, effect: { kind: 'delay', delayMs: 20, jitterMs: 40 } }]);
      const jittered: number[] = [];
      for (let i = 0; i < 15; i++) jittered.push(await roundTrip(a, b, A, B));
      await faults.remove('jittery');
      const healed = await roundTrip(a, b, A, B);
      console.log(
        `delay: baseline median ${median(baseline).toFixed(2)} ms; 50 ms delay: min ${Math.min(...delayed).toFixed(1)} median ${median(delayed).toFixed(1)} ms; 20 ms + jitter 40: ${Math.min(...jittered).toFixed(1)}..${Math.max(...jittered).toFixed(1)} ms; healed ${healed.toFixed(2)} ms`,
      );
      expect(Math.min(...jittered)).toBeGreaterThanOrEqual(18);
      expect(Math.max(...jittered) - Math.min(...jittered)).toBeGreaterThan(10);
      expect(healed).toBeLessThan(45);
    });

    it('times add and remove', async () => {
      const adds: number[] = [];
      const removes: number[] = [];
      const rules = [
        { from: A, to: B, effect: { kind: 'drop' } },
        { from: B, to: A, effect: { kind: 'drop' } },
      ] as const;
      for (let i = 0; i < 20; i++) {
        let started = process.hrtime.bigint();
        adds.push(Number((await faults.add(`p${i}`, rules)) - started) / 1e6);
        started = process.hrtime.bigint();
        removes.push(Number((await faults.remove(`p${i}`)) - started) / 1e6);
      }
      const delayAdds: number[] = [];
      const delayRemoves: number[] = [];
      for (let i = 0; i < 20; i++) {
        let started = process.hrtime.bigint();
        delayAdds.push(Number((await faults.add(`d${i}`, [{ from: A, to: B, effect: { kind: 'delay', delayMs: 10, jitterMs: 0 } }])) - started) / 1e6);
        started = process.hrtime.bigint();
        delayRemoves.push(Number((await faults.remove(`d${i}`)) - started) / 1e6);
      }
      console.log(
        `timing over 20: drop add median ${median(adds).toFixed(1)} ms, remove ${median(removes).toFixed(1)} ms; delay add ${median(delayAdds).toFixed(1)} ms, remove ${median(delayRemoves).toFixed(1)} ms`,
      );
      expect(faults.active).toEqual([]);
    });
  });

  describe('network faults leave nothing behind', () => {
    it('two blocks allocated at once get different indexes', async () => {
      const [first, second] = await Promise.all([allocateAddressBlock(), allocateAddressBlock()]);
      try {
        expect(first.index).not.toBe(second.index);
        expect(existsSync(lockPath(first.index))).toBe(true);
      } finally {
        first.release();
        second.release();
        first.release();
      }
      expect(existsSync(lockPath(first.index))).toBe(false);
      expect(existsSync(lockPath(second.index))).toBe(false);
    });

    it('close() deletes the table and stops the holder', async () => {
      const block = await allocateAddressBlock();
      const faults = await NetworkFaults.open(block);
      await faults.add('slow', [{ from: block.node(0), to: block.node(1), effect: { kind: 'delay', delayMs: 5, jitterMs: 0 } }]);
      const holder = faults.holderPid!;
      expect(isAlive(holder)).toBe(true);
      expect(await tables()).toContain(faults.table);
      await faults.close();
      await faults.close();
      block.release();
      expect(await tables()).not.toContain(faults.table);
      expect(isAlive(holder)).toBe(false);
    });

    it('after kill -9 the table and lock are leftovers that removeLeftoverNetwork removes; the holder exits by itself', async () => {
      const child = execa('node', ['--import', 'tsx', FIXTURE, 'hang'], { reject: false });
      const made = JSON.parse(await firstStdoutLine(child)) as { table: string; holderPid: number; index: number };
      child.kill('SIGKILL');
      await child;
      await until('the orphaned holder exits', () => !isAlive(made.holderPid));
      const found = await findLeftoverNetwork();
      expect(found.tables).toContain(made.table);
      expect(found.locks).toContain(lockPath(made.index));
      // Only ours: another run's leftovers on this machine are not this test's to remove.
      await removeLeftoverNetwork({ tables: [made.table], locks: [lockPath(made.index)] });
      expect(await tables()).not.toContain(made.table);
      expect(existsSync(lockPath(made.index))).toBe(false);
    });

    it.each(['exit', 'throw'])('a child that ends by %s leaves no table, lock or holder', async (mode) => {
      const child = execa('node', ['--import', 'tsx', FIXTURE, mode], { reject: false });
      const made = JSON.parse(await firstStdoutLine(child)) as { table: string; holderPid: number; index: number };
      const result = await child;
      expect(result.exitCode).toBe(mode === 'exit' ? 0 : 1);
      expect(await tables()).not.toContain(made.table);
      expect(existsSync(lockPath(made.index))).toBe(false);
      await until('the holder exits', () => !isAlive(made.holderPid));
    });
  });
}
