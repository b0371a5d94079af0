import * as z from 'zod';
import { finite, timestampUs } from '../domain/numbers.ts';

export const BacktestSummarySchema = z.object({
  runId: z.string().min(1),
  strategy: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Where the input came from (S3 key or path). */
  source: z.string().min(1),
  createdTs: timestampUs,
  /** Headline statistics (total return, Sharpe, max drawdown, ...). */
  metrics: z.record(z.string(), finite),
  /** S3 keys (or paths) of the written report artefacts. */
  artefacts: z.array(z.string()),
});
export type BacktestSummary = Readonly<z.infer<typeof BacktestSummarySchema>>;

/** Risk limits as configured for an account; the order plane owns their meaning. */
export const RiskLimitsRecordSchema = z.record(z.string(), z.union([finite, z.boolean(), z.string(), z.array(z.string())]));
export type RiskLimitsRecord = Readonly<z.infer<typeof RiskLimitsRecordSchema>>;
