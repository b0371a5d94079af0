/**
 * Declarative provisioning, as `nats stream add --config` / `kafka-topics --create`: the desired state
 * lives in JSON files (local/nats/**, local/kafka/topics.json) and `apply` creates or updates to
 * match, doing nothing when the server already agrees. The running system never creates streams.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStreamManager, StreamConfig, ConsumerConfig } from 'nats';
import type { Admin } from 'kafkajs';
import { ConfigError, errorMessage } from '../util/errors.ts';

export const DEFAULT_NATS_DIR = 'local/nats';
export const DEFAULT_KAFKA_FILE = 'local/kafka/topics.json';

export type ApplyAction = 'created' | 'updated' | 'unchanged';
export interface ApplyResult {
  readonly kind: 'stream' | 'consumer' | 'topic';
  readonly name: string;
  readonly action: ApplyAction;
  readonly changed?: readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function readJson(path: string): Record<string, Json> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Json;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
    return v;
  } catch (err) {
    throw new ConfigError(`${path}: ${errorMessage(err)}`);
  }
}

function jsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  } catch (err) {
    throw new ConfigError(`cannot read ${dir}: ${errorMessage(err)}`);
  }
}

export interface NatsDesiredState {
  streams: { file: string; config: Record<string, Json> }[];
  consumers: { file: string; stream: string; config: Record<string, Json> }[];
}

export function loadNatsConfig(dir = DEFAULT_NATS_DIR): NatsDesiredState {
  const streams = jsonFiles(join(dir, 'streams')).map((file) => {
    const config = readJson(file);
    if (typeof config.name !== 'string') throw new ConfigError(`${file}: stream config needs "name"`);
    return { file, config };
  });
  const consumers = jsonFiles(join(dir, 'consumers')).map((file) => {
    const { stream, ...config } = readJson(file);
    if (typeof stream !== 'string') throw new ConfigError(`${file}: consumer config needs "stream"`);
    if (typeof config.durable_name !== 'string') throw new ConfigError(`${file}: consumer config needs "durable_name"`);
    if (!streams.some((s) => s.config.name === stream)) throw new ConfigError(`${file}: stream ${stream} is not declared in ${dir}/streams`);
    return { file, stream, config };
  });
  return { streams, consumers };
}

/** Fields of `desired` whose values differ from `actual` (actual may hold extra server defaults). */
/** Fields nats-server refuses to update on an existing consumer. */
const IMMUTABLE_CONSUMER_FIELDS = new Set(['ack_policy', 'deliver_policy', 'opt_start_seq', 'opt_start_time', 'durable_name']);

export function differingFields(desired: Record<string, Json>, actual: unknown): string[] {
  const a = (actual ?? {}) as Record<string, unknown>;
  return Object.keys(desired).filter((k) => !covers(desired[k], a[k]));
}

function covers(want: Json, have: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(w, have[i]));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object') return false;
    const h = have as Record<string, unknown>;
    return Object.keys(want).every((k) => covers(want[k], h[k]));
  }
  return want === have;
}

const isNotFound = (err: unknown) => /not found|10059|10014/i.test(errorMessage(err));

export async function applyNats(jsm: JetStreamManager, desired: NatsDesiredState): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const { config } of desired.streams) {
    const name = config.name as string;
    let current;
    try {
      current = await jsm.streams.info(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      await jsm.streams.add(config as unknown as Partial<StreamConfig>);
      results.push({ kind: 'stream', name, action: 'created' });
      continue;
    }
    const changed = differingFields(config, current.config);
    if (changed.length === 0) results.push({ kind: 'stream', name, action: 'unchanged' });
    else {
      await jsm.streams.update(name, config as unknown as Partial<StreamConfig>);
      results.push({ kind: 'stream', name, action: 'updated', changed });
    }
  }
  for (const { stream, config } of desired.consumers) {
    const durable = config.durable_name as string;
    const name = `${stream}/${durable}`;
    let current;
    try {
      current = await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      await jsm.consumers.add(stream, config as unknown as Partial<ConsumerConfig>);
      results.push({ kind: 'consumer', name, action: 'created' });
      continue;
    }
    const changed = differingFields(config, current.config);
    if (changed.length === 0) results.push({ kind: 'consumer', name, action: 'unchanged' });
    else {
      const fixed = changed.filter((f) => IMMUTABLE_CONSUMER_FIELDS.has(f));
      if (fixed.length > 0) {
        throw new ConfigError(
          `consumer ${name}: ${fixed.join(', ')} cannot be changed on an existing durable; drain its worker, then \`nats consumer rm ${stream} ${durable}\` and run \`algoplanes streams apply\` again`,
        );
      }
      await jsm.consumers.update(stream, durable, config as unknown as Partial<ConsumerConfig>);
      results.push({ kind: 'consumer', name, action: 'updated', changed });
    }
  }
  return results;
}

export interface StreamSummary {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly storage: string;
  readonly messages: number;
  readonly bytes: number;
  readonly consumers: number;
}

export async function listNats(jsm: JetStreamManager): Promise<StreamSummary[]> {
  const out: StreamSummary[] = [];
  for await (const si of jsm.streams.list()) {
    out.push({
      name: si.config.name,
      subjects: si.config.subjects ?? [],
      storage: String(si.config.storage),
      messages: si.state.messages,
      bytes: si.state.bytes,
      consumers: si.state.consumer_count,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function infoNats(jsm: JetStreamManager, name: string): Promise<{ stream: unknown; consumers: unknown[] }> {
  let stream;
  try {
    stream = await jsm.streams.info(name);
  } catch (err) {
    if (isNotFound(err)) throw new ConfigError(`stream ${name} does not exist: run \`algoplanes streams apply\``);
    throw err;
  }
  const consumers: unknown[] = [];
  for await (const ci of jsm.consumers.list(name)) consumers.push(ci);
  return { stream, consumers };
}

// ---- Kafka ----

export interface KafkaTopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

export function loadKafkaTopics(file = DEFAULT_KAFKA_FILE): KafkaTopicSpec[] {
  const doc = readJson(file);
  const topics = doc.topics;
  if (!Array.isArray(topics)) throw new ConfigError(`${file}: expected {"topics": [...]}`);
  return topics.map((t, i) => {
    const o = t as Record<string, Json>;
    if (typeof o.topic !== 'string' || typeof o.partitions !== 'number' || typeof o.retentionMs !== 'number' || o.partitions < 1) {
      throw new ConfigError(`${file}: topics[${i}] needs topic (string), partitions (>= 1) and retentionMs (number)`);
    }
    return { topic: o.topic, partitions: o.partitions, retentionMs: o.retentionMs };
  });
}

/** Topic config resource type in the Kafka protocol (DescribeConfigs/AlterConfigs). */
const TOPIC_RESOURCE = 2;

/**
 * `checkRetention: false` skips DescribeConfigs/AlterConfigs, for brokers that cannot answer them
 * (librdkafka's mock cluster, see test/helpers/kafka-mock.ts).
 */
export async function applyKafka(admin: Admin, specs: readonly KafkaTopicSpec[], opts: { checkRetention?: boolean } = {}): Promise<ApplyResult[]> {
  const existing = new Set(await admin.listTopics());
  const results: ApplyResult[] = [];
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }],
      })),
    });
    for (const s of missing) results.push({ kind: 'topic', name: s.topic, action: 'created' });
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length === 0) return results;
  const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
  for (const s of present) {
    const changed: string[] = [];
    const partitions = meta.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
    if (partitions < s.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: s.topic, count: s.partitions }] });
      changed.push(`partitions ${partitions} -> ${s.partitions}`);
    } else if (partitions > s.partitions) {
      throw new ConfigError(`topic ${s.topic} has ${partitions} partitions, more than the ${s.partitions} declared: Kafka cannot shrink a topic`);
    }
    const retention = opts.checkRetention === false ? undefined : await topicRetention(admin, s.topic);
    if (retention !== undefined && retention !== String(s.retentionMs)) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: TOPIC_RESOURCE, name: s.topic, configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }] }],
      });
      changed.push(`retention.ms ${retention} -> ${s.retentionMs}`);
    }
    results.push({ kind: 'topic', name: s.topic, action: changed.length ? 'updated' : 'unchanged', ...(changed.length ? { changed } : {}) });
  }
  return results;
}

async function topicRetention(admin: Admin, topic: string): Promise<string | undefined> {
  const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['retention.ms'] }] });
  return r.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
}
