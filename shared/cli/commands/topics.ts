import type { Command } from 'commander';
import type { Admin } from 'kafkajs';
import { KafkaBus, applyKafka, loadKafkaTopics, DEFAULT_KAFKA_FILE } from '../../bus/index.ts';

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { WORKER_ENV } = await import('../../workers/env.ts');
  const admin = new KafkaBus({ brokers: WORKER_ENV.KAFKA_BROKERS, clientId: 'algoplanes-cli' }).kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export function register(program: Command): void {
  const topics = program.command('topics').description('Kafka topics declared in local/kafka/topics.json (KAFKA_BROKERS).');
  topics
    .command('apply')
    .description('Create missing topics, add partitions and align retention.ms; no-op when they already match.')
    .option('--file <file>', 'topic declarations', DEFAULT_KAFKA_FILE)
    .option('--no-retention-check', 'skip DescribeConfigs/AlterConfigs (brokers that lack them, e.g. librdkafka mock)')
    .action(async (o: { file: string; retentionCheck: boolean }) => {
      const specs = loadKafkaTopics(o.file);
      const results = await withAdmin((admin) => applyKafka(admin, specs, { checkRetention: o.retentionCheck }));
      for (const r of results) process.stdout.write(`${r.name.padEnd(20)} ${r.action}${r.changed ? ` (${r.changed.join(', ')})` : ''}\n`);
    });
  topics
    .command('list')
    .description('Topics on the cluster with partition counts.')
    .action(async () => {
      await withAdmin(async (admin) => {
        const meta = await admin.fetchTopicMetadata({ topics: await admin.listTopics() });
        for (const t of meta.topics.sort((a, b) => a.name.localeCompare(b.name))) process.stdout.write(`${t.name.padEnd(20)} partitions=${t.partitions.length}\n`);
      });
    });
  topics
    .command('info')
    .description('Partition metadata of one topic (JSON).')
    .argument('<topic>', 'topic name, e.g. md.events')
    .action(async (topic: string) => {
      await withAdmin(async (admin) => process.stdout.write(JSON.stringify(await admin.fetchTopicMetadata({ topics: [topic] }), null, 2) + '\n'));
    });
}
