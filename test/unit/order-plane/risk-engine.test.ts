import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fill, Instrument, OrderIntent } from '../../../shared/domain/index.ts';
import { US_PER_DAY, US_PER_SECOND } from '../../../shared/domain/time.ts';
import { isReducing, Portfolio, RiskEngine, riskLimits, type RiskLimitsInput } from '../../../shared/order-plane/index.ts';
import { ACCOUNT, instrument, intent, T0 } from './fixtures.ts';

let fillSeq = 0;
function fillOf(symbol: string, qty: number, price: number, fee = 0): Fill {
  return {
    execId: `x-${fillSeq++}`,
    clientOrderId: 'ap-test-order-id',
    accountId: ACCOUNT,
    strategyId: 's1',
    symbol,
    side: qty > 0 ? 'buy' : 'sell',
    qty: Math.abs(qty),
    price,
    fee,
    liquidity: 'taker',
    ts: T0,
    arrivalPrice: price,
  };
}

/** A portfolio holding `positions` (symbol -> signed qty) bought at and marked to `price`. */
function portfolioWith(positions: Record<string, number> = {}, price = 100, marks: Record<string, number> = { AAA: 100 }): Portfolio {
  const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 1_000_000 });
  for (const [s, q] of Object.entries(positions)) pf.applyFill(fillOf(s, q, price));
  for (const [s, p] of Object.entries(marks)) pf.mark(s, p);
  return pf;
}

function engine(limits: RiskLimitsInput = {}, instrumentOf: (s: string) => Instrument = instrument): RiskEngine {
  return new RiskEngine(riskLimits(limits), { accountId: ACCOUNT, instrument: instrumentOf });
}

describe('RiskEngine limits at the boundary', () => {
  it('MAX_POSITION_QTY on the post-trade position', () => {
    const r = engine({ maxPositionQty: 10 });
    const pf = portfolioWith({ AAA: 4 });
    expect(r.check(intent({ side: 'buy', qty: 6 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 6.001 }), pf)).toMatchObject({ rule: 'MAX_POSITION_QTY', limit: 10, observed: expect.closeTo(10.001, 9), action: 'reject' });
    // Short side too: 4 - 14 = -10 passes, -10.001 does not.
    expect(r.check(intent({ side: 'sell', qty: 14 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'sell', qty: 14.001 }), pf)?.rule).toBe('MAX_POSITION_QTY');
    // Working orders on the same side count towards the post-trade position.
    expect(r.check(intent({ side: 'buy', qty: 3 }), pf, { pendingSameSide: 3.001 })?.rule).toBe('MAX_POSITION_QTY');
  });

  it('a position over its limit may still be reduced, but not flipped beyond it', () => {
    const r = engine({ maxPositionQty: 10 });
    const pf = portfolioWith({ AAA: 15 });
    expect(r.check(intent({ side: 'sell', qty: 2 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 1 }), pf)?.rule).toBe('MAX_POSITION_QTY');
    expect(r.check(intent({ side: 'sell', qty: 26 }), pf)?.rule).toBe('MAX_POSITION_QTY');
  });

  it('MAX_POSITION_NOTIONAL at the last price times multiplier', () => {
    const r = engine({ maxPositionNotional: 10_000 }, (s) => ({ ...instrument(s), multiplier: 10 }));
    const pf = portfolioWith({}, 100, { AAA: 100 });
    expect(r.check(intent({ side: 'buy', qty: 10 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 10.001 }), pf)).toMatchObject({ rule: 'MAX_POSITION_NOTIONAL', limit: 10_000 });
  });

  it('MAX_GROSS_EXPOSURE across symbols', () => {
    const r = engine({ maxGrossExposure: 1_500 });
    const pf = portfolioWith({ BBB: -5 }, 100, { AAA: 100, BBB: 100 });
    expect(pf.grossExposure()).toBe(500);
    expect(r.check(intent({ side: 'buy', qty: 10 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 10.001 }), pf)).toMatchObject({ rule: 'MAX_GROSS_EXPOSURE', limit: 1_500 });
    // Covering the BBB short lowers gross exposure and passes.
    expect(r.check(intent({ symbol: 'BBB', side: 'buy', qty: 5 }), pf)).toBeUndefined();
  });

  it('MAX_NET_EXPOSURE on |long - short|', () => {
    const r = engine({ maxNetExposure: 500 });
    const pf = portfolioWith({ BBB: -5 }, 100, { AAA: 100, BBB: 100 });
    expect(r.check(intent({ side: 'buy', qty: 10 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 10.001 }), pf)).toMatchObject({ rule: 'MAX_NET_EXPOSURE', limit: 500 });
    expect(r.check(intent({ side: 'sell', qty: 0.001 }), pf)?.rule).toBe('MAX_NET_EXPOSURE');
  });

  it('MAX_ORDER_NOTIONAL', () => {
    const r = engine({ maxOrderNotional: 1_000 });
    const pf = portfolioWith();
    expect(r.check(intent({ side: 'buy', qty: 10 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 10.001 }), pf)).toMatchObject({ rule: 'MAX_ORDER_NOTIONAL', limit: 1_000 });
    expect(r.check(intent({ side: 'sell', qty: 10.001 }), pf)?.rule).toBe('MAX_ORDER_NOTIONAL');
  });

  it('PRICE_COLLAR on limit prices and market decision prices vs last/mid', () => {
    const r = engine({ priceCollarPct: 0.1 });
    const pf = portfolioWith();
    expect(r.check(intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 110 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 110.01 }), pf)).toMatchObject({ rule: 'PRICE_COLLAR', limit: 0.1 });
    expect(r.check(intent({ side: 'sell', qty: 1, type: 'limit', limitPrice: 90 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'sell', qty: 1, type: 'limit', limitPrice: 89.99 }), pf)?.rule).toBe('PRICE_COLLAR');
    expect(r.check(intent({ side: 'buy', qty: 1, decisionPrice: 90 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'buy', qty: 1, decisionPrice: 89.99 }), pf)?.rule).toBe('PRICE_COLLAR');
  });

  it('ORDER_RATE: a sliding 1 s window in event time', () => {
    const r = engine({ maxOrdersPerSecond: 3 });
    const pf = portfolioWith();
    for (const dt of [0, 500_000, 900_000]) {
      const i = intent({ side: 'buy', qty: 1, ts: T0 + dt });
      expect(r.check(i, pf)).toBeUndefined();
      r.recordOrder(i.ts);
    }
    expect(r.check(intent({ side: 'buy', qty: 1, ts: T0 + US_PER_SECOND - 1 }), pf)).toMatchObject({ rule: 'ORDER_RATE', limit: 3 });
    // At T0 + 1 s the first order has left the window (ts - 1 s, ts].
    expect(r.check(intent({ side: 'buy', qty: 1, ts: T0 + US_PER_SECOND }), pf)).toBeUndefined();
  });

  it('RESTRICTED_SYMBOL', () => {
    const r = engine({ restrictedSymbols: ['BAD'] });
    const pf = portfolioWith();
    expect(r.check(intent({ side: 'buy', qty: 1, symbol: 'BAD' }), pf)).toMatchObject({ rule: 'RESTRICTED_SYMBOL' });
    expect(r.check(intent({ side: 'buy', qty: 1, symbol: 'AAA' }), pf)).toBeUndefined();
  });

  it('REDUCE_ONLY intents may not grow or flip the position', () => {
    const r = engine();
    const pf = portfolioWith({ AAA: 5 });
    expect(r.check(intent({ side: 'sell', qty: 5, reduceOnly: true }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'sell', qty: 5.001, reduceOnly: true }), pf)?.rule).toBe('REDUCE_ONLY');
    expect(r.check(intent({ side: 'buy', qty: 1, reduceOnly: true }), pf)?.rule).toBe('REDUCE_ONLY');
  });

  it('LIVE_TRADING_DISABLED for live venues unless enabled; paper always allowed', () => {
    const pf = portfolioWith();
    const i = intent({ side: 'buy', qty: 1 });
    expect(engine().check(i, pf, { venue: 'binance' })).toMatchObject({ rule: 'LIVE_TRADING_DISABLED' });
    expect(engine().check(i, pf, { venue: 'paper' })).toBeUndefined();
    expect(engine().check(i, pf)).toBeUndefined();
    expect(engine({ enableLiveTrading: true }).check(i, pf, { venue: 'binance' })).toBeUndefined();
  });

  it('INVALID_ORDER for off-lot quantities, off-tick limits and foreign accounts', () => {
    const r = engine();
    const pf = portfolioWith();
    expect(r.check(intent({ side: 'buy', qty: 0.0005 }), pf)?.rule).toBe('INVALID_ORDER');
    expect(r.check(intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 100.005 }), pf)?.rule).toBe('INVALID_ORDER');
    expect(r.check({ ...intent({ side: 'buy', qty: 1 }), accountId: 'someone-else' }, pf)?.rule).toBe('INVALID_ORDER');
  });
});

describe('trading state', () => {
  it('ACTIVE -> REDUCING -> HALTED on a losing sequence, ACTIVE again the next UTC day', () => {
    const r = engine({ maxDailyLoss: 1_000, reducingAtLossFraction: 0.8 });
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 100_000 });
    pf.rollDay(T0);
    pf.applyFill(fillOf('AAA', 100, 100));
    const step = (price: number, ts = T0) => {
      pf.rollDay(ts);
      pf.mark('AAA', price);
      return r.onDailyPnl(pf.dailyPnl(), ts);
    };
    expect(step(92.01)).toBeUndefined();
    expect(r.tradingState()).toBe('ACTIVE');
    expect(step(92)).toBeUndefined();
    expect(r.tradingState()).toBe('REDUCING');
    // Only position-reducing orders pass while REDUCING.
    expect(r.check(intent({ side: 'buy', qty: 1, decisionPrice: 92 }), pf)?.rule).toBe('REDUCE_ONLY');
    expect(r.check(intent({ side: 'sell', qty: 1, decisionPrice: 92 }), pf)).toBeUndefined();
    expect(r.check(intent({ side: 'sell', qty: 101, decisionPrice: 92 }), pf)?.rule).toBe('REDUCE_ONLY');
    expect(step(90.01)).toBeUndefined();
    const halt = step(90);
    expect(halt).toMatchObject({ rule: 'MAX_DAILY_LOSS', action: 'halt', limit: 1_000, observed: 1_000 });
    expect(r.tradingState()).toBe('HALTED');
    expect(r.check(intent({ side: 'sell', qty: 1, decisionPrice: 90 }), pf)?.rule).toBe('TRADING_HALTED');
    // Sticky for the rest of the day, and the halt breach is emitted once.
    expect(step(99)).toBeUndefined();
    expect(r.tradingState()).toBe('HALTED');
    expect(step(99, T0 + US_PER_DAY)).toBeUndefined();
    expect(r.tradingState()).toBe('ACTIVE');
    expect(r.audit().map((a) => a.details.to)).toEqual(['REDUCING', 'HALTED', 'ACTIVE']);
  });

  it('the kill switch halts everything, survives the day roll and is audited', () => {
    const r = engine({ maxDailyLoss: 1_000 });
    const pf = portfolioWith({ AAA: 5 });
    expect(() => r.engageKillSwitch('  ', T0)).toThrow(/reason/);
    r.engageKillSwitch('fat finger', T0);
    expect(r.tradingState()).toBe('HALTED');
    expect(r.check(intent({ side: 'sell', qty: 1, reduceOnly: true }), pf)).toMatchObject({ rule: 'TRADING_HALTED', message: expect.stringContaining('fat finger') });
    r.onDailyPnl(0, T0 + US_PER_DAY);
    expect(r.tradingState()).toBe('HALTED');
    r.releaseKillSwitch('checked', T0 + US_PER_DAY);
    expect(r.tradingState()).toBe('ACTIVE');
    expect(r.check(intent({ side: 'buy', qty: 1 }), pf)).toBeUndefined();
    expect(r.audit().map((a) => [a.action, a.details.reason])).toEqual([
      ['kill_switch.engage', 'fat finger'],
      ['kill_switch.release', 'checked'],
    ]);
  });

  it('releasing the kill switch on a day already past the loss limit stays HALTED', () => {
    const r = engine({ maxDailyLoss: 1_000 });
    r.onDailyPnl(-10, T0);
    r.engageKillSwitch('ops', T0);
    r.onDailyPnl(-1_200, T0 + 1);
    r.releaseKillSwitch('ops done', T0 + 2);
    expect(r.tradingState()).toBe('HALTED');
  });
});

describe('property: the risk engine never lets through an order that breaches a limit', () => {
  const SYMBOLS = ['A', 'B', 'C'] as const;
  const multiplierOf = (s: string) => (s === 'C' ? 10 : 1);
  const inst = (s: string): Instrument => ({ ...instrument(s), multiplier: multiplierOf(s) });
  const cents = (lo: number, hi: number) => fc.integer({ min: lo * 100, max: hi * 100 }).map((c) => c / 100);

  it('accepted intents stay within every limit (or make an over-limit figure no worse)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.record({
          maxPositionQty: fc.integer({ min: 1, max: 100 }),
          maxPositionNotional: fc.integer({ min: 100, max: 20_000 }),
          maxGrossExposure: fc.integer({ min: 100, max: 40_000 }),
          maxNetExposure: fc.integer({ min: 100, max: 40_000 }),
          maxOrderNotional: fc.integer({ min: 100, max: 20_000 }),
          priceCollarPct: fc.integer({ min: 1, max: 50 }).map((p) => p / 100),
        }),
        fc.tuple(...SYMBOLS.map(() => fc.record({ qty: fc.integer({ min: -60, max: 60 }), cost: cents(50, 150), mark: cents(50, 150) }))),
        fc.record({
          symbol: fc.constantFrom(...SYMBOLS),
          side: fc.constantFrom('buy' as const, 'sell' as const),
          qty: fc.integer({ min: 1, max: 80 }),
          type: fc.constantFrom('market' as const, 'limit' as const),
          priceMove: fc.integer({ min: -40, max: 40 }).map((p) => p / 100),
        }),
        (limits, book, draw) => {
          const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 1e6, multiplier: multiplierOf });
          SYMBOLS.forEach((s, k) => {
            if (book[k].qty !== 0) pf.applyFill({ ...fillOf(s, book[k].qty, book[k].cost) });
            pf.mark(s, book[k].mark);
          });
          const k = SYMBOLS.indexOf(draw.symbol);
          const ref = book[k].mark;
          const px = Math.round(ref * (1 + draw.priceMove) * 100) / 100;
          const i: OrderIntent = intent({
            symbol: draw.symbol,
            side: draw.side,
            qty: draw.qty,
            type: draw.type,
            decisionPrice: draw.type === 'market' ? px : ref,
            ...(draw.type === 'limit' ? { limitPrice: px } : {}),
          });
          const r = new RiskEngine(riskLimits(limits), { accountId: ACCOUNT, instrument: inst });
          if (r.check(i, pf) !== undefined) return;
          accepted++;

          // Recompute every figure independently of the engine.
          const m = multiplierOf(draw.symbol);
          const pre = book[k].qty;
          const post = pre + (draw.side === 'buy' ? draw.qty : -draw.qty);
          const value = (qtys: number[]) => SYMBOLS.map((s, j) => qtys[j] * book[j].mark * multiplierOf(s));
          const preValues = value(book.map((b) => b.qty));
          const postValues = value(book.map((b, j) => (j === k ? post : b.qty)));
          const gross = (v: number[]) => v.reduce((a, x) => a + Math.abs(x), 0);
          const net = (v: number[]) => Math.abs(v.reduce((a, x) => a + x, 0));
          const tol = (limit: number) => limit * (1 + 1e-9);
          const reduces = isReducing(pre, post);

          expect(Math.abs(post) <= tol(limits.maxPositionQty) || reduces).toBe(true);
          expect(Math.abs(post) * ref * m <= tol(limits.maxPositionNotional) || reduces).toBe(true);
          expect(gross(postValues) <= tol(limits.maxGrossExposure) || gross(postValues) <= gross(preValues) + 1e-6).toBe(true);
          expect(net(postValues) <= tol(limits.maxNetExposure) || net(postValues) <= net(preValues) + 1e-6).toBe(true);
          expect(draw.qty * px * m).toBeLessThanOrEqual(tol(limits.maxOrderNotional));
          expect(draw.qty * ref * m).toBeLessThanOrEqual(tol(limits.maxOrderNotional));
          expect(Math.abs(px - ref) / ref).toBeLessThanOrEqual(tol(limits.priceCollarPct));
        },
      ),
      { numRuns: 2_000, seed: 20240102 },
    );
    // The property must not hold vacuously.
    expect(accepted).toBeGreaterThan(50);
  });
});

describe('isReducing with float noise', () => {
  it('treats a sell that leaves a sub-epsilon remainder as closing, not flipping', () => {
    const pre = 0.1 + 0.2 + 0.554 - 0.2; // 0.6540000000000001-ish: a position built from several fills
    expect(isReducing(pre, pre - 0.654)).toBe(true);
    expect(isReducing(0.8539999999999999, 0.8539999999999999 - 0.854)).toBe(true);
    expect(isReducing(1, -0.5)).toBe(false);
    expect(isReducing(1, 1.5)).toBe(false);
    expect(isReducing(-2, -1)).toBe(true);
  });
});
