import * as z from 'zod';

/**
 * The last `size` values in a Float64Array ring with running sum and sum of squares: O(1) per push,
 * no allocation. Values are stored relative to the first value seen (`shift`) so the variance of
 * prices like 40,000 does not lose its digits to cancellation, and the sums are recomputed from the
 * ring each time it wraps so floating-point drift cannot build up over millions of pushes.
 */
export class RollingWindow {
  readonly size: number;
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;
  private shift = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`rolling window size must be a positive integer, got ${size}`);
    this.size = size;
    this.values = new Float64Array(size);
  }

  get count(): number {
    return this.filled;
  }

  get full(): boolean {
    return this.filled === this.size;
  }

  push(value: number): void {
    if (this.filled === 0) this.shift = value;
    const x = value - this.shift;
    if (this.filled === this.size) {
      const old = this.values[this.next];
      this.sum += x - old;
      this.sumSq += x * x - old * old;
    } else {
      this.sum += x;
      this.sumSq += x * x;
      this.filled++;
    }
    this.values[this.next] = x;
    if (++this.next === this.size) {
      this.next = 0;
      this.resum();
    }
  }

  /** The value pushed `back` pushes ago (0 = the latest). */
  ago(back: number): number {
    let i = this.next - 1 - back;
    if (i < 0) i += this.size;
    return this.values[i] + this.shift;
  }

  mean(): number {
    return this.filled === 0 ? NaN : this.shift + this.sum / this.filled;
  }

  /** Population variance (Bollinger convention). */
  variance(): number {
    if (this.filled === 0) return NaN;
    const m = this.sum / this.filled;
    return Math.max(0, this.sumSq / this.filled - m * m);
  }

  std(): number {
    return Math.sqrt(this.variance());
  }

  snapshot(): RollingWindowState {
    return { size: this.size, values: Array.from(this.values), next: this.next, filled: this.filled, shift: this.shift, sum: this.sum, sumSq: this.sumSq };
  }

  restore(raw: unknown, where: string): void {
    const s = RollingWindowStateSchema.parse(raw);
    if (s.size !== this.size || s.values.length !== this.size) throw new RangeError(`${where}: snapshot window size ${s.size} does not match configured ${this.size}`);
    this.values.set(s.values);
    this.next = s.next;
    this.filled = s.filled;
    this.shift = s.shift;
    this.sum = s.sum;
    this.sumSq = s.sumSq;
  }

  private resum(): void {
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < this.filled; i++) {
      const x = this.values[i];
      sum += x;
      sumSq += x * x;
    }
    this.sum = sum;
    this.sumSq = sumSq;
  }
}

export const RollingWindowStateSchema = z.object({
  size: z.number().int().positive(),
  values: z.array(z.number()),
  next: z.number().int().nonnegative(),
  filled: z.number().int().nonnegative(),
  shift: z.number(),
  sum: z.number(),
  sumSq: z.number(),
});
export type RollingWindowState = z.infer<typeof RollingWindowStateSchema>;

/** The last `size` values, stored exactly (no shift), for look-backs that must compare prices bit for bit. */
export class Ring {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`ring size must be a positive integer, got ${size}`);
    this.values = new Float64Array(size);
  }

  get full(): boolean {
    return this.filled === this.size;
  }

  push(value: number): void {
    this.values[this.next] = value;
    if (this.filled < this.size) this.filled++;
    if (++this.next === this.size) this.next = 0;
  }

  /** The value pushed `back` pushes ago (0 = the latest). */
  ago(back: number): number {
    let i = this.next - 1 - back;
    if (i < 0) i += this.size;
    return this.values[i];
  }

  snapshot(): RingState {
    return { size: this.size, values: Array.from(this.values), next: this.next, filled: this.filled };
  }

  restore(raw: unknown, where: string): void {
    const s = RingStateSchema.parse(raw);
    if (s.size !== this.size || s.values.length !== this.size) throw new RangeError(`${where}: snapshot ring size ${s.size} does not match configured ${this.size}`);
    this.values.set(s.values);
    this.next = s.next;
    this.filled = s.filled;
  }
}

export const RingStateSchema = z.object({
  size: z.number().int().positive(),
  values: z.array(z.number()),
  next: z.number().int().nonnegative(),
  filled: z.number().int().nonnegative(),
});
export type RingState = z.infer<typeof RingStateSchema>;

/**
 * Per-symbol state with a one-entry cache: a single-symbol stream hits the cache on every event, so
 * the hot path costs one string comparison instead of a Map lookup.
 */
export class PerSymbol<T> {
  private readonly states = new Map<string, T>();
  private lastSymbol: string | undefined;
  private last: T | undefined;

  constructor(private readonly create: (symbol: string) => T) {}

  get(symbol: string): T {
    if (symbol === this.lastSymbol) return this.last as T;
    let state = this.states.get(symbol);
    if (state === undefined) {
      state = this.create(symbol);
      this.states.set(symbol, state);
    }
    this.lastSymbol = symbol;
    this.last = state;
    return state;
  }

  entries(): IterableIterator<[string, T]> {
    return this.states.entries();
  }

  clear(): void {
    this.states.clear();
    this.lastSymbol = undefined;
    this.last = undefined;
  }
}
