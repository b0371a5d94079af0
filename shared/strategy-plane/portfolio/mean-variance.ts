import quadprog from 'quadprog';
import { ValidationError } from '../../util/errors.ts';

export interface MeanVarianceProblem {
  /** Expected return per asset over the next period. */
  readonly mu: readonly number[];
  /** Covariance of per-period returns (n x n, symmetric positive semi-definite). */
  readonly cov: readonly (readonly number[])[];
  /** Current weights (position notional / equity), the starting point of the turnover penalty. */
  readonly current: readonly number[];
  readonly riskAversion: number;
  readonly longOnly: boolean;
  /** Cap on |w_i|. */
  readonly maxWeight: number;
  /** Cap on sum |w_i|. */
  readonly grossLeverage: number;
  /** Cost per unit of |w_i - current_i| (fraction of equity traded). */
  readonly linearCost?: readonly number[];
  /** Quadratic cost coefficient: cost 1/2 k_i (w_i - current_i)^2. */
  readonly quadraticCost?: readonly number[];
}

/** Relative ridge that makes the split formulation strictly convex without visibly moving the optimum. */
const RIDGE = 1e-9;
const TOLERANCE = 1e-10;

/**
 * maximise mu'w - (lambda/2) w'Cov w - c'|w - w0| - 1/2 (w - w0)'K(w - w0)
 * s.t. |w_i| <= maxWeight, sum |w_i| <= grossLeverage, w >= 0 when longOnly.
 *
 * |w| and |dw| are not quadratic, so each is split into non-negative parts: variables
 * z = [p, u, v, m] with w = p - m and w - w0 = u - v, tied by n equalities. The gross cap and the
 * linear cost become linear in p+m and u+v; a tiny ridge makes quadprog's D positive definite and
 * drives at least one of each pair to zero at the optimum.
 */
export function solveMeanVariance(problem: MeanVarianceProblem): number[] {
  const { mu, cov, current, riskAversion: lambda, longOnly, maxWeight, grossLeverage } = problem;
  const n = mu.length;
  if (cov.length !== n || current.length !== n || cov.some((row) => row.length !== n)) {
    throw new ValidationError('BAD_DIMENSIONS', `mean-variance needs mu, cov and current of one size, got ${n}, ${cov.length}, ${current.length}`, 'solveMeanVariance');
  }
  const lin = problem.linearCost ?? new Array<number>(n).fill(0);
  const quad = problem.quadraticCost ?? new Array<number>(n).fill(0);
  // Long-only drops the short parts entirely: bounding them by 0 <= m <= 0 would make quadprog's
  // active constraints linearly dependent.
  const blocks = longOnly ? 3 : 4;
  const N = blocks * n;
  const P = 0;
  const U = n;
  const V = 2 * n;
  const M = 3 * n;

  let trace = 0;
  for (let i = 0; i < n; i++) trace += lambda * cov[i][i] + quad[i];
  const ridge = RIDGE * Math.max(trace / n, 1e-12);

  // 1-indexed, as quadprog (a Fortran port) expects.
  const D: number[][] = [[]];
  for (let r = 1; r <= N; r++) D.push(new Array<number>(N + 1).fill(0));
  const d = new Array<number>(N + 1).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const s = lambda * cov[i][j];
      D[P + i + 1][P + j + 1] += s;
      if (longOnly) continue;
      D[M + i + 1][M + j + 1] += s;
      D[P + i + 1][M + j + 1] -= s;
      D[M + i + 1][P + j + 1] -= s;
    }
    D[U + i + 1][U + i + 1] += quad[i];
    D[V + i + 1][V + i + 1] += quad[i];
    D[U + i + 1][V + i + 1] -= quad[i];
    D[V + i + 1][U + i + 1] -= quad[i];
    d[P + i + 1] = mu[i];
    if (!longOnly) d[M + i + 1] = -mu[i];
    d[U + i + 1] = -lin[i];
    d[V + i + 1] = -lin[i];
  }
  for (let k = 1; k <= N; k++) D[k][k] += ridge;
  // quadprog's plane rotations square their inputs: values near 1e-200 underflow and turn the
  // solution into NaN. Entries that small cannot move the optimum, so they are flushed to zero.
  const floorD = ridge * 1e-6;
  for (let r = 1; r <= N; r++) for (let c = 1; c <= N; c++) if (Math.abs(D[r][c]) < floorD) D[r][c] = 0;
  for (let k = 1; k <= N; k++) d[k] = flush(d[k]);

  const columns: { a: Map<number, number>; b: number }[] = [];
  for (let i = 0; i < n; i++) {
    const tie = new Map([[P + i, 1], [U + i, -1], [V + i, 1]]);
    if (!longOnly) tie.set(M + i, -1);
    columns.push({ a: tie, b: current[i] });
  }
  for (let k = 0; k < N; k++) columns.push({ a: new Map([[k, 1]]), b: 0 });
  for (let i = 0; i < n; i++) {
    columns.push({ a: new Map([[P + i, -1]]), b: -maxWeight });
    if (!longOnly) columns.push({ a: new Map([[M + i, -1]]), b: -maxWeight });
  }
  const gross = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    gross.set(P + i, -1);
    if (!longOnly) gross.set(M + i, -1);
  }
  columns.push({ a: gross, b: -grossLeverage });

  const A: number[][] = [[]];
  for (let r = 1; r <= N; r++) A.push(new Array<number>(columns.length + 1).fill(0));
  const b: number[] = [0];
  columns.forEach((c, j) => {
    for (const [k, v] of c.a) A[k + 1][j + 1] = v;
    b.push(flush(c.b));
  });

  const result = quadprog.solveQP(D, d, A, b, n);
  if (result.message || result.solution.some(Number.isNaN)) throw new ValidationError('QP_FAILED', result.message || 'solver returned NaN', 'solveMeanVariance');
  const w = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let wi = result.solution[P + i + 1] - (longOnly ? 0 : result.solution[M + i + 1]);
    if (Math.abs(wi) < TOLERANCE) wi = 0;
    w[i] = Math.min(maxWeight, Math.max(longOnly ? 0 : -maxWeight, wi));
  }
  // Solver round-off may leave the gross just above its cap; the caps are hard limits.
  const total = w.reduce((s, x) => s + Math.abs(x), 0);
  if (total > grossLeverage) for (let i = 0; i < n; i++) w[i] *= grossLeverage / total;
  return w;
}

/** Below this magnitude a return, cost or weight is numerically zero for the solver. */
const NEGLIGIBLE = 1e-100;

function flush(value: number): number {
  return Math.abs(value) < NEGLIGIBLE ? 0 : value;
}
