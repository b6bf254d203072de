import { decodeHistogram, encodeHistogram, type Histogram, newHistogram } from '../result/histogram.ts';
import type { Op, OpFunction, Phase } from './history.ts';

/**
 * A cheap latency sketch for timeline buckets: log-spaced bins (10% wide) from 1 us, so thousands
 * of buckets stay small. Percentiles are read to within a bin.
 */
class BinnedLatency {
  static readonly BINS = 200;
  static readonly RATIO = Math.log(1.1);
  readonly counts = new Uint32Array(BinnedLatency.BINS);
  total = 0;
  maxUs = 0;

  record(us: number): void {
    const bin = us <= 1 ? 0 : Math.min(BinnedLatency.BINS - 1, Math.floor(Math.log(us) / BinnedLatency.RATIO));
    this.counts[bin]!++;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  percentileUs(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < BinnedLatency.BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxUs, Math.exp((i + 1) * BinnedLatency.RATIO));
    }
    return this.maxUs;
  }
}

export interface TimelineBucket {
  /** Bucket start, run ms (by intended start: a stall shows where requests arrived). */
  t: number;
  ops: number;
  verifies: number;
  /** Writes that failed or are indeterminate. */
  errors: number;
  /** Verdicts that depended on Redis being down (fail-open accepts, fail-closed rejects). */
  degraded: number;
  /** Verifies of revoked tokens that were accepted. */
  revokedAccepted: number;
  p50: number;
  p99: number;
  max: number;
}

/** Metrics as a worker thread sends them to the orchestrator: histograms encoded, bucket bins sparse. */
export interface SerializedMetrics {
  byOp: Record<string, string>;
  byOpPhase: Record<string, string>;
  slip: string;
  buckets: { meta: Omit<TimelineBucket, 't' | 'p50' | 'p99' | 'max'>; bins: [number, number][]; maxUs: number }[];
  redisOpsTotal: number;
  verifiesWithVerdict: number;
  completed: number;
}

export interface MetricsSnapshot {
  ops: number;
  errors: number;
  degraded: number;
  p99Ms: number;
}

/** Everything measured about latency: per op, per phase, per time bucket, and the generator's own slip. */
export class Metrics {
  readonly bucketMs: number;
  readonly byOp = new Map<OpFunction, Histogram>();
  /** Nested rather than keyed by an "op:phase" string: building that string for every op shows in profiles. */
  readonly byOpPhase = new Map<OpFunction, Map<Phase, Histogram>>();
  readonly slip = newHistogram();
  readonly #buckets: (BinnedLatency & { meta: Omit<TimelineBucket, 't' | 'p50' | 'p99' | 'max'> })[] = [];
  /** Rolling window for the progress line. */
  #window = new BinnedLatency();
  #windowOps = 0;
  #windowErrors = 0;
  #windowDegraded = 0;
  redisOpsTotal = 0;
  verifiesWithVerdict = 0;
  completed = 0;

  constructor(bucketMs: number) {
    this.bucketMs = bucketMs;
  }

  record(op: Op, redisOps?: number): void {
    const us = Math.max(1, Math.round((op.completeMs - op.intendedMs) * 1000));
    let h = this.byOp.get(op.f);
    if (!h) this.byOp.set(op.f, (h = newHistogram()));
    h.recordValue(us);
    let phases = this.byOpPhase.get(op.f);
    if (!phases) this.byOpPhase.set(op.f, (phases = new Map()));
    let hp = phases.get(op.phase);
    if (!hp) phases.set(op.phase, (hp = newHistogram()));
    hp.recordValue(us);
    this.completed++;
    if (op.f === 'verify' && redisOps !== undefined) {
      this.redisOpsTotal += redisOps;
      this.verifiesWithVerdict++;
    }
    const index = Math.max(0, Math.floor(op.intendedMs / this.bucketMs));
    let bucket = this.#buckets[index];
    if (!bucket) {
      for (let i = this.#buckets.length; i <= index; i++) {
        this.#buckets[i] = Object.assign(new BinnedLatency(), { meta: { ops: 0, verifies: 0, errors: 0, degraded: 0, revokedAccepted: 0 } });
      }
      bucket = this.#buckets[index]!;
    }
    bucket.record(us);
    const isError = op.type !== 'ok';
    bucket.meta.ops++;
    if (op.f === 'verify') bucket.meta.verifies++;
    if (isError) bucket.meta.errors++;
    if (op.degraded) bucket.meta.degraded++;
    if (op.replay && op.accepted) bucket.meta.revokedAccepted++;
    this.#window.record(us);
    this.#windowOps++;
    if (isError) this.#windowErrors++;
    if (op.degraded) this.#windowDegraded++;
  }

  recordSlip(ms: number): void {
    this.slip.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Since the last call: for the progress line. */
  takeWindow(): MetricsSnapshot {
    const snapshot = { ops: this.#windowOps, errors: this.#windowErrors, degraded: this.#windowDegraded, p99Ms: this.#window.percentileUs(99) / 1000 };
    this.#window = new BinnedLatency();
    this.#windowOps = this.#windowErrors = this.#windowDegraded = 0;
    return snapshot;
  }

  serialize(): SerializedMetrics {
    return {
      byOp: Object.fromEntries([...this.byOp].map(([k, h]) => [k, encodeHistogram(h)])),
      byOpPhase: Object.fromEntries([...this.byOpPhase].flatMap(([f, phases]) => [...phases].map(([phase, h]) => [`${f}:${phase}`, encodeHistogram(h)]))),
      slip: encodeHistogram(this.slip),
      buckets: this.#buckets.map((b) => ({
        meta: b.meta,
        bins: [...b.counts.entries()].filter(([, c]) => c > 0),
        maxUs: b.maxUs,
      })),
      redisOpsTotal: this.redisOpsTotal,
      verifiesWithVerdict: this.verifiesWithVerdict,
      completed: this.completed,
    };
  }

  /** Adds another engine's metrics: histograms add, bucket bins add, counters sum. */
  merge(other: SerializedMetrics): void {
    const add = <K>(map: Map<K, Histogram>, key: K, encoded: string) => {
      let h = map.get(key);
      if (!h) map.set(key, (h = newHistogram()));
      h.add(decodeHistogram(encoded));
    };
    for (const [k, e] of Object.entries(other.byOp)) add(this.byOp, k as OpFunction, e);
    for (const [k, e] of Object.entries(other.byOpPhase)) {
      const [f, phase] = k.split(':') as [OpFunction, Phase];
      let phases = this.byOpPhase.get(f);
      if (!phases) this.byOpPhase.set(f, (phases = new Map()));
      add(phases, phase, e);
    }
    this.slip.add(decodeHistogram(other.slip));
    other.buckets.forEach((b, i) => {
      let mine = this.#buckets[i];
      if (!mine) {
        for (let j = this.#buckets.length; j <= i; j++) {
          this.#buckets[j] = Object.assign(new BinnedLatency(), { meta: { ops: 0, verifies: 0, errors: 0, degraded: 0, revokedAccepted: 0 } });
        }
        mine = this.#buckets[i]!;
      }
      for (const key of Object.keys(b.meta) as (keyof typeof b.meta)[]) mine.meta[key] += b.meta[key];
      for (const [bin, count] of b.bins) {
        mine.counts[bin]! += count;
        mine.total += count;
      }
      mine.maxUs = Math.max(mine.maxUs, b.maxUs);
    });
    this.redisOpsTotal += other.redisOpsTotal;
    this.verifiesWithVerdict += other.verifiesWithVerdict;
    this.completed += other.completed;
  }

  timeline(): TimelineBucket[] {
    return this.#buckets.map((b, i) => ({
      t: i * this.bucketMs,
      ...b.meta,
      p50: Math.round(b.percentileUs(50)) / 1000,
      p99: Math.round(b.percentileUs(99)) / 1000,
      max: Math.round(b.maxUs) / 1000,
    }));
  }
}
