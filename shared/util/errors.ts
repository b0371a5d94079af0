/**
 * Every error the platform raises carries a stable `code`, a `retriable` flag (retry only what is
 * retriable, as kafkajs does) and, for input problems, `where` the bad value came from
 * (file:line, subject, field) so a quarantined item can be traced back to its source.
 */
export class AlgoplanesError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly where: string | undefined;

  constructor(code: string, message: string, opts: { retriable?: boolean; where?: string; cause?: unknown } = {}) {
    super(opts.where ? `${opts.where}: ${message}` : message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.where = opts.where;
  }
}

/** Input that can never become valid by retrying: reject, count, quarantine. */
export class ValidationError extends AlgoplanesError {
  constructor(code: string, message: string, where?: string) {
    super(code, message, { retriable: false, where });
  }
}

/** Configuration or invocation problems found at startup: fail loudly, never retry. */
export class ConfigError extends AlgoplanesError {
  constructor(message: string) {
    super('CONFIG', message, { retriable: false });
  }
}

/** A dependency (bus, cache, store) is unavailable or timed out: safe to retry. */
export class TransientError extends AlgoplanesError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retriable: true, cause });
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof AlgoplanesError ? err.retriable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
