import * as z from 'zod';
import type { ExecutionReport } from '../../domain/index.ts';
import { roundToStep } from '../../domain/numbers.ts';

/** One strategy's holding in one symbol. */
export interface Holding {
  /** Filled position, signed. */
  position: number;
  /** Unfilled quantity of open buy intents (>= 0). */
  pendingBuy: number;
  /** Unfilled quantity of open sell intents (>= 0). */
  pendingSell: number;
  /** Decision time and sequence of the last intent, so two decisions at one instant get distinct ids. */
  lastTs: number;
  seq: number;
}

interface OpenOrder {
  readonly strategyId: string;
  readonly symbol: string;
  readonly sign: 1 | -1;
  readonly qty: number;
  filled: number;
}

/**
 * filled: a new fill was booked; updated: state change without new quantity; duplicate: report for an
 * order already closed; untracked: an order this book never sent (its fill, if any, is booked).
 */
export type ExecutionOutcome = 'filled' | 'updated' | 'duplicate' | 'untracked';

/** Terminal orders remembered to ignore redelivered reports; bounded so memory stays flat. */
const RECENTLY_CLOSED = 4096;

/**
 * What `open` holds for a remembered closed order: closing overwrites the entry just looked up
 * instead of deleting it and adding the id to a second table (a cold entry each, on the fill path).
 */
const CLOSED: OpenOrder = { strategyId: '', symbol: '', sign: 1, qty: 0, filled: 0 };

const BookSnapshotSchema = z.object({
  holdings: z.array(z.object({ strategyId: z.string(), symbol: z.string(), position: z.number(), pendingBuy: z.number(), pendingSell: z.number(), lastTs: z.number(), seq: z.number().int() })),
  open: z.array(z.object({ clientOrderId: z.string(), strategyId: z.string(), symbol: z.string(), sign: z.union([z.literal(1), z.literal(-1)]), qty: z.number(), filled: z.number() })),
  closed: z.array(z.string()),
});
export type BookSnapshot = z.infer<typeof BookSnapshotSchema>;

/**
 * Positions and pending orders per strategy and symbol, kept from execution reports. Fill increments
 * come from the order's cumulative filledQty, so a redelivered report changes nothing; a terminal
 * report (filled, cancelled, rejected) releases whatever was still pending.
 */
export class PositionBook {
  private readonly holdings = new Map<string, Map<string, Holding>>();
  /** Open orders, and CLOSED for the recently closed ones listed in `closed`. */
  private readonly open = new Map<string, OpenOrder>();
  private readonly closed: (string | undefined)[] = new Array<string | undefined>(RECENTLY_CLOSED);
  private closedNext = 0;
  /** The holding last looked up: an order's intent and reports all name the same one, so this skips two map lookups. */
  private lastStrategyId = '';
  private lastSymbol = '';
  private lastHolding: Holding | undefined;
  /** The order last added: its accepted and filled reports follow, so this skips their map lookups. */
  private lastOpenId = '';
  private lastOpen: OpenOrder | undefined;

  holding(strategyId: string, symbol: string): Holding {
    let h = this.find(strategyId, symbol);
    if (h === undefined) {
      let bySymbol = this.holdings.get(strategyId);
      if (bySymbol === undefined) {
        bySymbol = new Map();
        this.holdings.set(strategyId, bySymbol);
      }
      h = { position: 0, pendingBuy: 0, pendingSell: 0, lastTs: 0, seq: 0 };
      bySymbol.set(symbol, h);
      this.cacheHolding(strategyId, symbol, h);
    }
    return h;
  }

  position(strategyId: string, symbol: string): number {
    return this.find(strategyId, symbol)?.position ?? 0;
  }

  /** Position plus pending: what the book will hold once every open intent fills. */
  exposure(strategyId: string, symbol: string): number {
    const h = this.find(strategyId, symbol);
    return h === undefined ? 0 : h.position + h.pendingBuy - h.pendingSell;
  }

  isOpen(clientOrderId: string): boolean {
    const open = this.open.get(clientOrderId);
    return open !== undefined && open !== CLOSED;
  }

  addPending(clientOrderId: string, strategyId: string, symbol: string, sign: 1 | -1, qty: number, lotSize: number): void {
    const open: OpenOrder = { strategyId, symbol, sign, qty, filled: 0 };
    this.open.set(clientOrderId, open);
    this.lastOpenId = clientOrderId;
    this.lastOpen = open;
    addPending(this.holding(strategyId, symbol), sign, qty, lotSize);
  }

  apply(report: ExecutionReport, lotSize: number): ExecutionOutcome {
    const { order, fill } = report;
    const open = this.lastOpen !== undefined && order.clientOrderId === this.lastOpenId ? this.lastOpen : this.open.get(order.clientOrderId);
    if (open === CLOSED) return 'duplicate';
    if (open === undefined) {
      // An order this book never sent (placed before a restart without snapshot): count its fill.
      if (fill === undefined) return 'untracked';
      const h = this.holding(fill.strategyId, fill.symbol);
      h.position = snapToLot(h.position + (fill.side === 'buy' ? fill.qty : -fill.qty), lotSize);
      return 'untracked';
    }
    const h = this.holding(open.strategyId, open.symbol);
    const increment = order.filledQty - open.filled;
    if (increment > 0) {
      h.position = snapToLot(h.position + open.sign * increment, lotSize);
      addPending(h, open.sign, -increment, lotSize);
      open.filled = order.filledQty;
    }
    if (isTerminal(order.status)) {
      addPending(h, open.sign, -Math.max(0, open.qty - open.filled), lotSize);
      if (open === this.lastOpen) this.lastOpen = undefined;
      this.remember(order.clientOrderId);
    }
    return increment > 0 ? 'filled' : 'updated';
  }

  snapshot(): BookSnapshot {
    const holdings: BookSnapshot['holdings'] = [];
    for (const [strategyId, bySymbol] of this.holdings) {
      for (const [symbol, h] of bySymbol) holdings.push({ strategyId, symbol, position: h.position, pendingBuy: h.pendingBuy, pendingSell: h.pendingSell, lastTs: h.lastTs, seq: h.seq });
    }
    const open: BookSnapshot['open'] = [];
    for (const [clientOrderId, o] of this.open) if (o !== CLOSED) open.push({ clientOrderId, ...o });
    const closed: string[] = [];
    for (let k = 0; k < RECENTLY_CLOSED; k++) {
      const id = this.closed[(this.closedNext + k) % RECENTLY_CLOSED];
      if (id !== undefined) closed.push(id);
    }
    return { holdings, open, closed };
  }

  restore(raw: unknown): void {
    const snap = BookSnapshotSchema.parse(raw);
    this.holdings.clear();
    this.lastHolding = undefined;
    this.open.clear();
    this.lastOpen = undefined;
    this.closed.fill(undefined);
    this.closedNext = 0;
    // Pending is restored as saved rather than re-summed, so it stays bit-identical.
    for (const h of snap.holdings) Object.assign(this.holding(h.strategyId, h.symbol), { position: h.position, pendingBuy: h.pendingBuy, pendingSell: h.pendingSell, lastTs: h.lastTs, seq: h.seq });
    // Closed first: an id listed as both (sent again after closing) is open.
    for (const id of snap.closed) this.remember(id);
    for (const o of snap.open) this.open.set(o.clientOrderId, { strategyId: o.strategyId, symbol: o.symbol, sign: o.sign, qty: o.qty, filled: o.filled });
  }

  private find(strategyId: string, symbol: string): Holding | undefined {
    if (this.lastHolding !== undefined && strategyId === this.lastStrategyId && symbol === this.lastSymbol) return this.lastHolding;
    const h = this.holdings.get(strategyId)?.get(symbol);
    if (h !== undefined) this.cacheHolding(strategyId, symbol, h);
    return h;
  }

  private cacheHolding(strategyId: string, symbol: string, h: Holding): void {
    this.lastStrategyId = strategyId;
    this.lastSymbol = symbol;
    this.lastHolding = h;
  }

  private remember(clientOrderId: string): void {
    const evicted = this.closed[this.closedNext];
    // An id sent again after closing is open: forgetting its close leaves it so.
    if (evicted !== undefined && this.open.get(evicted) === CLOSED) this.open.delete(evicted);
    this.closed[this.closedNext] = clientOrderId;
    this.open.set(clientOrderId, CLOSED);
    this.closedNext = (this.closedNext + 1) % RECENTLY_CLOSED;
  }
}

function addPending(h: Holding, sign: 1 | -1, qty: number, lotSize: number): void {
  if (sign > 0) h.pendingBuy = snapToLot(h.pendingBuy + qty, lotSize);
  else h.pendingSell = snapToLot(h.pendingSell + qty, lotSize);
}

function isTerminal(status: string): boolean {
  return status === 'filled' || status === 'cancelled' || status === 'rejected';
}

/**
 * Snaps a quantity to the lot grid. For decimal lots (1/lot an integer: 0.001, 0.5, 1) one multiply,
 * round and correctly rounded divide give the canonical decimal, several times faster than
 * roundToStep's toPrecision, which matters on the fill path; other lots fall back to roundToStep.
 */
export function snapToLot(value: number, lot: number): number {
  const inverse = Math.round(1 / lot);
  if (inverse < 1 || Math.abs(inverse * lot - 1) > 1e-12) return roundToStep(value, lot);
  return Math.round(value * inverse) / inverse;
}
