import * as z from 'zod';
import type { Bar } from '../../domain/index.ts';
import type { Strategy, StrategyContext } from '../../ports/planes.ts';
import { PerSymbol } from '../rolling.ts';
import { ValidationError } from '../../util/errors.ts';

export interface SmaCrossParams {
  readonly fast: number;
  readonly slow: number;
  readonly longOnly: boolean;
}

/** Comparison of fast vs slow average: -1 below, 0 equal, 1 above; NONE before the first comparison. */
const NONE = 2;

/**
 * One ring of the last `slow` closes serves both averages: the slow sum drops the value being
 * overwritten, the fast sum drops the value `fast` pushes back. Sums are recomputed on each wrap so
 * drift cannot accumulate.
 */
class SmaState {
  readonly closes: Float64Array;
  next = 0;
  seen = 0;
  fastSum = 0;
  slowSum = 0;
  prevCmp = NONE;

  constructor(readonly fast: number, readonly slow: number) {
    this.closes = new Float64Array(slow);
  }

  /** Returns the comparison of the averages after adding `close`, or NONE while the slow average is undefined. */
  push(close: number): number {
    const { fast, slow, closes } = this;
    let fastOut = this.next - fast;
    if (fastOut < 0) fastOut += slow;
    if (this.seen >= fast) this.fastSum -= closes[fastOut];
    if (this.seen >= slow) this.slowSum -= closes[this.next];
    closes[this.next] = close;
    this.fastSum += close;
    this.slowSum += close;
    this.seen++;
    if (++this.next === slow) {
      this.next = 0;
      this.resum();
    }
    if (this.seen < slow) return NONE;
    // Cross-multiplied so equal averages compare equal exactly (no division rounding).
    const lhs = this.fastSum * slow;
    const rhs = this.slowSum * fast;
    return lhs > rhs ? 1 : lhs < rhs ? -1 : 0;
  }

  private resum(): void {
    let slowSum = 0;
    let fastSum = 0;
    const start = this.slow - this.fast;
    for (let i = 0; i < this.slow; i++) {
      slowSum += this.closes[i];
      if (i >= start) fastSum += this.closes[i];
    }
    this.slowSum = slowSum;
    if (this.seen >= this.fast) this.fastSum = fastSum;
  }
}

const SmaSnapshotSchema = z.object({
  strategy: z.literal('sma-cross'),
  fast: z.number().int(),
  slow: z.number().int(),
  symbols: z.record(
    z.string(),
    z.object({ closes: z.array(z.number()), next: z.number().int(), seen: z.number().int(), fastSum: z.number(), slowSum: z.number(), prevCmp: z.number().int() }),
  ),
});

/**
 * Moving-average crossover. Long on an up-cross (previous fast <= slow, now fast > slow); flat, or
 * short when longOnly is false, on a down-cross (previous fast >= slow, now fast < slow). Signals fire
 * only on crossings, never before the slow average exists and one comparison precedes it.
 */
export class SmaCrossStrategy implements Strategy {
  private readonly states: PerSymbol<SmaState>;
  private readonly downStrength: number;

  constructor(readonly id: string, readonly params: SmaCrossParams) {
    this.states = new PerSymbol(() => new SmaState(params.fast, params.slow));
    this.downStrength = params.longOnly ? 0 : -1;
  }

  onBar(bar: Bar, ctx: StrategyContext): void {
    const s = this.states.get(bar.symbol);
    const prev = s.prevCmp;
    const cmp = s.push(bar.close);
    if (cmp === NONE) return;
    s.prevCmp = cmp;
    if (prev === NONE) return;
    if (cmp === 1 && prev <= 0) ctx.signal(bar.symbol, bar.ts, 1, bar.close, 'sma fast crossed above slow');
    else if (cmp === -1 && prev >= 0) ctx.signal(bar.symbol, bar.ts, this.downStrength, bar.close, 'sma fast crossed below slow');
  }

  snapshot(): z.infer<typeof SmaSnapshotSchema> {
    const symbols: z.infer<typeof SmaSnapshotSchema>['symbols'] = {};
    for (const [symbol, s] of this.states.entries()) {
      symbols[symbol] = { closes: Array.from(s.closes), next: s.next, seen: s.seen, fastSum: s.fastSum, slowSum: s.slowSum, prevCmp: s.prevCmp };
    }
    return { strategy: 'sma-cross', fast: this.params.fast, slow: this.params.slow, symbols };
  }

  restore(state: unknown): void {
    const snap = SmaSnapshotSchema.parse(state);
    if (snap.fast !== this.params.fast || snap.slow !== this.params.slow) {
      throw new ValidationError('SNAPSHOT_MISMATCH', `snapshot has fast=${snap.fast} slow=${snap.slow}, strategy has fast=${this.params.fast} slow=${this.params.slow}`, this.id);
    }
    this.states.clear();
    for (const [symbol, saved] of Object.entries(snap.symbols)) {
      const s = this.states.get(symbol);
      s.closes.set(saved.closes);
      s.next = saved.next;
      s.seen = saved.seen;
      s.fastSum = saved.fastSum;
      s.slowSum = saved.slowSum;
      s.prevCmp = saved.prevCmp;
    }
  }
}
