import type { Command } from 'commander';
import { ConfigError } from '../../util/errors.ts';

export function register(program: Command): void {
  program
    .command('feed')
    .description('Live feed onto the raw-ingest subjects. Only --synthetic exists: random-walk one-second bars, stamped with wall-clock time.')
    .option('--synthetic', 'generate a deterministic random walk (required)')
    .option('--symbol <symbol>', 'symbol to generate', 'SYN-USD')
    .option('--rate <n>', 'bars per second', (v) => Number(v), 10)
    .option('--count <n>', 'stop after n bars (default: until Ctrl-C)', (v) => Number.parseInt(v, 10))
    .action(async (o: { synthetic?: boolean; symbol: string; rate: number; count?: number }) => {
      if (!o.synthetic) throw new ConfigError('feed: only --synthetic is available (venue connectors are not part of algoplanes)');
      if (!(o.rate > 0)) throw new ConfigError('--rate must be > 0');
      const { WORKER_ENV } = await import('../../workers/env.ts');
      const { connectBus } = await import('../../workers/connect.ts');
      const { runSyntheticFeed } = await import('../../workers/replay.ts');
      const bus = await connectBus(WORKER_ENV, 'algoplanes-feed');
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      try {
        await bus.assertProvisioned(['md.raw.x']);
        const sent = await runSyntheticFeed(bus, { symbol: o.symbol, rate: o.rate, count: o.count, signal: abort.signal });
        process.stdout.write(`published ${sent} synthetic bars for ${o.symbol}\n`);
      } finally {
        await bus.close();
      }
    });
}
