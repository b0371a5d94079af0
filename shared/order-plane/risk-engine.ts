import type { AuditEvent } from '../domain/system.ts';
import type { Instrument } from '../domain/market.ts';
import type { OrderIntent, RiskBreach, RiskRule, TradingState } from '../domain/trading.ts';
import { priceProblem, quantityProblem } from '../domain/numbers.ts';
import { US_PER_SECOND, utcDay } from '../domain/time.ts';
import { errorMessage, ValidationError } from '../util/errors.ts';
import type { RiskLimits } from './risk-limits.ts';

/** The paper broker's venue name; every other venue is live and needs ENABLE_LIVE_TRADING. */
export const PAPER_VENUE = 'paper';

/** What the risk engine needs to know about the account at check time. */
export interface RiskView {
  position(symbol: string): number;
  /** Last/mid price, 0 when the symbol was never priced. */
  lastPrice(symbol: string): number;
  grossExposure(): number;
  netExposure(): number;
}

export interface RiskCheckContext {
  /** Working (unfilled) quantity on the same side and symbol; counts towards the post-trade position. */
  pendingSameSide?: number;
  venue?: string;
}

/** Post-trade figures of an intent, as the limits see them. */
export interface PostTrade {
  referencePrice: number;
  orderPrice: number;
  preQty: number;
  postQty: number;
  orderNotional: number;
  prePositionNotional: number;
  postPositionNotional: number;
  preGross: number;
  postGross: number;
  preNet: number;
  postNet: number;
}

export interface RiskKillSwitchState {
  engaged: boolean;
  reason: string;
}

export interface RiskEngineState {
  state: TradingState;
  killSwitch: RiskKillSwitchState;
  day: number;
  lastLoss: number;
  recentOrders: number[];
  audit: AuditEvent[];
}

/** Comparisons of doubles against limits tolerate this relative error (100 * 0.1 must equal 10). */
const REL_EPSILON = 1e-9;

function exceeds(observed: number, limit: number): boolean {
  return observed > limit * (1 + REL_EPSILON);
}

/**
 * Pre-trade risk: every intent is checked against the limits and the current account; a rejection is
 * a RiskBreach naming the rule, limit and observed value. Also owns the trading state (ACTIVE,
 * REDUCING, HALTED), the kill switch and the daily-loss ladder.
 */
export class RiskEngine {
  readonly limits: RiskLimits;
  private readonly accountId: string;
  private readonly instrument: (symbol: string) => Instrument;
  private readonly restricted: ReadonlySet<string>;
  private current: TradingState = 'ACTIVE';
  private kill: RiskKillSwitchState = { engaged: false, reason: '' };
  private day = -1;
  private lastLoss = 0;
  /** Ring of the event times of the last maxOrdersPerSecond accepted orders. */
  private readonly orderTimes: Float64Array;
  private orderHead = 0;
  private orderCount = 0;
  private readonly auditTrail: AuditEvent[] = [];
  /** check()'s post-trade figures, filled in place: eleven numbers per intent would otherwise be allocated. */
  private readonly post = emptyPostTrade();

  constructor(limits: RiskLimits, opts: { accountId: string; instrument: (symbol: string) => Instrument }) {
    this.limits = limits;
    this.accountId = opts.accountId;
    this.instrument = opts.instrument;
    this.restricted = new Set(limits.restrictedSymbols);
    this.orderTimes = new Float64Array(limits.maxOrdersPerSecond);
  }

  tradingState(): TradingState {
    return this.current;
  }

  killSwitch(): Readonly<RiskKillSwitchState> {
    return this.kill;
  }

  audit(): readonly AuditEvent[] {
    return this.auditTrail;
  }

  /** Returns the breach that rejects `intent`, or undefined when it passes. Does not record the order. */
  private rejection(intent: OrderIntent, rule: RiskRule, message: string, limit?: number, observed?: number): RiskBreach {
    return {
      ts: intent.ts,
      accountId: this.accountId,
      rule,
      symbol: intent.symbol,
      clientOrderId: intent.clientOrderId,
      ...(limit === undefined ? {} : { limit }),
      ...(observed === undefined ? {} : { observed }),
      message,
      action: 'reject',
    };
  }

  check(intent: OrderIntent, view: RiskView, ctx: RiskCheckContext = {}): RiskBreach | undefined {

    let inst: Instrument;
    try {
      inst = this.instrument(intent.symbol);
    } catch (err) {
      return this.rejection(intent, 'INVALID_ORDER', `unknown instrument ${intent.symbol}: ${errorMessage(err)}`);
    }
    const bad =
      (intent.accountId !== this.accountId ? `account ${intent.accountId} is not ${this.accountId}` : undefined) ??
      quantityProblem(intent.qty, inst.lotSize) ??
      priceProblem(intent.decisionPrice) ??
      (intent.type === 'limit' ? (intent.limitPrice === undefined ? 'limit order without limitPrice' : priceProblem(intent.limitPrice, inst.tickSize)) : undefined);
    if (bad) return this.rejection(intent, 'INVALID_ORDER', bad);

    const venue = ctx.venue ?? PAPER_VENUE;
    if (venue !== PAPER_VENUE && !this.limits.enableLiveTrading) {
      return this.rejection(intent, 'LIVE_TRADING_DISABLED', `venue ${venue} is live and ENABLE_LIVE_TRADING is not 'true'`);
    }
    if (this.current === 'HALTED') {
      return this.rejection(intent, 'TRADING_HALTED', this.kill.engaged ? `kill switch engaged: ${this.kill.reason}` : 'trading halted: daily loss limit reached');
    }
    if (this.restricted.has(intent.symbol)) return this.rejection(intent, 'RESTRICTED_SYMBOL', `${intent.symbol} is restricted`);

    const post = this.fillPostTrade(this.post, intent, view, inst, ctx.pendingSameSide ?? 0);
    const reducing = isReducing(post.preQty, post.postQty);
    if (intent.reduceOnly && !reducing) {
      return this.rejection(intent, 'REDUCE_ONLY', `reduce-only ${intent.side} of ${intent.qty} would take the position from ${post.preQty} to ${post.postQty}`, Math.abs(post.preQty), Math.abs(post.postQty));
    }
    if (this.current === 'REDUCING' && !reducing) {
      return this.rejection(intent, 'REDUCE_ONLY', `trading is REDUCING (daily loss near its limit): only position-reducing orders pass`, Math.abs(post.preQty), Math.abs(post.postQty));
    }
    if (this.rateFull(intent.ts)) {
      return this.rejection(intent, 'ORDER_RATE', `more than ${this.limits.maxOrdersPerSecond} orders within 1 s`, this.limits.maxOrdersPerSecond, this.limits.maxOrdersPerSecond + 1);
    }

    const collar = Math.abs(post.orderPrice - post.referencePrice) / post.referencePrice;
    if (exceeds(collar, this.limits.priceCollarPct)) {
      const what = intent.type === 'limit' ? 'limit price' : 'decision price';
      return this.rejection(intent, 'PRICE_COLLAR', `${what} ${post.orderPrice} is ${(collar * 100).toFixed(2)}% from last/mid ${post.referencePrice}`, this.limits.priceCollarPct, collar);
    }
    if (exceeds(post.orderNotional, this.limits.maxOrderNotional)) {
      return this.rejection(intent, 'MAX_ORDER_NOTIONAL', `order notional ${post.orderNotional} exceeds ${this.limits.maxOrderNotional}`, this.limits.maxOrderNotional, post.orderNotional);
    }
    // Per-symbol limits: once over a limit, only orders that shrink the position (without flipping) pass.
    if (!reducing && exceeds(Math.abs(post.postQty), this.limits.maxPositionQty)) {
      return this.rejection(intent, 'MAX_POSITION_QTY', `post-trade position ${post.postQty} exceeds ${this.limits.maxPositionQty}`, this.limits.maxPositionQty, Math.abs(post.postQty));
    }
    if (!reducing && exceeds(post.postPositionNotional, this.limits.maxPositionNotional)) {
      return this.rejection(intent, 'MAX_POSITION_NOTIONAL', `post-trade position value ${post.postPositionNotional} exceeds ${this.limits.maxPositionNotional}`, this.limits.maxPositionNotional, post.postPositionNotional);
    }
    // Account-wide limits: an order may not make an exposure that is over its limit any worse.
    if (exceeds(post.postGross, this.limits.maxGrossExposure) && post.postGross > post.preGross) {
      return this.rejection(intent, 'MAX_GROSS_EXPOSURE', `post-trade gross exposure ${post.postGross} exceeds ${this.limits.maxGrossExposure}`, this.limits.maxGrossExposure, post.postGross);
    }
    if (exceeds(Math.abs(post.postNet), this.limits.maxNetExposure) && Math.abs(post.postNet) > Math.abs(post.preNet)) {
      return this.rejection(intent, 'MAX_NET_EXPOSURE', `post-trade net exposure ${post.postNet} exceeds ${this.limits.maxNetExposure}`, this.limits.maxNetExposure, Math.abs(post.postNet));
    }
    return undefined;
  }

  /** The post-trade figures the limits are checked against (exposed so callers and tests can audit). */
  postTrade(intent: OrderIntent, view: RiskView, inst: Instrument, pendingSameSide = 0): PostTrade {
    return this.fillPostTrade(emptyPostTrade(), intent, view, inst, pendingSameSide);
  }

  private fillPostTrade(out: PostTrade, intent: OrderIntent, view: RiskView, inst: Instrument, pendingSameSide: number): PostTrade {
    const last = view.lastPrice(intent.symbol);
    // Before the first market event for a symbol the decision price is the only price there is.
    const referencePrice = last > 0 ? last : intent.decisionPrice;
    const orderPrice = intent.type === 'limit' && intent.limitPrice !== undefined ? intent.limitPrice : intent.decisionPrice;
    const m = inst.multiplier;
    const preQty = view.position(intent.symbol);
    const sign = intent.side === 'buy' ? 1 : -1;
    const postQty = preQty + sign * (pendingSameSide + intent.qty);
    const preValue = preQty * referencePrice * m;
    const postValue = postQty * referencePrice * m;
    // The account's exposure holds this symbol at its own mark; swap in the reference valuation.
    const markedValue = preQty * (last > 0 ? last : 0) * m;
    const preGross = view.grossExposure() - Math.abs(markedValue) + Math.abs(preValue);
    const preNet = view.netExposure() - markedValue + preValue;
    out.referencePrice = referencePrice;
    out.orderPrice = orderPrice;
    out.preQty = preQty;
    out.postQty = postQty;
    out.orderNotional = intent.qty * Math.max(orderPrice, referencePrice) * m;
    out.prePositionNotional = Math.abs(preValue);
    out.postPositionNotional = Math.abs(postValue);
    out.preGross = preGross;
    out.postGross = preGross - Math.abs(preValue) + Math.abs(postValue);
    out.preNet = preNet;
    out.postNet = preNet - preValue + postValue;
    return out;
  }

  /** Counts an accepted order towards the rate throttle. */
  recordOrder(ts: number): void {
    const cap = this.orderTimes.length;
    this.orderTimes[(this.orderHead + this.orderCount) % cap] = ts;
    if (this.orderCount < cap) this.orderCount++;
    else this.orderHead = (this.orderHead + 1) % cap;
  }

  /**
   * Feeds the daily PnL at event time `ts`. A new UTC day resets REDUCING/HALTED to ACTIVE (unless
   * the kill switch is engaged); then the loss ladder applies. Returns a 'halt' breach on the
   * transition to HALTED, undefined otherwise. Cheap when nothing changes: called on every bar.
   */
  onDailyPnl(dailyPnl: number, ts: number): RiskBreach | undefined {
    const d = utcDay(ts);
    if (d > this.day) {
      if (this.day >= 0 && !this.kill.engaged && this.current !== 'ACTIVE') {
        this.transition('ACTIVE', ts, 'risk', 'new UTC day');
      }
      this.day = d;
    }
    const loss = -dailyPnl;
    this.lastLoss = loss;
    const limit = this.limits.maxDailyLoss;
    if (loss >= limit && this.current !== 'HALTED') {
      this.transition('HALTED', ts, 'risk', `daily loss ${loss} reached the limit ${limit}`);
      return {
        ts,
        accountId: this.accountId,
        rule: 'MAX_DAILY_LOSS',
        limit,
        observed: loss,
        message: `daily loss ${loss.toFixed(2)} reached the limit ${limit}: trading HALTED until the next UTC day`,
        action: 'halt',
      };
    }
    if (loss >= limit * this.limits.reducingAtLossFraction && this.current === 'ACTIVE') {
      this.transition('REDUCING', ts, 'risk', `daily loss ${loss} reached ${this.limits.reducingAtLossFraction} of the limit ${limit}`);
    }
    return undefined;
  }

  /** Engages the kill switch: HALTED until released. */
  engageKillSwitch(reason: string, ts: number, actor = 'operator'): void {
    if (!reason.trim()) throw new ValidationError('NO_REASON', 'the kill switch needs a reason for the audit trail', 'RiskEngine.engageKillSwitch');
    this.kill = { engaged: true, reason };
    this.auditTrail.push({ ts, actor, action: 'kill_switch.engage', entity: this.accountId, details: { reason, from: this.current } });
    this.current = 'HALTED';
  }

  /** Releases the kill switch; the state returns to what today's loss alone implies. */
  releaseKillSwitch(reason: string, ts: number, actor = 'operator'): void {
    if (!reason.trim()) throw new ValidationError('NO_REASON', 'releasing the kill switch needs a reason for the audit trail', 'RiskEngine.releaseKillSwitch');
    this.kill = { engaged: false, reason: '' };
    const limit = this.limits.maxDailyLoss;
    const next: TradingState = this.lastLoss >= limit ? 'HALTED' : this.lastLoss >= limit * this.limits.reducingAtLossFraction ? 'REDUCING' : 'ACTIVE';
    this.auditTrail.push({ ts, actor, action: 'kill_switch.release', entity: this.accountId, details: { reason, to: next } });
    this.current = next;
  }

  state(): RiskEngineState {
    const recentOrders: number[] = [];
    for (let i = 0; i < this.orderCount; i++) recentOrders.push(this.orderTimes[(this.orderHead + i) % this.orderTimes.length]);
    return { state: this.current, killSwitch: { ...this.kill }, day: this.day, lastLoss: this.lastLoss, recentOrders, audit: [...this.auditTrail] };
  }

  restore(s: RiskEngineState): void {
    this.current = s.state;
    this.kill = { ...s.killSwitch };
    this.day = s.day;
    this.lastLoss = s.lastLoss;
    this.orderHead = 0;
    this.orderCount = 0;
    for (const ts of s.recentOrders.slice(-this.orderTimes.length)) this.recordOrder(ts);
    this.auditTrail.length = 0;
    this.auditTrail.push(...s.audit);
  }

  private rateFull(ts: number): boolean {
    if (this.orderCount < this.orderTimes.length) return false;
    // Full ring: the oldest of the last N orders still inside the 1 s window means N+1 within 1 s.
    return this.orderTimes[this.orderHead] > ts - US_PER_SECOND;
  }

  private transition(to: TradingState, ts: number, actor: string, reason: string): void {
    this.auditTrail.push({ ts, actor, action: 'trading_state', entity: this.accountId, details: { from: this.current, to, reason } });
    this.current = to;
  }
}

function emptyPostTrade(): PostTrade {
  return { referencePrice: 0, orderPrice: 0, preQty: 0, postQty: 0, orderNotional: 0, prePositionNotional: 0, postPositionNotional: 0, preGross: 0, postGross: 0, preNet: 0, postNet: 0 };
}

/** True when the trade shrinks the position towards zero without flipping it (or leaves it flat). */
export function isReducing(preQty: number, postQty: number): boolean {
  if (preQty === 0) return postQty === 0;
  // Positions are sums of doubles: selling 0.854 from 0.8539999999999999 closes, it does not flip.
  if (Math.abs(postQty) <= Math.abs(preQty) * REL_EPSILON) return true;
  return Math.sign(postQty) === Math.sign(preQty) && Math.abs(postQty) <= Math.abs(preQty) * (1 + REL_EPSILON);
}
