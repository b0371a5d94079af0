import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';
import { Symbol } from '../domain/market.ts';
import { describeZodError } from '../domain/envelope.ts';
import { ConfigError } from '../util/errors.ts';

const positive = z.number().refine((v) => Number.isFinite(v) && v > 0, { message: 'must be a finite number > 0' });
const R = DEFAULTS.risk;

export const RiskLimitsSchema = z.object({
  /** Largest absolute post-trade position per symbol, in units of quantity. */
  maxPositionQty: positive.default(R.maxPositionQty),
  /** Largest absolute post-trade position value per symbol (qty * price * multiplier). */
  maxPositionNotional: positive.default(R.maxPositionNotional),
  maxGrossExposure: positive.default(R.maxGrossExposure),
  /** Bound on |net exposure| (long value minus short value). */
  maxNetExposure: positive.default(R.maxNetExposure),
  /** Loss since the UTC day start (realised + unrealised - fees) at which trading halts. */
  maxDailyLoss: positive.default(R.maxDailyLoss),
  maxOrderNotional: positive.default(R.maxOrderNotional),
  /** A fraction: 0.1 rejects orders priced more than 10% away from last/mid. */
  priceCollarPct: positive.refine((v) => v <= 1, { message: 'is a fraction (0.1 = 10%) and must be <= 1' }).default(R.priceCollarPct),
  maxOrdersPerSecond: z.number().int().positive().default(R.maxOrdersPerSecond),
  restrictedSymbols: z.array(Symbol).default(() => [...R.restrictedSymbols]),
  reducingAtLossFraction: positive.refine((v) => v <= 1, { message: 'must be <= 1' }).default(R.reducingAtLossFraction),
  /** Orders for live venues pass only when this is true; the paper broker is always allowed. */
  enableLiveTrading: z.boolean().default(false),
});
export type RiskLimits = Readonly<z.output<typeof RiskLimitsSchema>>;
export type RiskLimitsInput = z.input<typeof RiskLimitsSchema>;

/** Parses limits (defaults filled in) and fails loudly with the offending field. */
export function riskLimits(input: RiskLimitsInput = {}): RiskLimits {
  const r = RiskLimitsSchema.safeParse(input);
  if (!r.success) throw new ConfigError(`invalid risk limits: ${describeZodError(r.error)}`);
  return r.data;
}

const NUMERIC_ENV = {
  MAX_POSITION_SIZE: 'maxPositionQty',
  MAX_POSITION_NOTIONAL: 'maxPositionNotional',
  MAX_GROSS_EXPOSURE: 'maxGrossExposure',
  MAX_NET_EXPOSURE: 'maxNetExposure',
  MAX_DAILY_LOSS: 'maxDailyLoss',
  MAX_ORDER_NOTIONAL: 'maxOrderNotional',
  PRICE_COLLAR_PCT: 'priceCollarPct',
  MAX_ORDERS_PER_SECOND: 'maxOrdersPerSecond',
} as const satisfies Record<string, keyof RiskLimits>;

/** Echo a bad value only when it plainly is a number-ish token; anything else might be a pasted secret. */
function shown(value: string): string {
  return value.length <= 24 && /^[-+0-9.,eE_ %]*$/.test(value) ? `'${value}'` : `(${value.length} characters, not shown)`;
}

/**
 * Risk limits from the environment, defaults for what is unset. Any bad value throws a ConfigError
 * naming the variable. ENABLE_LIVE_TRADING must be exactly 'true' to enable; 'false' or unset keeps
 * it off, and anything else (e.g. 'TRUE', '1') is refused so a typo never silently decides.
 */
export function riskLimitsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): RiskLimits {
  const input: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(NUMERIC_ENV)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    const one = RiskLimitsSchema.shape[field].safeParse(value);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) || !one.success) {
      const why = one.success ? 'must be a number' : describeZodError(one.error).replace(/^\(root\): /, '');
      throw new ConfigError(`${name}=${shown(raw)} is invalid: ${why}`);
    }
    input[field] = one.data;
  }
  const restricted = env.RESTRICTED_SYMBOLS?.trim();
  if (restricted) {
    const symbols = restricted.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const s of symbols) {
      if (!Symbol.safeParse(s).success) throw new ConfigError(`RESTRICTED_SYMBOLS holds an invalid symbol ${shown(s)}: letters, digits and . _ : / - only`);
    }
    input.restrictedSymbols = symbols;
  }
  const live = env.ENABLE_LIVE_TRADING;
  if (live !== undefined && live !== '' && live !== 'true' && live !== 'false') {
    throw new ConfigError(`ENABLE_LIVE_TRADING=${shown(live)} is invalid: must be exactly 'true' or 'false'`);
  }
  input.enableLiveTrading = live === 'true';
  return riskLimits(input);
}
