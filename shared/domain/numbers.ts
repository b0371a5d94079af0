import * as z from 'zod';

/**
 * Numeric rules shared by every schema. Prices and quantities fail fast (as NautilusTrader does):
 * NaN, infinities and negatives are rejected with a reason instead of propagating into PnL.
 */
export const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number (not NaN or Infinity)' });
export const price = finite.refine((v) => v > 0, { message: 'price must be > 0' });
export const nonNegative = finite.refine((v) => v >= 0, { message: 'must be >= 0' });
export const quantity = finite.refine((v) => v > 0, { message: 'quantity must be > 0' });

/** Epoch microseconds: integer-exact in a double until year 2255, and fine enough for venue timestamps. */
export const timestampUs = z
  .number()
  .int({ message: 'timestamp must be an integer number of epoch microseconds' })
  .refine((v) => v > 0, { message: 'timestamp must be after 1970' });

/** Relative tolerance for tick/lot checks: prices like 0.1+0.2 must still count as on-tick. */
const GRID_EPSILON = 1e-9;

/** True when `value` is an integer multiple of `step` within floating-point tolerance. */
export function onGrid(value: number, step: number): boolean {
  if (!(step > 0)) return true;
  const units = value / step;
  return Math.abs(units - Math.round(units)) <= GRID_EPSILON * Math.max(1, Math.abs(units));
}

/** Why a price is unacceptable, or undefined when it is fine. */
export function priceProblem(value: number, tickSize?: number): string | undefined {
  if (!Number.isFinite(value)) return `price ${value} is not finite`;
  if (value <= 0) return `price ${value} must be > 0`;
  if (tickSize !== undefined && !onGrid(value, tickSize)) return `price ${value} is not a multiple of tick size ${tickSize}`;
  return undefined;
}

/** Why a quantity is unacceptable, or undefined when it is fine. */
export function quantityProblem(value: number, lotSize?: number): string | undefined {
  if (!Number.isFinite(value)) return `quantity ${value} is not finite`;
  if (value <= 0) return `quantity ${value} must be > 0`;
  if (lotSize !== undefined && !onGrid(value, lotSize)) return `quantity ${value} is not a multiple of lot size ${lotSize}`;
  return undefined;
}

/**
 * Decimal places of a grid step (0.001 -> 3), cached for the last step seen: sizing and fills round
 * to the same instrument over and over, and this keeps rounding free of toPrecision/toFixed.
 */
let cachedStep = NaN;
let cachedScale = 1;
function scaleOf(step: number): number {
  if (step === cachedStep) return cachedScale;
  let scale = 1;
  for (let k = 0; k < 15 && Math.abs(step * scale - Math.round(step * scale)) > GRID_EPSILON * step * scale; k++) scale *= 10;
  cachedStep = step;
  cachedScale = scale;
  return scale;
}

/** Rounds down to the instrument grid (sizing never buys more than asked), exact in decimal. */
export function roundDownToStep(value: number, step: number): number {
  if (!(step > 0)) return value;
  const units = Math.floor(value / step + GRID_EPSILON);
  const scale = scaleOf(step);
  return Math.round(units * step * scale) / scale;
}

export function roundToStep(value: number, step: number): number {
  if (!(step > 0)) return value;
  const scale = scaleOf(step);
  return Math.round(Math.round(value / step) * step * scale) / scale;
}
