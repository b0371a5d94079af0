export { createStrategy, STRATEGY_CATALOG, type StrategyCatalogEntry } from './catalog.ts';
export type { ParamSpec, ParamValue } from './params.ts';
export { SmaCrossStrategy, type SmaCrossParams } from './strategies/sma-cross.ts';
export { MeanReversionStrategy, type MeanReversionParams } from './strategies/mean-reversion.ts';
export { MomentumStrategy, type MomentumParams } from './strategies/momentum.ts';
export { OfiStrategy, type OfiParams } from './strategies/ofi.ts';
export { RollingWindow, Ring } from './rolling.ts';
export {
  SizingConfigSchema,
  FixedQtySizingSchema,
  FixedNotionalSizingSchema,
  VolTargetSizingSchema,
  MeanVarianceSizingSchema,
  type SizingConfig,
  type ResolvedSizingConfig,
} from './portfolio/sizing-config.ts';
export { createSizer, FixedQtySizer, FixedNotionalSizer, VolTargetSizer, MeanVarianceSizer, type Sizer, type SizedTarget, type SizingSkip } from './portfolio/sizers.ts';
export { solveMeanVariance, type MeanVarianceProblem } from './portfolio/mean-variance.ts';
export { MarketStats } from './portfolio/market-stats.ts';
export { PositionBook, type Holding } from './portfolio/book.ts';
export { StrategyPlane, type StrategyPlaneOptions, type StrategyPlaneCounts, type StrategyPlaneSnapshot, type SkipReason } from './plane.ts';
