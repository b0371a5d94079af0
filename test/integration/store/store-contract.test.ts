import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOrderId, execId, type Fill, type Order } from '../../../shared/domain/index.ts';
import { DynamoStore, MemoryStore, type ExposureLimits, type ReserveOutcome, type ReserveRequest, type Store } from '../../../shared/store/index.ts';
import { TransientError } from '../../../shared/util/errors.ts';
import { LOCAL_CREDENTIALS, startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { freePort } from '../../helpers/launch.ts';

const T0 = 1_700_000_000_000_000;
let ddb: DynamoDbLocal;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
});
afterAll(async () => {
  await ddb?.stop();
});

function order(n: number, over: Partial<Order> = {}): Order {
  const cid = clientOrderId({ accountId: 'acct', strategyId: 's1', symbol: 'BTC', ts: T0 + n, side: 'buy', qty: 1 });
  return {
    clientOrderId: cid,
    accountId: 'acct',
    strategyId: 's1',
    symbol: 'BTC',
    side: 'buy',
    qty: 1,
    type: 'market',
    status: 'new',
    filledQty: 0,
    avgFillPrice: 0,
    decisionPrice: 100,
    createdTs: T0 + n,
    updatedTs: T0 + n,
    ...over,
  };
}

function fill(o: Order, seq: number, side: 'buy' | 'sell', qty: number, price: number): Fill {
  return {
    execId: execId(o.clientOrderId, seq),
    clientOrderId: o.clientOrderId,
    accountId: o.accountId,
    strategyId: o.strategyId,
    symbol: o.symbol,
    side,
    qty,
    price,
    fee: 0.5,
    liquidity: 'taker',
    ts: T0 + seq,
    arrivalPrice: price,
  };
}

/** Limits that never bind, for tests about the others. */
const LOOSE = { maxPositionQty: 1e9, maxPositionNotional: 1e12, maxGrossExposure: 1e12, maxNetExposure: 1e12, maxDailyLoss: 1e12, reducingAtLossFraction: 0.8, maxOrdersPerSecond: 1e6 };

/** `n` reservations sent together, as from that many containers at once. */
function reserveAtOnce(store: Store, n: number, request: (i: number) => ReserveRequest, limits: ExposureLimits): Promise<ReserveOutcome[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => store.reserveExposure(request(i), limits)));
}

const implementations: [string, () => Promise<Store>][] = [
  ['MemoryStore', async () => new MemoryStore()],
  ['DynamoStore on DynamoDB Local', async () => new DynamoStore({ tableName: await ddb.createTable(), client: ddb.client })],
];

describe.each(implementations)('%s', (_name, makeStore) => {
  it('claims an order once; a redelivery of a finished order is a duplicate that keeps the original', async () => {
    const store = await makeStore();
    const o = order(1);
    expect((await store.claimOrder(o, { nowMs: 1_000, leaseMs: 30_000 })).outcome).toBe('claimed');
    expect((await store.claimOrder({ ...o, qty: 99 }, { nowMs: 2_000, leaseMs: 30_000 })).outcome).toBe('in-progress');
    await store.saveOrder({ ...o, status: 'filled', filledQty: 1, avgFillPrice: 101 }, 'done');
    const again = await store.claimOrder({ ...o, qty: 99 }, { nowMs: 3_000, leaseMs: 30_000 });
    expect(again).toMatchObject({ outcome: 'duplicate', order: { qty: 1, status: 'filled', avgFillPrice: 101 } });
  });

  it('lets a redelivery resume an order whose owner died, at the stage it reached', async () => {
    const store = await makeStore();
    const o = order(2);
    await store.claimOrder(o, { nowMs: 1_000, leaseMs: 5_000 });
    await store.saveOrder(o, 'reserved');
    expect(await store.claimOrder(o, { nowMs: 10_000, leaseMs: 5_000 })).toMatchObject({ outcome: 'resumed', stage: 'reserved' });
    // The new owner now holds a fresh lease.
    expect((await store.claimOrder(o, { nowMs: 11_000, leaseMs: 5_000 })).outcome).toBe('in-progress');
    expect(await store.getOrder('acct', o.clientOrderId)).toMatchObject({ stage: 'reserved' });
  });

  it('records a fill once and keeps average-cost positions', async () => {
    const store = await makeStore();
    const o = order(3);
    const first = await store.recordFill(fill(o, 1, 'buy', 2, 100));
    expect(first).toMatchObject({ outcome: 'recorded', position: { qty: 2, avgPrice: 100 } });
    expect(await store.recordFill(fill(o, 1, 'buy', 2, 100))).toEqual({ outcome: 'duplicate' });
    await store.recordFill(fill(o, 2, 'buy', 2, 110));
    const after = await store.recordFill(fill(o, 3, 'sell', 3, 120));
    expect(after.outcome).toBe('recorded');
    const pos = await store.getPosition('acct', 'BTC');
    expect(pos?.qty).toBe(1);
    expect(pos?.avgPrice).toBeCloseTo(105, 9);
    // 3 closed at 120 against an average of 105, minus three 0.5 fees.
    expect(pos?.realizedPnl).toBeCloseTo(45 - 1.5, 9);
    expect(pos?.fees).toBeCloseTo(1.5, 9);
    expect((await store.listFills('acct', o.clientOrderId)).map((f) => f.execId)).toHaveLength(3);
    expect(await store.listPositions('acct')).toHaveLength(1);
  });

  it('never lets 200 concurrent conflicting reservations breach the position limit', async () => {
    const store = await makeStore();
    const limits = { ...LOOSE, maxPositionQty: 37 };
    const outcomes = await reserveAtOnce(store, 200, (i) => ({ accountId: 'acct', clientOrderId: `cid-conc-${i}`, symbol: 'BTC', side: 'buy', qty: 1, price: 100, ts: T0 }), limits);
    const reserved = outcomes.filter((o) => o.outcome === 'reserved').length;
    expect(reserved).toBe(37);
    expect(outcomes.filter((o) => o.outcome === 'rejected' && o.rule === 'MAX_POSITION_QTY')).toHaveLength(163);
    const view = await store.getExposure('acct');
    expect(view.symbols.BTC.longUse).toBe(37);
    expect(view.grossUse).toBe(3_700);
    expect(view.openReservations).toBe(37);
  });

  it('never lets concurrent reservations breach the position-notional limit at their price', async () => {
    const store = await makeStore();
    // 25 units of 100 are 2,500 of notional: the notional limit binds before the quantity limit of 40.
    const limits = { ...LOOSE, maxPositionQty: 40, maxPositionNotional: 2_500 };
    const outcomes = await reserveAtOnce(store, 60, (i) => ({ accountId: 'acct', clientOrderId: `cid-pn-${i}`, symbol: 'ETH', side: 'sell', qty: 1, price: 100, ts: T0 + i }), limits);
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(25);
    expect(outcomes.find((o) => o.outcome === 'rejected')).toEqual({ outcome: 'rejected', rule: 'MAX_POSITION_NOTIONAL', limit: 2_500, observed: 2_600 });
    expect((await store.getExposure('acct')).symbols.ETH.shortUse).toBe(25);
    // At a lower price the same notional allows more units, up to the quantity limit.
    const cheap = await store.reserveExposure({ accountId: 'acct', clientOrderId: 'cid-pn-cheap', symbol: 'ETH', side: 'sell', qty: 10, price: 50, ts: T0 }, limits);
    expect(cheap).toEqual({ outcome: 'reserved' });
    const over = await store.reserveExposure({ accountId: 'acct', clientOrderId: 'cid-pn-qty', symbol: 'ETH', side: 'sell', qty: 6, price: 1, ts: T0 }, limits);
    expect(over).toEqual({ outcome: 'rejected', rule: 'MAX_POSITION_QTY', limit: 40, observed: 41 });
  });

  it('never lets concurrent reservations pass the order-rate limit within one second of decision time', async () => {
    const store = await makeStore();
    const limits = { ...LOOSE, maxOrdersPerSecond: 7 };
    // 30 intents decided within the same second, from many containers at once.
    const outcomes = await reserveAtOnce(store, 30, (i) => ({ accountId: 'acct', clientOrderId: `cid-rate-${i}`, symbol: `R${i % 3}`, side: 'buy', qty: 1, price: 10, ts: T0 + i * 1_000 }), limits);
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(7);
    expect(outcomes.filter((o) => o.outcome === 'rejected' && o.rule === 'ORDER_RATE')).toHaveLength(23);
    // A redelivery of a reserved intent uses no rate, and the next second starts afresh.
    // Which seven win the race is up to the store, so redeliver one that did.
    const winner = outcomes.findIndex((o) => o.outcome === 'reserved');
    expect(await store.reserveExposure({ accountId: 'acct', clientOrderId: `cid-rate-${winner}`, symbol: `R${winner % 3}`, side: 'buy', qty: 1, price: 10, ts: T0 + winner * 1_000 }, limits)).toEqual({ outcome: 'already-reserved' });
    const next = await store.reserveExposure({ accountId: 'acct', clientOrderId: 'cid-rate-next', symbol: 'R0', side: 'buy', qty: 1, price: 10, ts: T0 + 1_000_000 }, limits);
    expect(next).toEqual({ outcome: 'reserved' });
    // Another account has its own count.
    expect((await store.reserveExposure({ accountId: 'other', clientOrderId: 'cid-rate-o', symbol: 'R0', side: 'buy', qty: 1, price: 10, ts: T0 }, limits)).outcome).toBe('reserved');
  });

  it('never lets concurrent reservations across symbols breach the gross limit', async () => {
    const store = await makeStore();
    const limits = { ...LOOSE, maxGrossExposure: 10_000 };
    const outcomes = await reserveAtOnce(store, 60, (i) => ({ accountId: 'acct', clientOrderId: `cid-gross-${i}`, symbol: `S${i % 7}`, side: i % 2 ? 'buy' : 'sell', qty: 3, price: 100, ts: T0 }), limits);
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(33);
    const view = await store.getExposure('acct');
    expect(view.grossUse).toBeLessThanOrEqual(10_000);
    expect(view.grossUse).toBe(9_900);
  });

  it('rejects an order larger than a limit on its own, even on a fresh account', async () => {
    const store = await makeStore();
    const r = await store.reserveExposure({ accountId: 'fresh', clientOrderId: 'cid-big-1', symbol: 'BTC', side: 'sell', qty: 11, price: 1, ts: T0 }, { ...LOOSE, maxPositionQty: 10 });
    expect(r).toEqual({ outcome: 'rejected', rule: 'MAX_POSITION_QTY', limit: 10, observed: 11 });
    const g = await store.reserveExposure({ accountId: 'fresh', clientOrderId: 'cid-big-2', symbol: 'BTC', side: 'buy', qty: 1, price: 500, ts: T0 }, { ...LOOSE, maxPositionQty: 10, maxGrossExposure: 400 });
    expect(g).toEqual({ outcome: 'rejected', rule: 'MAX_GROSS_EXPOSURE', limit: 400, observed: 500 });
  });

  it('reserves once per clientOrderId, and settle/release free exactly what was reserved', async () => {
    const store = await makeStore();
    const limits = { ...LOOSE, maxPositionQty: 10 };
    const req = { accountId: 'acct', clientOrderId: 'cid-settle-1', symbol: 'ETH', side: 'buy' as const, qty: 6, price: 10, ts: T0 };
    expect(await store.reserveExposure(req, limits)).toEqual({ outcome: 'reserved' });
    expect(await store.reserveExposure(req, limits)).toEqual({ outcome: 'already-reserved' });
    expect((await store.reserveExposure({ ...req, clientOrderId: 'cid-settle-2' }, limits)).outcome).toBe('rejected');

    // 4 of 6 filled at 12: the unfilled 2 are released, the filled 4 stay used.
    expect(await store.settleExposure({ accountId: 'acct', clientOrderId: 'cid-settle-1', filledQty: 4, fillPrice: 12 })).toBe('settled');
    expect(await store.settleExposure({ accountId: 'acct', clientOrderId: 'cid-settle-1', filledQty: 4, fillPrice: 12 })).toBe('not-reserved');
    let view = await store.getExposure('acct');
    expect(view.symbols.ETH).toEqual({ longUse: 4, shortUse: -4, filledQty: 4, filledNotional: 48 });
    expect(view.grossUse).toBe(48);
    expect([view.netLongUse, view.netShortUse]).toEqual([48, -48]);

    expect((await store.reserveExposure({ ...req, clientOrderId: 'cid-settle-3' }, limits)).outcome).toBe('reserved');
    expect(await store.settleExposure({ accountId: 'acct', clientOrderId: 'cid-settle-3', filledQty: 0, fillPrice: 0 })).toBe('settled');
    view = await store.getExposure('acct');
    expect(view.symbols.ETH.longUse).toBe(4);
    expect(view.grossUse).toBe(48);
    expect(view.openReservations).toBe(0);
    // A short may go as far as the limit below zero: 14 = 4 to flatten + 10 short.
    expect((await store.reserveExposure({ ...req, clientOrderId: 'cid-settle-4', side: 'sell', qty: 14 }, limits)).outcome).toBe('reserved');
  });

  it('never lets concurrent reservations breach the net limit, whichever of them fill', async () => {
    const store = await makeStore();
    const limits = { ...LOOSE, maxNetExposure: 1_000 };
    // 40 buys and 40 sells of 100 each across symbols: a sell does not make room for a buy, since it may never fill.
    const outcomes = await reserveAtOnce(store, 80, (i) => ({ accountId: 'acct', clientOrderId: `cid-net-${i}`, symbol: `S${i % 5}`, side: i % 2 ? 'buy' : 'sell', qty: 1, price: 100, ts: T0 }), limits);
    const reserved = (side: number) => outcomes.filter((o, i) => i % 2 === side && o.outcome === 'reserved').length;
    expect([reserved(1), reserved(0)]).toEqual([10, 10]);
    expect(outcomes.filter((o) => o.outcome === 'rejected' && o.rule === 'MAX_NET_EXPOSURE')).toHaveLength(60);
    const view = await store.getExposure('acct');
    expect([view.netLongUse, view.netShortUse]).toEqual([1_000, 1_000]);

    // Once a sell fills, the account is net short by its notional: buys up to the limit above that fit again.
    const sold = outcomes.findIndex((o, i) => i % 2 === 0 && o.outcome === 'reserved');
    expect(await store.settleExposure({ accountId: 'acct', clientOrderId: `cid-net-${sold}`, filledQty: 1, fillPrice: 100 })).toBe('settled');
    const after = await store.getExposure('acct');
    expect([after.netLongUse, after.netShortUse]).toEqual([900, 1_000]);
    expect((await store.reserveExposure({ accountId: 'acct', clientOrderId: 'cid-net-x', symbol: `S${sold % 5}`, side: 'buy', qty: 1, price: 100, ts: T0 }, limits)).outcome).toBe('reserved');
  });

  it('sums the day’s realised PnL net of fees, and halts then reduces-only by the daily-loss limit', async () => {
    const store = await makeStore();
    const o = order(70);
    // Long 10 at 100, sold at 94: -60 realised, minus two 0.5 fees.
    await store.recordFill(fill(o, 1, 'buy', 10, 100));
    await store.recordFill(fill(o, 2, 'sell', 10, 94));
    await store.recordFill(fill(o, 2, 'sell', 10, 94));
    const day = Math.floor(T0 / 86_400_000_000);
    expect(await store.getDailyPnl('acct', day)).toBeCloseTo(-61, 9);
    expect(await store.getDailyPnl('acct', day + 1)).toBe(0);

    const req = { accountId: 'acct', symbol: 'BTC', side: 'buy' as const, qty: 1, price: 100, ts: T0 };
    // Loss 61 of 100 is past the 0.5 reducing mark: a flat account may only reduce, so nothing opens.
    const reducing = { ...LOOSE, maxDailyLoss: 100, reducingAtLossFraction: 0.5 };
    expect(await store.reserveExposure({ ...req, clientOrderId: 'cid-loss-1' }, reducing)).toEqual({ outcome: 'rejected', rule: 'REDUCE_ONLY', limit: 50, observed: 61 });
    // The next UTC day starts again from zero.
    expect((await store.reserveExposure({ ...req, clientOrderId: 'cid-loss-2', ts: T0 + 86_400_000_000 }, reducing)).outcome).toBe('reserved');
    const halted = { ...LOOSE, maxDailyLoss: 60, reducingAtLossFraction: 0.5 };
    expect(await store.reserveExposure({ ...req, clientOrderId: 'cid-loss-3' }, halted)).toEqual({ outcome: 'rejected', rule: 'MAX_DAILY_LOSS', limit: 60, observed: 61 });
  });

  it('lets only position-reducing orders through near the daily-loss limit, counting open orders', async () => {
    const store = await makeStore();
    const o = order(80);
    await store.recordFill(fill(o, 1, 'buy', 3, 100));
    await store.recordFill(fill(o, 2, 'sell', 1, 40));
    const limits = { ...LOOSE, maxDailyLoss: 100, reducingAtLossFraction: 0.5 };
    const base = { accountId: 'acct', symbol: 'BTC', qty: 1, price: 40, ts: T0 };
    // Long 2 (the exposure item holds the filled position once settled).
    await store.reserveExposure({ ...base, clientOrderId: 'cid-long', side: 'buy', qty: 2 }, LOOSE);
    await store.settleExposure({ accountId: 'acct', clientOrderId: 'cid-long', filledQty: 2, fillPrice: 40 });
    const outcomes = await reserveAtOnce(store, 6, (i) => ({ ...base, clientOrderId: `cid-red-${i}`, side: 'sell' }), limits);
    // Two sells of 1 flatten the long 2; a third could flip it short, which is not reducing.
    expect(outcomes.filter((r) => r.outcome === 'reserved')).toHaveLength(2);
    expect(outcomes.filter((r) => r.outcome === 'rejected' && r.rule === 'REDUCE_ONLY')).toHaveLength(4);
    expect((await store.reserveExposure({ ...base, clientOrderId: 'cid-red-buy', side: 'buy' }, limits)).outcome).toBe('rejected');
  });

  it('keeps the audit log append-only', async () => {
    const store = await makeStore();
    const e = { ts: T0, actor: 'order-fn', action: 'order.accepted', entity: 'order:x', details: { qty: 1 } };
    expect(await store.appendAudit(e, 'a1')).toBe('appended');
    expect(await store.appendAudit({ ...e, details: { qty: 666 } }, 'a1')).toBe('duplicate');
    expect(await store.appendAudit({ ...e, ts: T0 + 1, action: 'order.filled' }, 'a2')).toBe('appended');
    const log = await store.listAudit('order:x');
    expect(log.map((l) => l.action)).toEqual(['order.accepted', 'order.filled']);
    expect(log[0].details).toEqual({ qty: 1 });
  });

  it('saves warm state and cost-model state with optimistic versions', async () => {
    const store = await makeStore();
    expect(await store.loadStrategyState('acct#sma')).toBeUndefined();
    expect(await store.saveStrategyState('acct#sma', { window: [1, 2, 3] }, 0)).toBe('saved');
    expect(await store.saveStrategyState('acct#sma', { window: [9] }, 0)).toBe('conflict');
    expect(await store.loadStrategyState('acct#sma')).toEqual({ state: { window: [1, 2, 3] }, version: 1 });
    expect(await store.saveCostModel('BTC', { a: 1, b: 0.5 }, 0)).toBe('saved');
    expect(await store.saveCostModel('BTC', { a: 2, b: 0.4 }, 1)).toBe('saved');
    expect(await store.loadCostModel('BTC')).toEqual({ state: { a: 2, b: 0.4 }, version: 2 });
  });

  it('round-trips signals, backtest summaries and risk limits', async () => {
    const store = await makeStore();
    await store.putSignal({ strategyId: 's1', symbol: 'BTC', ts: T0 + 2, strength: -0.5, price: 10, reason: 'b' });
    await store.putSignal({ strategyId: 's1', symbol: 'BTC', ts: T0 + 1, strength: 1, price: 9, reason: 'a' });
    expect((await store.listSignals('s1', 'BTC')).map((s) => s.reason)).toEqual(['a', 'b']);
    const summary = { runId: 'r1', strategy: 'sma-cross', params: { fast: 10 }, source: 's3://b/k', createdTs: T0, metrics: { sharpe: 1.2 }, artefacts: ['r1/report.json'] };
    await store.putBacktestSummary(summary);
    expect(await store.getBacktestSummary('r1')).toEqual(summary);
    await store.putRiskLimits('acct', { maxPositionQty: 5, enableLiveTrading: false });
    expect(await store.getRiskLimits('acct')).toEqual({ maxPositionQty: 5, enableLiveTrading: false });
  });
});

describe('DynamoStore failures', () => {
  it('maps an unreachable endpoint to a retriable TransientError', async () => {
    const port = await freePort();
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const store = new DynamoStore({ tableName: 't', client });
    const err = await store.getOrder('a', 'b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retriable).toBe(true);
  });

  it('maps a missing table to a non-retriable error', async () => {
    const store = new DynamoStore({ tableName: 'no-such-table', client: ddb.client });
    const err = await store.getOrder('a', 'b').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/ResourceNotFound/);
  });

  it('rejects invalid options when constructed', () => {
    expect(() => new DynamoStore({ tableName: '', client: ddb.client })).toThrow(/tableName/);
    expect(() => new DynamoStore({ tableName: 't', client: ddb.client, maxRaceRetries: 0 })).toThrow(/maxRaceRetries/);
  });
});

describe.each(implementations)('%s idempotency records', (_name, makeStore) => {
  it('claims a key once, replays the completed result, and frees a released or lapsed key', async () => {
    const store = await makeStore();
    const opts = (nowMs: number) => ({ nowMs, leaseMs: 1_000, ttlSeconds: 3_600 });
    expect(await store.beginIdempotent('run-1', opts(10_000))).toEqual({ status: 'new' });
    expect(await store.beginIdempotent('run-1', opts(10_500))).toEqual({ status: 'in-progress' });
    // The owner's lease lapsed without completing: a retry may claim it.
    expect(await store.beginIdempotent('run-1', opts(12_000))).toEqual({ status: 'new' });
    await store.completeIdempotent('run-1', { runId: 'run-1', sharpe: 1.5 }, opts(12_100));
    expect(await store.beginIdempotent('run-1', opts(13_000))).toEqual({ status: 'completed', result: { runId: 'run-1', sharpe: 1.5 } });

    expect(await store.beginIdempotent('run-2', opts(10_000))).toEqual({ status: 'new' });
    await store.releaseIdempotent('run-2');
    expect(await store.beginIdempotent('run-2', opts(10_001))).toEqual({ status: 'new' });
  });
});
