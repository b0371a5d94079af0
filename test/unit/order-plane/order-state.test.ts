import { describe, expect, it } from 'vitest';
import type { Order, OrderStatus } from '../../../shared/domain/index.ts';
import { applyOrderEvent, canTransition, isTerminal, newOrder, openOrder, type OrderEvent } from '../../../shared/order-plane/index.ts';
import { ValidationError } from '../../../shared/util/errors.ts';
import { intent, T0 } from './fixtures.ts';

const fresh = (): Order => newOrder(intent({ side: 'buy', qty: 10 }));
const accepted = (): Order => applyOrderEvent(fresh(), { type: 'accepted', ts: T0 + 1 });

describe('order state machine', () => {
  it('new -> accepted -> partially_filled -> partially_filled -> filled with a weighted average price', () => {
    const o0 = fresh();
    expect(o0.status).toBe('new');
    const o1 = accepted();
    expect(o1.status).toBe('accepted');
    const o2 = applyOrderEvent(o1, { type: 'fill', ts: T0 + 2, qty: 4, price: 100 });
    expect(o2).toMatchObject({ status: 'partially_filled', filledQty: 4, avgFillPrice: 100, updatedTs: T0 + 2 });
    const o3 = applyOrderEvent(o2, { type: 'fill', ts: T0 + 3, qty: 4, price: 101 });
    expect(o3).toMatchObject({ status: 'partially_filled', filledQty: 8, avgFillPrice: 100.5 });
    const o4 = applyOrderEvent(o3, { type: 'fill', ts: T0 + 4, qty: 2, price: 102 });
    expect(o4).toMatchObject({ status: 'filled', filledQty: 10 });
    expect(o4.avgFillPrice).toBeCloseTo((400 + 404 + 204) / 10, 12);
    // Pure: inputs untouched.
    expect(o1.status).toBe('accepted');
    expect(o2.filledQty).toBe(4);
  });

  it('new -> rejected keeps the reason; accepted and partially filled orders can be cancelled', () => {
    expect(applyOrderEvent(fresh(), { type: 'rejected', ts: T0, reason: 'PRICE_COLLAR' })).toMatchObject({ status: 'rejected', rejectReason: 'PRICE_COLLAR' });
    expect(applyOrderEvent(accepted(), { type: 'cancelled', ts: T0 + 5 }).status).toBe('cancelled');
    const partial = applyOrderEvent(accepted(), { type: 'fill', ts: T0 + 2, qty: 1, price: 100 });
    expect(applyOrderEvent(partial, { type: 'cancelled', ts: T0 + 5 })).toMatchObject({ status: 'cancelled', filledQty: 1 });
  });

  it('openOrder is newOrder followed by the first event, field for field', () => {
    const i = intent({ side: 'sell', qty: 3, type: 'limit', limitPrice: 101 });
    for (const event of [
      { type: 'accepted', ts: i.ts, venueOrderId: 'paper-x' },
      { type: 'accepted', ts: i.ts + 7 },
      { type: 'rejected', ts: i.ts - 1, reason: 'MAX_ORDER_NOTIONAL: too big' },
    ] as const) {
      const opened = openOrder(i, event);
      const stepwise = applyOrderEvent(newOrder(i), event);
      expect(opened).toStrictEqual(stepwise);
      // Same keys in the same order: one object shape for every order.
      expect(Object.keys(opened)).toEqual(Object.keys(stepwise));
    }
  });

  const filled = () => applyOrderEvent(accepted(), { type: 'fill', ts: T0 + 2, qty: 10, price: 100 });
  const cancelled = () => applyOrderEvent(accepted(), { type: 'cancelled', ts: T0 + 2 });
  const rejected = () => applyOrderEvent(fresh(), { type: 'rejected', ts: T0, reason: 'x' });
  const invalid: [string, () => Order, OrderEvent][] = [
    ['new -> fill', fresh, { type: 'fill', ts: T0, qty: 1, price: 100 }],
    ['new -> cancelled', fresh, { type: 'cancelled', ts: T0 }],
    ['accepted -> accepted', accepted, { type: 'accepted', ts: T0 }],
    ['accepted -> rejected', accepted, { type: 'rejected', ts: T0, reason: 'late' }],
    ['filled -> fill', filled, { type: 'fill', ts: T0 + 9, qty: 1, price: 100 }],
    ['filled -> cancelled', filled, { type: 'cancelled', ts: T0 + 9 }],
    ['cancelled -> fill', cancelled, { type: 'fill', ts: T0 + 9, qty: 1, price: 100 }],
    ['cancelled -> accepted', cancelled, { type: 'accepted', ts: T0 + 9 }],
    ['rejected -> accepted', rejected, { type: 'accepted', ts: T0 + 9 }],
    ['overfill', accepted, { type: 'fill', ts: T0 + 9, qty: 10.5, price: 100 }],
    ['zero fill', accepted, { type: 'fill', ts: T0 + 9, qty: 0, price: 100 }],
    ['NaN price', accepted, { type: 'fill', ts: T0 + 9, qty: 1, price: Number.NaN }],
  ];
  it.each(invalid)('%s throws a ValidationError', (_name, make, event) => {
    expect(() => applyOrderEvent(make(), event)).toThrow(ValidationError);
  });

  it('terminal states have no way out', () => {
    const all: OrderStatus[] = ['new', 'accepted', 'partially_filled', 'filled', 'cancelled', 'rejected'];
    for (const s of ['filled', 'cancelled', 'rejected'] as const) {
      expect(isTerminal(s)).toBe(true);
      for (const t of all) expect(canTransition(s, t)).toBe(false);
    }
    expect(isTerminal('partially_filled')).toBe(false);
  });
});
