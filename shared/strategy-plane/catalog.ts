import type { Strategy } from '../ports/planes.ts';
import { ConfigError } from '../util/errors.ts';
import { DEFAULTS } from '../config/defaults.ts';

const D = DEFAULTS.strategyPlane;
import { parseParams, type ParamSpec, type ParamValue } from './params.ts';
import { MeanReversionStrategy, type MeanReversionParams } from './strategies/mean-reversion.ts';
import { MomentumStrategy, type MomentumParams } from './strategies/momentum.ts';
import { OfiStrategy, type OfiParams } from './strategies/ofi.ts';
import { SmaCrossStrategy, type SmaCrossParams } from './strategies/sma-cross.ts';

export interface StrategyCatalogEntry {
  readonly name: string;
  readonly description: string;
  /** Market events the strategy reacts to. */
  readonly events: readonly ('bar' | 'quote' | 'ofi')[];
  readonly params: readonly ParamSpec[];
}

interface Builder extends StrategyCatalogEntry {
  build(id: string, params: Readonly<Record<string, ParamValue>>): Strategy;
}

const longOnlySpec = (def: boolean): ParamSpec => ({ name: 'longOnly', type: 'boolean', default: def, description: 'never go short: bearish signals go flat' });

const BUILDERS: readonly Builder[] = [
  {
    name: 'sma-cross',
    description: 'Moving-average crossover on bar closes: long when the fast SMA crosses above the slow one, flat (or short) when it crosses below.',
    events: ['bar'],
    params: [
      { name: 'fast', type: 'int', default: D.smaCross.fast, min: 1, description: 'fast SMA length in bars' },
      { name: 'slow', type: 'int', default: D.smaCross.slow, min: 2, description: 'slow SMA length in bars (> fast)' },
      longOnlySpec(D.smaCross.longOnly),
    ],
    build(id, raw) {
      const p = parseParams<SmaCrossParams>(this.name, this.params, raw, (v) => (v.fast < v.slow ? undefined : `fast (${v.fast}) must be < slow (${v.slow})`));
      return new SmaCrossStrategy(id, p);
    },
  },
  {
    name: 'mean-reversion',
    description: 'Bollinger mean reversion: trade against a close beyond entryZ standard deviations of the rolling mean, exit inside exitZ.',
    events: ['bar'],
    params: [
      { name: 'window', type: 'int', default: D.meanReversion.window, min: 2, description: 'rolling window in bars' },
      { name: 'entryZ', type: 'number', default: D.meanReversion.entryZ, above: 0, description: 'z-score beyond which to enter' },
      { name: 'exitZ', type: 'number', default: D.meanReversion.exitZ, min: 0, description: 'z-score inside which to exit (< entryZ)' },
      longOnlySpec(D.meanReversion.longOnly),
    ],
    build(id, raw) {
      const p = parseParams<MeanReversionParams>(this.name, this.params, raw, (v) => (v.exitZ < v.entryZ ? undefined : `exitZ (${v.exitZ}) must be < entryZ (${v.entryZ})`));
      return new MeanReversionStrategy(id, p);
    },
  },
  {
    name: 'momentum',
    description: 'Time-series momentum: the sign of the return over the last lookback bars, beyond a threshold.',
    events: ['bar'],
    params: [
      { name: 'lookback', type: 'int', default: D.momentum.lookback, min: 1, description: 'return horizon in bars' },
      { name: 'threshold', type: 'number', default: D.momentum.threshold, min: 0, description: 'minimum absolute lookback return to take a position' },
      longOnlySpec(D.momentum.longOnly),
    ],
    build(id, raw) {
      return new MomentumStrategy(id, parseParams<MomentumParams>(this.name, this.params, raw, () => undefined));
    },
  },
  {
    name: 'ofi',
    description: 'Order-flow imbalance: trade in the direction of an OFI z-score beyond threshold for horizon intervals (Ofi events or quotes with sizes).',
    events: ['ofi', 'quote'],
    params: [
      { name: 'window', type: 'int', default: D.ofi.window, min: 2, description: 'observations behind the z-score' },
      { name: 'threshold', type: 'number', default: D.ofi.threshold, above: 0, description: 'z-score beyond which to signal' },
      { name: 'horizon', type: 'int', default: D.ofi.horizon, min: 1, description: 'observations a signal lasts unless refreshed' },
      longOnlySpec(D.ofi.longOnly),
    ],
    build(id, raw) {
      return new OfiStrategy(id, parseParams<OfiParams>(this.name, this.params, raw, () => undefined));
    },
  },
];

/** What each strategy is and which parameters it takes, with defaults (for CLI --help). */
export const STRATEGY_CATALOG: readonly StrategyCatalogEntry[] = BUILDERS.map(({ name, description, events, params }) => ({ name, description, events, params }));

/**
 * Builds a strategy by catalog name with validated params (CLI strings like "10" or "false" accepted).
 * The strategy id defaults to the name; give distinct ids when one plane runs the same strategy twice.
 */
export function createStrategy(name: string, params: Readonly<Record<string, ParamValue>> = {}, opts: { id?: string } = {}): Strategy {
  const builder = BUILDERS.find((b) => b.name === name);
  if (!builder) throw new ConfigError(`unknown strategy '${name}'; valid strategies: ${BUILDERS.map((b) => b.name).join(', ')}`);
  return builder.build(opts.id ?? name, params);
}
