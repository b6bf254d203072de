import { decodeHistogram, encodeHistogram, type Histogram, newHistogram } from '../result/histogram.ts';
import type { TimelineBucket } from '../result/schema.ts';
import type { Op, OpFunction, Phase } from './history.ts';
import { LogHistogram } from './log-histogram.ts';

/** Timeline buckets and the progress window: bins 10% wide from 1 us, read to within a bin (and never above the maximum). */
const BUCKET_SKETCH = { ratio: 1.1, smallest: 1 };

function percentileUs(sketch: LogHistogram, p: number): number {
  return sketch.count === 0 ? 0 : Math.min(sketch.max, sketch.quantile(p / 100) ?? sketch.max);
}

/**
 * The fields of hdr-histogram-js's TypedArrayHistogram (version pinned) that `recordValue` uses. Its
 * bucket index costs a Math.log2 and two Math.pow per value, ~57 ns, three times per op; the same
 * index from Math.clz32 is a few ns, and one index serves the two histograms of the corrected latency.
 */
interface HdrInternals {
  _counts: { [index: number]: number };
  _totalCount: number;
  maxValue: number;
  minNonZeroValue: number;
  countsArrayLength: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  unitMagnitude: number;
  updatedMaxValue(value: number): void;
  updateMinNonZeroValue(value: number): void;
}

/**
 * `recordValue`'s counts index for an integer value of at least 1 below 2^32 (floor(log2(v)) is
 * 31 - clz32(v) there); -1 when the fast path does not apply and recordValue must do it.
 */
export function countsIndex(h: Histogram, value: number): number {
  const i = h as unknown as HdrInternals;
  if (value < 1 || value > 0xffff_ffff || value !== Math.floor(value)) return -1;
  const bucket = Math.max(31 - Math.clz32(value) - i.subBucketHalfCountMagnitude - i.unitMagnitude, 0);
  const index = ((bucket + 1) << i.subBucketHalfCountMagnitude) + (value >>> (bucket + i.unitMagnitude)) - i.subBucketHalfCount;
  return index < i.countsArrayLength ? index : -1;
}

/** `h.recordValue(value)` with the index already known (`countsIndex` of a histogram of the same settings). */
export function recordAt(h: Histogram, index: number, value: number): void {
  if (index < 0) {
    h.recordValue(value);
    return;
  }
  const i = h as unknown as HdrInternals;
  i._counts[index]!++;
  if (value > i.maxValue) i.updatedMaxValue(value);
  if (value < i.minNonZeroValue) i.updateMinNonZeroValue(value);
  i._totalCount++;
}

type BucketMeta = Required<Omit<TimelineBucket, 't' | 'p50' | 'p99' | 'max'>>;
type Bucket = LogHistogram & { meta: BucketMeta };

function newBucket(): Bucket {
  return Object.assign(new LogHistogram(BUCKET_SKETCH), { meta: { ops: 0, verifies: 0, errors: 0, degraded: 0, revokedAccepted: 0, verifyRedisOps: 0 } });
}

/** The histogram under `key`, new if there was none. */
function histogramIn<K>(map: Map<K, Histogram>, key: K): Histogram {
  let h = map.get(key);
  if (!h) {
    h = newHistogram();
    map.set(key, h);
  }
  return h;
}

/** An op function's histograms, and the one of the phase its last op was in (phases change a few times a run). */
interface OpSlot {
  corrected: Histogram;
  service: Histogram;
  phase: Phase;
  inPhase: Histogram;
}

/** Metrics as a worker thread sends them to the orchestrator: histograms encoded, bucket bins sparse. */
export interface SerializedMetrics {
  byOp: Record<string, string>;
  serviceByOp: Record<string, string>;
  byOpPhase: Record<string, string>;
  slip: string;
  buckets: { meta: BucketMeta; bins: [number, number][]; maxUs: number }[];
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

/**
 * Everything measured about latency: per op, per phase, per time bucket, and the generator's own slip.
 * Latency is coordinated-omission corrected (from when the op was due); `serviceByOp` is the
 * uncorrected service time beside it (from when it was sent), all phases only: one more
 * recordValue per op, where per phase would be another map lookup and histogram as well.
 */
export class Metrics {
  readonly bucketMs: number;
  readonly byOp = new Map<OpFunction, Histogram>();
  readonly serviceByOp = new Map<OpFunction, Histogram>();
  /** Nested rather than keyed by an "op:phase" string: building that string for every op shows in profiles. */
  readonly byOpPhase = new Map<OpFunction, Map<Phase, Histogram>>();
  readonly slip = newHistogram();
  /** The same histograms as byOp, serviceByOp and byOpPhase, found by one lookup per op. */
  readonly #slots = new Map<OpFunction, OpSlot>();
  readonly #buckets: Bucket[] = [];
  /** Rolling window for the progress line. */
  #window = new LogHistogram(BUCKET_SKETCH);
  #windowOps = 0;
  #windowErrors = 0;
  #windowDegraded = 0;
  redisOpsTotal = 0;
  verifiesWithVerdict = 0;
  completed = 0;

  constructor(bucketMs: number) {
    this.bucketMs = bucketMs;
  }

  /** One map lookup per op: four (byOp, serviceByOp, byOpPhase and its phase) were a tenth of record's instructions. */
  #slotOf(f: OpFunction, phase: Phase): OpSlot {
    let slot = this.#slots.get(f);
    if (!slot) {
      // A cache over the maps, which may hold this op's histograms already (merge).
      slot = { corrected: histogramIn(this.byOp, f), service: histogramIn(this.serviceByOp, f), phase, inPhase: this.#phaseHistogram(f, phase) };
      this.#slots.set(f, slot);
    } else if (slot.phase !== phase) {
      slot.phase = phase;
      slot.inPhase = this.#phaseHistogram(f, phase);
    }
    return slot;
  }

  #phaseHistogram(f: OpFunction, phase: Phase): Histogram {
    let phases = this.byOpPhase.get(f);
    if (!phases) {
      phases = new Map();
      this.byOpPhase.set(f, phases);
    }
    return histogramIn(phases, phase);
  }

  record(op: Op, redisOps?: number): void {
    const us = Math.max(1, Math.round((op.completeMs - op.intendedMs) * 1000));
    const slot = this.#slotOf(op.f, op.phase);
    // One index for both histograms of the corrected latency: they have the same settings.
    const index = countsIndex(slot.corrected, us);
    recordAt(slot.corrected, index, us);
    const serviceUs = Math.max(1, Math.round((op.completeMs - op.invokeMs) * 1000));
    recordAt(slot.service, countsIndex(slot.service, serviceUs), serviceUs);
    recordAt(slot.inPhase, index, us);
    this.completed++;
    if (op.f === 'verify' && redisOps !== undefined) {
      this.redisOpsTotal += redisOps;
      this.verifiesWithVerdict++;
    }
    const bucketIndex = Math.max(0, Math.floor(op.intendedMs / this.bucketMs));
    let bucket = this.#buckets[bucketIndex];
    if (!bucket) {
      for (let i = this.#buckets.length; i <= bucketIndex; i++) this.#buckets[i] = newBucket();
      bucket = this.#buckets[bucketIndex]!;
    }
    // The bucket and the window are sketches of the same settings: one bin for both.
    const bin = bucket.binOf(us);
    bucket.addAt(bin, us);
    const isError = op.type !== 'ok';
    bucket.meta.ops++;
    if (op.f === 'verify') bucket.meta.verifies++;
    if (op.f === 'verify' && redisOps !== undefined) bucket.meta.verifyRedisOps += redisOps;
    if (isError) bucket.meta.errors++;
    if (op.degraded) bucket.meta.degraded++;
    if (op.replay && op.accepted) bucket.meta.revokedAccepted++;
    this.#window.addAt(bin, us);
    this.#windowOps++;
    if (isError) this.#windowErrors++;
    if (op.degraded) this.#windowDegraded++;
  }

  recordSlip(ms: number): void {
    this.slip.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Since the last call: for the progress line. */
  takeWindow(): MetricsSnapshot {
    const snapshot = { ops: this.#windowOps, errors: this.#windowErrors, degraded: this.#windowDegraded, p99Ms: percentileUs(this.#window, 99) / 1000 };
    this.#window = new LogHistogram(BUCKET_SKETCH);
    this.#windowOps = this.#windowErrors = this.#windowDegraded = 0;
    return snapshot;
  }

  serialize(): SerializedMetrics {
    return {
      byOp: Object.fromEntries([...this.byOp].map(([k, h]) => [k, encodeHistogram(h)])),
      serviceByOp: Object.fromEntries([...this.serviceByOp].map(([k, h]) => [k, encodeHistogram(h)])),
      byOpPhase: Object.fromEntries([...this.byOpPhase].flatMap(([f, phases]) => [...phases].map(([phase, h]) => [`${f}:${phase}`, encodeHistogram(h)]))),
      slip: encodeHistogram(this.slip),
      buckets: this.#buckets.map((b) => ({
        meta: b.meta,
        bins: b.bins(),
        maxUs: b.max,
      })),
      redisOpsTotal: this.redisOpsTotal,
      verifiesWithVerdict: this.verifiesWithVerdict,
      completed: this.completed,
    };
  }

  /** Adds another engine's metrics: histograms add, bucket bins add, counters sum. */
  merge(other: SerializedMetrics): void {
    const add = <K>(map: Map<K, Histogram>, key: K, encoded: string) => histogramIn(map, key).add(decodeHistogram(encoded));
    for (const [k, e] of Object.entries(other.byOp)) add(this.byOp, k as OpFunction, e);
    for (const [k, e] of Object.entries(other.serviceByOp)) add(this.serviceByOp, k as OpFunction, e);
    for (const [k, e] of Object.entries(other.byOpPhase)) {
      const [f, phase] = k.split(':') as [OpFunction, Phase];
      this.#phaseHistogram(f, phase).add(decodeHistogram(e));
    }
    this.slip.add(decodeHistogram(other.slip));
    other.buckets.forEach((b, i) => {
      let mine = this.#buckets[i];
      if (!mine) {
        for (let j = this.#buckets.length; j <= i; j++) this.#buckets[j] = newBucket();
        mine = this.#buckets[i]!;
      }
      for (const key of Object.keys(b.meta) as (keyof typeof b.meta)[]) mine.meta[key] += b.meta[key];
      mine.addBins(b.bins, b.maxUs);
    });
    this.redisOpsTotal += other.redisOpsTotal;
    this.verifiesWithVerdict += other.verifiesWithVerdict;
    this.completed += other.completed;
  }

  timeline(): TimelineBucket[] {
    return this.#buckets.map((b, i) => ({
      t: i * this.bucketMs,
      ...b.meta,
      p50: Math.round(percentileUs(b, 50)) / 1000,
      p99: Math.round(percentileUs(b, 99)) / 1000,
      max: Math.round(b.max) / 1000,
    }));
  }
}
