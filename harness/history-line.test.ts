import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Op } from './history.ts';
import { HistoryWriter, readHistory } from './history-file.ts';
import { encodeOpLine, opLineBound } from './history-line.ts';
import { seededRandom } from './workload.ts';

function line(op: Op): string {
  const buf = Buffer.alloc(opLineBound(op));
  const end = encodeOpLine(op, buf, 0);
  return buf.subarray(0, end).toString('utf8');
}

/** Every field an op can have: adding one to Op without teaching the encoder fails here. */
const everyField: Required<Op> = {
  id: 41,
  f: 'revoke',
  worker: 3,
  phase: 'fault',
  subject: 'w3-user-17',
  jti: 'qQxAXJcO2xiaIraPtbd32w',
  family: 'fam-9',
  tokenIssuedMs: -507.25,
  tokenExpiresMs: 1_798_895,
  intendedMs: 1234.56,
  invokeMs: 1234.5104660000002,
  completeMs: 1234.7193710000001,
  type: 'info',
  accepted: false,
  code: 'ERR_REDIS',
  degraded: true,
  replay: true,
  replicasAcked: 0,
  replicasRequested: 1,
  ackedByPort: 40123,
  error: 'Command timed out',
  probe: true,
};

function expectSameOp(parsed: Record<string, unknown>, op: Op): void {
  expect(Object.keys(parsed).sort()).toEqual(
    Object.keys(op)
      .filter((k) => op[k as keyof Op] !== undefined)
      .sort(),
  );
  for (const [key, value] of Object.entries(op)) {
    if (value === undefined) continue;
    if (typeof value === 'number') expect(parsed[key], key).toBeCloseTo(value, 6);
    else expect(parsed[key], key).toEqual(value);
  }
}

describe('history line encoding', () => {
  it('writes one line of JSON with every field of an op, times to the nanosecond', () => {
    const text = line(everyField);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expectSameOp(parsed, everyField);
    expect(parsed.invokeMs).toBe(1234.510466);
    expect(parsed.tokenIssuedMs).toBe(-507.25);
  });

  it('leaves out fields that are undefined, as JSON.stringify does', () => {
    const op: Op = {
      id: 1,
      f: 'verify',
      worker: 0,
      phase: 'steady',
      subject: 'user-1',
      intendedMs: 2,
      invokeMs: 2.5,
      completeMs: 3,
      type: 'ok',
      accepted: true,
      code: undefined,
    };
    const parsed = JSON.parse(line(op)) as Record<string, unknown>;
    expect(parsed).toEqual({
      id: 1,
      f: 'verify',
      worker: 0,
      phase: 'steady',
      subject: 'user-1',
      intendedMs: 2,
      invokeMs: 2.5,
      completeMs: 3,
      type: 'ok',
      accepted: true,
    });
  });

  it('escapes any string exactly as JSON does', () => {
    for (const error of ['say "no"', 'back\\slash', 'two\nlines\ttab', 'ctrl \u0001', 'accents éü', 'emoji 🔑', 'lone surrogate \ud800', '']) {
      const op: Op = { ...everyField, error, subject: error };
      const parsed = JSON.parse(line(op)) as Record<string, unknown>;
      expect(parsed.error).toBe(error);
      expect(parsed.subject).toBe(error);
    }
  });

  it('writes numbers as JSON would read them back', () => {
    const cases: [number, number | null][] = [
      [0, 0],
      [-0.0000001, 0],
      [7, 7],
      [-7, -7],
      [0.1 + 0.2, 0.3],
      [-0.5, -0.5],
      [999_999_999.9999996, 1_000_000_000],
      [1e12, 1e12],
      [-3.5e15, -3.5e15],
      [Number.NaN, null],
      [Number.POSITIVE_INFINITY, null],
    ];
    for (const [value, expected] of cases) {
      const parsed = JSON.parse(line({ ...everyField, completeMs: value })) as Record<string, unknown>;
      expect(parsed.completeMs, String(value)).toBe(expected);
    }
  });

  it('writes every number to the millionth, as rounding by hand reads it, with no trailing zero', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 20_000; i++) {
      // Every magnitude from 1e-7 to 1e9, both signs, and whole numbers of every width.
      const magnitude = 10 ** Math.floor(random() * 17 - 7);
      const value = i % 4 === 0 ? Math.floor(random() * 2 ** 31) : (random() - 0.5) * 2 * magnitude;
      const text = /"completeMs":([^,}]*)/.exec(line({ ...everyField, completeMs: value }))![1]!;
      const byHand = Math.round(Math.abs(value) * 1e6) / 1e6;
      expect(Number(text), `${value} written as ${text}`).toBe(byHand === 0 ? 0 : Math.sign(value) * byHand);
      expect(text, String(value)).toMatch(/^(0|-?[1-9]\d*(\.\d{0,5}[1-9])?|-?0\.\d{0,5}[1-9])$/);
    }
  });

  it('never writes more than its bound, whatever the strings', () => {
    const random = seededRandom(7);
    const pick = () => String.fromCharCode(Math.floor(random() * 0x10000));
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: Math.floor(random() * 80) }, pick).join('');
      const op: Op = { ...everyField, subject: text, error: text, completeMs: (random() - 0.5) * 1e10, id: Math.floor(random() * 1e12) };
      const buf = Buffer.alloc(opLineBound(op));
      expect(() => encodeOpLine(op, buf, 0)).not.toThrow();
      expect(encodeOpLine(op, buf, 0)).toBeLessThanOrEqual(buf.length);
    }
  });
});

describe('HistoryWriter', () => {
  it('reads back every op it wrote, across buffer boundaries and one line longer than a buffer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenbench-history-'));
    try {
      const writer = new HistoryWriter(join(dir, 'h.ndjson'));
      const ops: Op[] = [];
      for (let i = 0; i < 5000; i++) {
        const op: Op = { ...everyField, id: i, invokeMs: i / 3, error: i === 2500 ? 'x'.repeat(70_000) : `e${i}` };
        ops.push(op);
        writer.append(op);
      }
      await writer.close();
      const read: Op[] = [];
      for await (const op of readHistory(writer.path)) read.push(op);
      expect(read.length).toBe(ops.length);
      for (const [i, op] of read.entries()) expectSameOp(op as unknown as Record<string, unknown>, ops[i]!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
