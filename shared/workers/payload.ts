/**
 * Payload parsers of the worker inputs. MarketEventSchema is a plain union, so zod tries trade,
 * quote and depth (building their issues) before it reaches a bar: three times the work of the one
 * schema the payload's own `kind` names, on every tick of every hop. Picking that schema first
 * validates exactly as strictly; the union still explains a payload whose kind is unknown.
 */
import type * as z from 'zod';
import { BarSchema, DepthUpdateSchema, MarketEventSchema, OfiSchema, QuoteSchema, TradeSchema } from '../domain/index.ts';

/** What a worker input needs of a schema. */
export interface PayloadSchema<T> {
  safeParse(data: unknown): z.ZodSafeParseResult<T>;
}

type MarketPayload = z.infer<typeof MarketEventSchema>;

const BY_KIND: Readonly<Record<string, PayloadSchema<unknown>>> = { trade: TradeSchema, quote: QuoteSchema, depth: DepthUpdateSchema, bar: BarSchema, ofi: OfiSchema };

export const MarketEventPayload: PayloadSchema<MarketPayload> = {
  safeParse(data) {
    const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
    const schema = typeof kind === 'string' && Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind] : undefined;
    return (schema ?? MarketEventSchema).safeParse(data) as z.ZodSafeParseResult<MarketPayload>;
  },
};
