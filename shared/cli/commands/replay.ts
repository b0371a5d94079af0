import { Option, type Command } from 'commander';
import { ConfigError } from '../../util/errors.ts';

export function parseSpeed(text: string): number | 'max' {
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--speed must be a positive number or "max", got ${JSON.stringify(text)}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('Publish a recorded market data file onto the raw-ingest subjects (md.raw.<symbol>) for the data worker (BUS, NATS_URL, KAFKA_BROKERS).')
    .requiredOption('--data <file>', 'CSV/Parquet bars, quotes, trades or depth (auto-detected)')
    .addOption(new Option('--speed <n|max>', 'event-time speed-up (60 = one hour of data per minute) or max').default('max').argParser(parseSpeed))
    .option('--symbol <symbol>', 'symbol when the file does not name one')
    .option('--limit <n>', 'stop after n events', (v) => Number.parseInt(v, 10))
    .action(async (o: { data: string; speed: number | 'max'; symbol?: string; limit?: number }) => {
      const { WORKER_ENV } = await import('../../workers/env.ts');
      const { connectBus } = await import('../../workers/connect.ts');
      const { publishMarketSource } = await import('../../workers/replay.ts');
      const bus = await connectBus(WORKER_ENV, 'algoplanes-replay');
      try {
        await bus.assertProvisioned(['md.raw.x']);
        const stats = await publishMarketSource(bus, o.data, { speed: o.speed, symbol: o.symbol, limit: o.limit });
        process.stdout.write(`published ${stats.published} events in ${stats.seconds.toFixed(1)} s (${stats.rejectedByReader} rejected by the reader)\n`);
      } finally {
        await bus.close();
      }
    });
}
