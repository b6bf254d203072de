import { z } from 'zod';
import { InvalidOptionError } from './errors.ts';

/**
 * The one duration of every file and flag tokenbench reads: a number of milliseconds, or text
 * such as `500ms`, `10s`, `2m`, `1.5h` or `7d` (token lifetimes run to days).
 */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;
export const DURATION_EXPECTED = 'a duration such as 500ms, 10s, 2m or 7d';

/** `1500`, `1500ms`, `1.5s`, `2m`, `7d` -> milliseconds. A bare number is milliseconds. */
export function parseDurationMs(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidOptionError(field, DURATION_EXPECTED, value);
  }
  const match = DURATION_TEXT.exec(value);
  if (!match) throw new InvalidOptionError(field, DURATION_EXPECTED, value);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

/** The duration as a schema field: what a scenario or requirements file holds, parsed to milliseconds. */
export const durationSchema = z
  .union([z.number().min(0), z.string().regex(DURATION_TEXT, DURATION_EXPECTED)], { error: DURATION_EXPECTED })
  .transform((v) => parseDurationMs(v, ''))
  .describe('A number of milliseconds, or text such as `500ms`, `10s`, `2m`, `1.5h`, `7d`.');

/** A configured duration in the largest unit that divides it: `7 d`, `30 min`, `1.5 s`, `50 ms`. */
export function formatDuration(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${Number(ms.toFixed(2))} ms`;
}
