import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { OP_FUNCTIONS, OP_TYPES, PHASES } from '../result/checks.ts';
import { createHelperThreadIds, endedHelperThreads, helperThreadSlot, runningHelperThreads } from './helper-threads.ts';
import type { Op } from './history.ts';
import { HistoryWriter, ThreadedHistoryWriter } from './history-file.ts';
import { encodeOpLine, opLineBound } from './history-line.ts';
import { createRingBuffers, HistoryDrain, type LineSink, RingConsumer, RingProducer, type SpillStore } from './history-ring.ts';
import { seededRandom } from './workload.ts';

function line(op: Op): string {
  const buf = Buffer.alloc(opLineBound(op));
  return buf.subarray(0, encodeOpLine(op, buf, 0)).toString('utf8');
}

/** Ops of every shape: each optional field present or not, odd strings, numbers of every kind. */
function randomOps(count: number, seed: number): Op[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const maybe = () => random() < 0.5;
  const strings = ['w0-user-17', 'qQxAXJcO2xiaIraPtbd32w', 'say "no"', 'back\\slash', 'two\nlines', 'accents éü', 'emoji 🔑', 'lone \ud800', ''];
  const numbers = [0, -0, 7, -7, 0.1 + 0.2, -507.25, 1234.5104660000002, 999_999_999.9999996, 2_000_000_000, 1e12, -3.5e15, Number.NaN];
  const number = () => (random() < 0.5 ? pick(numbers) : (random() - 0.3) * 10 ** Math.floor(random() * 8));
  return Array.from({ length: count }, (_, id) => {
    const op: Op = {
      id,
      f: pick(OP_FUNCTIONS),
      worker: Math.floor(random() * 4),
      phase: pick(PHASES),
      subject: pick(strings),
      intendedMs: number(),
      invokeMs: number(),
      completeMs: number(),
      type: pick(OP_TYPES),
    };
    if (maybe()) op.jti = pick(strings);
    if (maybe()) op.family = pick(strings);
    if (maybe()) op.tokenIssuedMs = number();
    if (maybe()) op.tokenExpiresMs = number();
    if (maybe()) op.accepted = maybe();
    if (maybe()) op.code = pick(strings);
    if (maybe()) op.degraded = maybe();
    if (maybe()) op.replay = maybe();
    if (maybe()) op.replicasAcked = Math.floor(random() * 3);
    if (maybe()) op.replicasRequested = Math.floor(random() * 3);
    if (maybe()) op.ackedByPort = 30_000 + Math.floor(random() * 30_000);
    if (maybe()) op.error = pick(strings);
    if (maybe()) op.probe = maybe();
    return op;
  });
}

/** Lines collected in memory, in chunks as small as the writer thread's are large, to cross chunk edges often. */
function memorySink(bytes = 4096): LineSink & { text(): string } {
  const parts: Buffer[] = [];
  return {
    buffer: Buffer.alloc(bytes),
    used: 0,
    flush() {
      parts.push(Buffer.from(this.buffer.subarray(0, this.used)));
      this.used = 0;
    },
    writeLine: (l) => parts.push(Buffer.from(l)),
    text() {
      this.flush();
      return Buffer.concat(parts).toString('utf8');
    },
  };
}

/** A spill store in memory that counts its use. */
function memoryStore(): SpillStore & { writes: number; clears: number } {
  let bytes = Buffer.alloc(0);
  return {
    writes: 0,
    clears: 0,
    write(from8, from, to, position) {
      this.writes++;
      if (bytes.length < position + (to - from)) bytes = Buffer.concat([bytes, Buffer.alloc(position + (to - from) - bytes.length)]);
      bytes.set(from8.subarray(from, to), position);
    },
    read(into, from, to, position) {
      into.set(bytes.subarray(position, position + (to - from)), from);
    },
    clear() {
      this.clears++;
      bytes = Buffer.alloc(0);
    },
  };
}

/**
 * Appends `ops` in seeded bursts of up to 12, the drain stepping once or twice after each (past an
 * eighth of the ring it copies records out), then closes the ring and drains it to the end.
 */
function appendInBursts(producer: RingProducer, drain: HistoryDrain, ops: readonly Op[], seed: number): void {
  const random = seededRandom(seed);
  for (let i = 0; i < ops.length; ) {
    const burst = 1 + Math.floor(random() * 12);
    for (const op of ops.slice(i, i + burst)) producer.append(op);
    i += burst;
    const steps = 1 + Math.floor(random() * 2);
    for (let k = 0; k < steps; k++) drain.step(0);
  }
  producer.close();
  while (drain.step(0) >= 0);
}

describe('history ring', () => {
  it('gives back, in order, the very line encodeOpLine writes for each op, across many wrap-arounds of a small ring', () => {
    const buffers = createRingBuffers(4096);
    const large: Op[] = [];
    const producer = new RingProducer(buffers, (op) => large.push(op));
    const consumer = new RingConsumer(buffers, () => large.shift()!);
    const sink = memorySink(1024);
    const ops = randomOps(5000, 11);
    let drained = 0;
    // A few ops at a time: a ring this small holds ~20, so its end is crossed every few batches.
    for (let i = 0; i < ops.length; i += 7) {
      for (const op of ops.slice(i, i + 7)) producer.append(op);
      drained += consumer.drain(sink, 0);
    }
    expect(drained).toBe(ops.length);
    expect(sink.text()).toBe(ops.map(line).join(''));
    expect(producer.waits).toBe(0);
  });

  it('sends an op too long for the ring beside it, in its place in the order', () => {
    const buffers = createRingBuffers(4096);
    const large: Op[] = [];
    const producer = new RingProducer(buffers, (op) => large.push(op));
    const consumer = new RingConsumer(buffers, () => large.shift()!);
    const sink = memorySink(1024);
    const ops = randomOps(30, 12);
    ops[10]!.error = 'x'.repeat(70_000);
    ops[11]!.error = 'y'.repeat(300);
    for (const op of ops) {
      producer.append(op);
      consumer.drain(sink, 0);
    }
    expect(sink.text()).toBe(ops.map(line).join(''));
    expect(large).toEqual([]);
  });

  it('copies records out while behind and encodes the copy later, every line in its place, across wrap-arounds and large ops', () => {
    const buffers = createRingBuffers(4096);
    const large: Op[] = [];
    const producer = new RingProducer(buffers, (op) => large.push(op));
    const store = memoryStore();
    const sink = memorySink(1024);
    // A catch-up slice of a few records: the copy is still being encoded when the next burst comes.
    const drain = new HistoryDrain(buffers, () => large.shift()!, store, sink, { catchUpSliceBytes: 300 });
    const ops = randomOps(6000, 17);
    for (const i of [5, 400, 401, 3000]) ops[i]!.error = `${i}:${'e'.repeat(5000)}`;
    // The ring holds ~15 of these ops.
    appendInBursts(producer, drain, ops, 18);
    expect(drain.taken).toBe(ops.length);
    expect(drain.written).toBe(ops.length);
    expect(sink.text()).toBe(ops.map(line).join(''));
    expect(store.writes).toBeGreaterThan(100);
    expect(store.clears).toBeGreaterThan(10);
    expect(large).toEqual([]);
  });
});

describe('history ring: strings sent by number', () => {
  /** Many distinct strings, some too long to be numbered (over 64 code units), some odd, each op's fields drawn from them. */
  function opsOverManyStrings(count: number, seed: number): Op[] {
    const random = seededRandom(seed);
    const strings = Array.from({ length: 300 }, (_, i) =>
      i % 10 === 0 ? `long-${i}-${'x'.repeat(60 + (i % 7))}` : i % 10 === 1 ? `odd "${i}" é\n🔑` : `w0-user-${i}`,
    );
    const pick = () => strings[Math.floor(random() * (random() < 0.8 ? 20 : strings.length))]!;
    return randomOps(count, seed).map((op) => {
      op.subject = pick();
      if (op.jti !== undefined) op.jti = random() < 0.2 ? op.subject : pick();
      if (op.family !== undefined) op.family = pick();
      if (op.code !== undefined) op.code = pick();
      return op;
    });
  }

  it('sends a repeated string once: the same op again takes only its numbers', () => {
    const buffers = createRingBuffers(4096);
    const producer = new RingProducer(buffers, () => {});
    const consumer = new RingConsumer(buffers, () => {
      throw new Error('no large ops here');
    });
    const sink = memorySink();
    const op: Op = {
      id: 1,
      f: 'verify',
      worker: 0,
      phase: 'steady',
      subject: 'w0-user-1',
      jti: 'qQxAXJcO2xiaIraPtbd32w',
      intendedMs: 1,
      invokeMs: 1,
      completeMs: 2,
      type: 'ok',
    };
    producer.append(op);
    const first = consumer.pending;
    consumer.drain(sink, 0);
    producer.append({ ...op, id: 2 });
    // Header and numbers (88 bytes), then a 4-byte number for each string, 8-aligned.
    expect(consumer.pending).toBe(96);
    expect(first).toBeGreaterThan(96 + 2 * ('qQxAXJcO2xiaIraPtbd32w'.length + 'w0-user-1'.length));
    consumer.drain(sink, 0);
    expect(sink.text()).toBe(line(op) + line({ ...op, id: 2 }));
  });

  it('gives back every line when the table starts over often, strings repeat within an op, and some are too long to number', () => {
    const buffers = createRingBuffers(8192);
    const large: Op[] = [];
    // A table of 8: it starts over every few ops, so numbers are reused for other strings.
    const producer = new RingProducer(buffers, (op) => large.push(op), { numberedStrings: 8 });
    const consumer = new RingConsumer(buffers, () => large.shift()!);
    const sink = memorySink(1024);
    const ops = opsOverManyStrings(6000, 21);
    for (let i = 0; i < ops.length; i += 5) {
      for (const op of ops.slice(i, i + 5)) producer.append(op);
      consumer.drain(sink, 0);
    }
    expect(sink.text()).toBe(ops.map(line).join(''));
  });

  it('resolves numbers across the drain and its copy: a string sent in a record one encodes, referred to in a record the other does', () => {
    const buffers = createRingBuffers(8192);
    const large: Op[] = [];
    const producer = new RingProducer(buffers, (op) => large.push(op), { numberedStrings: 64 });
    const store = memoryStore();
    const sink = memorySink(1024);
    const drain = new HistoryDrain(buffers, () => large.shift()!, store, sink, { catchUpSliceBytes: 300 });
    const ops = opsOverManyStrings(6000, 23);
    // Ops of up to ~600 bytes: 12 of them never fill this ring.
    appendInBursts(producer, drain, ops, 24);
    expect(drain.written).toBe(ops.length);
    expect(sink.text()).toBe(ops.map(line).join(''));
    expect(store.writes).toBeGreaterThan(100);
  });
});

describe('ThreadedHistoryWriter', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenbench-ring-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the same file as HistoryWriter, byte for byte, every op flushed on close', async () => {
    const dir = tempDir();
    const ops = randomOps(20_000, 13);
    ops[500]!.error = 'z'.repeat(70_000);
    const threaded = new ThreadedHistoryWriter(join(dir, 'threaded.ndjson'));
    const inThread = new HistoryWriter(join(dir, 'in-thread.ndjson'));
    for (const op of ops) {
      threaded.append(op);
      inThread.append(op);
    }
    await Promise.all([threaded.close(), inThread.close()]);
    // Idempotent, as the runner closes twice.
    await threaded.close();
    const written = readFileSync(threaded.path, 'utf8');
    expect(written.split('\n').length - 1).toBe(ops.length);
    expect(written).toBe(ops.map(line).join(''));
    // HistoryWriter writes a line longer than its buffer with JSON.stringify (times unrounded, the op's
    // key order); the writer thread with encodeOpLine, as every other line: only that line differs.
    const reference = readFileSync(inThread.path, 'utf8').split('\n');
    const lines = written.split('\n');
    expect(lines.length).toBe(reference.length);
    const differing = lines.flatMap((l, i) => (l === reference[i] ? [] : [i]));
    expect(differing).toEqual([500]);
    expect(Object.keys(JSON.parse(lines[500]!)).sort()).toEqual(Object.keys(JSON.parse(reference[500]!)).sort());
  });

  it('says when its thread drains the ring, and settles that too when the file cannot be opened', async () => {
    const writer = new ThreadedHistoryWriter(join(tempDir(), 'h.ndjson'), 4096);
    await writer.started;
    // From here on appends go to a thread that drains: far more than the ring holds goes through.
    for (const op of randomOps(2000, 17)) writer.append(op);
    await writer.close();
    expect(readFileSync(writer.path, 'utf8').split('\n').length - 1).toBe(2000);
    const failing = new ThreadedHistoryWriter(join(tempDir(), 'missing-dir', 'h.ndjson'), 4096);
    await failing.started;
    await expect(failing.close()).rejects.toMatchObject({ code: 'ERR_HISTORY_FILE' });
  });

  it('blocks rather than drops when the writer falls behind: a ring far smaller than the history', async () => {
    const dir = tempDir();
    const ops = randomOps(50_000, 14);
    const writer = new ThreadedHistoryWriter(join(dir, 'h.ndjson'), 4096);
    // The thread is still starting: the ring is full after ~20 ops, and append waits for it.
    for (const op of ops) writer.append(op);
    await writer.close();
    expect(writer.waits).toBeGreaterThan(0);
    expect(readFileSync(writer.path, 'utf8')).toBe(ops.map(line).join(''));
  });

  it('keeps ops too long for the ring in their place, and leaves only the history behind', async () => {
    const dir = tempDir();
    const ops = randomOps(3000, 16);
    for (const i of [0, 999, 1000, 2999]) ops[i]!.error = `${i}:${'e'.repeat(5000)}`;
    const writer = new ThreadedHistoryWriter(join(dir, 'h.ndjson'), 4096);
    for (const op of ops) writer.append(op);
    await writer.close();
    expect(readFileSync(writer.path, 'utf8')).toBe(ops.map(line).join(''));
    expect(readdirSync(dir)).toEqual(['h.ndjson']);
  });

  it('publishes its OS thread id while it runs, and its CPU as it ends, for the footprint', async () => {
    const ids = createHelperThreadIds();
    const writer = new ThreadedHistoryWriter(join(tempDir(), 'h.ndjson'), 4096, helperThreadSlot(ids, 'history writer'));
    // Starting a thread (and, from sources, its TypeScript loader) takes tens of milliseconds, more on a loaded machine.
    const deadline = performance.now() + 20_000;
    if (existsSync('/proc/thread-self')) {
      while (writer.osThreadId === undefined && performance.now() < deadline) await sleep(5);
      expect(writer.osThreadId).toBeGreaterThan(0);
      expect(writer.osThreadId).not.toBe(process.pid);
      expect(existsSync(`/proc/self/task/${writer.osThreadId}/stat`)).toBe(true);
      expect(runningHelperThreads(ids)).toEqual([{ thread: 'history writer', tid: writer.osThreadId }]);
    }
    const tid = writer.osThreadId;
    await writer.close();
    expect(writer.osThreadId).toBeUndefined();
    expect(runningHelperThreads(ids)).toEqual([]);
    if (tid !== undefined) expect(endedHelperThreads(ids)).toEqual([{ thread: 'history writer', tid, finalTicks: expect.any(Number) }]);
  });

  it('a file that cannot be written fails close with the reason, and append does not hang meanwhile', async () => {
    const writer = new ThreadedHistoryWriter(join(tempDir(), 'missing-dir', 'h.ndjson'), 4096);
    for (const op of randomOps(5000, 15)) writer.append(op);
    await expect(writer.close()).rejects.toMatchObject({ code: 'ERR_HISTORY_FILE', message: expect.stringContaining('missing-dir') });
  });
});
