import * as z from 'zod';
import type { MarketEvent } from '../../domain/index.ts';
import { US_PER_YEAR } from '../../domain/time.ts';
import type { CostFeatures } from '../../ports/planes.ts';
import { PerSymbol, Ring, RingStateSchema, RollingWindow, RollingWindowStateSchema } from '../rolling.ts';

class SymbolStats {
  readonly returns: RollingWindow;
  readonly volumes: RollingWindow;
  readonly times: Ring;
  lastPrice = 0;
  spreadBps = 0;
  constructor(window: number) {
    this.returns = new RollingWindow(window);
    this.volumes = new RollingWindow(window);
    this.times = new Ring(window + 1);
  }
}

const StatsSnapshotSchema = z.object({
  window: z.number().int(),
  symbols: z.record(
    z.string(),
    z.object({ returns: RollingWindowStateSchema, volumes: RollingWindowStateSchema, times: RingStateSchema, lastPrice: z.number(), spreadBps: z.number() }),
  ),
});
export type MarketStatsSnapshot = z.infer<typeof StatsSnapshotSchema>;

/**
 * Per-symbol running market statistics that sizing and cost estimates need: realised volatility of
 * log returns per observation, the spacing of observations (to annualise it), mean traded volume per
 * observation (for participation) and the last quoted spread. O(1) per event, no allocation.
 */
export class MarketStats {
  private readonly states: PerSymbol<SymbolStats>;

  constructor(readonly window: number) {
    this.states = new PerSymbol(() => new SymbolStats(window));
  }

  observe(e: MarketEvent): void {
    switch (e.kind) {
      case 'bar':
        this.add(e.symbol, e.ts, e.close, e.volume);
        break;
      case 'quote': {
        const mid = (e.bid + e.ask) / 2;
        const s = this.add(e.symbol, e.ts, mid, 0);
        s.spreadBps = ((e.ask - e.bid) / mid) * 1e4;
        break;
      }
      case 'trade':
        this.add(e.symbol, e.ts, e.price, e.size);
        break;
      case 'ofi':
        this.add(e.symbol, e.ts, e.mid, 0);
        break;
      case 'depth':
        break;
    }
  }

  lastPrice(symbol: string): number {
    return this.states.get(symbol).lastPrice;
  }

  /** Standard deviation of log returns per observation, or NaN until the window is full. */
  volPerPeriod(symbol: string): number {
    const r = this.states.get(symbol).returns;
    return r.full ? r.std() : NaN;
  }

  /** Observations per year implied by the mean spacing of recent timestamps, or NaN when unknown. */
  periodsPerYear(symbol: string): number {
    const t = this.states.get(symbol).times;
    if (!t.full) return NaN;
    const span = t.ago(0) - t.ago(t.size - 1);
    return span > 0 ? (US_PER_YEAR * (t.size - 1)) / span : NaN;
  }

  /** Cost-model inputs for trading `qty` of `symbol` now. */
  costFeatures(symbol: string, qty: number): CostFeatures {
    const s = this.states.get(symbol);
    const vol = s.returns.count >= 2 ? s.returns.std() * 1e4 : 0;
    const meanVolume = s.volumes.count > 0 ? s.volumes.mean() : 0;
    return { spreadBps: s.spreadBps, volBps: vol, participation: meanVolume > 0 ? Math.abs(qty) / meanVolume : 0 };
  }

  snapshot(): MarketStatsSnapshot {
    const symbols: MarketStatsSnapshot['symbols'] = {};
    for (const [symbol, s] of this.states.entries()) {
      symbols[symbol] = { returns: s.returns.snapshot(), volumes: s.volumes.snapshot(), times: s.times.snapshot(), lastPrice: s.lastPrice, spreadBps: s.spreadBps };
    }
    return { window: this.window, symbols };
  }

  restore(raw: unknown): void {
    const snap = StatsSnapshotSchema.parse(raw);
    if (snap.window !== this.window) throw new RangeError(`market stats snapshot window ${snap.window} does not match configured ${this.window}`);
    this.states.clear();
    for (const [symbol, saved] of Object.entries(snap.symbols)) {
      const s = this.states.get(symbol);
      s.returns.restore(saved.returns, `stats/${symbol}/returns`);
      s.volumes.restore(saved.volumes, `stats/${symbol}/volumes`);
      s.times.restore(saved.times, `stats/${symbol}/times`);
      s.lastPrice = saved.lastPrice;
      s.spreadBps = saved.spreadBps;
    }
  }

  private add(symbol: string, ts: number, price: number, volume: number): SymbolStats {
    const s = this.states.get(symbol);
    if (s.lastPrice > 0) s.returns.push(Math.log(price / s.lastPrice));
    s.lastPrice = price;
    s.volumes.push(volume);
    s.times.push(ts);
    return s;
  }
}
