import { describe, expect, it } from 'vitest';
import type { DepthUpdate, Fill, MarketEvent } from '../../../shared/domain/index.ts';
import { execId } from '../../../shared/domain/index.ts';
import { US_PER_DAY } from '../../../shared/domain/time.ts';
import { PaperBroker, type PaperBrokerOptions } from '../../../shared/order-plane/index.ts';
import { bar, instrument, intent, MINUTE, quote, T0 } from './fixtures.ts';

function harness(opts: PaperBrokerOptions) {
  const fills: Fill[] = [];
  const cancels: { id: string; ts: number; reason: string }[] = [];
  const broker = new PaperBroker(opts, instrument, {
    fill: (f) => fills.push(f),
    cancelled: (id, ts, reason) => cancels.push({ id, ts, reason }),
  });
  return { broker, fills, cancels };
}

const depth = (ts: number, asks: [number, number][], bids: [number, number][] = [[99, 5]], snapshot = true): DepthUpdate => ({
  kind: 'depth',
  symbol: 'AAA',
  ts,
  firstUpdateId: 1,
  lastUpdateId: 1,
  snapshot,
  bids,
  asks,
});

describe('PaperBroker next-bar-open', () => {
  const bars = [bar(T0, 100, 100, 100, 100), bar(T0 + MINUTE, 101, 103, 99, 102), bar(T0 + 2 * MINUTE, 104, 105, 103, 104)];

  it('market orders fill at the open of the first bar after the decision, with deterministic ids', () => {
    const { broker, fills } = harness({ fillModel: 'next-bar-open', takerFeeBps: 5 });
    broker.onMarket(bars[0]);
    const i = intent({ side: 'buy', qty: 2, ts: T0 });
    broker.submit(i);
    expect(fills).toHaveLength(0);
    broker.onMarket(bars[1]);
    expect(fills).toEqual([
      expect.objectContaining({ execId: execId(i.clientOrderId, 1), qty: 2, price: 101, ts: T0 + MINUTE, liquidity: 'taker', fee: (2 * 101 * 5) / 1e4, arrivalPrice: 100 }),
    ]);
    broker.onMarket(bars[2]);
    expect(fills).toHaveLength(1);
    expect(broker.workingCount()).toBe(0);
  });

  it('a late intent matches the ring in arrival order also when an older bar arrived after a newer one', () => {
    // Ring order 0, 5, 2, 3 (minutes): the bar at 5 came before the one at 2. An intent active after
    // minute 2.5 fills at the first later bar in arrival order, minute 5's open, as a full walk finds;
    // the walk back from the newest bar alone would stop at minute 2 and fill at minute 3.
    const { broker, fills } = harness({ fillModel: 'next-bar-open', ringSize: 8 });
    for (const [k, open] of [[0, 100], [5, 105], [2, 102], [3, 103]]) broker.onMarket(bar(T0 + k * MINUTE, open, open, open, open));
    broker.submit(intent({ side: 'buy', qty: 1, ts: T0 + 2.5 * MINUTE }));
    expect(fills.map((f) => f.price)).toEqual([105]);
    // Once that disorder has left the ring, bars in time order again: a late intent still fills at the first bar after it.
    const inOrder = harness({ fillModel: 'next-bar-open', ringSize: 4 });
    for (const k of [0, 5, 2, 6, 7, 8, 9, 10]) inOrder.broker.onMarket(bar(T0 + k * MINUTE, 100 + k, 100 + k, 100 + k, 100 + k));
    inOrder.broker.submit(intent({ side: 'buy', qty: 1, ts: T0 + 7.5 * MINUTE }));
    expect(inOrder.fills.map((f) => f.price)).toEqual([108]);
  });

  it('an intent arriving after later bars were seen fills exactly as if it had arrived in time', () => {
    const inTime = harness({ fillModel: 'next-bar-open', maxParticipation: 0.5 });
    const late = harness({ fillModel: 'next-bar-open', maxParticipation: 0.5 });
    const i = intent({ side: 'sell', qty: 700, ts: T0 });
    inTime.broker.onMarket(bars[0]);
    inTime.broker.submit(i);
    inTime.broker.onMarket(bars[1]);
    inTime.broker.onMarket(bars[2]);
    for (const b of bars) late.broker.onMarket(b);
    late.broker.submit(i);
    expect(inTime.fills.map((f) => [f.price, f.qty, f.ts])).toEqual([
      [101, 500, T0 + MINUTE],
      [104, 200, T0 + 2 * MINUTE],
    ]);
    expect(late.fills).toEqual(inTime.fills);
  });


  it('orders ahead of the market wait for the first bar after their decision, whatever order they came in, and count as pending', () => {
    const { broker, fills } = harness({ fillModel: 'next-bar-open' });
    broker.onMarket(bar(T0, 100, 100, 100, 100));
    const decisions = [3, 1, 2, 1.5, 5];
    for (const k of decisions) broker.submit(intent({ side: 'buy', qty: k, ts: T0 + k * MINUTE }));
    expect(broker.pendingQty('AAA', 'buy')).toBe(12.5);
    for (let k = 1; k <= 4; k++) broker.onMarket(bar(T0 + k * MINUTE, 100 + k, 100 + k, 100 + k, 100 + k));
    // qty k decided at minute k fills at the open of the first bar after it; the one at minute 5 still waits.
    expect(fills.map((f) => [f.qty, f.price])).toEqual([
      [1, 102],
      [1.5, 102],
      [2, 103],
      [3, 104],
    ]);
    expect(broker.pendingQty('AAA', 'buy')).toBe(5);
    expect(broker.workingCount()).toBe(1);
  });

  it('pending quantity per side always equals what the open orders have left, through partial fills, cancels and late arrivals', () => {
    const { broker } = harness({ fillModel: 'next-bar-open', maxParticipation: 0.1 });
    const ids: { id: string; side: 'buy' | 'sell' }[] = [];
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const left = (side: 'buy' | 'sell') => ids.filter((o) => o.side === side).reduce((n, o) => n + (broker.working(o.id)?.remaining ?? 0), 0);
    for (let k = 0; k < 300; k++) {
      const r = rnd();
      if (r < 0.4) {
        const side = rnd() < 0.5 ? 'buy' : 'sell';
        const i = intent({ side, qty: 1 + Math.floor(rnd() * 40), ts: T0 + Math.floor((k + rnd() * 6 - 3) * MINUTE) });
        broker.submit(i);
        ids.push({ id: i.clientOrderId, side });
      } else if (r < 0.5 && ids.length > 0) {
        broker.cancel(ids[Math.floor(rnd() * ids.length)].id, T0 + k * MINUTE, 'test');
      } else {
        broker.onMarket(bar(T0 + k * MINUTE, 100, 101, 99, 100, 50 + Math.floor(rnd() * 200)));
      }
      expect(broker.pendingQty('AAA', 'buy')).toBeCloseTo(left('buy'), 9);
      expect(broker.pendingQty('AAA', 'sell')).toBeCloseTo(left('sell'), 9);
    }
    expect(ids.length).toBeGreaterThan(50);
  });

  it('a late intent fills at the first bar after its decision wherever that bar sits in a wrapped ring', () => {
    // 50 bars through a ring of 32 (wrapped), with equal-time bars among them: every decision time
    // from just before the oldest held bar to after the newest fills at the first later bar, or waits.
    const times = Array.from({ length: 50 }, (_, k) => T0 + Math.floor(k / 2) * MINUTE);
    for (let d = 9 * MINUTE; d <= 26 * MINUTE; d += MINUTE / 2) {
      const { broker, fills } = harness({ fillModel: 'next-bar-open', ringSize: 32 });
      times.forEach((ts, k) => broker.onMarket(bar(ts, 100 + k, 100 + k, 100 + k, 100 + k)));
      broker.submit(intent({ side: 'buy', qty: 1, ts: T0 + d }));
      const first = times.findIndex((ts) => ts > T0 + d);
      expect(fills.map((f) => f.price)).toEqual(first < 0 ? [] : [100 + first]);
    }
  });
  it('cancels, rather than misfills, an intent older than the ring of bars', () => {
    const { broker, fills, cancels } = harness({ fillModel: 'next-bar-open', ringSize: 2 });
    for (const b of bars) broker.onMarket(b);
    // The bar at T0 (the first after this decision) has left the 2-bar ring.
    const i = intent({ side: 'buy', qty: 1, ts: T0 - 1 });
    broker.submit(i);
    expect(fills).toHaveLength(0);
    expect(cancels).toEqual([expect.objectContaining({ id: i.clientOrderId, reason: expect.stringContaining('older than') })]);
    // Decided at T0, its first bar (T0 + 1 min) is still in the ring.
    const j = intent({ side: 'buy', qty: 1, ts: T0 });
    broker.submit(j);
    expect(fills.map((f) => f.price)).toEqual([101]);
  });

  it('limit orders fill when a bar trades through them, at the limit or a better open', () => {
    const { broker, fills } = harness({ fillModel: 'next-bar-open', makerFeeBps: 1, takerFeeBps: 5 });
    broker.onMarket(bar(T0, 100, 100, 100, 100));
    const resting = intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 99 });
    const marketable = intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 101 });
    broker.submit(resting);
    broker.submit(marketable);
    broker.onMarket(bar(T0 + MINUTE, 100, 100.5, 99, 100)); // touches 99 but does not trade through
    expect(fills.map((f) => [f.clientOrderId, f.price, f.liquidity])).toEqual([[marketable.clientOrderId, 100, 'taker']]);
    broker.onMarket(bar(T0 + 2 * MINUTE, 100, 100, 98.9, 99.5));
    expect(fills[1]).toMatchObject({ clientOrderId: resting.clientOrderId, price: 99, liquidity: 'maker', fee: (99 * 1) / 1e4 });
    const sell = intent({ side: 'sell', qty: 1, type: 'limit', limitPrice: 100, ts: T0 + 2 * MINUTE });
    broker.submit(sell);
    broker.onMarket(bar(T0 + 3 * MINUTE, 101, 102, 100.5, 101)); // gaps above the limit: fills at the better open
    expect(fills[2]).toMatchObject({ clientOrderId: sell.clientOrderId, price: 101 });
  });

  it('caps fills at maxParticipation of bar volume and carries the remainder', () => {
    const { broker, fills } = harness({ fillModel: 'next-bar-open', maxParticipation: 0.1 });
    const i = intent({ side: 'buy', qty: 25, ts: T0 });
    broker.submit(i);
    broker.onMarket(bar(T0 + MINUTE, 100, 101, 99, 100, 100));
    broker.onMarket(bar(T0 + 2 * MINUTE, 101, 101, 99, 100, 100));
    broker.onMarket(bar(T0 + 3 * MINUTE, 102, 103, 99, 100, 1_000));
    expect(fills.map((f) => [f.qty, f.price, f.execId])).toEqual([
      [10, 100, execId(i.clientOrderId, 1)],
      [10, 101, execId(i.clientOrderId, 2)],
      [5, 102, execId(i.clientOrderId, 3)],
    ]);
    expect(broker.workingCount()).toBe(0);
  });

  it('latency: the order is active only from intent ts + latencyUs', () => {
    const { broker, fills } = harness({ fillModel: 'next-bar-open', latencyUs: 90_000_000 });
    broker.submit(intent({ side: 'buy', qty: 1, ts: T0 }));
    broker.onMarket(bar(T0 + MINUTE, 101, 101, 101, 101));
    expect(fills).toHaveLength(0);
    broker.onMarket(bar(T0 + 2 * MINUTE, 102, 102, 102, 102));
    expect(fills.map((f) => f.price)).toEqual([102]);
  });

  it('slippage is adverse, in bps, rounded to tick; fixed or from a cost model', () => {
    const fixed = harness({ fillModel: 'next-bar-open', slippageBps: 10 });
    fixed.broker.submit(intent({ side: 'buy', qty: 1, ts: T0 }));
    fixed.broker.submit(intent({ side: 'sell', qty: 1, ts: T0 }));
    fixed.broker.onMarket(bar(T0 + MINUTE, 123.45, 124, 123, 123.5));
    expect(fixed.fills.map((f) => f.price)).toEqual([123.57, 123.33]); // 123.45 * (1 +/- 0.001) = 123.573 / 123.327
    const seen: number[] = [];
    const modelled = harness({
      fillModel: 'next-bar-open',
      maxParticipation: 1,
      slippageModel: { estimateBps: (_s, f) => (seen.push(f.participation), 20) },
    });
    modelled.broker.submit(intent({ side: 'buy', qty: 50, ts: T0 }));
    modelled.broker.onMarket(bar(T0 + MINUTE, 100, 101, 99, 100, 200));
    expect(modelled.fills[0].price).toBe(100.2);
    expect(seen).toEqual([0.25]);
    // Limit orders never slip through their limit.
    const capped = harness({ fillModel: 'next-bar-open', slippageBps: 50 });
    capped.broker.submit(intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 100.1, ts: T0 }));
    capped.broker.onMarket(bar(T0 + MINUTE, 100, 101, 99, 100));
    expect(capped.fills[0].price).toBe(100.1);
  });

  it('IOC cancels the remainder after the first bar; FOK fills in full or not at all; DAY lapses', () => {
    const { broker, fills, cancels } = harness({ fillModel: 'next-bar-open', maxParticipation: 0.5 });
    const ioc = intent({ side: 'buy', qty: 80, ts: T0, timeInForce: 'IOC' });
    const fok = intent({ side: 'buy', qty: 80, ts: T0, timeInForce: 'FOK' });
    const day = intent({ side: 'buy', qty: 1, ts: T0, type: 'limit', limitPrice: 50, timeInForce: 'DAY' });
    broker.submit(ioc);
    broker.submit(fok);
    broker.submit(day);
    broker.onMarket(bar(T0 + MINUTE, 100, 100, 100, 100, 100));
    expect(fills.map((f) => [f.clientOrderId, f.qty])).toEqual([[ioc.clientOrderId, 50]]);
    expect(cancels.map((c) => c.id)).toEqual([ioc.clientOrderId, fok.clientOrderId]);
    broker.onMarket(bar(T0 + US_PER_DAY, 100, 100, 100, 100, 100));
    expect(cancels.map((c) => c.id)).toEqual([ioc.clientOrderId, fok.clientOrderId, day.clientOrderId]);
    expect(broker.workingCount()).toBe(0);
  });
});

describe('PaperBroker quote model', () => {
  it('market orders take the opposite side of the first quote after active time', () => {
    const { broker, fills } = harness({ fillModel: 'quote', latencyUs: 5 });
    broker.onMarket(quote(T0, 99.9, 100.1));
    broker.submit(intent({ side: 'buy', qty: 1, ts: T0 }));
    broker.submit(intent({ side: 'sell', qty: 2, ts: T0 }));
    broker.onMarket(quote(T0 + 5, 99.8, 100.2)); // not yet active (ts must be > T0 + 5)
    broker.onMarket(quote(T0 + 6, 99.7, 100.3));
    expect(fills.map((f) => [f.side, f.price, f.ts])).toEqual([
      ['buy', 100.3, T0 + 6],
      ['sell', 99.7, T0 + 6],
    ]);
  });

  it('limits fill when crossed: at the quote if marketable on arrival, at the limit once resting', () => {
    const { broker, fills } = harness({ fillModel: 'quote', makerFeeBps: -1, takerFeeBps: 4 });
    const resting = intent({ side: 'buy', qty: 1, type: 'limit', limitPrice: 99.5, ts: T0 });
    const marketable = intent({ side: 'sell', qty: 1, type: 'limit', limitPrice: 99.5, ts: T0 });
    broker.submit(resting);
    broker.submit(marketable);
    broker.onMarket(quote(T0 + 1, 99.9, 100.1));
    expect(fills.map((f) => [f.clientOrderId, f.price, f.liquidity])).toEqual([[marketable.clientOrderId, 99.9, 'taker']]);
    broker.onMarket(quote(T0 + 2, 99.3, 99.4));
    expect(fills[1]).toMatchObject({ clientOrderId: resting.clientOrderId, price: 99.5, liquidity: 'maker', fee: -99.5 / 1e4 });
  });

  it('late quotes intent vs ring: same fill as in-time arrival', () => {
    const quotes = [quote(T0, 99, 101), quote(T0 + 10, 98, 102), quote(T0 + 20, 97, 103)];
    const a = harness({ fillModel: 'quote' });
    const b = harness({ fillModel: 'quote' });
    const i = intent({ side: 'buy', qty: 1, ts: T0 });
    a.broker.onMarket(quotes[0]);
    a.broker.submit(i);
    a.broker.onMarket(quotes[1]);
    a.broker.onMarket(quotes[2]);
    for (const q of quotes) b.broker.onMarket(q);
    b.broker.submit(i);
    expect(a.fills.map((f) => f.price)).toEqual([102]);
    expect(b.fills).toEqual(a.fills);
  });
});

describe('PaperBroker book model', () => {
  it('walks the levels for a VWAP fill; the remainder keeps working and fills on a later book', () => {
    const { broker, fills } = harness({ fillModel: 'book', takerFeeBps: 2 });
    broker.onMarket(depth(T0, [[100, 1], [101, 2], [102, 5]]));
    const mkt = intent({ side: 'buy', qty: 2.5, ts: T0 - 1 });
    broker.submit(mkt);
    expect(fills[0]).toMatchObject({ qty: 2.5, liquidity: 'taker', ts: T0 });
    expect(fills[0].price).toBeCloseTo((1 * 100 + 1.5 * 101) / 2.5, 10);
    expect(fills[0].fee).toBeCloseTo((100 + 151.5) * 2 / 1e4, 10);

    const lim = intent({ side: 'buy', qty: 5, type: 'limit', limitPrice: 101, ts: T0 });
    broker.submit(lim);
    broker.onMarket(depth(T0 + 1, [[100, 1], [101, 2], [102, 5]]));
    expect(fills[1]).toMatchObject({ clientOrderId: lim.clientOrderId, qty: 3, liquidity: 'taker' });
    expect(fills[1].price).toBeCloseTo((100 + 202) / 3, 10);
    expect(broker.working(lim.clientOrderId)?.remaining).toBe(2);
    broker.onMarket(depth(T0 + 2, [[102, 1]]));
    expect(fills).toHaveLength(2);
    broker.onMarket(depth(T0 + 3, [[100.5, 10]]));
    expect(fills[2]).toMatchObject({ clientOrderId: lim.clientOrderId, qty: 2, price: 100.5, liquidity: 'maker' });
    expect(broker.workingCount()).toBe(0);
  });

  it('IOC cancels what the book cannot fill; sells walk the bids', () => {
    const { broker, fills, cancels } = harness({ fillModel: 'book' });
    broker.onMarket(depth(T0, [[101, 1]], [[100, 1], [99, 1], [90, 10]]));
    const ioc = intent({ side: 'sell', qty: 5, type: 'limit', limitPrice: 99, ts: T0 + 1, timeInForce: 'IOC' });
    broker.submit(ioc);
    broker.onMarket(depth(T0 + 2, [[101, 1]], [[100, 1], [99, 1], [90, 10]]));
    expect(fills.map((f) => [f.qty, f.price])).toEqual([[2, 99.5]]);
    expect(cancels.map((c) => c.id)).toEqual([ioc.clientOrderId]);
  });
});

describe('PaperBroker state', () => {
  it('restores working orders and the market ring', () => {
    const events: MarketEvent[] = [bar(T0, 100, 100, 100, 100), bar(T0 + MINUTE, 101, 101, 101, 101, 10), bar(T0 + 2 * MINUTE, 102, 102, 102, 102)];
    const opts: PaperBrokerOptions = { fillModel: 'next-bar-open', maxParticipation: 0.5 };
    const a = harness(opts);
    a.broker.onMarket(events[0]);
    a.broker.submit(intent({ side: 'buy', qty: 8, ts: T0 }));
    a.broker.onMarket(events[1]);
    const b = harness(opts);
    b.broker.restore(JSON.parse(JSON.stringify(a.broker.state())));
    a.broker.onMarket(events[2]);
    b.broker.onMarket(events[2]);
    expect(b.fills).toEqual(a.fills.slice(1));
    expect(b.fills[0]).toMatchObject({ qty: 3, price: 102 });
  });

  it('numbers the ring: pushed counts every event, so the slots are the last ones of that count', () => {
    const { broker } = harness({ fillModel: 'next-bar-open', ringSize: 3 });
    for (let i = 0; i < 5; i++) broker.onMarket(bar(T0 + i * MINUTE, 100 + i, 100 + i, 100 + i, 100 + i));
    const [s] = broker.state().symbols;
    expect(s.pushed).toBe(5);
    expect(s.slots.map((x) => x.open)).toEqual([102, 103, 104]);
    // Numbering starts again from a restored ring.
    const b = harness({ fillModel: 'next-bar-open', ringSize: 3 });
    b.broker.restore(JSON.parse(JSON.stringify(broker.state())));
    expect(b.broker.state().symbols[0]).toMatchObject({ pushed: 3, slots: s.slots });
    // Only the events from number 3 on (of 2 to 4 held), for an incremental checkpoint; not restorable.
    const newer = broker.state({ AAA: 3 }).symbols[0];
    expect(newer).toMatchObject({ pushed: 5, held: 3 });
    expect(newer.slots.map((x) => x.open)).toEqual([103, 104]);
    expect(() => harness({ fillModel: 'next-bar-open', ringSize: 3 }).broker.restore(broker.state({ AAA: 3 }))).toThrow(/2 of the ring's 3 events/);
  });
});
