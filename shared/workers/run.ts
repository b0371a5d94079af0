/** Starts one worker process: bus + cache from the environment, HTTP health/metrics, SIGTERM drain. */
import { subjects, NatsBus, type Bus } from '../bus/index.ts';
import { RedisCache } from '../cache/index.ts';
import { makeEnvelope } from '../domain/envelope.ts';
import { nowUs } from '../domain/time.ts';
import { ConfigError, errorMessage } from '../util/errors.ts';
import { connectBus } from './connect.ts';
import { DataWorker } from './data-worker.ts';
import type { WorkerEnv } from './env.ts';
import { OrderWorker } from './order-worker.ts';
import { WorkerRuntime, jsonLogger } from './runtime.ts';
import { StrategyWorker } from './strategy-worker.ts';

export type WorkerKind = 'data' | 'strategy' | 'order';
export const WORKER_KINDS: readonly WorkerKind[] = ['data', 'strategy', 'order'];

const DURABLES: Record<WorkerKind, [stream: string, durable: string][]> = {
  data: [['MARKET', 'data-worker']],
  strategy: [
    ['MARKET', 'strategy-worker'],
    ['EXECUTIONS', 'strategy-worker'],
  ],
  order: [
    ['MARKET', 'order-worker'],
    ['ORDERS', 'order-worker'],
  ],
};

export interface RunningWorker {
  readonly runtime: WorkerRuntime;
  readonly port: number;
  stop(reason: string): Promise<void>;
}

export async function runWorker(kind: WorkerKind, env: WorkerEnv, opts: { signals?: boolean } = {}): Promise<RunningWorker> {
  if (!WORKER_KINDS.includes(kind)) throw new ConfigError(`unknown worker ${kind}; expected one of ${WORKER_KINDS.join(', ')}`);
  const service = `${kind}-worker`;
  const runtime = new WorkerRuntime(service, jsonLogger(service, undefined, env.LOG_LEVEL));
  const bus: Bus = await connectBus(env, service, (attempt, err) => {
    runtime.metrics.retries.inc({ where: 'publish' });
    runtime.logger.log('warn', 'retrying publish', { attempt, error: errorMessage(err) });
  });
  runtime.onStop(() => bus.close());
  runtime.addCheck({ name: 'bus', check: () => (bus instanceof NatsBus && bus.nc.isClosed() ? { status: 'down', detail: 'NATS connection closed' } : { status: 'ok' }) });

  let cache: RedisCache | undefined;
  if (kind !== 'data') {
    cache = new RedisCache({ url: env.REDIS_URL, prefix: `ap:${env.ACCOUNT_ID}:` });
    await cache.connect();
    const c = cache;
    runtime.onStop(() => c.close());
    c.onStatus((s) => runtime.logger.log(s === 'up' ? 'info' : 'warn', `redis ${s}`, { error: s === 'down' ? c.lastError : undefined }));
  }
  const onFatal = (err: unknown) => {
    runtime.logger.log('error', 'fatal: exiting so the restart replays from the last checkpoint', { error: errorMessage(err) });
    process.exit(70);
  };
  const deps = { bus, runtime, checkpointMs: env.CHECKPOINT_MS, onFatal };
  const worker =
    kind === 'data'
      ? new DataWorker(deps)
      : kind === 'strategy'
        ? new StrategyWorker({ ...deps, cache: cache as RedisCache }, { accountId: env.ACCOUNT_ID, strategy: env.STRATEGY, params: env.STRATEGY_PARAMS, qty: env.ORDER_QTY })
        : new OrderWorker({ ...deps, cache: cache as RedisCache }, { accountId: env.ACCOUNT_ID, initialCash: env.INITIAL_CASH });
  await worker.start();
  runtime.onStop(() => worker.stop());

  const timers: NodeJS.Timeout[] = [];
  if (bus instanceof NatsBus) {
    timers.push(
      setInterval(() => {
        for (const [stream, durable] of DURABLES[kind]) {
          bus.jsm.consumers.info(stream, durable).then(
            (ci) => runtime.metrics.consumerLag.set({ consumer: `${stream}/${durable}` }, ci.num_pending + ci.num_ack_pending),
            () => undefined,
          );
        }
      }, 2_000),
    );
  }
  timers.push(
    setInterval(() => {
      const h = runtime.health();
      const env2 = makeEnvelope('sys.health.v1', { ...h, ts: nowUs() }, { producer: service });
      bus.publish(subjects.health(service), env2, { fireAndForget: true }).catch((err: unknown) => runtime.logger.log('warn', 'health not published', { error: errorMessage(err) }));
    }, 5_000),
  );
  runtime.onStop(async () => timers.forEach((t) => clearInterval(t)));

  const port = await runtime.listen(env.WORKER_PORT, env.WORKER_HOST);
  if (opts.signals ?? true) runtime.installSignalHandlers();
  runtime.logger.log('info', 'worker started', { kind, bus: env.BUS, port });
  return { runtime, port, stop: (reason) => runtime.stop(reason) };
}
