/**
 * A sketch of values (latencies, delays) in log-spaced bins, where an HdrHistogram per instance
 * would be too big (one per 100 ms timeline bucket, one per sliding window). Bin b holds the
 * values in (smallest * ratio^(b-1), smallest * ratio^b]; bin 0 everything at or below `smallest`.
 * A quantile is read as its bin's upper edge, so it is never optimistic, and pessimistic by less
 * than `ratio`; a count at or beyond a bound takes a bin only when all of it is (no claim without
 * proof). Counts sit in a typed array that grows to the largest bin seen.
 */
export class LogHistogram {
  readonly #smallest: number;
  readonly #logRatio: number;
  #counts = new Uint32Array(32);
  count = 0;
  /** The largest value added (not restored by taking values back out). */
  max = 0;

  constructor({ ratio, smallest }: { ratio: number; smallest: number }) {
    this.#smallest = smallest;
    this.#logRatio = Math.log(ratio);
  }

  /** The bin `add` puts `value` in: computed once, it serves every sketch of the same ratio and smallest value (`addAt`). */
  binOf(value: number): number {
    return value <= this.#smallest ? 0 : Math.ceil(Math.log(value / this.#smallest) / this.#logRatio);
  }

  #upperEdge(bin: number): number {
    return this.#smallest * Math.exp(bin * this.#logRatio);
  }

  #lowerEdge(bin: number): number {
    return bin === 0 ? 0 : this.#upperEdge(bin - 1);
  }

  #addToBin(bin: number, n: number): void {
    if (bin >= this.#counts.length) {
      const grown = new Uint32Array(Math.max(this.#counts.length * 2, bin + 1));
      grown.set(this.#counts);
      this.#counts = grown;
    }
    this.#counts[bin]! += n;
    this.count += n;
  }

  add(value: number): void {
    this.addAt(this.binOf(value), value);
  }

  addAt(bin: number, value: number): void {
    this.#addToBin(bin, 1);
    if (value > this.max) this.max = value;
  }

  /** Adds another sketch of the same ratio and smallest value, or with sign -1 takes it back out. */
  merge(other: LogHistogram, sign: 1 | -1 = 1): void {
    const counts = other.#counts;
    for (let bin = 0; bin < counts.length; bin++) if (counts[bin]! > 0) this.#addToBin(bin, sign * counts[bin]!);
    if (sign === 1 && other.max > this.max) this.max = other.max;
  }

  /** q in 0..1, as the upper edge of the bin holding it; null when empty. */
  quantile(q: number): number | null {
    if (this.count <= 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bin = 0; bin < this.#counts.length; bin++) {
      seen += this.#counts[bin]!;
      if (seen >= rank) return this.#upperEdge(bin);
    }
    return null;
  }

  /** Values certainly at or beyond `bound`: the bins whose lower edge is. */
  countFrom(bound: number): number {
    let count = 0;
    for (let bin = 0; bin < this.#counts.length; bin++) if (this.#counts[bin]! > 0 && this.#lowerEdge(bin) >= bound) count += this.#counts[bin]!;
    return count;
  }

  /** The non-empty bins as [bin, count] pairs: how a sketch crosses a thread. */
  bins(): [number, number][] {
    const out: [number, number][] = [];
    for (let bin = 0; bin < this.#counts.length; bin++) if (this.#counts[bin]! > 0) out.push([bin, this.#counts[bin]!]);
    return out;
  }

  addBins(bins: readonly [number, number][], max: number): void {
    for (const [bin, n] of bins) this.#addToBin(bin, n);
    if (max > this.max) this.max = max;
  }
}
