import * as z from 'zod';
import type { Ofi, Quote } from '../../domain/index.ts';
import type { Strategy, StrategyContext } from '../../ports/planes.ts';
import { PerSymbol, RollingWindow, RollingWindowStateSchema } from '../rolling.ts';
import { ValidationError } from '../../util/errors.ts';

export interface OfiParams {
  readonly window: number;
  readonly threshold: number;
  readonly horizon: number;
  readonly longOnly: boolean;
}

class OfiState {
  /** Previous observations of normalised OFI; the current one is scored against them, then added. */
  readonly history: RollingWindow;
  stance = 0;
  /** Observations left before an unrefreshed stance decays to flat. */
  left = 0;
  hasQuote = false;
  bid = 0;
  ask = 0;
  bidSize = 0;
  askSize = 0;
  constructor(window: number) {
    this.history = new RollingWindow(window);
  }
}

const OfiSnapshotSchema = z.object({
  strategy: z.literal('ofi'),
  window: z.number().int(),
  symbols: z.record(
    z.string(),
    z.object({
      history: RollingWindowStateSchema,
      stance: z.number().int().min(-1).max(1),
      left: z.number().int(),
      hasQuote: z.boolean(),
      bid: z.number(),
      ask: z.number(),
      bidSize: z.number(),
      askSize: z.number(),
    }),
  ),
});

/**
 * Short-term order-flow signal. Each observation of normalised OFI is scored as a z-score against the
 * previous `window` observations: above +threshold -> long, below -threshold -> short (flat when
 * longOnly). A stance lasts `horizon` observations unless refreshed by another signal the same way.
 * Fed by Ofi events (normalizedOfi) or by quotes, from which the Cont-Kukanov-Stoikov contribution
 * of each best-level change is computed and normalised by the mean touch depth.
 */
export class OfiStrategy implements Strategy {
  private readonly states: PerSymbol<OfiState>;

  constructor(readonly id: string, readonly params: OfiParams) {
    this.states = new PerSymbol(() => new OfiState(params.window));
  }

  onOfi(ofi: Ofi, ctx: StrategyContext): void {
    this.observe(this.states.get(ofi.symbol), ofi.symbol, ofi.ts, ofi.normalizedOfi, ofi.mid, ctx);
  }

  onQuote(q: Quote, ctx: StrategyContext): void {
    // Without sizes the order-flow contribution is unknown.
    if (q.bidSize === undefined || q.askSize === undefined) return;
    const s = this.states.get(q.symbol);
    if (s.hasQuote) {
      const e =
        (q.bid >= s.bid ? q.bidSize : 0) - (q.bid <= s.bid ? s.bidSize : 0) - (q.ask <= s.ask ? q.askSize : 0) + (q.ask >= s.ask ? s.askSize : 0);
      const depth = (q.bidSize + q.askSize + s.bidSize + s.askSize) / 4;
      if (depth > 0) this.observe(s, q.symbol, q.ts, e / depth, (q.bid + q.ask) / 2, ctx);
    }
    s.hasQuote = true;
    s.bid = q.bid;
    s.ask = q.ask;
    s.bidSize = q.bidSize;
    s.askSize = q.askSize;
  }

  private observe(s: OfiState, symbol: string, ts: number, x: number, price: number, ctx: StrategyContext): void {
    const h = s.history;
    if (h.full) {
      const sd = h.std();
      const z = sd > 0 ? (x - h.mean()) / sd : 0;
      const { threshold, horizon, longOnly } = this.params;
      const direction = z > threshold ? 1 : z < -threshold ? -1 : 0;
      if (direction !== 0) {
        const stance = longOnly && direction < 0 ? 0 : direction;
        s.left = horizon;
        if (stance !== s.stance) {
          s.stance = stance;
          ctx.signal(symbol, ts, stance, price, direction > 0 ? 'order-flow imbalance z above threshold' : 'order-flow imbalance z below -threshold');
        }
      } else if (s.stance !== 0 && --s.left <= 0) {
        s.stance = 0;
        ctx.signal(symbol, ts, 0, price, 'order-flow signal horizon elapsed');
      }
    }
    h.push(x);
  }

  snapshot(): z.infer<typeof OfiSnapshotSchema> {
    const symbols: z.infer<typeof OfiSnapshotSchema>['symbols'] = {};
    for (const [symbol, s] of this.states.entries()) {
      symbols[symbol] = { history: s.history.snapshot(), stance: s.stance, left: s.left, hasQuote: s.hasQuote, bid: s.bid, ask: s.ask, bidSize: s.bidSize, askSize: s.askSize };
    }
    return { strategy: 'ofi', window: this.params.window, symbols };
  }

  restore(state: unknown): void {
    const snap = OfiSnapshotSchema.parse(state);
    if (snap.window !== this.params.window) {
      throw new ValidationError('SNAPSHOT_MISMATCH', `snapshot has window=${snap.window}, strategy has window=${this.params.window}`, this.id);
    }
    this.states.clear();
    for (const [symbol, saved] of Object.entries(snap.symbols)) {
      const s = this.states.get(symbol);
      s.history.restore(saved.history, `${this.id}/${symbol}`);
      Object.assign(s, { stance: saved.stance, left: saved.left, hasQuote: saved.hasQuote, bid: saved.bid, ask: saved.ask, bidSize: saved.bidSize, askSize: saved.askSize });
    }
  }
}
