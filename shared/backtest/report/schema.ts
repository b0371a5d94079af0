import * as z from 'zod';
import { StatisticsSchema } from '../stats.ts';

const count = z.number().int().nonnegative();
const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

/** Everything a backtest run reports; report.json is exactly this, validated before it is written. */
export const BacktestReportSchema = z.object({
  generatedAt: z.iso.datetime(),
  strategy: z.object({
    name: z.string().min(1),
    params: z.record(z.string(), z.unknown()),
  }),
  data: z.object({
    path: z.string(),
    symbol: z.string(),
    /** Event kind replayed: bar, trade, quote, depth, ofi. */
    kind: z.string(),
    events: count,
    /** Events the quality checks rejected (quarantined). */
    rejected: count,
  }),
  /** Run configuration; engines may add their own settings next to the common ones. */
  config: z.looseObject({
    cash: finite.refine((v) => v > 0, { message: 'cash must be > 0' }),
    sizing: z.string(),
    fillModel: z.string(),
    makerFeeBps: finite.optional(),
    takerFeeBps: finite.optional(),
    latencyUs: count.optional(),
  }),
  statistics: StatisticsSchema,
  /** Summary of the transaction-cost model (coefficients, observations); shape is the cost model's own. */
  costModel: z.unknown(),
  /** Data-quality counters by reason. */
  quality: z.record(z.string(), z.number()),
  risk: z.object({
    breaches: count,
    byRule: z.record(z.string(), count),
    finalState: z.string(),
  }),
  engine: z.object({
    events: count,
    bars: count,
    /** Wall-clock seconds the replay took. */
    seconds: z.number().nonnegative(),
  }),
});
export type BacktestReport = z.infer<typeof BacktestReportSchema>;
