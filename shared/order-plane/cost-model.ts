import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';
import { parseOrThrow } from '../domain/envelope.ts';
import type { Fill } from '../domain/trading.ts';
import type { CostEstimator, CostFeatures } from '../ports/planes.ts';
import { ValidationError } from '../util/errors.ts';

/**
 * Initial variance of each coefficient around its prior: large enough that a few dozen fills outweigh
 * the prior, small enough that one outlier cannot swing the fit.
 */
const PRIOR_VARIANCE = 100;
/** Bound on trace(P): without it, directions no fill excites (spread on bar data) wind up as P/lambda^n. */
const MAX_P_TRACE = 3 * PRIOR_VARIANCE;

export interface CostCoefficients {
  a: number;
  b: number;
  c: number;
}

export interface CostModelOptions extends CostCoefficients {
  forgetting: number;
}

export interface SymbolCostSummary {
  symbol: string;
  fills: number;
  meanIsBps: number;
  coefficients: CostCoefficients;
  /** Root mean squared one-step-ahead prediction error, bps. */
  rmseBps: number;
}

const SymbolFitSchema = z.object({
  theta: z.array(z.number()).length(3),
  p: z.array(z.number()).length(9),
  n: z.number().int().nonnegative(),
  sumIs: z.number(),
  sumSqErr: z.number().nonnegative(),
});
type SymbolFit = z.infer<typeof SymbolFitSchema>;

export const CostModelStateSchema = z.object({
  version: z.literal(1),
  options: z.object({ a: z.number(), b: z.number(), c: z.number(), forgetting: z.number().gt(0).max(1) }),
  symbols: z.record(z.string(), SymbolFitSchema),
});
export type CostModelState = z.infer<typeof CostModelStateSchema>;

/**
 * Implementation shortfall in bps of the arrival price, signed so that paying up is a positive cost:
 * a buy filled above arrival or a sell filled below it.
 */
export function implementationShortfallBps(fill: Pick<Fill, 'side' | 'price' | 'arrivalPrice'>): number {
  const sign = fill.side === 'buy' ? 1 : -1;
  return (sign * (fill.price - fill.arrivalPrice) * 1e4) / fill.arrivalPrice;
}

/**
 * Learns per-symbol transaction costs from fills: bps = a + b*spreadBps + c*volBps*sqrt(participation),
 * fitted by recursive least squares with exponential forgetting, starting from DEFAULTS.costModel.
 */
export class OnlineCostModel implements CostEstimator {
  private readonly opts: CostModelOptions;
  private readonly fits = new Map<string, SymbolFit>();
  private readonly x = new Float64Array(3);
  /** Scratch for the RLS step (one per fill): no arrays allocated on the fill path. */
  private readonly gain = new Float64Array(3);
  private readonly px = new Float64Array(3);

  constructor(opts: Partial<CostModelOptions> = {}) {
    this.opts = { ...DEFAULTS.costModel, ...opts };
    if (!(this.opts.forgetting > 0 && this.opts.forgetting <= 1)) {
      throw new ValidationError('INVALID_OPTION', `forgetting ${this.opts.forgetting} must lie in (0, 1]`, 'OnlineCostModel');
    }
  }

  /** Expected one-way cost in bps; never negative (a rebate is not something to plan on). */
  estimateBps(symbol: string, f: CostFeatures): number {
    const t = this.fits.get(symbol)?.theta;
    const x = this.features(f);
    const est = t ? t[0] * x[0] + t[1] * x[1] + t[2] * x[2] : this.opts.a + this.opts.b * x[1] + this.opts.c * x[2];
    return Number.isFinite(est) && est > 0 ? est : 0;
  }

  /** Records a fill's shortfall against the features it traded in; returns the shortfall in bps. */
  observe(fill: Pick<Fill, 'symbol' | 'side' | 'price' | 'arrivalPrice'>, f: CostFeatures): number {
    const y = implementationShortfallBps(fill);
    if (!Number.isFinite(y)) throw new ValidationError('INVALID_FILL', `shortfall ${y} is not finite`, `cost model ${fill.symbol}`);
    this.update(fill.symbol, f, y);
    return y;
  }

  /** One recursive-least-squares step with forgetting (exposed for fitting known relations). */
  update(symbol: string, f: CostFeatures, y: number): void {
    const fit = this.fits.get(symbol) ?? this.create(symbol);
    const x = this.features(f);
    const { theta, p } = fit;
    const lambda = this.opts.forgetting;
    // Px, then the gain k = Px / (lambda + x'Px).
    const px0 = p[0] * x[0] + p[1] * x[1] + p[2] * x[2];
    const px1 = p[3] * x[0] + p[4] * x[1] + p[5] * x[2];
    const px2 = p[6] * x[0] + p[7] * x[1] + p[8] * x[2];
    const denom = lambda + x[0] * px0 + x[1] * px1 + x[2] * px2;
    const err = y - (theta[0] * x[0] + theta[1] * x[1] + theta[2] * x[2]);
    const k0 = px0 / denom;
    const k1 = px1 / denom;
    const k2 = px2 / denom;
    theta[0] += k0 * err;
    theta[1] += k1 * err;
    theta[2] += k2 * err;
    // P = (P - k (Px)') / lambda, kept symmetric.
    const k = this.gain;
    const pxv = this.px;
    k[0] = k0;
    k[1] = k1;
    k[2] = k2;
    pxv[0] = px0;
    pxv[1] = px1;
    pxv[2] = px2;
    let trace = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = i; j < 3; j++) {
        const v = (p[i * 3 + j] - (k[i] * pxv[j] + k[j] * pxv[i]) / 2) / lambda;
        p[i * 3 + j] = v;
        p[j * 3 + i] = v;
      }
      trace += p[i * 4];
    }
    if (trace > MAX_P_TRACE) for (let i = 0; i < 9; i++) p[i] *= MAX_P_TRACE / trace;
    fit.n++;
    fit.sumIs += y;
    fit.sumSqErr += err * err;
  }

  coefficients(symbol: string): CostCoefficients {
    const t = this.fits.get(symbol)?.theta;
    return t ? { a: t[0], b: t[1], c: t[2] } : { a: this.opts.a, b: this.opts.b, c: this.opts.c };
  }

  summary(): SymbolCostSummary[] {
    return [...this.fits.entries()].map(([symbol, f]) => ({
      symbol,
      fills: f.n,
      meanIsBps: f.n > 0 ? f.sumIs / f.n : 0,
      coefficients: { a: f.theta[0], b: f.theta[1], c: f.theta[2] },
      rmseBps: f.n > 0 ? Math.sqrt(f.sumSqErr / f.n) : 0,
    }));
  }

  snapshot(): CostModelState {
    const symbols: Record<string, SymbolFit> = {};
    for (const [s, f] of this.fits) symbols[s] = { theta: [...f.theta], p: [...f.p], n: f.n, sumIs: f.sumIs, sumSqErr: f.sumSqErr };
    return { version: 1, options: { ...this.opts }, symbols };
  }

  restore(state: unknown): void {
    const s = parseOrThrow(CostModelStateSchema, state, 'OnlineCostModel.restore');
    Object.assign(this.opts, s.options);
    this.fits.clear();
    for (const [sym, f] of Object.entries(s.symbols)) this.fits.set(sym, { theta: [...f.theta], p: [...f.p], n: f.n, sumIs: f.sumIs, sumSqErr: f.sumSqErr });
  }

  private create(symbol: string): SymbolFit {
    const fit: SymbolFit = {
      theta: [this.opts.a, this.opts.b, this.opts.c],
      p: [PRIOR_VARIANCE, 0, 0, 0, PRIOR_VARIANCE, 0, 0, 0, PRIOR_VARIANCE],
      n: 0,
      sumIs: 0,
      sumSqErr: 0,
    };
    this.fits.set(symbol, fit);
    return fit;
  }

  private features(f: CostFeatures): Float64Array {
    const x = this.x;
    x[0] = 1;
    x[1] = Number.isFinite(f.spreadBps) && f.spreadBps > 0 ? f.spreadBps : 0;
    const impact = f.volBps > 0 && f.participation > 0 ? f.volBps * Math.sqrt(f.participation) : 0;
    x[2] = Number.isFinite(impact) ? impact : 0;
    return x;
  }
}
