import { describe, expect, it } from 'vitest';
import type { ExecutionReport, MarketEvent, OrderIntent, PortfolioSnapshot, RiskBreach } from '../../../shared/domain/index.ts';
import { ExecutionReportSchema, PortfolioSnapshotSchema, RiskBreachSchema } from '../../../shared/domain/index.ts';
import { US_PER_DAY } from '../../../shared/domain/time.ts';
import { OnlineCostModel, OrderPlane, riskLimits, type OrderPlaneOptions, type RiskLimitsInput } from '../../../shared/order-plane/index.ts';
import { ConfigError } from '../../../shared/util/errors.ts';
import { ACCOUNT, bar, instrument, intent, MINUTE, T0 } from './fixtures.ts';

function plane(limits: RiskLimitsInput = {}, over: Partial<OrderPlaneOptions> = {}) {
  const reports: ExecutionReport[] = [];
  const breaches: RiskBreach[] = [];
  const snapshots: PortfolioSnapshot[] = [];
  const p = new OrderPlane(
    { accountId: ACCOUNT, initialCash: 100_000, limits: riskLimits(limits), broker: { fillModel: 'next-bar-open', takerFeeBps: 1 }, instrument, ...over },
    { execution: (r) => reports.push(r), breach: (b) => breaches.push(b), portfolio: (s) => snapshots.push(s) },
  );
  return { p, reports, breaches, snapshots };
}

describe('OrderPlane', () => {
  it('accepts, fills on the next bar, books the fill and emits a snapshot per fill only', () => {
    const { p, reports, breaches, snapshots } = plane();
    p.onMarket(bar(T0, 100, 100, 100, 100));
    const i = intent({ side: 'buy', qty: 10 });
    expect(p.onIntent(i)).toBe('accepted');
    expect(reports.map((r) => r.order.status)).toEqual(['accepted']);
    p.onMarket(bar(T0 + MINUTE, 101, 102, 100, 102));
    expect(reports.map((r) => r.order.status)).toEqual(['accepted', 'filled']);
    const last = reports[1];
    expect(ExecutionReportSchema.parse(last)).toBeTruthy();
    expect(last.fill).toMatchObject({ qty: 10, price: 101, fee: 1010 / 1e4 });
    expect(p.position('AAA')).toBe(10);
    expect(snapshots).toHaveLength(1);
    expect(PortfolioSnapshotSchema.parse(snapshots[0])).toBeTruthy();
    // Marked at the bar close after the fill.
    expect(p.portfolio()).toMatchObject({ cash: 100_000 - 1010 - 0.101, unrealizedPnl: 10 });
    expect(p.equity()).toBeCloseTo(100_000 + 10 - 0.101, 9);
    expect(p.knownOrder(i.clientOrderId)?.status).toBe('filled');
    // Nothing pending: more bars emit nothing.
    for (let k = 2; k < 50; k++) p.onMarket(bar(T0 + k * MINUTE, 102, 102, 102, 102));
    expect(reports).toHaveLength(2);
    expect(snapshots).toHaveLength(1);
    expect(breaches).toHaveLength(0);
  });

  it('a duplicate clientOrderId gives one order and one report', () => {
    const { p, reports } = plane();
    const i = intent({ side: 'buy', qty: 1 });
    expect(p.onIntent(i)).toBe('accepted');
    expect(p.onIntent({ ...i })).toBe('duplicate');
    expect(p.onIntent({ ...i, qty: 2 })).toBe('duplicate');
    p.onMarket(bar(T0 + MINUTE, 100, 100, 100, 100));
    expect(reports.filter((r) => r.fill)).toHaveLength(1);
    expect(reports).toHaveLength(2);
    expect(p.position('AAA')).toBe(1);
    expect(p.counts()).toMatchObject({ accepted: 1, duplicate: 2 });
  });

  it('rejections give a breach and a rejected report; a retried rejection is a duplicate', () => {
    const { p, reports, breaches } = plane({ maxOrderNotional: 500 });
    p.onMarket(bar(T0, 100, 100, 100, 100));
    const i = intent({ side: 'buy', qty: 6 });
    expect(p.onIntent(i)).toBe('rejected');
    expect(breaches).toEqual([expect.objectContaining({ rule: 'MAX_ORDER_NOTIONAL', clientOrderId: i.clientOrderId, limit: 500, observed: 600 })]);
    expect(RiskBreachSchema.parse(breaches[0])).toBeTruthy();
    expect(reports).toEqual([{ order: expect.objectContaining({ status: 'rejected', rejectReason: expect.stringContaining('MAX_ORDER_NOTIONAL') }) }]);
    expect(p.onIntent(i)).toBe('duplicate');
    expect(reports).toHaveLength(1);
  });

  it('a malformed intent is rejected with a reason, never thrown', () => {
    const { p, reports, breaches } = plane();
    const bad = { ...intent({ side: 'buy', qty: 1 }), qty: Number.NaN } as OrderIntent;
    expect(p.onIntent(bad)).toBe('rejected');
    expect(breaches[0]).toMatchObject({ rule: 'INVALID_ORDER', message: expect.stringContaining('qty') });
    expect(reports[0].order.status).toBe('rejected');
    expect(p.onIntent(bad)).toBe('duplicate');
  });

  it('working orders count towards the position limit', () => {
    const { p } = plane({ maxPositionQty: 10 });
    p.onMarket(bar(T0, 100, 100, 100, 100));
    expect(p.onIntent(intent({ side: 'buy', qty: 6 }))).toBe('accepted');
    expect(p.onIntent(intent({ side: 'buy', qty: 6 }))).toBe('rejected');
    expect(p.onIntent(intent({ side: 'buy', qty: 4 }))).toBe('accepted');
  });

  it('daily loss: REDUCING then HALTED (breach, working orders cancelled), ACTIVE the next UTC day', () => {
    const { p, reports, breaches } = plane({ maxDailyLoss: 1_000, reducingAtLossFraction: 0.8, priceCollarPct: 0.5 });
    p.onMarket(bar(T0, 100, 100, 100, 100));
    p.onIntent(intent({ side: 'buy', qty: 100 }));
    p.onMarket(bar(T0 + MINUTE, 100, 100, 100, 100));
    expect(p.position('AAA')).toBe(100);
    p.onMarket(bar(T0 + 2 * MINUTE, 100, 100, 91, 91.5)); // -850 - fees
    expect(p.tradingState()).toBe('REDUCING');
    expect(p.onIntent(intent({ side: 'buy', qty: 1, decisionPrice: 91.5, ts: T0 + 2 * MINUTE }))).toBe('rejected');
    const stop = intent({ side: 'sell', qty: 50, type: 'limit', limitPrice: 95, decisionPrice: 91.5, ts: T0 + 2 * MINUTE });
    expect(p.onIntent(stop)).toBe('accepted');
    p.onMarket(bar(T0 + 3 * MINUTE, 91, 91, 89, 89.5));
    expect(p.tradingState()).toBe('HALTED');
    expect(breaches.at(-1)).toMatchObject({ rule: 'MAX_DAILY_LOSS', action: 'halt' });
    expect(p.knownOrder(stop.clientOrderId)?.status).toBe('cancelled');
    expect(reports.at(-1)?.order.status).toBe('cancelled');
    expect(p.portfolio().tradingState).toBe('HALTED');
    p.onMarket(bar(T0 + US_PER_DAY, 89, 89, 89, 89));
    expect(p.tradingState()).toBe('ACTIVE');
    expect(p.portfolio().dailyPnl).toBeCloseTo(-50, 6);
  });

  it('kill switch: halts, cancels working orders, emits a breach; release restores ACTIVE', () => {
    const { p, reports, breaches } = plane();
    p.onMarket(bar(T0, 100, 100, 100, 100));
    const working = intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 95 });
    p.onIntent(working);
    p.killSwitch(true, 'desk request');
    expect(p.tradingState()).toBe('HALTED');
    expect(p.killSwitchState()).toEqual({ engaged: true, reason: 'desk request' });
    expect(breaches).toEqual([expect.objectContaining({ rule: 'TRADING_HALTED', action: 'halt', message: expect.stringContaining('desk request') })]);
    expect(reports.at(-1)?.order).toMatchObject({ clientOrderId: working.clientOrderId, status: 'cancelled' });
    expect(p.onIntent(intent({ side: 'buy', qty: 1 }))).toBe('rejected');
    p.onMarket(bar(T0 + US_PER_DAY, 100, 100, 100, 100));
    expect(p.tradingState()).toBe('HALTED');
    p.killSwitch(false, 'all clear');
    expect(p.tradingState()).toBe('ACTIVE');
    expect(p.onIntent(intent({ side: 'buy', qty: 1, ts: T0 + US_PER_DAY }))).toBe('accepted');
    expect(p.riskEngine().audit().map((a) => a.action)).toEqual(['kill_switch.engage', 'kill_switch.release']);
  });

  it('learns costs from fills; with slippage from the same model it learns only the market part', () => {
    expect(() => plane({}, { broker: { fillModel: 'next-bar-open', slippage: true } })).toThrow(ConfigError);
    const costModel = new OnlineCostModel({ a: 10, b: 0, c: 0 });
    const { p, reports } = plane({}, { costModel, broker: { fillModel: 'next-bar-open', slippage: true } });
    p.onMarket(bar(T0, 100, 100, 100, 100));
    p.onIntent(intent({ side: 'buy', qty: 1 }));
    p.onMarket(bar(T0 + MINUTE, 100.5, 101, 100, 100));
    expect(reports.at(-1)?.fill?.price).toBe(100.6); // 100.5 * (1 + 10 bps) = 100.6005 -> tick
    expect(p.costModel()?.summary()[0]).toMatchObject({ symbol: 'AAA', fills: 1, meanIsBps: expect.closeTo(50, 6) });
  });

  it('snapshot/restore mid-run continues exactly like an uninterrupted plane', () => {
    const events: MarketEvent[] = Array.from({ length: 6 }, (_, k) => bar(T0 + k * MINUTE, 100 + k, 101 + k, 99 + k, 100.5 + k, 10));
    const intents = [intent({ side: 'buy', qty: 12, ts: T0 }), intent({ side: 'sell', qty: 3, type: 'limit', limitPrice: 104, ts: T0 + MINUTE })];
    const opts = { broker: { fillModel: 'next-bar-open' as const, maxParticipation: 0.5, takerFeeBps: 2 }, costModel: new OnlineCostModel() };
    const a = plane({}, opts);
    const run = (x: ReturnType<typeof plane>, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        x.p.onMarket(events[k]);
        if (intents[k]) x.p.onIntent(intents[k]);
      }
    };
    run(a, 0, 2);
    const saved = JSON.parse(JSON.stringify(a.p.snapshot()));
    const b = plane({}, { ...opts, costModel: new OnlineCostModel() });
    b.p.restore(saved);
    const before = a.reports.length;
    run(a, 2, 6);
    run(b, 2, 6);
    expect(b.reports).toEqual(a.reports.slice(before));
    expect(b.p.portfolio()).toEqual(a.p.portfolio());
    expect(b.p.costModel()?.summary()).toEqual(a.p.costModel()?.summary());
    expect(b.p.onIntent(intents[0])).toBe('duplicate');
    expect(() => b.p.restore({ ...saved, version: 9 })).toThrow(/OrderPlane.restore/);
  });
});

describe('OrderPlane snapshot with ringSince', () => {
  it("copies only the broker ring's newer bars, and such a partial state is not restorable on its own", () => {
    const { p } = plane();
    for (let k = 0; k < 10; k++) p.onMarket(bar(T0 + k * MINUTE, 100, 100, 100, 100));
    const full = p.snapshot();
    const partial = p.snapshot({ ringSince: { AAA: 7 } });
    const ring = (s: typeof full) => s.broker.symbols.find((x) => x.symbol === 'AAA');
    expect(ring(full)).toMatchObject({ pushed: 10, held: 10 });
    expect(ring(full)?.slots).toHaveLength(10);
    // Events 7, 8 and 9: the three newest bars, as the full state holds them.
    expect(ring(partial)?.slots).toEqual(ring(full)?.slots.slice(7));
    expect({ ...partial, broker: full.broker }).toEqual(full);
    expect(() => plane().p.restore(JSON.parse(JSON.stringify(partial)))).toThrow(/PARTIAL_RING|3 of the ring's 10/);
    plane().p.restore(JSON.parse(JSON.stringify(full)));
  });
});

describe('OrderPlane dedup window', () => {
  it('forgets the oldest finished orders past the window and refuses intents decided before them', () => {
    const { p, reports, breaches } = plane({}, { dedupWindow: 3 });
    const intents = [0, 1, 2, 3, 4].map((k) => intent({ side: k % 2 ? 'sell' : 'buy', qty: 1, ts: T0 + k * MINUTE }));
    for (const [k, i] of intents.entries()) {
      expect(p.onIntent(i)).toBe('accepted');
      p.onMarket(bar(i.ts + 1, 100, 100, 100, 100));
      expect(p.knownOrder(i.clientOrderId)?.status, `order ${k}`).toBe('filled');
    }
    // Five finished orders, window three: the first two are forgotten, the last three remembered.
    expect(p.knownOrder(intents[0].clientOrderId)).toBeUndefined();
    expect(p.knownOrder(intents[1].clientOrderId)).toBeUndefined();
    for (const i of intents.slice(2)) expect(p.onIntent(i)).toBe('duplicate');
    // A redelivery of a forgotten order is refused, never traded again.
    const fillsBefore = reports.filter((r) => r.fill).length;
    expect(p.onIntent(intents[0])).toBe('rejected');
    expect(breaches.at(-1)?.message).toMatch(/dedup horizon/);
    p.onMarket(bar(T0 + 10 * MINUTE, 100, 100, 100, 100));
    expect(reports.filter((r) => r.fill).length).toBe(fillsBefore);
    // A restored plane keeps the horizon.
    const restored = plane({}, { dedupWindow: 3 }).p;
    restored.restore(JSON.parse(JSON.stringify(p.snapshot())));
    expect(restored.onIntent(intents[1])).toBe('rejected');
    expect(restored.onIntent(intents[4])).toBe('duplicate');
  });
});
