import type { Order, OrderIntent, OrderStatus } from '../domain/trading.ts';
import { ValidationError } from '../util/errors.ts';

/** What can happen to an order after it is created. A fill decides partially_filled vs filled itself. */
export type OrderEvent =
  | Readonly<{ type: 'accepted'; ts: number; venueOrderId?: string }>
  | Readonly<{ type: 'rejected'; ts: number; reason: string }>
  | Readonly<{ type: 'fill'; ts: number; qty: number; price: number }>
  | Readonly<{ type: 'cancelled'; ts: number }>;

const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['accepted', 'rejected'],
  accepted: ['partially_filled', 'filled', 'cancelled'],
  partially_filled: ['partially_filled', 'filled', 'cancelled'],
  filled: [],
  cancelled: [],
  rejected: [],
};

/** Quantities are doubles: a remainder this small relative to the order is a complete fill, not dust. */
const QTY_EPSILON = 1e-9;

export function isTerminal(status: OrderStatus): boolean {
  return NEXT[status].length === 0;
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function remainingQty(order: Order): number {
  const left = order.qty - order.filledQty;
  return left > order.qty * QTY_EPSILON ? left : 0;
}

export function newOrder(intent: OrderIntent): Order {
  return {
    clientOrderId: intent.clientOrderId,
    accountId: intent.accountId,
    strategyId: intent.strategyId,
    symbol: intent.symbol,
    side: intent.side,
    qty: intent.qty,
    type: intent.type,
    limitPrice: intent.limitPrice,
    status: 'new',
    filledQty: 0,
    avgFillPrice: 0,
    decisionPrice: intent.decisionPrice,
    createdTs: intent.ts,
    updatedTs: intent.ts,
  };
}

/**
 * The order an intent opens with its first event applied: what applyOrderEvent(newOrder(intent),
 * event) returns, without building the interim 'new' order (this runs for every intent).
 */
export function openOrder(intent: OrderIntent, event: Extract<OrderEvent, { type: 'accepted' | 'rejected' }>): Order {
  const ts = Math.max(intent.ts, event.ts);
  return event.type === 'accepted'
    ? build(intent, intent.ts, 'accepted', 0, 0, ts, event.venueOrderId, undefined)
    : build(intent, intent.ts, 'rejected', 0, 0, ts, undefined, event.reason);
}

/**
 * Pure transition: returns the order after `event`, or throws a ValidationError for an impossible one.
 * Orders are rebuilt field by field (not spread) so every order has one shape: this runs on every
 * acceptance and fill, and a single hidden class keeps it fast.
 */
export function applyOrderEvent(order: Order, event: OrderEvent): Order {
  const ts = Math.max(order.updatedTs, event.ts);
  switch (event.type) {
    case 'accepted':
      assertTransition(order, 'accepted');
      return build(order, order.createdTs, 'accepted', order.filledQty, order.avgFillPrice, ts, event.venueOrderId ?? order.venueOrderId, order.rejectReason);
    case 'rejected':
      assertTransition(order, 'rejected');
      return build(order, order.createdTs, 'rejected', order.filledQty, order.avgFillPrice, ts, order.venueOrderId, event.reason);
    case 'cancelled':
      assertTransition(order, 'cancelled');
      return build(order, order.createdTs, 'cancelled', order.filledQty, order.avgFillPrice, ts, order.venueOrderId, order.rejectReason);
    case 'fill': {
      if (!(event.qty > 0) || !Number.isFinite(event.qty)) throw new ValidationError('INVALID_FILL', `fill qty ${event.qty} must be a finite number > 0`, `order ${order.clientOrderId}`);
      if (!(event.price > 0) || !Number.isFinite(event.price)) throw new ValidationError('INVALID_FILL', `fill price ${event.price} must be a finite number > 0`, `order ${order.clientOrderId}`);
      const left = remainingQty(order);
      if (event.qty > left + order.qty * QTY_EPSILON) {
        throw new ValidationError('OVERFILL', `fill of ${event.qty} exceeds the remaining ${left} of ${order.qty}`, `order ${order.clientOrderId}`);
      }
      const complete = event.qty >= left - order.qty * QTY_EPSILON;
      const status: OrderStatus = complete ? 'filled' : 'partially_filled';
      assertTransition(order, status);
      const filledQty = complete ? order.qty : order.filledQty + event.qty;
      const avgFillPrice = (order.avgFillPrice * order.filledQty + event.price * event.qty) / (order.filledQty + event.qty);
      return build(order, order.createdTs, status, filledQty, avgFillPrice, ts, order.venueOrderId, order.rejectReason);
    }
  }
}

/** The fields an order keeps from its intent. */
type OrderTerms = Pick<Order, 'clientOrderId' | 'accountId' | 'strategyId' | 'symbol' | 'side' | 'qty' | 'type' | 'limitPrice' | 'decisionPrice'>;

function build(
  o: OrderTerms,
  createdTs: number,
  status: OrderStatus,
  filledQty: number,
  avgFillPrice: number,
  updatedTs: number,
  venueOrderId: string | undefined,
  rejectReason: string | undefined,
): Order {
  return {
    clientOrderId: o.clientOrderId,
    accountId: o.accountId,
    strategyId: o.strategyId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    type: o.type,
    limitPrice: o.limitPrice,
    status,
    filledQty,
    avgFillPrice,
    decisionPrice: o.decisionPrice,
    createdTs,
    updatedTs,
    venueOrderId,
    rejectReason,
  };
}

function assertTransition(order: Order, to: OrderStatus): void {
  if (!canTransition(order.status, to)) {
    throw new ValidationError('INVALID_TRANSITION', `cannot go from ${order.status} to ${to}`, `order ${order.clientOrderId}`);
  }
}
