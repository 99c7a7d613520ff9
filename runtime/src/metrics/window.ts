/** What the sliding window reports. Durations in ms. */
export interface WindowSummary {
  count: number;
  errors: number;
  /** Length of time the rates are averaged over, ms (shorter than the window right after start). */
  spanMs: number;
  avg: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SlidingWindowOptions {
  /** Window length, ms. @default 60000 */
  windowMs?: number;
  /** Bucket length, ms: the window slides by this step. @default 1000 */
  bucketMs?: number;
  /**
   * Raw durations kept per bucket. Percentiles are exact while no bucket sees more requests than
   * this; beyond it a bucket keeps a uniform random sample (reservoir sampling). @default 1000
   */
  samplesPerBucket?: number;
}

/**
 * A ring of time buckets holding request counts, error counts, sum/max and raw durations, so
 * snapshot() can report rates and avg/p95/p99/max over the last `windowMs` without a histogram's
 * bucket error. Recording is O(1) and allocation-free after warm-up.
 */
export class SlidingWindow {
  readonly windowMs: number;
  readonly bucketMs: number;
  #n: number;
  #cap: number;
  #index: Float64Array;
  #count: Float64Array;
  #errors: Float64Array;
  #sum: Float64Array;
  #max: Float64Array;
  #samples: (Float64Array | undefined)[];
  #sampleCount: Uint32Array;
  #startedAt: number;

  constructor(startedAt: number, options: SlidingWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketMs = options.bucketMs ?? 1_000;
    this.#cap = options.samplesPerBucket ?? 1_000;
    this.#n = Math.max(1, Math.ceil(this.windowMs / this.bucketMs));
    // -Infinity marks a never-used slot, whatever the clock origin (performance.now starts near 0).
    this.#index = new Float64Array(this.#n).fill(-Infinity);
    this.#count = new Float64Array(this.#n);
    this.#errors = new Float64Array(this.#n);
    this.#sum = new Float64Array(this.#n);
    this.#max = new Float64Array(this.#n);
    this.#samples = new Array(this.#n).fill(undefined);
    this.#sampleCount = new Uint32Array(this.#n);
    this.#startedAt = startedAt;
  }

  record(now: number, durationMs: number, isError: boolean): void {
    const b = Math.floor(now / this.bucketMs);
    const slot = b % this.#n;
    if (this.#index[slot] !== b) {
      this.#index[slot] = b;
      this.#count[slot] = 0;
      this.#errors[slot] = 0;
      this.#sum[slot] = 0;
      this.#max[slot] = 0;
      this.#sampleCount[slot] = 0;
    }
    const seen = ++this.#count[slot];
    if (isError) this.#errors[slot]++;
    this.#sum[slot] += durationMs;
    if (durationMs > this.#max[slot]) this.#max[slot] = durationMs;
    const samples = (this.#samples[slot] ??= new Float64Array(this.#cap));
    const kept = this.#sampleCount[slot];
    if (kept < this.#cap) {
      samples[kept] = durationMs;
      this.#sampleCount[slot] = kept + 1;
    } else {
      const j = Math.floor(Math.random() * seen);
      if (j < this.#cap) samples[j] = durationMs;
    }
  }

  summary(now: number): WindowSummary {
    const b = Math.floor(now / this.bucketMs);
    let count = 0;
    let errors = 0;
    let sum = 0;
    let max = 0;
    let kept = 0;
    const live: number[] = [];
    for (let slot = 0; slot < this.#n; slot++) {
      const idx = this.#index[slot];
      if (idx <= b - this.#n || idx > b) continue;
      live.push(slot);
      count += this.#count[slot];
      errors += this.#errors[slot];
      sum += this.#sum[slot];
      if (this.#max[slot] > max) max = this.#max[slot];
      kept += this.#sampleCount[slot];
    }
    const all = new Float64Array(kept);
    let o = 0;
    for (const slot of live) {
      const k = this.#sampleCount[slot];
      all.set(this.#samples[slot]!.subarray(0, k), o);
      o += k;
    }
    all.sort();
    const spanMs = Math.min(this.windowMs, Math.max(this.bucketMs, now - this.#startedAt));
    return { count, errors, spanMs, avg: count ? sum / count : 0, p95: rank(all, 0.95), p99: rank(all, 0.99), max };
  }
}

/** Nearest-rank percentile of sorted values (0 when empty). */
function rank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
