import { AlgoplanesError, TransientError, isRetriable, errorMessage } from '../util/errors.ts';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  where: string;
  /** Called before each retry, e.g. to count retries in metrics. */
  onRetry?: (attempt: number, err: unknown) => void;
}

/** An operation that still failed after retrying; `attempts` says how often it was tried. */
export class RetriesExhaustedError extends AlgoplanesError {
  readonly attempts: number;
  constructor(where: string, attempts: number, cause: unknown) {
    super('RETRIES_EXHAUSTED', `failed after ${attempts} attempts: ${errorMessage(cause)}`, { retriable: true, where, cause });
    this.attempts = attempts;
  }
}

/** Retries only retriable errors (exponential backoff); non-retriable errors surface at once. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 50;
  const max = opts.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (attempt >= attempts) throw new RetriesExhaustedError(opts.where, attempt, err);
      opts.onRetry?.(attempt, err);
      await new Promise((r) => setTimeout(r, Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}

/** Wraps an unknown client error as retriable when it looks like a connectivity or timeout problem. */
export function classify(err: unknown, code: string, retriableWhen: (message: string) => boolean): AlgoplanesError {
  if (err instanceof AlgoplanesError) return err;
  const message = errorMessage(err);
  if (retriableWhen(message)) return new TransientError(code, message, err);
  return new AlgoplanesError(code, message, { retriable: false, cause: err });
}
