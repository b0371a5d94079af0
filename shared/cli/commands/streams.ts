import type { Command } from 'commander';
import { NatsBus, applyNats, infoNats, listNats, loadNatsConfig, DEFAULT_NATS_DIR } from '../../bus/index.ts';

async function withNats<T>(fn: (bus: NatsBus) => Promise<T>): Promise<T> {
  const { WORKER_ENV } = await import('../../workers/env.ts');
  const bus = await NatsBus.connect({ url: WORKER_ENV.NATS_URL, name: 'algoplanes-cli' });
  try {
    return await fn(bus);
  } finally {
    await bus.close();
  }
}

export function register(program: Command): void {
  const streams = program
    .command('streams')
    .description('NATS JetStream streams and durable consumers, declared in local/nats/{streams,consumers}/*.json (NATS_URL).');
  streams
    .command('apply')
    .description('Create or update streams and consumers to match the JSON files; no-op when they already match.')
    .option('--dir <dir>', 'directory holding streams/ and consumers/', DEFAULT_NATS_DIR)
    .action(async (o: { dir: string }) => {
      const desired = loadNatsConfig(o.dir);
      const results = await withNats((bus) => applyNats(bus.jsm, desired));
      for (const r of results) process.stdout.write(`${r.kind.padEnd(8)} ${r.name.padEnd(32)} ${r.action}${r.changed ? ` (${r.changed.join(', ')})` : ''}\n`);
    });
  streams
    .command('list')
    .description('Streams on the server with subjects, storage and message counts.')
    .action(async () => {
      const list = await withNats((bus) => listNats(bus.jsm));
      for (const s of list) process.stdout.write(`${s.name.padEnd(12)} ${s.storage.padEnd(7)} msgs=${s.messages} bytes=${s.bytes} consumers=${s.consumers} subjects=${s.subjects.join(',')}\n`);
    });
  streams
    .command('info')
    .description('Full stream and consumer info (JSON).')
    .argument('<name>', 'stream name, e.g. MARKET')
    .action(async (name: string) => {
      const info = await withNats((bus) => infoNats(bus.jsm, name));
      process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    });
}
