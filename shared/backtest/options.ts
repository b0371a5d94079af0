import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';

const B = DEFAULTS.backtest;

export const FillModel = z.enum(['next-bar-open', 'quote', 'book']);
export const SizingKind = z.enum(['fixed-qty', 'fixed-notional', 'vol-target']);

/** Everything a backtest run needs; validated once, when the run is constructed. */
export const BacktestOptionsSchema = z.object({
  dataPath: z.string().min(1),
  /** Symbol override; by default the reader takes it from the data (column or file name). */
  symbol: z.string().optional(),
  strategy: z.string().min(1).default(B.strategy),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  accountId: z.string().min(1).default(DEFAULTS.accountId),
  cash: z.number().positive().default(B.cash),
  sizing: SizingKind.default(B.sizing),
  quantity: z.number().positive().default(B.quantity),
  notional: z.number().positive().default(B.notional),
  /** Annualised volatility target for vol-target sizing. */
  targetVol: z.number().positive().default(0.2),
  fillModel: FillModel.default(B.fillModel),
  makerFeeBps: z.number().min(0).default(B.makerFeeBps),
  takerFeeBps: z.number().min(0).default(B.takerFeeBps),
  latencyUs: z.number().int().min(0).default(B.latencyUs),
  /** Apply the learned transaction-cost model as slippage in the paper broker. */
  slippage: z.boolean().default(false),
  /** Skip rebalances whose modelled cost exceeds their expected edge (the learned cost model gates sizing). */
  costAware: z.boolean().default(false),
  tickSize: z.number().positive().optional(),
  lotSize: z.number().positive().optional(),
  /** Directory for report.json, report.html and fills.csv; omit to write nothing. */
  outDir: z.string().optional(),
});
export type BacktestOptions = z.infer<typeof BacktestOptionsSchema>;
export type BacktestInput = z.input<typeof BacktestOptionsSchema>;
