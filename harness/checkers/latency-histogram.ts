/**
 * Latencies in log-spaced bins 2% wide from 10 us: a sliding window or a whole run's worth of ops
 * in a few hundred counters. Quantiles are read as the upper edge of their bin, so they are never
 * optimistic by more than 2%.
 */
export class LatencyHistogram {
  static readonly #SMALLEST_MS = 0.01;
  static readonly #LOG_RATIO = Math.log(1.02);
  readonly #counts = new Map<number, number>();
  count = 0;

  add(latencyMs: number): void {
    const bin = latencyMs <= LatencyHistogram.#SMALLEST_MS ? 0 : Math.ceil(Math.log(latencyMs / LatencyHistogram.#SMALLEST_MS) / LatencyHistogram.#LOG_RATIO);
    this.#counts.set(bin, (this.#counts.get(bin) ?? 0) + 1);
    this.count++;
  }

  merge(other: LatencyHistogram, sign: 1 | -1 = 1): void {
    for (const [bin, n] of other.#counts) {
      const next = (this.#counts.get(bin) ?? 0) + sign * n;
      if (next === 0) this.#counts.delete(bin);
      else this.#counts.set(bin, next);
    }
    this.count += sign * other.count;
  }

  /** q in 0..1; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const bin of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(bin)!;
      if (seen >= rank) return LatencyHistogram.#SMALLEST_MS * Math.exp(bin * LatencyHistogram.#LOG_RATIO);
    }
    return null;
  }
}
