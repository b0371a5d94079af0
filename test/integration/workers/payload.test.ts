import { describe, expect, it } from 'vitest';
import { BarSchema, ExecutionReportSchema, OrderIntentSchema } from '../../../shared/domain/index.ts';
import { ExecutionReportPayload, MarketEventPayload, OrderIntentPayload, type PayloadSchema } from '../../../shared/workers/payload.ts';

const bar = { kind: 'bar', symbol: 'BTC-USD', ts: 1_700_000_000_000_000, intervalUs: 60_000_000, open: 100, high: 101, low: 99, close: 100.5, volume: 3 };

/** Deterministic variations of a bar: each field replaced by values at and beyond the schema's edges. */
function* variants(): Generator<Record<string, unknown>> {
  const values: unknown[] = [0, -1, 1, 0.5, 1e300, NaN, Infinity, -Infinity, 2 ** 60, '1', null, undefined, 99, 101, 102, 98, 'x'.repeat(65), 'BAD SYMBOL', 'ETH/USD'];
  for (const key of Object.keys(bar)) for (const v of values) yield { ...bar, [key]: v };
  yield { ...bar, extra: 1 };
  const { volume: _dropped, ...missing } = bar;
  yield missing;
  yield Object.assign(Object.create({ inherited: 1 }), bar);
}

describe('market payload fast path', () => {
  it('accepts exactly what BarSchema accepts, unchanged, and explains every rejection with zod', () => {
    let fast = 0;
    for (const v of [bar, ...variants()]) {
      const ours = MarketEventPayload.safeParse(v);
      const zod = BarSchema.safeParse(v);
      expect(ours.success, JSON.stringify(v)).toBe(zod.success);
      if (ours.success && zod.success) expect(ours.data).toEqual(zod.data);
      // Another kind is explained by its own schema (or the union), not by BarSchema.
      if (!ours.success && !zod.success && v.kind === 'bar') expect(ours.error.issues).toEqual(zod.error.issues);
      if (ours.success && ours.data === v) fast++;
    }
    // The plain bar and the harmless variants take the fast path (the result is the input itself).
    expect(fast).toBeGreaterThan(5);
  });
});

const shared = { clientOrderId: 'cid-00000001', accountId: 'acct', strategyId: 'sma', symbol: 'BTC-USD', side: 'buy', qty: 1 };
const order = {
  ...shared,
  type: 'limit',
  limitPrice: 100,
  status: 'filled',
  filledQty: 1,
  avgFillPrice: 100,
  decisionPrice: 100,
  createdTs: 1_700_000_000_000_000,
  updatedTs: 1_700_000_001_000_000,
};
const fill = {
  execId: 'e1',
  ...shared,
  price: 100,
  fee: -0.01,
  liquidity: 'maker',
  ts: 1_700_000_001_000_000,
  arrivalPrice: 100,
};

/** Reports whose order or fill has one field replaced by a value at or beyond the schema's edges, added, or removed. */
function* reportVariants(): Generator<unknown> {
  const values: unknown[] = [0, -1, 0.5, NaN, Infinity, 2 ** 60, '', 'short', 'x'.repeat(65), 'buy', 'sell', 'market', 'taker', 'accepted', 'bogus', null, undefined, 'BAD SYMBOL'];
  for (const [name, base] of [['order', order], ['fill', fill]] as const) {
    for (const key of Object.keys(base)) {
      for (const v of values) yield { order, fill, [name]: { ...base, [key]: v } };
      const { [key]: _removed, ...without } = base as Record<string, unknown>;
      yield { order, fill, [name]: without };
    }
    yield { order, fill, [name]: { ...base, extra: 1 } };
  }
  yield { order, fill, venueOrderId: 'v' };
  yield { order: { ...order, venueOrderId: 'v-1', rejectReason: '' } };
  yield { order: { ...order, venueOrderId: 7 } };
  yield { fill };
  yield [order];
  yield null;
}

/** Runs both parsers over `inputs`: same verdict, same result, zod's issues; returns how many took the fast path (result is the input itself). */
function agreesWithZod(ours: PayloadSchema<unknown>, zod: PayloadSchema<unknown>, inputs: Iterable<unknown>): number {
  let fast = 0;
  for (const v of inputs) {
    const a = ours.safeParse(v);
    const b = zod.safeParse(v);
    expect(a.success, JSON.stringify(v)).toBe(b.success);
    if (a.success && b.success) expect(a.data).toEqual(b.data);
    if (!a.success && !b.success) expect(a.error.issues).toEqual(b.error.issues);
    if (a.success && a.data === v) fast++;
  }
  return fast;
}

describe('execution report fast path', () => {
  it('accepts exactly what ExecutionReportSchema accepts, unchanged, and explains every rejection with zod', () => {
    expect(agreesWithZod(ExecutionReportPayload, ExecutionReportSchema, [{ order }, { order, fill }, ...reportVariants()])).toBeGreaterThan(20);
  });
});

const intent = { ...shared, ts: 1_700_000_000_000_000, type: 'limit', limitPrice: 100, timeInForce: 'IOC', decisionPrice: 100, reduceOnly: false, reason: 'cross' };

/** Intents with one field replaced by a value at or beyond the schema's edges, added, or removed (defaults included). */
function* intentVariants(): Generator<unknown> {
  const values: unknown[] = [0, -1, 0.5, NaN, Infinity, 2 ** 60, '', 'short', 'x'.repeat(65), 'buy', 'sell', 'market', 'limit', 'GTC', 'DAY', 'bogus', true, false, null, undefined, 'BAD SYMBOL'];
  for (const key of Object.keys(intent)) {
    for (const v of values) yield { ...intent, [key]: v };
    const { [key]: _removed, ...without } = intent as Record<string, unknown>;
    yield without;
    yield { ...without, type: 'market' };
  }
  yield { ...intent, extra: 1 };
  yield Object.assign(Object.create({ inherited: 1 }), intent);
  yield [intent];
  yield null;
}

describe('order intent fast path', () => {
  it('accepts exactly what OrderIntentSchema accepts, unchanged, and explains every rejection with zod', () => {
    expect(agreesWithZod(OrderIntentPayload, OrderIntentSchema, [intent, ...intentVariants()])).toBeGreaterThan(20);
  });
});
