/**
 * The middy stack every plane function shares: Powertools context logging and EMF metrics, zod
 * validation of the incoming event, error mapping, and optional idempotency.
 */
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import type { Store } from '../store/index.ts';
import { AlgoplanesError, ConfigError, TransientError, errorMessage } from '../util/errors.ts';
import type { Observability } from './observability.ts';

/** Replaces the raw event with its validated form before the handler runs. */
export function validateEvent<E, R>(parse: (raw: unknown) => E): MiddlewareObj<E, R> {
  return {
    name: 'validateEvent',
    before: (request) => {
      request.event = parse(request.event as unknown);
    },
  };
}

/** Maps any failure to an AlgoplanesError, logs it once with code/retriable/where, and decides its fate. */
export function mapErrors<E, R>(obs: Observability, respond?: (err: AlgoplanesError) => R): MiddlewareObj<E, R> {
  return {
    name: 'mapErrors',
    onError: (request) => {
      const err = toAlgoplanesError(request.error);
      obs.logger.error('invocation failed', { code: err.code, retriable: err.retriable, where: err.where, error: err.message });
      // Retriable failures go back to the event source (retry, bisect, on-failure destination).
      if (err.retriable || !respond) {
        request.error = err;
        return;
      }
      request.response = respond(err);
    },
  };
}

export function toAlgoplanesError(err: unknown): AlgoplanesError {
  if (err instanceof AlgoplanesError) return err;
  return new AlgoplanesError('UNEXPECTED', errorMessage(err), { cause: err });
}

export interface IdempotencyConfig<E> {
  readonly store: Store;
  /** The key that names "the same request"; undefined skips idempotency for this event. */
  readonly keyOf: (event: E) => string | undefined;
  readonly leaseMs: number;
  readonly ttlSeconds: number;
  readonly now?: () => number;
}

/** Powertools-style idempotency: a repeated request returns the first result instead of running again. */
export function idempotent<E, R>(cfg: IdempotencyConfig<E>): MiddlewareObj<E, R> {
  if (!(cfg.leaseMs > 0) || !(cfg.ttlSeconds > 0)) throw new ConfigError('idempotent: leaseMs and ttlSeconds must be > 0');
  const now = cfg.now ?? Date.now;
  const keys = new WeakMap<object, string>();
  const opts = () => ({ nowMs: now(), leaseMs: cfg.leaseMs, ttlSeconds: cfg.ttlSeconds });
  return {
    name: 'idempotent',
    before: async (request) => {
      const key = cfg.keyOf(request.event);
      if (key === undefined) return undefined;
      const outcome = await cfg.store.beginIdempotent(key, opts());
      if (outcome.status === 'completed') return outcome.result as R;
      if (outcome.status === 'in-progress') throw new TransientError('IDEMPOTENCY_IN_PROGRESS', `request ${key} is already being processed`);
      keys.set(request, key);
      return undefined;
    },
    after: async (request) => {
      const key = keys.get(request);
      if (key !== undefined) await cfg.store.completeIdempotent(key, request.response, opts());
    },
    onError: async (request) => {
      const key = keys.get(request);
      if (key !== undefined) await cfg.store.releaseIdempotent(key);
    },
  };
}

export interface PlaneHandlerOptions<E, R> {
  readonly obs: Observability;
  /** Validates the raw event (zod); throws ValidationError naming the bad field. */
  readonly parse: (raw: unknown) => E;
  readonly handle: (event: E, context: Context) => Promise<R>;
  readonly idempotency?: IdempotencyConfig<E>;
  /** Turns a non-retriable failure into a response (on-demand invocations); without it every failure is rethrown. */
  readonly respondToError?: (err: AlgoplanesError) => R;
}

export function planeHandler<E, R>(opts: PlaneHandlerOptions<E, R>): MiddyfiedHandler<E, R> {
  const h = middy<E, R>()
    .use(injectLambdaContext(opts.obs.logger, { resetKeys: true }))
    .use(logMetrics(opts.obs.metrics, { captureColdStartMetric: true }))
    .use(mapErrors<E, R>(opts.obs, opts.respondToError))
    .use(validateEvent<E, R>(opts.parse));
  if (opts.idempotency) h.use(idempotent<E, R>(opts.idempotency));
  return h.handler((event, context) => opts.handle(event, context));
}
