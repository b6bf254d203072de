import { InvalidOptionError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1500`, `1500ms`, `1.5s`, `2m` -> milliseconds. A bare number is milliseconds. */
export function parseDurationMs(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidOptionError(field, 'a duration such as 500ms, 10s or 2m', value);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new InvalidOptionError(field, 'a duration such as 500ms, 10s or 2m', value);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}
