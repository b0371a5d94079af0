import * as z from 'zod';
import { finite, nonNegative, price, quantity, timestampUs } from './numbers.ts';

export const Symbol = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:/-]+$/, 'symbol may hold letters, digits and . _ : / -');

export const InstrumentSchema = z.object({
  symbol: Symbol,
  venue: z.string().min(1).default('SIM'),
  tickSize: price,
  lotSize: quantity,
  minQty: quantity.optional(),
  /** Contract multiplier: notional = price * qty * multiplier. */
  multiplier: price.default(1),
  quoteCurrency: z.string().min(1).default('USD'),
});
export type Instrument = Readonly<z.infer<typeof InstrumentSchema>>;

export const Side = z.enum(['buy', 'sell']);
export type Side = z.infer<typeof Side>;

/** Every timestamp in algoplanes is `ts`: epoch microseconds (UTC). */
export const TradeSchema = z.object({
  kind: z.literal('trade'),
  symbol: Symbol,
  ts: timestampUs,
  price,
  size: quantity,
  /** Aggressor side when the venue reports it. */
  side: Side.optional(),
  tradeId: z.string().optional(),
});
export type Trade = Readonly<z.infer<typeof TradeSchema>>;

export const QuoteSchema = z
  .object({
    kind: z.literal('quote'),
    symbol: Symbol,
    ts: timestampUs,
    bid: price,
    ask: price,
    bidSize: nonNegative.optional(),
    askSize: nonNegative.optional(),
  })
  .refine((q) => q.bid <= q.ask, { message: 'crossed book: bid above ask', path: ['bid'] });
export type Quote = Readonly<z.infer<typeof QuoteSchema>>;

/** A price level; size 0 deletes the level. */
export const LevelSchema = z.tuple([price, nonNegative]);
export type Level = readonly [price: number, size: number];

export const DepthUpdateSchema = z.object({
  kind: z.literal('depth'),
  symbol: Symbol,
  ts: timestampUs,
  /** Binance-style update ids: a diff covers [firstUpdateId, lastUpdateId]. */
  firstUpdateId: z.number().int().nonnegative(),
  lastUpdateId: z.number().int().nonnegative(),
  /** Futures-style link to the previous diff's lastUpdateId, when the venue sends it. */
  prevUpdateId: z.number().int().nonnegative().optional(),
  snapshot: z.boolean(),
  bids: z.array(LevelSchema),
  asks: z.array(LevelSchema),
});
export type DepthUpdate = Readonly<Omit<z.infer<typeof DepthUpdateSchema>, 'bids' | 'asks'>> & {
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
};

export const BarSchema = z
  .object({
    kind: z.literal('bar'),
    symbol: Symbol,
    /** Start of the bar period. */
    ts: timestampUs,
    /** Bar length in microseconds (0 when unknown). */
    intervalUs: z.number().int().nonnegative(),
    open: price,
    high: price,
    low: price,
    close: price,
    volume: nonNegative,
  })
  .refine((b) => b.high >= b.low && b.high >= Math.max(b.open, b.close) && b.low <= Math.min(b.open, b.close), {
    message: 'inconsistent bar: high/low do not bound open/close',
    path: ['high'],
  });
export type Bar = Readonly<z.infer<typeof BarSchema>>;

/** Order-flow imbalance (Cont, Kukanov & Stoikov 2014) summed over one interval. */
export const OfiSchema = z.object({
  kind: z.literal('ofi'),
  symbol: Symbol,
  /** End of the aggregation interval. */
  ts: timestampUs,
  intervalUs: z.number().int().positive(),
  ofi: finite,
  /** OFI divided by mean depth at the touch over the interval (0 when depth is unknown). */
  normalizedOfi: finite,
  events: z.number().int().nonnegative(),
  mid: price,
});
export type Ofi = Readonly<z.infer<typeof OfiSchema>>;

export const MarketEventSchema = z.union([TradeSchema, QuoteSchema, DepthUpdateSchema, BarSchema, OfiSchema]);
export type MarketEvent = Trade | Quote | DepthUpdate | Bar | Ofi;
export type MarketEventKind = MarketEvent['kind'];
