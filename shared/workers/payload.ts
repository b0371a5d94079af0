/**
 * Payload parsers of the worker inputs. MarketEventSchema is a plain union, so zod tries trade,
 * quote and depth (building their issues) before it reaches a bar: three times the work of the one
 * schema the payload's own `kind` names, on every tick of every hop. Picking that schema first
 * validates exactly as strictly; the union still explains a payload whose kind is unknown.
 */
import type * as z from 'zod';
import { BarSchema, DepthUpdateSchema, ExecutionReportSchema, Liquidity, MarketEventSchema, OfiSchema, OrderIntentSchema, OrderStatus, OrderType, QuoteSchema, Side, TimeInForce, TradeSchema, type Bar, type ExecutionReport, type OrderIntent } from '../domain/index.ts';

/** What a worker input needs of a schema. */
export interface PayloadSchema<T> {
  safeParse(data: unknown): z.ZodSafeParseResult<T>;
}

type MarketPayload = z.infer<typeof MarketEventSchema>;

const BY_KIND: Readonly<Record<string, PayloadSchema<unknown>>> = { trade: TradeSchema, quote: QuoteSchema, depth: DepthUpdateSchema, bar: BarSchema, ofi: OfiSchema };

const SYMBOL = /^[A-Za-z0-9._:/-]+$/;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPrice = (v: unknown): v is number => isFiniteNumber(v) && v > 0;
const isNonNegative = (v: unknown): v is number => isFiniteNumber(v) && v >= 0;
const isTimestamp = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;
const isString = (v: unknown, min: number, max = Infinity): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const isSymbol = (v: unknown): boolean => isString(v, 1, 64) && SYMBOL.test(v as string);
const member = (values: readonly string[]) => {
  const set = new Set<unknown>(values);
  return (v: unknown) => set.has(v);
};
const isSide = member(Side.options);
const isOrderType = member(OrderType.options);
const isOrderStatus = member(OrderStatus.options);
const isLiquidity = member(Liquidity.options);
const isTimeInForce = member(TimeInForce.options);

/** A plain object (as JSON.parse makes) with exactly `required` own keys plus whichever of `optional` it has. */
function hasKeys(v: unknown, required: number, optional: readonly string[]): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  let expected = required;
  for (const k of optional) if (Object.hasOwn(v, k)) expected++;
  let keys = 0;
  for (const k in v) if (Object.hasOwn(v, k)) keys++;
  return keys === expected;
}

/*
 * The schemas' rules written out for the payloads every hop carries per tick or per fill (zod's
 * object and refinement machinery was a tenth of a worker's busy time). Each accepts only what zod
 * would return unchanged (exactly the schema's keys, so nothing is stripped); anything else, valid
 * or not, goes to zod, which also explains every rejection.
 */

function isPlainBar(d: unknown): d is Bar {
  if (!hasKeys(d, 9, [])) return false;
  const { kind, symbol, ts, intervalUs, open, high, low, close, volume } = d;
  return (
    kind === 'bar' &&
    isSymbol(symbol) &&
    isTimestamp(ts) &&
    Number.isSafeInteger(intervalUs) &&
    (intervalUs as number) >= 0 &&
    isPrice(open) &&
    isPrice(high) &&
    isPrice(low) &&
    isPrice(close) &&
    isNonNegative(volume) &&
    high >= low &&
    high >= Math.max(open, close) &&
    low <= Math.min(open, close)
  );
}

const ORDER_OPTIONAL = ['limitPrice', 'venueOrderId', 'rejectReason'] as const;

/** What an intent, its order and their fills all carry: whose order, on what, which way, how much. */
function isPlainIdentity(o: Record<string, unknown>): boolean {
  return isString(o.clientOrderId, 8, 64) && isString(o.accountId, 1) && isString(o.strategyId, 1) && isSymbol(o.symbol) && isSide(o.side) && isPrice(o.qty);
}

function isPlainOrder(o: unknown): boolean {
  if (!hasKeys(o, 13, ORDER_OPTIONAL)) return false;
  return (
    isPlainIdentity(o) &&
    isOrderType(o.type) &&
    (!Object.hasOwn(o, 'limitPrice') || isPrice(o.limitPrice)) &&
    isOrderStatus(o.status) &&
    isNonNegative(o.filledQty) &&
    isNonNegative(o.avgFillPrice) &&
    isPrice(o.decisionPrice) &&
    isTimestamp(o.createdTs) &&
    isTimestamp(o.updatedTs) &&
    (!Object.hasOwn(o, 'venueOrderId') || isString(o.venueOrderId, 0)) &&
    (!Object.hasOwn(o, 'rejectReason') || isString(o.rejectReason, 0))
  );
}

function isPlainFill(f: unknown): boolean {
  if (!hasKeys(f, 12, [])) return false;
  return (
    isString(f.execId, 1) &&
    isPlainIdentity(f) &&
    isPrice(f.price) &&
    isFiniteNumber(f.fee) &&
    isLiquidity(f.liquidity) &&
    isTimestamp(f.ts) &&
    isPrice(f.arrivalPrice)
  );
}

function isPlainReport(r: unknown): r is ExecutionReport {
  return hasKeys(r, 1, ['fill']) && isPlainOrder(r.order) && (!Object.hasOwn(r, 'fill') || isPlainFill(r.fill));
}

/** An intent with every defaulted field present (zod would otherwise add it, changing the object). */
function isPlainIntent(i: unknown): i is OrderIntent {
  if (!hasKeys(i, 12, ['limitPrice'])) return false;
  return (
    isPlainIdentity(i) &&
    isTimestamp(i.ts) &&
    isOrderType(i.type) &&
    (Object.hasOwn(i, 'limitPrice') ? isPrice(i.limitPrice) : i.type === 'market') &&
    isTimeInForce(i.timeInForce) &&
    isPrice(i.decisionPrice) &&
    typeof i.reduceOnly === 'boolean' &&
    typeof i.reason === 'string'
  );
}

export const OrderIntentPayload: PayloadSchema<OrderIntent> = {
  safeParse(data) {
    if (isPlainIntent(data)) return { success: true, data } as z.ZodSafeParseResult<OrderIntent>;
    return OrderIntentSchema.safeParse(data) as z.ZodSafeParseResult<OrderIntent>;
  },
};

export const ExecutionReportPayload: PayloadSchema<ExecutionReport> = {
  safeParse(data) {
    if (isPlainReport(data)) return { success: true, data } as z.ZodSafeParseResult<ExecutionReport>;
    return ExecutionReportSchema.safeParse(data) as z.ZodSafeParseResult<ExecutionReport>;
  },
};

export const MarketEventPayload: PayloadSchema<MarketPayload> = {
  safeParse(data) {
    const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
    if (isPlainBar(data)) return { success: true, data: data as Bar } as z.ZodSafeParseResult<MarketPayload>;
    const schema = typeof kind === 'string' && Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind] : undefined;
    return (schema ?? MarketEventSchema).safeParse(data) as z.ZodSafeParseResult<MarketPayload>;
  },
};
