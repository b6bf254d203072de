import type { Op } from './history.ts';

/**
 * One op as one line of JSON, encoded straight into a byte buffer. JSON.stringify plus a buffer
 * write cost ~1.8 us and ~1 KB of garbage per op, the largest share of the harness' own cost at tens
 * of thousands of ops/s; writing the bytes here costs ~0.8 us and allocates nothing. The line is
 * plain JSON (any JSON reader reads it back); times are written to the nanosecond, the clock's
 * resolution, rather than as the float noise of a subtraction (1234.5104660000002).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NEWLINE = 0x0a;
const TRUE = bytes('true');
const FALSE = bytes('false');
const NULL = bytes('null');

/** Bytes a line needs besides its strings: every key and number, generously. */
const FIXED_BYTES = 700;
/** A JSON string escape (\u001f) is at most 6 bytes per UTF-16 code unit. */
const BYTES_PER_CHAR = 6;

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** `,"key":` (`{"key":` for the first field of a line). */
function key(name: string, first = false): Uint8Array {
  return bytes(`${first ? '{' : ','}"${name}":`);
}

/**
 * The key bytes, exported for the history writer thread's encoder (history-ring.ts), which writes the same lines from binary records.
 * An object literal: built from entries, an object this large is kept as a dictionary, and every
 * `K.name` read was a call into the property lookup (a tenth of the writer thread's instructions).
 */
export const K = {
  id: key('id', true),
  f: key('f'),
  worker: key('worker'),
  phase: key('phase'),
  subject: key('subject'),
  jti: key('jti'),
  family: key('family'),
  tokenIssuedMs: key('tokenIssuedMs'),
  tokenExpiresMs: key('tokenExpiresMs'),
  intendedMs: key('intendedMs'),
  invokeMs: key('invokeMs'),
  completeMs: key('completeMs'),
  type: key('type'),
  accepted: key('accepted'),
  code: key('code'),
  degraded: key('degraded'),
  replay: key('replay'),
  replicasAcked: key('replicasAcked'),
  replicasRequested: key('replicasRequested'),
  ackedByPort: key('ackedByPort'),
  error: key('error'),
  probe: key('probe'),
} as const;

/** An upper bound on the bytes `encodeOpLine` writes for `op`. */
export function opLineBound(op: Op): number {
  const strings =
    op.f.length +
    op.phase.length +
    op.subject.length +
    op.type.length +
    (op.jti?.length ?? 0) +
    (op.family?.length ?? 0) +
    (op.code?.length ?? 0) +
    (op.error?.length ?? 0);
  return lineBound(strings);
}

/** An upper bound on a line's bytes when its strings (enums included) have `stringUnits` UTF-16 code units in all. */
export function lineBound(stringUnits: number): number {
  return FIXED_BYTES + stringUnits * BYTES_PER_CHAR;
}

/** `before` + `"value"` + `after` for each enum value: for writers that know the value by its index and copy the run in one go. */
export function enumRuns(before: Uint8Array, values: readonly string[], after: Uint8Array = new Uint8Array(0)): Uint8Array[] {
  return values.map((v) => Uint8Array.from([...before, ...bytes(JSON.stringify(v)), ...after]));
}

export const TRUE_BYTES = TRUE;
export const FALSE_BYTES = FALSE;

/** Writes `op` and a newline into `buf` at `at` (which must have `opLineBound(op)` bytes free); returns the offset after it. */
export function encodeOpLine(op: Op, buf: Buffer, at: number): number {
  let a = raw(buf, at, K.id);
  a = num(buf, a, op.id);
  a = str(buf, raw(buf, a, K.f), op.f);
  a = num(buf, raw(buf, a, K.worker), op.worker);
  a = str(buf, raw(buf, a, K.phase), op.phase);
  a = str(buf, raw(buf, a, K.subject), op.subject);
  if (op.jti !== undefined) a = str(buf, raw(buf, a, K.jti), op.jti);
  if (op.family !== undefined) a = str(buf, raw(buf, a, K.family), op.family);
  if (op.tokenIssuedMs !== undefined) a = num(buf, raw(buf, a, K.tokenIssuedMs), op.tokenIssuedMs);
  if (op.tokenExpiresMs !== undefined) a = num(buf, raw(buf, a, K.tokenExpiresMs), op.tokenExpiresMs);
  a = num(buf, raw(buf, a, K.intendedMs), op.intendedMs);
  a = num(buf, raw(buf, a, K.invokeMs), op.invokeMs);
  a = num(buf, raw(buf, a, K.completeMs), op.completeMs);
  a = str(buf, raw(buf, a, K.type), op.type);
  if (op.accepted !== undefined) a = raw(buf, raw(buf, a, K.accepted), op.accepted ? TRUE : FALSE);
  if (op.code !== undefined) a = str(buf, raw(buf, a, K.code), op.code);
  if (op.degraded !== undefined) a = raw(buf, raw(buf, a, K.degraded), op.degraded ? TRUE : FALSE);
  if (op.replay !== undefined) a = raw(buf, raw(buf, a, K.replay), op.replay ? TRUE : FALSE);
  if (op.replicasAcked !== undefined) a = num(buf, raw(buf, a, K.replicasAcked), op.replicasAcked);
  if (op.replicasRequested !== undefined) a = num(buf, raw(buf, a, K.replicasRequested), op.replicasRequested);
  if (op.ackedByPort !== undefined) a = num(buf, raw(buf, a, K.ackedByPort), op.ackedByPort);
  if (op.error !== undefined) a = str(buf, raw(buf, a, K.error), op.error);
  if (op.probe !== undefined) a = raw(buf, raw(buf, a, K.probe), op.probe ? TRUE : FALSE);
  buf[a++] = 0x7d;
  buf[a++] = NEWLINE;
  return a;
}

/** Short runs byte by byte; from 12 bytes on `set` (a memcpy of ~14 ns whatever the length) is faster. */
export function raw(buf: Buffer, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n >= 12) buf.set(src, at);
  else for (let i = 0; i < n; i++) buf[at + i] = src[i]!;
  return at + n;
}

/**
 * A constant run of at least 4 bytes as little-endian int32 words, for `putRun`: the last word ends
 * where the run does (overlapping the one before it when the length is not a multiple of 4).
 */
export interface ConstantRun {
  readonly length: number;
  readonly words: Int32Array;
}

export function constantRun(bytes: Uint8Array): ConstantRun {
  if (bytes.length < 4) throw new RangeError(`a constant run needs at least 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  for (let k = 0; k < words.length - 1; k++) words[k] = view.getInt32(4 * k, true);
  words[words.length - 1] = view.getInt32(bytes.length - 4, true);
  return { length: bytes.length, words };
}

/**
 * Writes `run` at `at` through `view` (a DataView of the buffer written): four bytes per store,
 * inlined by the compiler. A `set` per run was a builtin call of ~40 ns, and the runs are half of a line.
 */
export function putRun(view: DataView, at: number, run: ConstantRun): number {
  const words = run.words;
  const last = words.length - 1;
  for (let k = 0; k < last; k++) view.setInt32(at + 4 * k, words[k]!, true);
  const end = at + run.length;
  view.setInt32(end - 4, words[last]!, true);
  return end;
}

/** Printable ASCII without `"` or `\` is copied as is (every string the harness makes); anything else goes through JSON.stringify. */
export function str(buf: Buffer, at: number, s: string): number {
  let a = at;
  buf[a++] = QUOTE;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return at + buf.write(JSON.stringify(s), at);
    buf[a++] = c;
  }
  buf[a++] = QUOTE;
  return a;
}

/**
 * `str` for a string held as UTF-16 code units (`n` of them from `from`): copied as they are when
 * printable ASCII, else made a string and written by `str`, so the bytes are the same either way.
 */
export function strUnits(buf: Buffer, at: number, units: Uint16Array, from: number, n: number): number {
  let a = at;
  buf[a++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = units[from + i]!;
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return str(buf, at, unitsToString(units, from, n));
    buf[a++] = c;
  }
  buf[a++] = QUOTE;
  return a;
}

function unitsToString(units: Uint16Array, from: number, n: number): string {
  // fromCharCode takes the units as arguments: in slices, well under the engine's argument limit.
  let s = '';
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, units.subarray(from + i, from + Math.min(n, i + 8192)) as unknown as number[]);
  return s;
}

/**
 * Integers as they are; other numbers rounded to 1e-6 (a nanosecond, for times in ms); non-finite as null, as JSON.stringify does.
 * In int32 arithmetic below 1e9 (every id, port and run-ms time): the float divisions per digit were
 * the largest share of a line's cost.
 */
export function num(buf: Buffer, at: number, x: number): number {
  if ((x | 0) === x) {
    if (x >= 0) return digits(buf, at, x);
    buf[at] = MINUS;
    return digits(buf, at + 1, -x);
  }
  if (!Number.isFinite(x)) return raw(buf, at, NULL);
  let a = at;
  if (Math.abs(x) >= 1e9) return a + buf.write(JSON.stringify(x), a);
  const micro = Math.round(Math.abs(x) * 1e6);
  if (micro === 0) {
    buf[a] = ZERO;
    return a + 1;
  }
  if (x < 0) buf[a++] = MINUS;
  const whole = Math.floor(micro / 1e6);
  a = digits(buf, a, whole);
  const fraction = (micro - whole * 1e6) | 0;
  if (fraction === 0) return a;
  buf[a] = DOT;
  return fractionDigits(buf, a + 1, fraction);
}

/** "00" to "99" as their two character codes: two digits per division, where one each was most of a number's cost. */
const TENS = Uint8Array.from({ length: 100 }, (_, i) => ZERO + Math.floor(i / 10));
const ONES = Uint8Array.from({ length: 100 }, (_, i) => ZERO + (i % 10));

/** A non-negative integer's decimal digits (below 2^31). */
function digits(buf: Buffer, at: number, n: number): number {
  let width = 1;
  for (let p = 10; p <= n; p *= 10) width++;
  let rest = n | 0;
  let i = at + width;
  while (rest >= 100) {
    const q = (rest / 100) | 0;
    const pair = rest - q * 100;
    buf[--i] = ONES[pair]!;
    buf[--i] = TENS[pair]!;
    rest = q;
  }
  if (rest >= 10) {
    buf[--i] = ONES[rest]!;
    buf[--i] = TENS[rest]!;
  } else buf[--i] = ZERO + rest;
  return at + width;
}

/** Six digits of a fraction (1 to 999,999 millionths) after the point, trailing zeros dropped. */
function fractionDigits(buf: Buffer, at: number, millionths: number): number {
  const high = (millionths / 10_000) | 0;
  const rest = millionths - high * 10_000;
  const middle = (rest / 100) | 0;
  const low = rest - middle * 100;
  buf[at] = TENS[high]!;
  buf[at + 1] = ONES[high]!;
  buf[at + 2] = TENS[middle]!;
  buf[at + 3] = ONES[middle]!;
  buf[at + 4] = TENS[low]!;
  buf[at + 5] = ONES[low]!;
  // Not zero, so a digit other than 0 stops this before the point.
  let end = at + 6;
  while (buf[end - 1] === ZERO) end--;
  return end;
}
