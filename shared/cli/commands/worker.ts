import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'Run one plane as a local worker on the bus. Env: BUS=nats|kafka|memory, NATS_URL, KAFKA_BROKERS, REDIS_URL, ' +
        'WORKER_PORT and WORKER_HOST (/healthz, /metrics), LOG_LEVEL (debug logs every message with its trace_id), ACCOUNT_ID, STRATEGY, STRATEGY_PARAMS (JSON), ORDER_QTY, INITIAL_CASH, CHECKPOINT_MS. ' +
        'Streams must exist first: `algoplanes streams apply`. On a machine whose cores the workers share, start it as ' +
        '`node --single-threaded-gc bin/algoplanes.js worker <kind>`, as `npm run local` and the compose profile do (a shorter tick-to-fill tail).',
    )
    .addArgument(new Argument('<kind>', 'which plane').choices(['data', 'strategy', 'order']))
    .action(async (kind: 'data' | 'strategy' | 'order') => {
      const { WORKER_ENV } = await import('../../workers/env.ts');
      const { runWorker } = await import('../../workers/run.ts');
      await runWorker(kind, WORKER_ENV);
    });
}
