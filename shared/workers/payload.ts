/**
 * Payload parsers of the worker inputs. MarketEventSchema is a plain union, so zod tries trade,
 * quote and depth (building their issues) before it reaches a bar: three times the work of the one
 * schema the payload's own `kind` names, on every tick of every hop. Picking that schema first
 * validates exactly as strictly; the union still explains a payload whose kind is unknown.
 */
import type * as z from 'zod';
import { BarSchema, DepthUpdateSchema, MarketEventSchema, OfiSchema, QuoteSchema, TradeSchema, type Bar } from '../domain/index.ts';

/** What a worker input needs of a schema. */
export interface PayloadSchema<T> {
  safeParse(data: unknown): z.ZodSafeParseResult<T>;
}

type MarketPayload = z.infer<typeof MarketEventSchema>;

const BY_KIND: Readonly<Record<string, PayloadSchema<unknown>>> = { trade: TradeSchema, quote: QuoteSchema, depth: DepthUpdateSchema, bar: BarSchema, ofi: OfiSchema };

const SYMBOL = /^[A-Za-z0-9._:/-]+$/;
const BAR_KEYS = 9;
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * BarSchema's rules written out, for the one payload every hop carries per tick (zod's object and
 * refinement machinery was a tenth of a worker's busy time). It accepts only a bar that zod would
 * return unchanged (exactly the schema's keys, so nothing is stripped); anything else, valid or
 * not, goes to zod, which also explains every rejection.
 */
function isPlainBar(d: Record<string, unknown>): boolean {
  let keys = 0;
  for (const k in d) if (Object.hasOwn(d, k)) keys++;
  if (keys !== BAR_KEYS) return false;
  const { symbol, ts, intervalUs, open, high, low, close, volume } = d;
  return (
    typeof symbol === 'string' &&
    symbol.length <= 64 &&
    SYMBOL.test(symbol) &&
    Number.isSafeInteger(ts) &&
    (ts as number) > 0 &&
    Number.isSafeInteger(intervalUs) &&
    (intervalUs as number) >= 0 &&
    isPrice(open) &&
    isPrice(high) &&
    isPrice(low) &&
    isPrice(close) &&
    typeof volume === 'number' &&
    Number.isFinite(volume) &&
    volume >= 0 &&
    high >= low &&
    high >= Math.max(open, close) &&
    low <= Math.min(open, close)
  );
}

export const MarketEventPayload: PayloadSchema<MarketPayload> = {
  safeParse(data) {
    const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
    if (kind === 'bar' && isPlainBar(data as Record<string, unknown>)) return { success: true, data: data as Bar } as z.ZodSafeParseResult<MarketPayload>;
    const schema = typeof kind === 'string' && Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind] : undefined;
    return (schema ?? MarketEventSchema).safeParse(data) as z.ZodSafeParseResult<MarketPayload>;
  },
};
