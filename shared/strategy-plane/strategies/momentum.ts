import * as z from 'zod';
import type { Bar } from '../../domain/index.ts';
import type { Strategy, StrategyContext } from '../../ports/planes.ts';
import { PerSymbol, Ring, RingStateSchema } from '../rolling.ts';
import { ValidationError } from '../../util/errors.ts';

export interface MomentumParams {
  readonly lookback: number;
  readonly threshold: number;
  readonly longOnly: boolean;
}

class MomentumState {
  /** lookback + 1 closes: the current one and the one `lookback` bars earlier. */
  readonly closes: Ring;
  stance = 0;
  constructor(lookback: number) {
    this.closes = new Ring(lookback + 1);
  }
}

const MomentumSnapshotSchema = z.object({
  strategy: z.literal('momentum'),
  lookback: z.number().int(),
  symbols: z.record(z.string(), z.object({ closes: RingStateSchema, stance: z.number().int().min(-1).max(1) })),
});

/**
 * Time-series momentum: r = close / close[lookback bars ago] - 1. Long when r > threshold, short (flat
 * when longOnly) when r < -threshold, flat in between. Signals fire only when the stance changes; the
 * stance starts flat.
 */
export class MomentumStrategy implements Strategy {
  private readonly states: PerSymbol<MomentumState>;

  constructor(readonly id: string, readonly params: MomentumParams) {
    this.states = new PerSymbol(() => new MomentumState(params.lookback));
  }

  onBar(bar: Bar, ctx: StrategyContext): void {
    const s = this.states.get(bar.symbol);
    s.closes.push(bar.close);
    if (!s.closes.full) return;
    const r = bar.close / s.closes.ago(this.params.lookback) - 1;
    const { threshold, longOnly } = this.params;
    const stance = r > threshold ? 1 : r < -threshold ? (longOnly ? 0 : -1) : 0;
    if (stance === s.stance) return;
    s.stance = stance;
    ctx.signal(bar.symbol, bar.ts, stance, bar.close, stance > 0 ? 'lookback return above threshold' : stance < 0 ? 'lookback return below -threshold' : 'lookback return inside threshold');
  }

  snapshot(): z.infer<typeof MomentumSnapshotSchema> {
    const symbols: z.infer<typeof MomentumSnapshotSchema>['symbols'] = {};
    for (const [symbol, s] of this.states.entries()) symbols[symbol] = { closes: s.closes.snapshot(), stance: s.stance };
    return { strategy: 'momentum', lookback: this.params.lookback, symbols };
  }

  restore(state: unknown): void {
    const snap = MomentumSnapshotSchema.parse(state);
    if (snap.lookback !== this.params.lookback) {
      throw new ValidationError('SNAPSHOT_MISMATCH', `snapshot has lookback=${snap.lookback}, strategy has lookback=${this.params.lookback}`, this.id);
    }
    this.states.clear();
    for (const [symbol, saved] of Object.entries(snap.symbols)) {
      const s = this.states.get(symbol);
      s.closes.restore(saved.closes, `${this.id}/${symbol}`);
      s.stance = saved.stance;
    }
  }
}
