import { OP_FUNCTIONS, OP_TYPES, PHASES } from '../result/checks.ts';
import type { Op } from './history.ts';
import {
  type ConstantRun,
  constantRun,
  encodeOpLine,
  enumRuns,
  FALSE_BYTES,
  K,
  lineBound,
  num,
  opLineBound,
  putRun,
  strUnits,
  TRUE_BYTES,
} from './history-line.ts';

/**
 * Ops handed from the load engine to the history writer thread (history-writer-worker.ts) as binary
 * records in a single-producer single-consumer ring in a SharedArrayBuffer. Writing a record costs the
 * engine a few stores (numbers as float64, strings as UTF-16 code units, or as a number once sent);
 * the JSON line is encoded and written by the other thread (HistoryDrain). The record is a
 * transport, not a file format: the history on disk is the NDJSON it always was.
 *
 * Positions are byte counts since the start, kept as int32 that wrap at 2^32: with a power-of-two
 * capacity `position & (capacity - 1)` is the offset and `(head - tail) >>> 0` the bytes in use.
 * A record never straddles the end: a WRAP header fills the rest and the record starts at 0.
 */

/** Int32 slots of the control block. */
const HEAD = 0;
const TAIL = 1;
/** The producer will write no more: the consumer drains what is left and stops. */
const CLOSED = 2;
/** Set by a side before it waits, so the other side notifies only when someone sleeps. */
const CONSUMER_SLEEPING = 3;
const PRODUCER_WAITING = 4;
/** Set by the consumer when it failed (its error goes to the writer's owner by message). */
const FAILED = 5;
const CONTROL_SLOTS = 8;

/** Record header, two uint32: the record's length in bytes (8-aligned, header included) and its flag bits. */
const HEADER_BYTES = 8;
/** A header with this length: the rest of the ring up to its end is padding. */
const WRAP = 0;
/** A header with this length: the op is too long for the ring and comes by message (see `RingProducer`). */
const OUT_OF_BAND = 1;
/** Numbers of an op, as float64 after the header; absent optional ones are flagged, not written differently. */
const NUMBERS = 10;
const STRINGS_AT = HEADER_BYTES + NUMBERS * 8;

/** Flag bits: the enums as indexes (3 bits each), then one bit per optional field, and the booleans' values. */
const F_SHIFT = 0;
const PHASE_SHIFT = 3;
const TYPE_SHIFT = 6;
const ENUM_MASK = 0b111;
const HAS_JTI = 1 << 9;
const HAS_FAMILY = 1 << 10;
const HAS_TOKEN_ISSUED = 1 << 11;
const HAS_TOKEN_EXPIRES = 1 << 12;
const HAS_ACCEPTED = 1 << 13;
const ACCEPTED = 1 << 14;
const HAS_CODE = 1 << 15;
const HAS_DEGRADED = 1 << 16;
const DEGRADED = 1 << 17;
const HAS_REPLAY = 1 << 18;
const REPLAY = 1 << 19;
const HAS_REPLICAS_ACKED = 1 << 20;
const HAS_REPLICAS_REQUESTED = 1 << 21;
const HAS_ACKED_BY_PORT = 1 << 22;
const HAS_ERROR = 1 << 23;
const HAS_PROBE = 1 << 24;
const PROBE = 1 << 25;

const F_INDEX = new Map<string, number>(OP_FUNCTIONS.map((f, i) => [f, i]));
const PHASE_INDEX = new Map<string, number>(PHASES.map((p, i) => [p, i]));
const TYPE_INDEX = new Map<string, number>(OP_TYPES.map((t, i) => [t, i]));

/**
 * 16 MiB: ~170,000 verifies (96 bytes each once their strings are numbered); seconds at a real
 * run's rate, ~0.1 s at the no-op ceiling. 4 MiB made the engine wait for the writer whenever a
 * loaded 2-core machine took the writer's core for a time slice.
 */
export const DEFAULT_RING_BYTES = 16 * 1024 * 1024;
/** How far the producer writes between two looks at whether the consumer needs waking (~680 verifies). */
const WAKE_CHECK_BYTES = 65_536;
/** Ops whose record would be larger (a very long error message) go by message instead. */
const LARGEST_RECORD_SHARE = 16;

/** What both threads need: the control block and the ring's bytes. Goes to the writer thread in workerData. */
export interface RingBuffers {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export function createRingBuffers(bytes = DEFAULT_RING_BYTES): RingBuffers {
  if (bytes < 4096 || (bytes & (bytes - 1)) !== 0) throw new RangeError(`ring size must be a power of two >= 4096, got ${bytes}`);
  return { control: new SharedArrayBuffer(CONTROL_SLOTS * 4), data: new SharedArrayBuffer(bytes) };
}

/**
 * The subject, jti, family and code repeat from op to op (a session's verifies): each is sent once,
 * with a number, and then by that number alone. Copying their code units was a third of the
 * engine's own work per op (~0.4 of ~1.2 us per no-op verify, with the 22-character jtis every
 * strategy issues). The error is sent whole: it is often unique. A string slot starts with one uint32:
 * - below REF: its length; that many code units follow (a string too long to be numbered, or an error);
 * - REF | n: the string sent before as number n;
 * - DEFINE | n: the string numbered n from now on follows, as a length and code units.
 */
const REF = 0x4000_0000;
const DEFINE = 0x8000_0000;
const NUMBER_MASK = 0x3fff_ffff;
/** Longer strings are copied each time: the table keeps what it numbered alive, on both sides. */
const MAX_NUMBERED_UNITS = 64;
/** Numbered strings in a record, at most: subject, jti, family, code. */
const NUMBERED_PER_RECORD = 4;
/** What a record's numbered strings add to its line beyond its own code units, at most. */
const NUMBERED_UNITS = NUMBERED_PER_RECORD * MAX_NUMBERED_UNITS;
/**
 * Then the producer starts over from 0, each string sent again once; the consumer's slots are
 * overwritten as they come. The table keeps its strings alive (~80 bytes each with its entry): this
 * bounds that at ~1.3 MB, a few times what 1,000 users' subjects and live jtis need, while a run
 * that issues 1,000 tokens a second starts over every ~16 s.
 */
export const DEFAULT_NUMBERED_STRINGS = 16_384;

/** Strings need 4 bytes of length and 2 per UTF-16 code unit, kept 4-aligned. */
function stringBytes(s: string): number {
  return 4 + ((s.length * 2 + 3) & ~3);
}

/** A numbered field's slot: 4 bytes once sent (`number` >= 0), else its string with its number, or without one when too long. */
function numberedBytes(s: string, number: number): number {
  if (number >= 0) return 4;
  return s.length > MAX_NUMBERED_UNITS ? stringBytes(s) : 4 + stringBytes(s);
}

/**
 * The engine's side. `append` never drops an op: when the writer has fallen a whole ring behind, it
 * blocks (Atomics.wait, in 50 ms slices) until the writer has made room, so memory stays bounded and a
 * writer that cannot keep up shows as a lower rate rather than as a growing heap.
 */
export class RingProducer {
  readonly #control: Int32Array;
  readonly #bytes: number;
  readonly #mask: number;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #f64: Float64Array;
  /** Ops that go by message, and how they are sent: the consumer reads them when it meets their header. */
  readonly #sendLarge: (op: Op) => void;
  #head = 0;
  /** The consumer's position as last read: refreshed only when the ring looks full. */
  #tail = 0;
  /** Notify the consumer once the ring is this full (below it, it wakes on its own poll). */
  readonly #wakeAt: number;
  /** Where #publish last looked whether to wake the consumer, and how far apart it looks. */
  #checkedAt = 0;
  readonly #checkEvery: number;
  /** How often append had to wait for the writer. */
  waits = 0;
  #lastF = '';
  #lastPhase = '';
  #lastType = '';
  #lastEnumBits = 0;
  /** The strings sent by number (see REF), and the next number. */
  readonly #numbers = new Map<string, number>();
  #nextNumber = 0;
  readonly #numberedStrings: number;

  /** `numberedStrings`: for tests, a small table, so that it starts over often. */
  constructor(buffers: RingBuffers, sendLarge: (op: Op) => void, { numberedStrings = DEFAULT_NUMBERED_STRINGS } = {}) {
    this.#control = new Int32Array(buffers.control);
    this.#bytes = buffers.data.byteLength;
    this.#mask = this.#bytes - 1;
    this.#u32 = new Uint32Array(buffers.data);
    this.#u16 = new Uint16Array(buffers.data);
    this.#f64 = new Float64Array(buffers.data);
    this.#sendLarge = sendLarge;
    this.#wakeAt = this.#bytes / 4;
    this.#checkEvery = Math.min(WAKE_CHECK_BYTES, this.#wakeAt / 4);
    this.#numberedStrings = Math.max(numberedStrings, NUMBERED_PER_RECORD);
  }

  get failed(): boolean {
    return Atomics.load(this.#control, FAILED) !== 0;
  }

  append(op: Op): void {
    // Starting over only between records: a record's numbers were all looked up before any is given.
    if (this.#nextNumber > this.#numberedStrings - NUMBERED_PER_RECORD) {
      this.#numbers.clear();
      this.#nextNumber = 0;
    }
    const subject = this.#numberOf(op.subject);
    const jti = op.jti === undefined ? -1 : this.#numberOf(op.jti);
    const family = op.family === undefined ? -1 : this.#numberOf(op.family);
    const code = op.code === undefined ? -1 : this.#numberOf(op.code);
    let size = STRINGS_AT + numberedBytes(op.subject, subject);
    if (op.jti !== undefined) size += numberedBytes(op.jti, jti);
    if (op.family !== undefined) size += numberedBytes(op.family, family);
    if (op.code !== undefined) size += numberedBytes(op.code, code);
    if (op.error !== undefined) size += stringBytes(op.error);
    size = (size + 7) & ~7;
    if (size > this.#bytes / LARGEST_RECORD_SHARE) {
      // Sent before its header is published, so it is there when the consumer meets the header.
      this.#sendLarge(op);
      const at = this.#reserve(HEADER_BYTES);
      if (at < 0) return;
      this.#u32[at >>> 2] = OUT_OF_BAND;
      this.#publish(HEADER_BYTES);
      return;
    }
    const at = this.#reserve(size);
    if (at < 0) return;
    const u32 = this.#u32;
    const f64 = this.#f64;
    const w = at >>> 2;
    const d = at >>> 3;
    let flags = this.#enumBits(op);
    f64[d + 1] = op.id;
    f64[d + 2] = op.worker;
    f64[d + 3] = op.intendedMs;
    f64[d + 4] = op.invokeMs;
    f64[d + 5] = op.completeMs;
    if (op.tokenIssuedMs !== undefined) {
      flags |= HAS_TOKEN_ISSUED;
      f64[d + 6] = op.tokenIssuedMs;
    }
    if (op.tokenExpiresMs !== undefined) {
      flags |= HAS_TOKEN_EXPIRES;
      f64[d + 7] = op.tokenExpiresMs;
    }
    if (op.replicasAcked !== undefined) {
      flags |= HAS_REPLICAS_ACKED;
      f64[d + 8] = op.replicasAcked;
    }
    if (op.replicasRequested !== undefined) {
      flags |= HAS_REPLICAS_REQUESTED;
      f64[d + 9] = op.replicasRequested;
    }
    if (op.ackedByPort !== undefined) {
      flags |= HAS_ACKED_BY_PORT;
      f64[d + 10] = op.ackedByPort;
    }
    if (op.accepted !== undefined) flags |= op.accepted ? HAS_ACCEPTED | ACCEPTED : HAS_ACCEPTED;
    if (op.degraded !== undefined) flags |= op.degraded ? HAS_DEGRADED | DEGRADED : HAS_DEGRADED;
    if (op.replay !== undefined) flags |= op.replay ? HAS_REPLAY | REPLAY : HAS_REPLAY;
    if (op.probe !== undefined) flags |= op.probe ? HAS_PROBE | PROBE : HAS_PROBE;
    let s = at + STRINGS_AT;
    s = this.#numbered(s, op.subject, subject);
    if (op.jti !== undefined) {
      flags |= HAS_JTI;
      s = this.#numbered(s, op.jti, jti);
    }
    if (op.family !== undefined) {
      flags |= HAS_FAMILY;
      s = this.#numbered(s, op.family, family);
    }
    if (op.code !== undefined) {
      flags |= HAS_CODE;
      s = this.#numbered(s, op.code, code);
    }
    if (op.error !== undefined) {
      flags |= HAS_ERROR;
      this.#string(s, op.error);
    }
    u32[w] = size;
    u32[w + 1] = flags;
    this.#publish(size);
  }

  /**
   * The enums' flag bits, kept from the last op while its function, phase and type stay the same:
   * three comparisons of the same strings where three map lookups were a tenth of `append`.
   */
  #enumBits(op: Op): number {
    if (op.f !== this.#lastF || op.phase !== this.#lastPhase || op.type !== this.#lastType) {
      this.#lastF = op.f;
      this.#lastPhase = op.phase;
      this.#lastType = op.type;
      this.#lastEnumBits = (F_INDEX.get(op.f)! << F_SHIFT) | (PHASE_INDEX.get(op.phase)! << PHASE_SHIFT) | (TYPE_INDEX.get(op.type)! << TYPE_SHIFT);
    }
    return this.#lastEnumBits;
  }

  #numberOf(s: string): number {
    return this.#numbers.get(s) ?? -1;
  }

  /** A numbered field's slot (see REF): `number` from #numberOf, -1 when not sent yet. */
  #numbered(at: number, s: string, number: number): number {
    if (number >= 0) {
      this.#u32[at >>> 2] = REF | number;
      return at + 4;
    }
    if (s.length > MAX_NUMBERED_UNITS) return this.#string(at, s);
    const fresh = this.#nextNumber++;
    this.#numbers.set(s, fresh);
    this.#u32[at >>> 2] = DEFINE | fresh;
    return this.#string(at + 4, s);
  }

  /** `s` as its length and its code units. */
  #string(at: number, s: string): number {
    const n = s.length;
    this.#u32[at >>> 2] = n;
    const u16 = this.#u16;
    const c = (at + 4) >>> 1;
    for (let i = 0; i < n; i++) u16[c + i] = s.charCodeAt(i);
    return at + stringBytes(s);
  }

  /** The offset where `size` bytes may be written, waiting for room if need be; -1: the writer failed (its error surfaces at close). */
  #reserve(size: number): number {
    let offset = this.#head & this.#mask;
    const padding = offset + size > this.#bytes ? this.#bytes - offset : 0;
    const need = padding + size;
    if (this.#bytes - ((this.#head - this.#tail) >>> 0) < need) {
      this.#tail = Atomics.load(this.#control, TAIL);
      while (this.#bytes - ((this.#head - this.#tail) >>> 0) < need) {
        if (this.failed) return -1;
        this.waits++;
        Atomics.store(this.#control, PRODUCER_WAITING, 1);
        this.#wakeConsumer();
        Atomics.wait(this.#control, TAIL, this.#tail, 50);
        Atomics.store(this.#control, PRODUCER_WAITING, 0);
        this.#tail = Atomics.load(this.#control, TAIL);
      }
    }
    if (padding > 0) {
      this.#u32[offset >>> 2] = WRAP;
      this.#head = (this.#head + padding) | 0;
      offset = 0;
    }
    return offset;
  }

  #publish(size: number): void {
    this.#head = (this.#head + size) | 0;
    Atomics.store(this.#control, HEAD, this.#head);
    // Looked at once per #checkEvery bytes: while the writer lags past #wakeAt, a look per op (the
    // consumer's position and its sleeping flag, two builtin calls) was a twentieth of the engine's own work.
    if ((this.#head - this.#checkedAt) >>> 0 >= this.#checkEvery && (this.#head - this.#tail) >>> 0 >= this.#wakeAt) {
      this.#checkedAt = this.#head;
      this.#tail = Atomics.load(this.#control, TAIL);
      if ((this.#head - this.#tail) >>> 0 >= this.#wakeAt) this.#wakeConsumer();
    }
  }

  #wakeConsumer(): void {
    if (Atomics.load(this.#control, CONSUMER_SLEEPING) !== 0) Atomics.notify(this.#control, HEAD);
  }

  /** No more ops: the consumer drains the ring and stops. */
  close(): void {
    Atomics.store(this.#control, CLOSED, 1);
    Atomics.notify(this.#control, HEAD);
  }
}

/** Where the consumer puts lines: a chunk buffer it fills from `used`, and the writes behind it. */
export interface LineSink {
  buffer: Buffer;
  used: number;
  /** Writes buffer[0, used) and sets `used` to 0. */
  flush(): void;
  /** A line longer than the buffer, written on its own (the buffer was flushed just before). */
  writeLine(line: Buffer): void;
}

/** The constant runs of a line with the enums in them: `,"f":"verify","worker":` and so on. */
const F_RUNS = enumRuns(K.f, OP_FUNCTIONS, K.worker).map(constantRun);
const PHASE_RUNS = enumRuns(K.phase, PHASES, K.subject).map(constantRun);
const TYPE_RUNS = enumRuns(K.type, OP_TYPES).map(constantRun);
/** A boolean field's key and value together: [false, true]. */
const booleanRuns = (key: Uint8Array) => [FALSE_BYTES, TRUE_BYTES].map((value) => constantRun(Uint8Array.from([...key, ...value])));
const ACCEPTED_RUNS = booleanRuns(K.accepted);
const DEGRADED_RUNS = booleanRuns(K.degraded);
const REPLAY_RUNS = booleanRuns(K.replay);
const PROBE_RUNS = booleanRuns(K.probe);
/** The other keys, each a run of its own. */
const R = Object.fromEntries(Object.entries(K).map(([name, bytes]) => [name, constantRun(bytes)])) as { [name in keyof typeof K]: ConstantRun };
/** The longest enum values' code units together, for the line's bound. */
const ENUM_UNITS = Math.max(...OP_FUNCTIONS.map((f) => f.length)) + Math.max(...PHASES.map((p) => p.length)) + Math.max(...OP_TYPES.map((t) => t.length));

/**
 * Where the consumer copies the ring during a run: its bytes appended in order, just as they lay in
 * it (padding included, so that a file offset modulo the ring's size is where the byte was).
 */
interface SpillSink {
  /** Appends bytes[from, to) of the ring. */
  write(bytes: Uint8Array, from: number, to: number): void;
  /** An op too long for the ring, in its place in the order (its header is among the bytes). */
  large(op: Op): void;
}

/** How far the consumer reads before it hands the room back: a producer waiting for it resumes sooner. */
const FREE_EVERY_BYTES = 65_536;

/**
 * The writer thread's side: turns records back into the NDJSON lines `encodeOpLine` writes for the
 * same op (history-line.ts: the same keys, number format and string escaping, byte for byte),
 * straight from the shared bytes, with no op object in between (`drain`); or, while it is behind,
 * copies them out as they are (`spill`), to be encoded later from the copy (`encodeRecords`).
 */
export class RingConsumer {
  readonly #control: Int32Array;
  readonly #bytes: number;
  readonly #mask: number;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #f64: Float64Array;
  readonly #receiveLarge: () => Op;
  #tail = 0;
  /** Ops `encodeRecords` has written. */
  encoded = 0;
  /** The numbered strings' JSON (quotes and escapes included), by number (see REF). */
  readonly #numbered: Uint8Array[];
  /** Where the slot #slot read last ends. */
  #slotEnd = 0;

  /** `numbered`: shared by consumers that take the records of one ring in turn (HistoryDrain's two). */
  constructor(buffers: RingBuffers, receiveLarge: () => Op, numbered: Uint8Array[] = []) {
    this.#control = new Int32Array(buffers.control);
    this.#bytes = buffers.data.byteLength;
    this.#mask = this.#bytes - 1;
    this.#u8 = new Uint8Array(buffers.data);
    this.#u32 = new Uint32Array(buffers.data);
    this.#u16 = new Uint16Array(buffers.data);
    this.#f64 = new Float64Array(buffers.data);
    this.#receiveLarge = receiveLarge;
    this.#numbered = numbered;
  }

  /**
   * Writes the line of every op published so far into `sink`, in the order appended, freeing the
   * ring as it goes; returns how many. `idleMs`: when there is none, wait up to this long first.
   */
  drain(sink: LineSink, idleMs: number): number {
    let head = Atomics.load(this.#control, HEAD);
    if (head === this.#tail && idleMs > 0 && Atomics.load(this.#control, CLOSED) === 0) {
      Atomics.store(this.#control, CONSUMER_SLEEPING, 1);
      Atomics.wait(this.#control, HEAD, this.#tail, idleMs);
      Atomics.store(this.#control, CONSUMER_SLEEPING, 0);
      head = Atomics.load(this.#control, HEAD);
    }
    let count = 0;
    // Room is handed back every 64 KiB, not only at the end: a producer waiting for it resumes sooner.
    // Through one call site, the loop's, at the end too: a loop this long is compiled on the stack
    // (OSR) before its exit has ever run, and a second site after the loop, with no type feedback
    // yet, threw the compiled code away at every call's end (~1,900 deopts in a 1.5 s run).
    let freedAt = this.#tail;
    for (;;) {
      const ended = this.#tail === head;
      if (ended || (this.#tail - freedAt) >>> 0 >= FREE_EVERY_BYTES) {
        this.#free();
        freedAt = this.#tail;
        if (ended) return count;
      }
      const at = this.#tail & this.#mask;
      const size = this.#u32[at >>> 2]!;
      if (size === WRAP) {
        this.#tail = (this.#tail + (this.#bytes - at)) | 0;
        continue;
      }
      if (size === OUT_OF_BAND) {
        const op = this.#receiveLarge();
        this.#line(sink, opLineBound(op), (buf, a) => encodeOpLine(op, buf, a));
        this.#tail = (this.#tail + HEADER_BYTES) | 0;
      } else {
        // Strings take 2 bytes per code unit in the record: half its size bounds their units.
        const bound = lineBound((size >>> 1) + ENUM_UNITS + NUMBERED_UNITS);
        if (sink.used + bound <= sink.buffer.length) sink.used = this.#encode(at, sink.buffer, sink.used);
        else this.#line(sink, bound, (buf, a) => this.#encode(at, buf, a));
        this.#tail = (this.#tail + size) | 0;
      }
      count++;
    }
  }

  /** Bytes published and not yet taken. */
  get pending(): number {
    return (Atomics.load(this.#control, HEAD) - this.#tail) >>> 0;
  }

  /** Where the next record will be read, as an offset in the ring. */
  get tailOffset(): number {
    return this.#tail & this.#mask;
  }

  /**
   * Copies every record published so far into `out`, in the order appended, freeing the ring as it
   * goes; returns how many ops.
   */
  spill(out: SpillSink): number {
    const head = Atomics.load(this.#control, HEAD);
    let count = 0;
    let from = this.#tail;
    // One call site for the copy, the loop's, at the end too: a loop this long is compiled on the
    // stack (OSR) before its exit has ever run, and a second site after the loop, with no type
    // feedback yet, threw the compiled code away at every call's end (~1,900 deopts in a 1.5 s run).
    for (;;) {
      const ended = this.#tail === head;
      // A copy never crosses the ring's end: it stops there, and every 64 KiB.
      if (ended || (this.#tail & this.#mask) === 0 || (this.#tail - from) >>> 0 >= FREE_EVERY_BYTES) {
        this.#copy(out, from);
        from = this.#tail;
        if (ended) return count;
      }
      const at = this.#tail & this.#mask;
      const size = this.#u32[at >>> 2]!;
      if (size === WRAP) {
        this.#tail = (this.#tail + (this.#bytes - at)) | 0;
        continue;
      }
      if (size === OUT_OF_BAND) {
        out.large(this.#receiveLarge());
        this.#tail = (this.#tail + HEADER_BYTES) | 0;
      } else this.#tail = (this.#tail + size) | 0;
      count++;
    }
  }

  /** Ring bytes from position `from` up to the tail into `out`, and their room back to the producer. */
  #copy(out: SpillSink, from: number): void {
    if (from === this.#tail) return;
    const start = from & this.#mask;
    out.write(this.#u8, start, start + ((this.#tail - from) >>> 0));
    this.#free();
  }

  /**
   * The lines of the records in this consumer's buffer from offset `from` to `to` (whole records, as
   * `spill` copied them into a copy of the ring's size, each where it sat in the ring) into `sink`;
   * returns where it stopped: `to`, or the ring's size at a WRAP header. `largeLine`: the next op
   * too long for the ring, as its line. Adds the ops to `encoded`.
   */
  encodeRecords(from: number, to: number, largeLine: () => Buffer, sink: LineSink): number {
    let at = from;
    while (at < to) {
      const size = this.#u32[at >>> 2]!;
      if (size === WRAP) return this.#bytes;
      if (size === OUT_OF_BAND) {
        const line = largeLine();
        this.#line(sink, line.length, (buf, a) => a + line.copy(buf, a));
        at += HEADER_BYTES;
      } else {
        const bound = lineBound((size >>> 1) + ENUM_UNITS + NUMBERED_UNITS);
        if (sink.used + bound <= sink.buffer.length) sink.used = this.#encode(at, sink.buffer, sink.used);
        else this.#line(sink, bound, (buf, a) => this.#encode(at, buf, a));
        at += size;
      }
      this.encoded++;
    }
    return at;
  }

  /** This consumer's buffer, for a copy of the ring to be read into (`encodeRecords`). */
  get bytes(): Uint8Array {
    return this.#u8;
  }

  /** The slow way in: after a flush, into the buffer, or into a buffer of its own when longer. */
  #line(sink: LineSink, bound: number, encode: (buf: Buffer, at: number) => number): void {
    if (sink.used + bound > sink.buffer.length) sink.flush();
    if (bound <= sink.buffer.length) {
      sink.used = encode(sink.buffer, sink.used);
      return;
    }
    const line = Buffer.allocUnsafe(bound);
    sink.writeLine(line.subarray(0, encode(line, 0)));
  }

  #free(): void {
    Atomics.store(this.#control, TAIL, this.#tail);
    if (Atomics.load(this.#control, PRODUCER_WAITING) !== 0) Atomics.notify(this.#control, TAIL);
  }

  /** The producer closed and everything it published has been drained. */
  get finished(): boolean {
    return Atomics.load(this.#control, CLOSED) !== 0 && Atomics.load(this.#control, HEAD) === this.#tail;
  }

  /** The producer stops waiting for room and drops what it would append: the writer's error ends the run instead. */
  fail(): void {
    Atomics.store(this.#control, FAILED, 1);
    Atomics.notify(this.#control, TAIL);
  }

  /** A DataView of the buffer being written, for `putRun`: made again only when the buffer changes. */
  #view: DataView | undefined;
  #viewOf: Buffer | undefined;

  #viewFor(buf: Buffer): DataView {
    if (buf !== this.#viewOf) {
      this.#viewOf = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.#view!;
  }

  /** `encodeOpLine`, field for field, reading the record at `at`. */
  #encode(at: number, buf: Buffer, start: number): number {
    const u32 = this.#u32;
    const f64 = this.#f64;
    const view = this.#viewFor(buf);
    const flags = u32[(at >>> 2) + 1]!;
    const d = at >>> 3;
    let s = at + STRINGS_AT;
    let a = putRun(view, start, R.id);
    a = num(buf, a, f64[d + 1]!);
    a = num(buf, putRun(view, a, F_RUNS[(flags >>> F_SHIFT) & ENUM_MASK]!), f64[d + 2]!);
    a = this.#slot(buf, putRun(view, a, PHASE_RUNS[(flags >>> PHASE_SHIFT) & ENUM_MASK]!), s);
    s = this.#slotEnd;
    if (flags & HAS_JTI) {
      a = this.#slot(buf, putRun(view, a, R.jti), s);
      s = this.#slotEnd;
    }
    if (flags & HAS_FAMILY) {
      a = this.#slot(buf, putRun(view, a, R.family), s);
      s = this.#slotEnd;
    }
    if (flags & HAS_TOKEN_ISSUED) a = num(buf, putRun(view, a, R.tokenIssuedMs), f64[d + 6]!);
    if (flags & HAS_TOKEN_EXPIRES) a = num(buf, putRun(view, a, R.tokenExpiresMs), f64[d + 7]!);
    a = num(buf, putRun(view, a, R.intendedMs), f64[d + 3]!);
    a = num(buf, putRun(view, a, R.invokeMs), f64[d + 4]!);
    a = num(buf, putRun(view, a, R.completeMs), f64[d + 5]!);
    a = putRun(view, a, TYPE_RUNS[(flags >>> TYPE_SHIFT) & ENUM_MASK]!);
    if (flags & HAS_ACCEPTED) a = putRun(view, a, ACCEPTED_RUNS[flags & ACCEPTED ? 1 : 0]!);
    if (flags & HAS_CODE) {
      a = this.#slot(buf, putRun(view, a, R.code), s);
      s = this.#slotEnd;
    }
    if (flags & HAS_DEGRADED) a = putRun(view, a, DEGRADED_RUNS[flags & DEGRADED ? 1 : 0]!);
    if (flags & HAS_REPLAY) a = putRun(view, a, REPLAY_RUNS[flags & REPLAY ? 1 : 0]!);
    if (flags & HAS_REPLICAS_ACKED) a = num(buf, putRun(view, a, R.replicasAcked), f64[d + 8]!);
    if (flags & HAS_REPLICAS_REQUESTED) a = num(buf, putRun(view, a, R.replicasRequested), f64[d + 9]!);
    if (flags & HAS_ACKED_BY_PORT) a = num(buf, putRun(view, a, R.ackedByPort), f64[d + 10]!);
    if (flags & HAS_ERROR) a = this.#string(buf, putRun(view, a, R.error), s);
    if (flags & HAS_PROBE) a = putRun(view, a, PROBE_RUNS[flags & PROBE ? 1 : 0]!);
    buf[a++] = 0x7d;
    buf[a++] = 0x0a;
    return a;
  }

  /** A numbered field's slot at `s` (see REF) as a JSON string at `a`; returns the line's end, and leaves the slot's in #slotEnd. */
  #slot(buf: Buffer, a: number, s: number): number {
    const word = this.#u32[s >>> 2]!;
    if (word < REF) return this.#string(buf, a, s);
    if (word < DEFINE) {
      const json = this.#numbered[word & NUMBER_MASK];
      if (json === undefined) throw new Error(`the history ring refers to string ${word & NUMBER_MASK}, never sent`);
      buf.set(json, a);
      this.#slotEnd = s + 4;
      return a + json.length;
    }
    const end = this.#string(buf, a, s + 4);
    this.#numbered[word & NUMBER_MASK] = new Uint8Array(buf.subarray(a, end));
    return end;
  }

  /** A string written whole at `s` (its length, then its code units) as a JSON string at `a`; returns the line's end, and leaves the slot's in #slotEnd. */
  #string(buf: Buffer, a: number, s: number): number {
    const n = this.#u32[s >>> 2]!;
    this.#slotEnd = s + 4 + ((n * 2 + 3) & ~3);
    return strUnits(buf, a, this.#u16, (s + 4) >>> 1, n);
  }
}

/** Where `HistoryDrain` keeps the records it copied out while behind: a file, or memory in tests. */
export interface SpillStore {
  /** Writes bytes[from, to) at `position`. */
  write(bytes: Uint8Array, from: number, to: number, position: number): void;
  /** Fills into[from, to) from `position` (written before). */
  read(into: Uint8Array, from: number, to: number, position: number): void;
  /** Everything written has been read back: the store may be emptied. */
  clear(): void;
}

/** Past this many bytes waiting in the ring, the writer copies records out rather than encode them. */
const SPILL_FROM_SHARE = 8;
/** What the writer encodes of its copy between two looks at the ring, in bytes of records. */
const CATCH_UP_SLICE_BYTES = 262_144;

/**
 * The history writer thread's loop, apart from its files. Encoding a line costs about what the
 * engine spends on the whole op, so at the engine's highest rates the writer fell behind, the ring
 * filled and the engine waited for it. It encodes straight from the ring while it keeps up, and
 * once more than an eighth of the ring waits, copies records out to `store` as they are (a walk over
 * their headers and a write per 64 KiB, a few percent of encoding them) and encodes the copy in the
 * moments the ring is empty, or at the end; in the order appended either way, then back to encoding
 * from the ring. So the history on disk is as current as the writer can keep it, and the copy is
 * only as large as how far the writer fell behind.
 */
export class HistoryDrain implements SpillSink {
  readonly #ring: RingConsumer;
  readonly #copy: RingConsumer;
  readonly #store: SpillStore;
  readonly #sink: LineSink;
  readonly #ringBytes: number;
  readonly #spillFrom: number;
  readonly #catchUpSlice: number;
  /** The lines of ops too long for the ring met while copying: rare (an error message of half a million characters). */
  readonly #largeLines: Buffer[] = [];
  #copying = false;
  /** Store positions: a ring offset maps to the same offset of a ring-sized stretch, so a record sits where it sat in the ring. */
  #copiedTo = 0;
  #encodedTo = 0;
  /** The ring-sized stretch of the store now in #copy's buffer, and how much of it is there. */
  #loadedStretch = -1;
  #loadedTo = 0;
  /** Ops taken from the ring (encoded or copied), and lines given to the sink. */
  taken = 0;
  #drained = 0;

  /** `catchUpSliceBytes`: for tests, a smaller share of the copy encoded per look at the ring. */
  constructor(buffers: RingBuffers, receiveLarge: () => Op, store: SpillStore, sink: LineSink, { catchUpSliceBytes = CATCH_UP_SLICE_BYTES } = {}) {
    // One table of numbered strings for both: a string sent in a record one of them encodes may be referred to in a record of the other's.
    const numbered: Uint8Array[] = [];
    this.#ring = new RingConsumer(buffers, receiveLarge, numbered);
    this.#ringBytes = buffers.data.byteLength;
    this.#copy = new RingConsumer(
      createRingBuffers(this.#ringBytes),
      () => {
        throw new Error('an op too long for the ring comes from the lines kept for it');
      },
      numbered,
    );
    this.#store = store;
    this.#sink = sink;
    this.#spillFrom = this.#ringBytes / SPILL_FROM_SHARE;
    this.#catchUpSlice = catchUpSliceBytes;
  }

  /**
   * Moves what the ring holds towards the sink; returns how many lines went to the sink, or -1 once
   * the ring is closed and every op is in it. `idleMs`: how long to wait for ops when there are none.
   */
  step(idleMs: number): number {
    if (!this.#copying) {
      if (this.#ring.pending <= this.#spillFrom) {
        const drained = this.#ring.drain(this.#sink, idleMs);
        this.taken += drained;
        this.#drained += drained;
        return drained === 0 && this.#ring.finished ? -1 : drained;
      }
      this.#copying = true;
      this.#copiedTo = this.#encodedTo = this.#ring.tailOffset;
      this.#loadedStretch = -1;
    }
    this.taken += this.#ring.spill(this);
    const finished = this.#ring.finished;
    const before = this.#copy.encoded;
    if (finished || this.#ring.pending === 0) this.#encodeCopy(finished ? Number.POSITIVE_INFINITY : this.#catchUpSlice);
    if (this.#encodedTo === this.#copiedTo && this.#ring.pending === 0) {
      this.#copying = false;
      this.#store.clear();
    }
    return this.#copy.encoded - before;
  }

  write(bytes: Uint8Array, from: number, to: number): void {
    this.#store.write(bytes, from, to, this.#copiedTo);
    this.#copiedTo += to - from;
  }

  large(op: Op): void {
    const line = Buffer.allocUnsafe(opLineBound(op));
    this.#largeLines.push(line.subarray(0, encodeOpLine(op, line, 0)));
  }

  /** Encodes up to about `budget` bytes of the copy, oldest first. */
  #encodeCopy(budget: number): void {
    let left = budget;
    while (this.#encodedTo < this.#copiedTo && left > 0) {
      const stretch = this.#encodedTo - (this.#encodedTo % this.#ringBytes);
      const end = Math.min(this.#copiedTo, stretch + this.#ringBytes) - stretch;
      const from = this.#encodedTo - stretch;
      if (this.#loadedStretch !== stretch) {
        this.#loadedStretch = stretch;
        this.#loadedTo = from;
      }
      if (this.#loadedTo < end) {
        this.#store.read(this.#copy.bytes, this.#loadedTo, end, stretch + this.#loadedTo);
        this.#loadedTo = end;
      }
      const at = this.#copy.encodeRecords(from, end, () => this.#largeLines.shift()!, this.#sink);
      this.#encodedTo = stretch + at;
      left -= at - from;
    }
  }

  /** Lines given to the sink: at the end, `taken` (fewer is a copy that gave back less than it was given). */
  get written(): number {
    return this.#drained + this.#copy.encoded;
  }

  /** The writer failed: the engine stops waiting for room (its error ends the run instead). */
  fail(): void {
    this.#ring.fail();
  }
}
