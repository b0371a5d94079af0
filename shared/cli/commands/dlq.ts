import type { Command } from 'commander';

export function register(program: Command): void {
  const dlq = program.command('dlq').description('Dead letters: messages that failed validation, with reason, where and the original payload (BUS=nats, SYSTEM stream).');
  dlq
    .command('list')
    .description('Show dead letters, oldest first.')
    .option('--limit <n>', 'at most n letters', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'one JSON object per line')
    .action(async (o: { limit: number; json?: boolean }) => {
      const { WORKER_ENV } = await import('../../workers/env.ts');
      const { connectBus } = await import('../../workers/connect.ts');
      const { listDeadLetters } = await import('../../workers/dlq.ts');
      const bus = await connectBus(WORKER_ENV, 'algoplanes-dlq');
      try {
        for (const l of await listDeadLetters(bus, { limit: o.limit })) {
          process.stdout.write(o.json ? JSON.stringify(l) + '\n' : `#${l.seq} ${l.time} ${l.letter.originSubject} ${l.letter.code} at ${l.letter.where}: ${l.letter.reason}\n`);
        }
      } finally {
        await bus.close();
      }
    });
  dlq
    .command('replay')
    .description('Republish dead letters onto their original subject (fix the cause first). Raw payloads that were never an envelope are skipped and listed.')
    .option('--origin <prefix>', 'only letters whose origin subject starts with this, e.g. orders.intents')
    .option('--limit <n>', 'at most n letters', (v) => Number.parseInt(v, 10), 1_000)
    .action(async (o: { origin?: string; limit: number }) => {
      const { WORKER_ENV } = await import('../../workers/env.ts');
      const { connectBus } = await import('../../workers/connect.ts');
      const { replayDeadLetters } = await import('../../workers/dlq.ts');
      const bus = await connectBus(WORKER_ENV, 'algoplanes-dlq');
      try {
        const r = await replayDeadLetters(bus, { originPrefix: o.origin, limit: o.limit });
        process.stdout.write(`replayed ${r.replayed}, skipped ${r.skipped.length}${r.skipped.map((s) => `\n  #${s.seq} ${s.letter.code}: not an envelope`).join('')}\n`);
      } finally {
        await bus.close();
      }
    });
}
