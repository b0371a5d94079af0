import * as z from 'zod';
import type { Instrument, MarketEvent, Signal } from '../../domain/index.ts';
import type { CostEstimator } from '../../ports/planes.ts';
import type { MarketStats } from './market-stats.ts';
import { ValidationError } from '../../util/errors.ts';
import { solveMeanVariance } from './mean-variance.ts';
import type { MeanVarianceSizing, ResolvedSizingConfig, VolTargetSizing } from './sizing-config.ts';

/** A desired signed position before lot rounding, with the conviction behind it. */
export interface SizedTarget {
  readonly symbol: string;
  readonly qty: number;
  readonly price: number;
  readonly strength: number;
}

/** Why a signal produced no target. */
export type SizingSkip = 'noVolEstimate' | 'notInUniverse' | 'noCovariance' | 'noPrice' | 'solverFailed';

export interface SizerDeps {
  readonly instrument: (symbol: string) => Instrument;
  readonly stats: MarketStats;
  readonly costModel?: CostEstimator | undefined;
}

/** Turns a signal into target positions. `exposure` is the position plus pending orders, in quantity. */
export interface Sizer {
  observe?(e: MarketEvent): void;
  size(signal: Signal, exposure: (symbol: string) => number): readonly SizedTarget[] | SizingSkip;
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

function notionalPerUnit(deps: SizerDeps, symbol: string, price: number): number {
  return price * deps.instrument(symbol).multiplier;
}

/** target = strength * qty. */
export class FixedQtySizer implements Sizer {
  constructor(private readonly qty: number) {}
  size(signal: Signal): readonly SizedTarget[] {
    return [{ symbol: signal.symbol, qty: signal.strength * this.qty, price: signal.price, strength: signal.strength }];
  }
}

/** target = strength * notional / (price * multiplier). */
export class FixedNotionalSizer implements Sizer {
  constructor(private readonly notional: number, private readonly deps: SizerDeps) {}
  size(signal: Signal): readonly SizedTarget[] {
    const qty = (signal.strength * this.notional) / notionalPerUnit(this.deps, signal.symbol, signal.price);
    return [{ symbol: signal.symbol, qty, price: signal.price, strength: signal.strength }];
  }
}

/**
 * Volatility targeting: position notional = strength * equity * min(annualVol / realised annual vol,
 * maxLeverage). Realised vol is the rolling std of log returns, annualised by the observed spacing of
 * events (or periodsPerYear when configured).
 */
export class VolTargetSizer implements Sizer {
  constructor(private readonly config: VolTargetSizing, private readonly deps: SizerDeps) {}

  /** Notional / equity the sizer would hold at full strength, or NaN without a volatility estimate. */
  leverage(symbol: string): number {
    const vol = this.deps.stats.volPerPeriod(symbol);
    const periods = this.config.periodsPerYear ?? this.deps.stats.periodsPerYear(symbol);
    const annual = vol * Math.sqrt(periods);
    if (!(annual > 0)) return NaN;
    return Math.min(this.config.annualVol / annual, this.config.maxLeverage);
  }

  size(signal: Signal): readonly SizedTarget[] | SizingSkip {
    const leverage = this.leverage(signal.symbol);
    if (Number.isNaN(leverage)) return 'noVolEstimate';
    const qty = (signal.strength * this.config.equity * leverage) / notionalPerUnit(this.deps, signal.symbol, signal.price);
    return [{ symbol: signal.symbol, qty, price: signal.price, strength: signal.strength }];
  }
}

const MvSnapshotSchema = z.object({
  symbols: z.array(z.string()),
  window: z.number().int(),
  strengths: z.array(z.number()),
  returns: z.array(z.number()),
  next: z.number().int(),
  filled: z.number().int(),
  lastPrice: z.array(z.number()),
  periodPrice: z.array(z.number()),
  periodTs: z.number(),
});

/**
 * Multi-asset mean-variance sizing. Every observed timestamp closes a period: the log returns of all
 * assets since the previous period form one row of a rolling window, from which the covariance is
 * computed when a signal arrives. Expected returns follow Grinold's rule (ic * strength * vol); the
 * cost estimator supplies a linear (spread/fixed) and quadratic (impact) turnover penalty. Every
 * signal re-solves the whole universe, so one asset's signal may resize the others.
 */
export class MeanVarianceSizer implements Sizer {
  private readonly n: number;
  private readonly index = new Map<string, number>();
  private readonly strengths: Float64Array;
  private readonly returns: Float64Array;
  private next = 0;
  private filled = 0;
  private readonly lastPrice: Float64Array;
  private readonly periodPrice: Float64Array;
  private periodTs = 0;

  constructor(private readonly config: MeanVarianceSizing, private readonly deps: SizerDeps) {
    this.n = config.symbols.length;
    config.symbols.forEach((s, i) => this.index.set(s, i));
    this.strengths = new Float64Array(this.n);
    this.returns = new Float64Array(config.window * this.n);
    this.lastPrice = new Float64Array(this.n);
    this.periodPrice = new Float64Array(this.n);
  }

  observe(e: MarketEvent): void {
    const i = this.index.get(e.symbol);
    if (i === undefined) return;
    let price: number;
    if (e.kind === 'bar') price = e.close;
    else if (e.kind === 'quote') price = (e.bid + e.ask) / 2;
    else if (e.kind === 'trade') price = e.price;
    else if (e.kind === 'ofi') price = e.mid;
    else return;
    if (e.ts !== this.periodTs) {
      if (this.periodTs !== 0) this.closePeriod();
      this.periodTs = e.ts;
    }
    this.lastPrice[i] = price;
  }

  size(signal: Signal, exposure: (symbol: string) => number): readonly SizedTarget[] | SizingSkip {
    const k = this.index.get(signal.symbol);
    if (k === undefined) return 'notInUniverse';
    this.strengths[k] = signal.strength;
    if (this.filled < this.config.window) return 'noCovariance';
    const { symbols, equity, ic, costAversion } = this.config;
    const n = this.n;
    const prices = symbols.map((s, i) => (i === k ? signal.price : this.lastPrice[i]));
    if (prices.some((p) => !(p > 0))) return 'noPrice';
    const cov = this.covariance();
    const mu = symbols.map((_, i) => ic * this.strengths[i] * Math.sqrt(cov[i][i]));
    const unit = symbols.map((s, i) => notionalPerUnit(this.deps, s, prices[i]));
    const current = symbols.map((s, i) => (exposure(s) * unit[i]) / equity);
    const linearCost = new Array<number>(n).fill(0);
    const quadraticCost = new Array<number>(n).fill(0);
    const model = this.deps.costModel;
    if (model && costAversion > 0) {
      for (let i = 0; i < n; i++) {
        // Cost of trading nothing vs trading the whole equity: the intercept is the linear (spread)
        // part, the increase the impact, spread as a quadratic so 1/2 k * 1^2 matches the estimate.
        const fixed = model.estimateBps(symbols[i], this.deps.stats.costFeatures(symbols[i], 0)) / 1e4;
        const full = model.estimateBps(symbols[i], this.deps.stats.costFeatures(symbols[i], equity / unit[i])) / 1e4;
        linearCost[i] = costAversion * Math.max(0, fixed);
        quadraticCost[i] = costAversion * 2 * Math.max(0, full - fixed);
      }
    }
    let w: number[];
    try {
      const { riskAversion, longOnly, maxWeight, grossLeverage } = this.config;
      w = solveMeanVariance({ mu, cov, current, riskAversion, longOnly, maxWeight, grossLeverage, linearCost, quadraticCost });
    } catch (err) {
      // A degenerate covariance must not stop the stream: keep the current book and count it.
      if (err instanceof ValidationError) return 'solverFailed';
      throw err;
    }
    return symbols.map((symbol, i) => ({ symbol, qty: (w[i] * equity) / unit[i], price: prices[i], strength: this.strengths[i] }));
  }

  /** Sample covariance of the rows in the window. */
  covariance(): number[][] {
    const { n, filled, returns } = this;
    const mean = new Array<number>(n).fill(0);
    for (let r = 0; r < filled; r++) for (let i = 0; i < n; i++) mean[i] += returns[r * n + i] / filled;
    const cov = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let r = 0; r < filled; r++) {
      for (let i = 0; i < n; i++) {
        const di = returns[r * n + i] - mean[i];
        for (let j = i; j < n; j++) cov[i][j] += (di * (returns[r * n + j] - mean[j])) / (filled - 1);
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) cov[i][j] = cov[j][i];
    return cov;
  }

  snapshot(): z.infer<typeof MvSnapshotSchema> {
    return {
      symbols: [...this.config.symbols],
      window: this.config.window,
      strengths: Array.from(this.strengths),
      returns: Array.from(this.returns),
      next: this.next,
      filled: this.filled,
      lastPrice: Array.from(this.lastPrice),
      periodPrice: Array.from(this.periodPrice),
      periodTs: this.periodTs,
    };
  }

  restore(state: unknown): void {
    const s = MvSnapshotSchema.parse(state);
    if (s.window !== this.config.window || s.symbols.join('|') !== this.config.symbols.join('|')) {
      throw new RangeError(`mean-variance snapshot (window ${s.window}, symbols ${s.symbols.join(',')}) does not match the configuration`);
    }
    this.strengths.set(s.strengths);
    this.returns.set(s.returns);
    this.next = s.next;
    this.filled = s.filled;
    this.lastPrice.set(s.lastPrice);
    this.periodPrice.set(s.periodPrice);
    this.periodTs = s.periodTs;
  }

  private closePeriod(): void {
    const n = this.n;
    for (let i = 0; i < n; i++) if (!(this.lastPrice[i] > 0)) return;
    let complete = true;
    for (let i = 0; i < n; i++) if (!(this.periodPrice[i] > 0)) complete = false;
    if (complete) {
      const base = this.next * n;
      for (let i = 0; i < n; i++) this.returns[base + i] = Math.log(this.lastPrice[i] / this.periodPrice[i]);
      if (++this.next === this.config.window) this.next = 0;
      if (this.filled < this.config.window) this.filled++;
    }
    this.periodPrice.set(this.lastPrice);
  }
}

export function createSizer(config: ResolvedSizingConfig, deps: SizerDeps): Sizer {
  switch (config.kind) {
    case 'fixed-qty':
      return new FixedQtySizer(config.qty);
    case 'fixed-notional':
      return new FixedNotionalSizer(config.notional, deps);
    case 'vol-target':
      return new VolTargetSizer(config, deps);
    case 'mean-variance':
      return new MeanVarianceSizer(config, deps);
  }
}
