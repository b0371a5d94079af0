import * as z from 'zod';
import { clientOrderId } from '../domain/ids.ts';
import { describeZodError } from '../domain/envelope.ts';
import type { ExecutionReport, Instrument, MarketEvent, OrderIntent, Signal } from '../domain/index.ts';
import { roundDownToStep } from '../domain/numbers.ts';
import type { CostEstimator, Strategy, StrategyContext, StrategyPlaneSink } from '../ports/planes.ts';
import { ConfigError, ValidationError } from '../util/errors.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { PositionBook } from './portfolio/book.ts';
import { MarketStats } from './portfolio/market-stats.ts';
import { createSizer, type SizedTarget, type Sizer, type SizingSkip } from './portfolio/sizers.ts';
import { SizingConfigSchema, type ResolvedSizingConfig, type SizingConfig } from './portfolio/sizing-config.ts';

export interface StrategyPlaneOptions {
  readonly accountId: string;
  readonly strategies: readonly Strategy[];
  readonly sizing: SizingConfig;
  readonly instrument: (symbol: string) => Instrument;
  /** Enables the cost side of the no-trade band and the mean-variance turnover penalty. */
  readonly costModel?: CostEstimator | undefined;
}

export type SkipReason = SizingSkip | 'zeroDelta' | 'belowMinQty' | 'belowMinNotional' | 'costExceedsBenefit';

export interface StrategyPlaneCounts {
  signals: number;
  targets: number;
  intents: number;
  fills: number;
  skipped: Record<SkipReason, number>;
  /** Reports for orders already closed (redelivery). */
  duplicateReports: number;
  /** Reports for orders this plane did not send (before a restart without snapshot). */
  untrackedReports: number;
  /** Reports for other accounts or strategies: not ours to book. */
  foreignReports: number;
}

const PlaneSnapshotSchema = z.object({
  version: z.literal(1),
  strategies: z.record(z.string(), z.unknown()),
  sizers: z.record(z.string(), z.unknown()),
  book: z.unknown(),
  stats: z.unknown().optional(),
});
export type StrategyPlaneSnapshot = z.infer<typeof PlaneSnapshotSchema>;

/**
 * Strategies -> signals -> targets -> order intents. Intents are the delta between the sized target
 * (rounded down to the lot) and what the strategy holds plus what it has pending, so a signal
 * repeated while an order is open never doubles the position. Synchronous and I/O-free; a sink may
 * call onExecution re-entrantly (in-process bus), which is why pending is booked before an intent leaves.
 */
export class StrategyPlane {
  private readonly strategies: readonly Strategy[];
  private readonly contexts: readonly StrategyContext[];
  private readonly sizers: readonly Sizer[];
  private readonly observers: readonly Sizer[];
  private readonly slots = new Map<string, number>();
  private readonly book = new PositionBook();
  private readonly stats: MarketStats | undefined;
  private readonly sizing: ResolvedSizingConfig;
  private readonly tally: StrategyPlaneCounts = {
    signals: 0,
    targets: 0,
    intents: 0,
    fills: 0,
    skipped: { noVolEstimate: 0, notInUniverse: 0, noCovariance: 0, noPrice: 0, solverFailed: 0, zeroDelta: 0, belowMinQty: 0, belowMinNotional: 0, costExceedsBenefit: 0 },
    duplicateReports: 0,
    untrackedReports: 0,
    foreignReports: 0,
  };

  constructor(private readonly opts: StrategyPlaneOptions, private readonly sink: StrategyPlaneSink) {
    if (!opts.accountId) throw new ConfigError('strategy plane: accountId is required');
    if (opts.strategies.length === 0) throw new ConfigError('strategy plane: at least one strategy is required');
    const parsed = SizingConfigSchema.safeParse(opts.sizing);
    if (!parsed.success) throw new ConfigError(`strategy plane sizing: ${describeZodError(parsed.error)}`);
    this.sizing = parsed.data;
    this.strategies = opts.strategies;
    opts.strategies.forEach((s, i) => {
      if (this.slots.has(s.id)) throw new ConfigError(`strategy plane: duplicate strategy id '${s.id}'; pass distinct ids to createStrategy`);
      this.slots.set(s.id, i);
    });
    const needsStats = this.sizing.kind === 'vol-target' || this.sizing.kind === 'mean-variance' || opts.costModel !== undefined;
    const window = this.sizing.kind === 'vol-target' ? this.sizing.window : DEFAULTS.strategyPlane.statsWindow;
    this.stats = needsStats ? new MarketStats(window) : undefined;
    const deps = { instrument: opts.instrument, stats: this.stats ?? new MarketStats(window), costModel: opts.costModel };
    this.sizers = opts.strategies.map(() => createSizer(this.sizing, deps));
    this.observers = this.sizers.filter((s) => s.observe !== undefined);
    this.contexts = opts.strategies.map((s, slot) => this.contextFor(s.id, slot));
  }

  /** Hot path: no allocation unless a strategy signals. */
  onMarket(e: MarketEvent): void {
    if (this.stats !== undefined) this.stats.observe(e);
    for (let i = 0; i < this.observers.length; i++) (this.observers[i].observe as (e: MarketEvent) => void)(e);
    const strategies = this.strategies;
    const contexts = this.contexts;
    switch (e.kind) {
      case 'bar':
        for (let i = 0; i < strategies.length; i++) strategies[i].onBar?.(e, contexts[i]);
        break;
      case 'quote':
        for (let i = 0; i < strategies.length; i++) strategies[i].onQuote?.(e, contexts[i]);
        break;
      case 'trade':
        for (let i = 0; i < strategies.length; i++) strategies[i].onTrade?.(e, contexts[i]);
        break;
      case 'depth':
        for (let i = 0; i < strategies.length; i++) strategies[i].onDepth?.(e, contexts[i]);
        break;
      case 'ofi':
        for (let i = 0; i < strategies.length; i++) strategies[i].onOfi?.(e, contexts[i]);
        break;
    }
  }

  onExecution(report: ExecutionReport): void {
    const { order, fill } = report;
    const slot = this.slots.get(order.strategyId);
    if (slot === undefined || order.accountId !== this.opts.accountId) {
      this.tally.foreignReports++;
      return;
    }
    const outcome = this.book.apply(report, this.opts.instrument(order.symbol).lotSize);
    if (outcome === 'duplicate') this.tally.duplicateReports++;
    if (outcome === 'untracked') this.tally.untrackedReports++;
    if (fill !== undefined && (outcome === 'filled' || outcome === 'untracked')) {
      this.tally.fills++;
      this.strategies[slot].onFill?.(fill, this.contexts[slot]);
    }
  }

  /** Filled position of a strategy in a symbol. */
  position(strategyId: string, symbol: string): number {
    return this.book.position(strategyId, symbol);
  }

  /** Filled plus pending position of a strategy in a symbol. */
  exposure(strategyId: string, symbol: string): number {
    return this.book.exposure(strategyId, symbol);
  }

  counts(): StrategyPlaneCounts {
    return { ...this.tally, skipped: { ...this.tally.skipped } };
  }

  snapshot(): StrategyPlaneSnapshot {
    const strategies: Record<string, unknown> = {};
    const sizers: Record<string, unknown> = {};
    this.strategies.forEach((s, i) => {
      if (s.snapshot) strategies[s.id] = s.snapshot();
      const sizer = this.sizers[i];
      if (sizer.snapshot) sizers[s.id] = sizer.snapshot();
    });
    return { version: 1, strategies, sizers, book: this.book.snapshot(), stats: this.stats?.snapshot() };
  }

  /** Resumes from a snapshot; strategies absent from it start cold. */
  restore(raw: unknown): void {
    const snap = PlaneSnapshotSchema.parse(raw);
    this.strategies.forEach((s, i) => {
      const state = snap.strategies[s.id];
      if (state !== undefined) {
        if (!s.restore) throw new ValidationError('SNAPSHOT_MISMATCH', 'snapshot holds state for a strategy that cannot restore it', s.id);
        s.restore(state);
      }
      const sizerState = snap.sizers[s.id];
      if (sizerState !== undefined) this.sizers[i].restore?.(sizerState);
    });
    this.book.restore(snap.book);
    if (this.stats !== undefined && snap.stats !== undefined) this.stats.restore(snap.stats);
  }

  private contextFor(strategyId: string, slot: number): StrategyContext {
    return {
      position: (symbol) => this.book.position(strategyId, symbol),
      instrument: (symbol) => this.opts.instrument(symbol),
      signal: (symbol, ts, strength, price, reason) => this.onSignal(slot, strategyId, symbol, ts, strength, price, reason ?? ''),
    };
  }

  private onSignal(slot: number, strategyId: string, symbol: string, ts: number, strength: number, price: number, reason: string): void {
    // A strategy bug, not market input: fail fast with the strategy named.
    if (!(strength >= -1 && strength <= 1)) throw new ValidationError('BAD_SIGNAL', `strength ${strength} outside [-1, 1] for ${symbol} at ${ts}`, strategyId);
    if (!(price > 0 && Number.isFinite(price))) throw new ValidationError('BAD_SIGNAL', `price ${price} must be finite and > 0 for ${symbol} at ${ts}`, strategyId);
    if (!(Number.isInteger(ts) && ts > 0)) throw new ValidationError('BAD_SIGNAL', `timestamp ${ts} must be positive integer microseconds for ${symbol}`, strategyId);
    const signal: Signal = { strategyId, symbol, ts, strength, price, reason };
    this.tally.signals++;
    this.sink.signal(signal);
    const sized = this.sizers[slot].size(signal, (s) => this.book.exposure(strategyId, s));
    if (typeof sized === 'string') {
      this.tally.skipped[sized]++;
      return;
    }
    for (const target of sized) this.rebalance(strategyId, target, ts, target.symbol === symbol ? reason : `rebalance on ${symbol} signal`);
  }

  private rebalance(strategyId: string, t: SizedTarget, ts: number, reason: string): void {
    const { symbol, price } = t;
    const inst = this.opts.instrument(symbol);
    const targetQty = Math.sign(t.qty) * roundDownToStep(Math.abs(t.qty), inst.lotSize) || 0;
    this.tally.targets++;
    this.sink.target({ strategyId, symbol, ts, targetQty, price });

    const h = this.book.holding(strategyId, symbol);
    const current = h.position + h.pendingBuy - h.pendingSell;
    const delta = targetQty - current;
    const qty = roundDownToStep(Math.abs(delta), inst.lotSize);
    if (qty === 0) return this.skip('zeroDelta');
    const sign: 1 | -1 = delta > 0 ? 1 : -1;
    // Moving exposure toward zero cuts risk: never blocked by the cost test.
    const reducing = current !== 0 && sign !== Math.sign(current) && qty <= Math.abs(current);
    if (targetQty !== 0) {
      if (inst.minQty !== undefined && qty < inst.minQty) return this.skip('belowMinQty');
      if (qty * price * inst.multiplier < this.sizing.minNotional) return this.skip('belowMinNotional');
      if (!reducing && this.opts.costModel !== undefined && this.stats !== undefined) {
        const costBps = this.opts.costModel.estimateBps(symbol, this.stats.costFeatures(symbol, qty));
        if (costBps > this.sizing.edgeBps * Math.abs(t.strength)) return this.skip('costExceedsBenefit');
      }
    }
    if (h.lastTs === ts) h.seq++;
    else {
      h.lastTs = ts;
      h.seq = 0;
    }
    const side = sign > 0 ? 'buy' : 'sell';
    const accountId = this.opts.accountId;
    const id = clientOrderId({ accountId, strategyId, symbol, ts, side, qty, seq: h.seq });
    const intent: OrderIntent = {
      clientOrderId: id,
      accountId,
      strategyId,
      symbol,
      ts,
      side,
      qty,
      type: 'market',
      timeInForce: 'GTC',
      decisionPrice: price,
      // Reduce-only must hold even if every open order on the same side fills first (the order plane
      // checks it that way), so those count against the filled position too.
      reduceOnly: h.position !== 0 && sign !== Math.sign(h.position) && qty + (sign > 0 ? h.pendingBuy : h.pendingSell) <= Math.abs(h.position),
      reason,
    };
    this.book.addPending(id, strategyId, symbol, sign, qty, inst.lotSize);
    this.tally.intents++;
    this.sink.intent(intent);
  }

  private skip(reason: SkipReason): void {
    this.tally.skipped[reason]++;
  }
}
