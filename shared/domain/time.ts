/** Timestamps are epoch microseconds everywhere; these convert at the edges. */
export const US_PER_MS = 1_000;
export const US_PER_SECOND = 1_000_000;
export const US_PER_MINUTE = 60 * US_PER_SECOND;
export const US_PER_DAY = 86_400 * US_PER_SECOND;
export const US_PER_YEAR = 365.25 * US_PER_DAY;

export function usToIso(ts: number): string {
  return new Date(Math.floor(ts / US_PER_MS)).toISOString();
}

export function msToUs(ms: number): number {
  return Math.round(ms * US_PER_MS);
}

export function nowUs(): number {
  return Date.now() * US_PER_MS;
}

/** UTC day index of a timestamp, for daily-loss resets. */
export function utcDay(ts: number): number {
  return Math.floor(ts / US_PER_DAY);
}
