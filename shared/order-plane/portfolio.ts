import type { Fill, PortfolioSnapshot, Position, TradingState } from '../domain/trading.ts';
import { utcDay } from '../domain/time.ts';
import { ValidationError } from '../util/errors.ts';

/** Mutable per-symbol book-keeping; exposed read-only through Position snapshots. */
interface PositionState {
  readonly symbol: string;
  readonly multiplier: number;
  qty: number;
  avgPrice: number;
  realizedPnl: number;
  fees: number;
  /** Last mark; 0 until the symbol has been priced. */
  mark: number;
  traded: boolean;
}

export interface PortfolioState {
  accountId: string;
  initialCash: number;
  cash: number;
  day: number;
  dayStartEquity: number;
  positions: { symbol: string; multiplier: number; qty: number; avgPrice: number; realizedPnl: number; fees: number; mark: number; traded: boolean }[];
}

/** A position this small relative to the traded size is float residue of an exact close. */
const QTY_EPSILON = 1e-12;

/**
 * Accounting for one account: signed positions, average cost, realised PnL, fees and cash.
 * mark() runs on every bar, so the marked value and gross exposure are kept as running sums updated
 * in O(1) for the symbol touched; fills (rare) recompute them exactly to shed float drift.
 */
export class Portfolio {
  readonly accountId: string;
  readonly initialCash: number;
  private readonly multiplierOf: (symbol: string) => number;
  private readonly positions = new Map<string, PositionState>();
  private cashValue: number;
  private markedValue = 0;
  private grossValue = 0;
  private costBasis = 0;
  private realized = 0;
  private feesPaid = 0;
  private day = -1;
  private dayStartEquity: number;
  /** The position last marked: bar streams repeat one symbol, so this skips the map lookup. */
  private lastMarked: PositionState | undefined;

  constructor(opts: { accountId: string; initialCash: number; multiplier?: (symbol: string) => number }) {
    if (!Number.isFinite(opts.initialCash)) throw new ValidationError('INVALID_CASH', `initial cash ${opts.initialCash} must be finite`, 'Portfolio');
    this.accountId = opts.accountId;
    this.initialCash = opts.initialCash;
    this.cashValue = opts.initialCash;
    this.dayStartEquity = opts.initialCash;
    this.multiplierOf = opts.multiplier ?? (() => 1);
  }

  cash(): number {
    return this.cashValue;
  }

  equity(): number {
    return this.cashValue + this.markedValue;
  }

  /** Sum of |qty * mark * multiplier|. */
  grossExposure(): number {
    return this.grossValue;
  }

  /** Sum of qty * mark * multiplier (long minus short value). */
  netExposure(): number {
    return this.markedValue;
  }

  realizedPnl(): number {
    return this.realized;
  }

  unrealizedPnl(): number {
    return this.markedValue - this.costBasis;
  }

  fees(): number {
    return this.feesPaid;
  }

  /** Realised + unrealised - fees since the start of the current UTC day. */
  dailyPnl(): number {
    return this.equity() - this.dayStartEquity;
  }

  position(symbol: string): number {
    return this.positions.get(symbol)?.qty ?? 0;
  }

  /** Last mark for the symbol, or 0 when it has never been priced. */
  lastPrice(symbol: string): number {
    return this.positions.get(symbol)?.mark ?? 0;
  }

  multiplier(symbol: string): number {
    return this.positions.get(symbol)?.multiplier ?? this.multiplierOf(symbol);
  }

  /**
   * Starts a new UTC day when `ts` falls in one: the daily PnL base becomes the equity as last
   * marked. Call before applying the new day's first price. Returns true when the day changed.
   */
  rollDay(ts: number): boolean {
    const d = utcDay(ts);
    if (d <= this.day) return false;
    this.day = d;
    this.dayStartEquity = this.equity();
    return true;
  }

  /** Marks a symbol to `price`: O(1), allocation-free once the symbol is known. */
  mark(symbol: string, price: number): void {
    if (!(price > 0) || !Number.isFinite(price)) throw new ValidationError('INVALID_PRICE', `mark price ${price} must be a finite number > 0`, `Portfolio.mark ${symbol}`);
    let p = this.lastMarked;
    if (p === undefined || p.symbol !== symbol) p = this.lastMarked = this.positions.get(symbol) ?? this.create(symbol);
    if (p.qty !== 0) {
      const before = p.qty * p.mark * p.multiplier;
      const after = p.qty * price * p.multiplier;
      this.markedValue += after - before;
      this.grossValue += Math.abs(after) - Math.abs(before);
    }
    p.mark = price;
  }

  applyFill(fill: Fill): void {
    if (!(fill.qty > 0) || !Number.isFinite(fill.qty)) throw invalidFill(fill, `qty ${fill.qty} must be a finite number > 0`);
    if (!(fill.price > 0) || !Number.isFinite(fill.price)) throw invalidFill(fill, `price ${fill.price} must be a finite number > 0`);
    if (!Number.isFinite(fill.fee)) throw invalidFill(fill, `fee ${fill.fee} must be finite`);
    this.rollDay(fill.ts);
    const last = this.lastMarked;
    const p = last !== undefined && last.symbol === fill.symbol ? last : (this.positions.get(fill.symbol) ?? this.create(fill.symbol));
    const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
    const m = p.multiplier;

    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
      const size = Math.abs(p.qty);
      p.avgPrice = (size * p.avgPrice + fill.qty * fill.price) / (size + fill.qty);
      p.qty += signed;
    } else {
      const closing = Math.min(fill.qty, Math.abs(p.qty));
      const pnl = closing * (fill.price - p.avgPrice) * Math.sign(p.qty) * m;
      p.realizedPnl += pnl;
      this.realized += pnl;
      const after = p.qty + signed;
      if (Math.abs(after) <= QTY_EPSILON * Math.max(Math.abs(p.qty), fill.qty)) {
        p.qty = 0;
        p.avgPrice = 0;
      } else {
        // Flipped through zero: the new position was opened entirely at this fill's price.
        if (Math.sign(after) !== Math.sign(p.qty)) p.avgPrice = fill.price;
        p.qty = after;
      }
    }
    p.fees += fill.fee;
    p.traded = true;
    p.mark = fill.price;
    this.feesPaid += fill.fee;
    this.cashValue -= signed * fill.price * m + fill.fee;
    this.recomputeSums();
  }

  snapshot(ts: number, tradingState: TradingState = 'ACTIVE'): PortfolioSnapshot {
    const positions: Position[] = [];
    for (const p of this.positions.values()) {
      if (!p.traded) continue;
      positions.push({
        symbol: p.symbol,
        qty: p.qty,
        avgPrice: p.avgPrice,
        realizedPnl: p.realizedPnl,
        unrealizedPnl: p.qty === 0 ? 0 : (p.mark - p.avgPrice) * p.qty * p.multiplier,
        lastPrice: p.mark,
        fees: p.fees,
      });
    }
    return {
      accountId: this.accountId,
      ts,
      cash: this.cashValue,
      equity: this.equity(),
      grossExposure: this.grossValue,
      netExposure: this.markedValue,
      realizedPnl: this.realized,
      unrealizedPnl: this.unrealizedPnl(),
      fees: this.feesPaid,
      dailyPnl: this.dailyPnl(),
      tradingState,
      positions,
    };
  }

  state(): PortfolioState {
    return {
      accountId: this.accountId,
      initialCash: this.initialCash,
      cash: this.cashValue,
      day: this.day,
      dayStartEquity: this.dayStartEquity,
      positions: [...this.positions.values()].map((p) => ({ ...p })),
    };
  }

  static fromState(s: PortfolioState, multiplier?: (symbol: string) => number): Portfolio {
    const pf = new Portfolio({ accountId: s.accountId, initialCash: s.initialCash, multiplier });
    pf.cashValue = s.cash;
    pf.day = s.day;
    pf.dayStartEquity = s.dayStartEquity;
    for (const p of s.positions) pf.positions.set(p.symbol, { ...p });
    pf.recomputeSums();
    return pf;
  }

  private create(symbol: string): PositionState {
    const multiplier = this.multiplierOf(symbol);
    if (!(multiplier > 0) || !Number.isFinite(multiplier)) throw new ValidationError('INVALID_MULTIPLIER', `multiplier ${multiplier} must be > 0`, `Portfolio ${symbol}`);
    const p: PositionState = { symbol, multiplier, qty: 0, avgPrice: 0, realizedPnl: 0, fees: 0, mark: 0, traded: false };
    this.positions.set(symbol, p);
    return p;
  }

  private recomputeSums(): void {
    let marked = 0;
    let gross = 0;
    let basis = 0;
    let realized = 0;
    let fees = 0;
    for (const p of this.positions.values()) {
      const v = p.qty * p.mark * p.multiplier;
      marked += v;
      gross += Math.abs(v);
      basis += p.qty * p.avgPrice * p.multiplier;
      realized += p.realizedPnl;
      fees += p.fees;
    }
    this.markedValue = marked;
    this.grossValue = gross;
    this.costBasis = basis;
    this.realized = realized;
    this.feesPaid = fees;
  }
}

/** Built only when a fill is refused: the fill path stays free of string building. */
function invalidFill(fill: Fill, message: string): ValidationError {
  return new ValidationError('INVALID_FILL', message, `fill ${fill.execId}`);
}
