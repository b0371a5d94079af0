/**
 * Starts librdkafka's mock cluster (test/helpers/kafka-mock.c). This is a PROTOCOL-LEVEL MOCK, not a
 * Kafka broker: it answers the wire protocol (metadata, produce, fetch, groups, offsets, idempotent
 * producer init) but has no replication and only partial admin API coverage. librdkafka 2.0.2's
 * mock reports controller id 0 in Metadata, a broker that does not exist, so kafkajs calls routed to
 * the controller fail with "Broker 0 not found in the cached metadata": admin createTopics /
 * createPartitions / describeConfigs / alterConfigs, and the idempotent producer's InitProducerId.
 * Topics are therefore pre-created by the mock itself (startKafkaMock(1, topics)). The C source is
 * compiled once per source hash into the temp dir.
 * Needs: apt-get install -y librdkafka-dev (headers + pkg-config file) and gcc.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinary } from './launch.ts';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'kafka-mock.c');
const INSTALL = 'apt-get install -y librdkafka-dev gcc pkg-config';

export function buildKafkaMock(): string {
  requireBinary('gcc', INSTALL);
  requireBinary('pkg-config', INSTALL);
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'rdkafka'], { encoding: 'utf8' });
  if (flags.status !== 0) throw new Error(`librdkafka development files not found (${flags.stderr.trim()}); install them with: ${INSTALL}`);
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).update(flags.stdout).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `algoplanes-kafka-mock-${hash}`);
  const bin = join(dir, 'kafka-mock');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const out = spawnSync('sh', ['-c', `gcc -O1 -o '${bin}.tmp' '${SOURCE}' ${flags.stdout.trim()} && mv '${bin}.tmp' '${bin}'`], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`compiling ${SOURCE} failed:\n${out.stderr}`);
  return bin;
}

export interface KafkaMock {
  readonly brokers: string[];
  stop(): Promise<void>;
}

export async function startKafkaMock(brokerCount = 1, topics: readonly { topic: string; partitions: number }[] = []): Promise<KafkaMock> {
  const bin = buildKafkaMock();
  // stdin stays a pipe: the mock exits when it closes, so it never outlives the test process.
  const child = spawn(bin, [String(brokerCount), ...topics.map((t) => `${t.topic}:${t.partitions}`)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-5_000)));
  const bootstraps = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kafka mock printed no bootstrap servers in 10 s\n${err}`)), 10_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => reject(new Error(`kafka mock exited early (code ${code})\n${err}`)));
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  return {
    brokers: bootstraps.split(','),
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      child.stdin.end();
      await gone;
    },
  };
}
