import * as z from 'zod';
import type { Bar } from '../../domain/index.ts';
import type { Strategy, StrategyContext } from '../../ports/planes.ts';
import { PerSymbol, RollingWindow, RollingWindowStateSchema } from '../rolling.ts';
import { ValidationError } from '../../util/errors.ts';

export interface MeanReversionParams {
  readonly window: number;
  readonly entryZ: number;
  readonly exitZ: number;
  readonly longOnly: boolean;
}

class MrState {
  readonly closes: RollingWindow;
  /** Current stance: 1 long, -1 short, 0 flat. */
  stance = 0;
  constructor(window: number) {
    this.closes = new RollingWindow(window);
  }
}

const MrSnapshotSchema = z.object({
  strategy: z.literal('mean-reversion'),
  window: z.number().int(),
  symbols: z.record(z.string(), z.object({ closes: RollingWindowStateSchema, stance: z.number().int().min(-1).max(1) })),
});

/**
 * Bollinger mean reversion: z = (close - mean) / std over the last `window` closes (current included,
 * population std). Beyond +entryZ go short (flat when longOnly), beyond -entryZ go long; back inside
 * +-exitZ go flat; in between hold. Signals fire only when the stance changes.
 */
export class MeanReversionStrategy implements Strategy {
  private readonly states: PerSymbol<MrState>;

  constructor(readonly id: string, readonly params: MeanReversionParams) {
    this.states = new PerSymbol(() => new MrState(params.window));
  }

  onBar(bar: Bar, ctx: StrategyContext): void {
    const s = this.states.get(bar.symbol);
    s.closes.push(bar.close);
    if (!s.closes.full) return;
    const sd = s.closes.std();
    if (!(sd > 0)) return;
    const z = (bar.close - s.closes.mean()) / sd;
    const { entryZ, exitZ, longOnly } = this.params;
    let stance = s.stance;
    if (z > entryZ) stance = longOnly ? 0 : -1;
    else if (z < -entryZ) stance = 1;
    else if (Math.abs(z) < exitZ) stance = 0;
    if (stance === s.stance) return;
    s.stance = stance;
    ctx.signal(bar.symbol, bar.ts, stance, bar.close, stance === 0 ? 'z-score back inside exit band' : stance > 0 ? 'z-score below -entryZ' : 'z-score above entryZ');
  }

  snapshot(): z.infer<typeof MrSnapshotSchema> {
    const symbols: z.infer<typeof MrSnapshotSchema>['symbols'] = {};
    for (const [symbol, s] of this.states.entries()) symbols[symbol] = { closes: s.closes.snapshot(), stance: s.stance };
    return { strategy: 'mean-reversion', window: this.params.window, symbols };
  }

  restore(state: unknown): void {
    const snap = MrSnapshotSchema.parse(state);
    if (snap.window !== this.params.window) {
      throw new ValidationError('SNAPSHOT_MISMATCH', `snapshot has window=${snap.window}, strategy has window=${this.params.window}`, this.id);
    }
    this.states.clear();
    for (const [symbol, saved] of Object.entries(snap.symbols)) {
      const s = this.states.get(symbol);
      s.closes.restore(saved.closes, `${this.id}/${symbol}`);
      s.stance = saved.stance;
    }
  }
}
