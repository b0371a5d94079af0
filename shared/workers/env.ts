/**
 * Worker configuration from the environment, parsed once when this module loads: a bad value stops
 * the process at startup with the variable's name, never halfway through a session.
 */
import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';
import { ConfigError } from '../util/errors.ts';
import { describeZodError } from '../domain/envelope.ts';

/** Local-development endpoints (the repo's defaults.ts has no bus section; kept here, once). */
export const LOCAL_ENDPOINTS = {
  natsUrl: 'nats://127.0.0.1:4222',
  kafkaBrokers: '127.0.0.1:9092',
  redisUrl: 'redis://127.0.0.1:6379',
} as const;

const WorkerEnvSchema = z.object({
  BUS: z.enum(['nats', 'kafka', 'memory']).default('memory'),
  NATS_URL: z.string().regex(/^(nats|tls|ws|wss):\/\/.+/, 'NATS_URL must look like nats://host:port').default(LOCAL_ENDPOINTS.natsUrl),
  KAFKA_BROKERS: z
    .string()
    .default(LOCAL_ENDPOINTS.kafkaBrokers)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .refine((l) => l.length > 0 && l.every((b) => /^[^:\s]+:\d+$/.test(b)), 'KAFKA_BROKERS must be host:port[,host:port...]'),
  /** The idempotent producer needs a broker that routes InitProducerId (librdkafka's mock does not). */
  KAFKA_IDEMPOTENT: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'REDIS_URL must look like redis://host:port').default(LOCAL_ENDPOINTS.redisUrl),
  /** HTTP port for /healthz and /metrics; 0 picks a free port (printed in the startup log). */
  WORKER_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /** Interface the HTTP server binds; 0.0.0.0 lets Prometheus in another container scrape it. */
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  ACCOUNT_ID: z.string().min(1).default(DEFAULTS.accountId),
  STRATEGY: z.string().min(1).default(DEFAULTS.backtest.strategy),
  /** JSON object of strategy parameters, e.g. {"fast":10,"slow":30}. */
  STRATEGY_PARAMS: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).parse(JSON.parse(s));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `STRATEGY_PARAMS must be a JSON object of scalars: ${(err as Error).message}` });
        return z.NEVER;
      }
    }),
  ORDER_QTY: z.coerce.number().positive().default(DEFAULTS.backtest.quantity),
  INITIAL_CASH: z.coerce.number().positive().default(DEFAULTS.backtest.cash),
  /** debug adds one line per emitted or rejected message, with its trace_id (off the hot path otherwise). */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** How often a worker persists its plane state and acks what that state covers. */
  CHECKPOINT_MS: z.coerce.number().int().positive().default(200),
});
export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const r = WorkerEnvSchema.safeParse(env);
  if (!r.success) throw new ConfigError(`invalid environment: ${describeZodError(r.error)}`);
  return r.data;
}

export const WORKER_ENV: WorkerEnv = parseWorkerEnv(process.env);
