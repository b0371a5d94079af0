import * as z from 'zod';
import type { Fill, Side } from '../domain/index.ts';
import { US_PER_DAY, US_PER_YEAR } from '../domain/time.ts';
import { ConfigError, ValidationError } from '../util/errors.ts';

/** A figure that is mathematically undefined for the run (e.g. Sharpe with zero variance) is null, never NaN/Infinity. */
const ratio = z.number().refine(Number.isFinite, { message: 'must be finite' }).nullable();
const count = z.number().int().nonnegative();

export const StatisticsSchema = z.object({
  /** endEquity / startEquity - 1. */
  totalReturn: ratio,
  /** Compound annual growth over the calendar span of the marks. */
  cagr: ratio,
  annualVolatility: ratio,
  /** Risk-free rate 0. */
  sharpe: ratio,
  /** Mean return over the target semideviation below 0, annualised. */
  sortino: ratio,
  calmar: ratio,
  /** Largest peak-to-trough fall as a positive fraction of the peak. */
  maxDrawdown: z.number().nonnegative(),
  /** Longest time from a peak to its recovery (or to the end when never recovered). */
  maxDrawdownDurationDays: z.number().nonnegative(),
  winRate: ratio,
  profitFactor: ratio,
  /** Mean PnL (net of fees) per closed round trip. */
  expectancy: ratio,
  /** Closed round trips. */
  tradeCount: count,
  fillCount: count,
  /** Fraction of marks with gross exposure > 0. */
  exposure: ratio,
  /** Traded notional divided by mean equity over the marks (initial cash when there are none). */
  turnover: ratio,
  fees: z.number(),
  bars: count,
  startTs: z.number().int().positive().nullable(),
  endTs: z.number().int().positive().nullable(),
  startEquity: z.number(),
  endEquity: z.number(),
  /** Observed marks per year; annualises volatility, Sharpe and Sortino. */
  periodsPerYear: ratio,
});
export type Statistics = Readonly<z.infer<typeof StatisticsSchema>>;

export interface FillMarker {
  readonly ts: number;
  readonly symbol: string;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
}

/** Downsampled series for charts: one point per bucket of consecutive marks, first and last mark kept exactly. */
export interface Curves {
  readonly initialCash: number;
  /** Marks per bucket (a power of two). */
  readonly marksPerPoint: number;
  readonly ts: readonly number[];
  /** Equity at the bucket's last mark. */
  readonly equity: readonly number[];
  /** Deepest drawdown inside the bucket (positive fraction), so the chart never hides the worst point. */
  readonly drawdown: readonly number[];
  /** Mean gross exposure over the bucket. */
  readonly exposure: readonly number[];
  /** Price at the bucket's last mark, and its low/high over the bucket. */
  readonly price: readonly number[];
  readonly priceLow: readonly number[];
  readonly priceHigh: readonly number[];
  readonly markers: readonly FillMarker[];
  /** Fills beyond the marker limit (counted, not drawn). */
  readonly markersDropped: number;
}

export interface PerformanceTrackerOptions {
  initialCash: number;
  maxCurvePoints?: number;
  maxMarkers?: number;
}

export const DEFAULT_MAX_CURVE_POINTS = 2000;
export const DEFAULT_MAX_MARKERS = 5000;

/** Positions within this relative distance of zero count as flat (0.1 + 0.2 - 0.3 is not a position). */
const FLAT_EPSILON = 1e-9;

interface OpenTrade {
  qty: number;
  avgPrice: number;
  /** Realised PnL of the current round trip so far, net of its fees. */
  pnl: number;
}

/**
 * Streams per-mark equity and fills into performance statistics with O(1) work per mark and memory
 * bounded by maxCurvePoints, so a 10M-bar backtest costs the same memory as a 10k-bar one.
 *
 * Returns follow vectorbt: the first mark's return is measured against initialCash, every later one
 * against the previous mark, so a fee paid on the first bar is not lost.
 */
export class PerformanceTracker {
  private readonly initialCash: number;
  private readonly maxMarkers: number;

  private marks = 0;
  private firstTs = 0;
  private lastTs = 0;
  private firstEquity = 0;
  private firstPrice = 0;
  private firstExposure = 0;
  private lastEquity: number;
  private prevEquity: number;

  private peak: number;
  private peakTs = 0;
  private inDrawdown = false;
  private maxDrawdown = 0;
  private maxDrawdownDurationUs = 0;

  private returnCount = 0;
  private returnMean = 0;
  private returnM2 = 0;
  private downsideSumSq = 0;
  private equitySum = 0;
  private marksInMarket = 0;

  // Curve buckets of k consecutive marks; when all are used, neighbours merge and k doubles.
  private readonly capacity: number;
  private k = 1;
  private buckets = 0;
  private openCount = 0;
  private openTs = 0;
  private openEquity = 0;
  private openPrice = 0;
  private openDrawdown = 0;
  private openExposureSum = 0;
  private openLow = 0;
  private openHigh = 0;
  private readonly bTs: Float64Array;
  private readonly bEquity: Float64Array;
  private readonly bDrawdown: Float64Array;
  private readonly bExposureSum: Float64Array;
  private readonly bCount: Float64Array;
  private readonly bPrice: Float64Array;
  private readonly bLow: Float64Array;
  private readonly bHigh: Float64Array;

  private readonly trades = new Map<string, OpenTrade>();
  private fillCount = 0;
  private fees = 0;
  private tradedNotional = 0;
  private tradeCount = 0;
  private wins = 0;
  private grossProfit = 0;
  private grossLoss = 0;
  private pnlSum = 0;
  private readonly markers: FillMarker[] = [];
  private markersDropped = 0;

  constructor(opts: PerformanceTrackerOptions) {
    if (!Number.isFinite(opts.initialCash) || opts.initialCash <= 0) {
      throw new ConfigError(`PerformanceTracker: initialCash must be a finite number > 0, got ${opts.initialCash}`);
    }
    const maxPoints = opts.maxCurvePoints ?? DEFAULT_MAX_CURVE_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 5) {
      throw new ConfigError(`PerformanceTracker: maxCurvePoints must be an integer >= 5, got ${maxPoints}`);
    }
    this.maxMarkers = opts.maxMarkers ?? DEFAULT_MAX_MARKERS;
    this.initialCash = opts.initialCash;
    this.lastEquity = opts.initialCash;
    this.prevEquity = opts.initialCash;
    this.peak = opts.initialCash;
    // Closed buckets stay below capacity (a full set merges at once), leaving one point for the open
    // bucket and one for the exact first mark; an even capacity merges in clean pairs.
    this.capacity = (maxPoints - 1) & ~1;
    this.bTs = new Float64Array(this.capacity);
    this.bEquity = new Float64Array(this.capacity);
    this.bDrawdown = new Float64Array(this.capacity);
    this.bExposureSum = new Float64Array(this.capacity);
    this.bCount = new Float64Array(this.capacity);
    this.bPrice = new Float64Array(this.capacity);
    this.bLow = new Float64Array(this.capacity);
    this.bHigh = new Float64Array(this.capacity);
  }

  /** Records the portfolio after one bar/event. ts in epoch microseconds, non-decreasing. */
  onMark(ts: number, equity: number, grossExposure: number, price: number): void {
    if (!Number.isFinite(equity) || !Number.isFinite(grossExposure) || !Number.isFinite(price)) {
      throw new ValidationError('BAD_MARK', `mark at ts ${ts}: equity ${equity}, exposure ${grossExposure}, price ${price} must be finite`, 'PerformanceTracker.onMark');
    }
    if (this.marks === 0) {
      if (!(ts > 0)) throw new ValidationError('BAD_MARK', `mark ts ${ts} must be epoch microseconds > 0`, 'PerformanceTracker.onMark');
      this.firstTs = ts;
      this.firstEquity = equity;
      this.firstPrice = price;
      this.firstExposure = grossExposure;
      this.peakTs = ts;
    } else if (!(ts >= this.lastTs)) {
      throw new ValidationError('OUT_OF_ORDER', `mark ts ${ts} is before previous mark ${this.lastTs}`, 'PerformanceTracker.onMark');
    }
    this.marks++;
    this.lastTs = ts;
    this.lastEquity = equity;

    // A wiped-out account has no meaningful return; later marks are measured from the next positive equity.
    if (this.prevEquity > 0) {
      const r = equity / this.prevEquity - 1;
      const n = ++this.returnCount;
      const delta = r - this.returnMean;
      this.returnMean += delta / n;
      this.returnM2 += delta * (r - this.returnMean);
      if (r < 0) this.downsideSumSq += r * r;
    }
    this.prevEquity = equity;
    this.equitySum += equity;
    if (grossExposure > 0) this.marksInMarket++;

    let drawdown = 0;
    if (equity >= this.peak) {
      if (this.inDrawdown && ts - this.peakTs > this.maxDrawdownDurationUs) this.maxDrawdownDurationUs = ts - this.peakTs;
      this.inDrawdown = false;
      this.peak = equity;
      this.peakTs = ts;
    } else {
      this.inDrawdown = true;
      drawdown = (this.peak - equity) / this.peak;
      if (drawdown > this.maxDrawdown) this.maxDrawdown = drawdown;
    }

    // The open bucket lives in scalars (cheaper than typed-array writes on every mark) until it holds k marks.
    if (this.openCount === 0) {
      this.openDrawdown = drawdown;
      this.openExposureSum = grossExposure;
      this.openLow = price;
      this.openHigh = price;
    } else {
      if (drawdown > this.openDrawdown) this.openDrawdown = drawdown;
      this.openExposureSum += grossExposure;
      if (price < this.openLow) this.openLow = price;
      if (price > this.openHigh) this.openHigh = price;
    }
    this.openTs = ts;
    this.openEquity = equity;
    this.openPrice = price;
    if (++this.openCount === this.k) this.closeBucket();
  }

  private closeBucket(): void {
    const b = this.buckets++;
    this.bTs[b] = this.openTs;
    this.bEquity[b] = this.openEquity;
    this.bPrice[b] = this.openPrice;
    this.bDrawdown[b] = this.openDrawdown;
    this.bExposureSum[b] = this.openExposureSum;
    this.bCount[b] = this.openCount;
    this.bLow[b] = this.openLow;
    this.bHigh[b] = this.openHigh;
    this.openCount = 0;
    if (this.buckets === this.capacity) this.mergeBuckets();
  }

  private mergeBuckets(): void {
    const half = this.capacity >> 1;
    for (let to = 0; to < half; to++) {
      const a = 2 * to;
      const b = a + 1;
      this.bTs[to] = this.bTs[b];
      this.bEquity[to] = this.bEquity[b];
      this.bPrice[to] = this.bPrice[b];
      this.bDrawdown[to] = Math.max(this.bDrawdown[a], this.bDrawdown[b]);
      this.bExposureSum[to] = this.bExposureSum[a] + this.bExposureSum[b];
      this.bCount[to] = this.bCount[a] + this.bCount[b];
      this.bLow[to] = Math.min(this.bLow[a], this.bLow[b]);
      this.bHigh[to] = Math.max(this.bHigh[a], this.bHigh[b]);
    }
    this.buckets = half;
    this.k *= 2;
  }

  /**
   * Books a fill into round-trip statistics. A round trip opens when the symbol's position leaves 0
   * and closes when it returns to 0 or flips; its PnL is net of every fee paid inside it (a flipping
   * fill's fee is split pro rata between the closing and the opening part).
   */
  onFill(fill: Fill, multiplier = 1): void {
    if (!(fill.qty > 0) || !(fill.price > 0) || !Number.isFinite(fill.fee) || !(multiplier > 0)) {
      throw new ValidationError('BAD_FILL', `fill ${fill.execId}: qty ${fill.qty}, price ${fill.price}, fee ${fill.fee}, multiplier ${multiplier} invalid`, 'PerformanceTracker.onFill');
    }
    this.fillCount++;
    this.fees += fill.fee;
    this.tradedNotional += fill.qty * fill.price * multiplier;
    if (this.markers.length < this.maxMarkers) {
      this.markers.push({ ts: fill.ts, symbol: fill.symbol, side: fill.side, price: fill.price, qty: fill.qty });
    } else {
      this.markersDropped++;
    }

    const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
    const open = this.trades.get(fill.symbol);
    if (open === undefined) {
      this.trades.set(fill.symbol, { qty: signed, avgPrice: fill.price, pnl: -fill.fee });
      return;
    }
    if (open.qty === 0) {
      open.qty = signed;
      open.avgPrice = fill.price;
      open.pnl = -fill.fee;
      return;
    }
    if (Math.sign(open.qty) === Math.sign(signed)) {
      const held = Math.abs(open.qty);
      open.avgPrice = (open.avgPrice * held + fill.price * fill.qty) / (held + fill.qty);
      open.qty += signed;
      open.pnl -= fill.fee;
      return;
    }
    const held = Math.abs(open.qty);
    const closing = Math.min(held, fill.qty);
    const closingFee = fill.fee * (closing / fill.qty);
    open.pnl += closing * (fill.price - open.avgPrice) * Math.sign(open.qty) * multiplier - closingFee;
    const remaining = fill.qty - closing;
    const residual = held - closing;
    if (residual > FLAT_EPSILON * Math.max(held, fill.qty)) {
      open.qty = Math.sign(open.qty) * residual;
      return;
    }
    this.closeTrade(open.pnl);
    if (remaining > FLAT_EPSILON * Math.max(held, fill.qty)) {
      open.qty = Math.sign(signed) * remaining;
      open.avgPrice = fill.price;
      open.pnl = -(fill.fee - closingFee);
    } else {
      open.qty = 0;
      open.pnl = 0;
    }
  }

  private closeTrade(pnl: number): void {
    this.tradeCount++;
    this.pnlSum += pnl;
    if (pnl > 0) {
      this.wins++;
      this.grossProfit += pnl;
    } else if (pnl < 0) {
      this.grossLoss -= pnl;
    }
  }

  /** Downsampled chart series; safe to call at any time. */
  curves(): Curves {
    const ts: number[] = [];
    const equity: number[] = [];
    const drawdown: number[] = [];
    const exposure: number[] = [];
    const price: number[] = [];
    const priceLow: number[] = [];
    const priceHigh: number[] = [];
    const push = (t: number, e: number, dd: number, exp: number, p: number, lo: number, hi: number): void => {
      ts.push(t);
      equity.push(e);
      drawdown.push(dd);
      exposure.push(exp);
      price.push(p);
      priceLow.push(lo);
      priceHigh.push(hi);
    };
    const firstPointTs = this.buckets > 0 ? this.bTs[0] : this.openTs;
    if (this.marks > 0 && firstPointTs !== this.firstTs) {
      const firstDrawdown = this.firstEquity < this.initialCash ? (this.initialCash - this.firstEquity) / this.initialCash : 0;
      push(this.firstTs, this.firstEquity, firstDrawdown, this.firstExposure, this.firstPrice, this.firstPrice, this.firstPrice);
    }
    for (let b = 0; b < this.buckets; b++) {
      push(this.bTs[b], this.bEquity[b], this.bDrawdown[b], this.bExposureSum[b] / this.bCount[b], this.bPrice[b], this.bLow[b], this.bHigh[b]);
    }
    if (this.openCount > 0) {
      push(this.openTs, this.openEquity, this.openDrawdown, this.openExposureSum / this.openCount, this.openPrice, this.openLow, this.openHigh);
    }
    return {
      initialCash: this.initialCash,
      marksPerPoint: this.k,
      ts,
      equity,
      drawdown,
      exposure,
      price,
      priceLow,
      priceHigh,
      markers: this.markers.slice(),
      markersDropped: this.markersDropped,
    };
  }

  finalize(): Statistics {
    const spanUs = this.lastTs - this.firstTs;
    const periodsPerYear = this.marks >= 2 && spanUs > 0 ? (this.marks - 1) / (spanUs / US_PER_YEAR) : null;
    const std = this.returnCount >= 2 ? Math.sqrt(this.returnM2 / (this.returnCount - 1)) : null;
    const downsideDev = this.returnCount >= 1 ? Math.sqrt(this.downsideSumSq / this.returnCount) : null;
    const annualise = periodsPerYear === null ? null : Math.sqrt(periodsPerYear);

    const totalReturn = this.lastEquity / this.initialCash - 1;
    let cagr: number | null = null;
    if (spanUs > 0) cagr = this.lastEquity <= 0 ? -1 : Math.pow(this.lastEquity / this.initialCash, US_PER_YEAR / spanUs) - 1;
    const maxDrawdownDurationUs = this.inDrawdown
      ? Math.max(this.maxDrawdownDurationUs, this.lastTs - this.peakTs)
      : this.maxDrawdownDurationUs;
    const meanEquity = this.marks > 0 && this.equitySum > 0 ? this.equitySum / this.marks : this.initialCash;

    return StatisticsSchema.parse({
      totalReturn: finiteOrNull(totalReturn),
      cagr: finiteOrNull(cagr),
      annualVolatility: std === null || annualise === null ? null : finiteOrNull(std * annualise),
      sharpe: std === null || annualise === null || std === 0 ? null : finiteOrNull((this.returnMean / std) * annualise),
      sortino:
        downsideDev === null || annualise === null || downsideDev === 0 ? null : finiteOrNull((this.returnMean / downsideDev) * annualise),
      calmar: cagr === null || this.maxDrawdown === 0 ? null : finiteOrNull(cagr / this.maxDrawdown),
      maxDrawdown: this.maxDrawdown,
      maxDrawdownDurationDays: maxDrawdownDurationUs / US_PER_DAY,
      winRate: this.tradeCount === 0 ? null : this.wins / this.tradeCount,
      profitFactor: this.grossLoss === 0 ? null : finiteOrNull(this.grossProfit / this.grossLoss),
      expectancy: this.tradeCount === 0 ? null : finiteOrNull(this.pnlSum / this.tradeCount),
      tradeCount: this.tradeCount,
      fillCount: this.fillCount,
      exposure: this.marks === 0 ? null : this.marksInMarket / this.marks,
      turnover: finiteOrNull(this.tradedNotional / meanEquity),
      fees: this.fees,
      bars: this.marks,
      startTs: this.marks === 0 ? null : this.firstTs,
      endTs: this.marks === 0 ? null : this.lastTs,
      startEquity: this.initialCash,
      endEquity: this.lastEquity,
      periodsPerYear: finiteOrNull(periodsPerYear),
    });
  }
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
