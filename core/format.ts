/**
 * How numbers read wherever a person reads them (terminal, Markdown, HTML, decision records), so
 * a figure shows the same digits everywhere. null, undefined and NaN print as '-'.
 */
type Maybe = number | null | undefined;

const missing = (value: Maybe): value is null | undefined => value === null || value === undefined || !Number.isFinite(value);

/** A latency in ms: two decimals under 10, one under 100, whole above (`0.32`, `12.4`, `804`). */
export function formatMs(value: Maybe): string {
  if (missing(value)) return '-';
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

/** A difference in ms, its sign always shown, digits as formatMs: `+0.32`, `-80.0`. */
export function formatSignedMs(value: Maybe): string {
  if (missing(value)) return '-';
  return `${value < 0 ? '-' : '+'}${formatMs(Math.abs(value))}`;
}

/** Milliseconds as seconds with two decimals: `2.38 s`. */
export function formatSeconds(valueMs: Maybe): string {
  return missing(valueMs) ? '-' : `${(valueMs / 1000).toFixed(2)} s`;
}

/** A measured span in its natural unit: `850 ms` below a second, `2.38 s` from one up. */
export function formatElapsed(valueMs: Maybe): string {
  if (missing(valueMs)) return '-';
  return valueMs >= 1000 ? formatSeconds(valueMs) : `${formatMs(valueMs)} ms`;
}

/** A quantity with thousands separators and at most `digits` decimals: `12,345`, `0.5`. */
export function formatNumber(value: Maybe, digits = 0): string {
  if (missing(value)) return '-';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A share (0 to 1, or above: 1.05 of a core) as a whole percentage: `97%`, `105%`. */
export function formatShare(value: Maybe): string {
  return missing(value) ? '-' : `${Math.round(value * 100)}%`;
}

/** Bytes in binary units: `512 B`, `70.3 KiB`, `1.1 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${formatNumber(value, unit === 0 ? 0 : 1)} ${units[unit]}`;
}
