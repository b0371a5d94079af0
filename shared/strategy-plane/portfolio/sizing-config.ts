import * as z from 'zod';
import { DEFAULTS } from '../../config/defaults.ts';

const S = DEFAULTS.strategyPlane.sizing;
const positive = z.number().positive();

/** Cost-aware no-trade band shared by every sizer. */
const band = {
  /** Skip trades below this notional unless they close the position. */
  minNotional: z.number().nonnegative().default(S.minNotional),
  /** Expected edge of a full-strength signal, bps of traded notional: a risk-increasing trade must cost less than edgeBps * |strength|. */
  edgeBps: z.number().nonnegative().default(S.edgeBps),
};

export const FixedQtySizingSchema = z.object({ kind: z.literal('fixed-qty'), qty: positive.default(DEFAULTS.backtest.quantity), ...band });

export const FixedNotionalSizingSchema = z.object({ kind: z.literal('fixed-notional'), notional: positive.default(DEFAULTS.backtest.notional), ...band });

export const VolTargetSizingSchema = z.object({
  kind: z.literal('vol-target'),
  /** Annualised volatility the position should carry, e.g. 0.15. */
  annualVol: positive.default(S.volTarget.annualVol),
  equity: positive.default(DEFAULTS.backtest.cash),
  /** Returns behind the realised-volatility estimate. */
  window: z.number().int().min(2).default(S.volTarget.window),
  /** Cap on position notional / equity. */
  maxLeverage: positive.default(S.volTarget.maxLeverage),
  /** Observations per year; estimated from the spacing of event timestamps when absent. */
  periodsPerYear: positive.optional(),
  ...band,
});

export const MeanVarianceSizingSchema = z
  .object({
    kind: z.literal('mean-variance'),
    /** The universe, in a fixed order: weights are solved jointly for these symbols. */
    symbols: z.array(z.string().min(1)).min(1),
    equity: positive.default(DEFAULTS.backtest.cash),
    /** Synchronised returns (one per timestamp) behind the covariance matrix. */
    window: z.number().int().min(3).default(S.meanVariance.window),
    riskAversion: positive.default(S.meanVariance.riskAversion),
    /** Information coefficient: expected per-period return = ic * strength * realised per-period vol. */
    ic: positive.default(S.meanVariance.ic),
    longOnly: z.boolean().default(DEFAULTS.backtest.longOnly),
    /** Cap on |weight| per asset (fraction of equity). */
    maxWeight: positive.default(S.meanVariance.maxWeight),
    /** Cap on sum |weight|. */
    grossLeverage: positive.default(S.meanVariance.grossLeverage),
    /** Scales the turnover penalty derived from the cost estimator (0 ignores costs in the optimiser). */
    costAversion: z.number().nonnegative().default(S.meanVariance.costAversion),
    ...band,
  })
  .refine((c) => new Set(c.symbols).size === c.symbols.length, { message: 'symbols must be distinct', path: ['symbols'] });

export const SizingConfigSchema = z.discriminatedUnion('kind', [FixedQtySizingSchema, FixedNotionalSizingSchema, VolTargetSizingSchema, MeanVarianceSizingSchema]);

/** What callers write: fields with defaults may be left out. */
export type SizingConfig = z.input<typeof SizingConfigSchema>;
/** After parsing: every default filled in. */
export type ResolvedSizingConfig = z.infer<typeof SizingConfigSchema>;
export type VolTargetSizing = z.infer<typeof VolTargetSizingSchema>;
export type MeanVarianceSizing = z.infer<typeof MeanVarianceSizingSchema>;
