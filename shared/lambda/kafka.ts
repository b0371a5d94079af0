/**
 * Canonical market events to Kafka (the kafka hot path's md.events topic), addressed as the bus
 * does (shared/bus/subjects.ts: topic per family, symbol as key, so a symbol stays ordered within
 * its partition), one envelope per message as the strategy function's MSK event source reads them.
 * On MSK Serverless the connection is TLS with IAM auth: SASL/OAUTHBEARER carrying a SigV4-presigned
 * `kafka-cluster:Connect` URL, as AWS's aws-msk-iam-sasl-signer libraries build it.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { kafkaAddress, subjects } from '../bus/subjects.ts';
import { makeEnvelope } from '../domain/envelope.ts';
import type { MarketEvent } from '../domain/index.ts';
import { AlgoplanesError, TransientError, errorMessage } from '../util/errors.ts';
import { MARKET_SCHEMA_PREFIX, type EventPublisher } from './senders.ts';
import { Sha256, type AwsCredentials } from './sigv4.ts';

export type { AwsCredentials } from './sigv4.ts';

/** The token MSK's IAM auth accepts: base64url (no padding) of a presigned `kafka-cluster:Connect` URL. */
export async function mskIamToken(region: string, credentials: AwsCredentials, now: Date = new Date()): Promise<{ value: string; expiresAtMs: number }> {
  const hostname = `kafka.${region}.amazonaws.com`;
  const expiresIn = 900;
  const signer = new SignatureV4({ service: 'kafka-cluster', region, credentials, sha256: Sha256 });
  const signed = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname, path: '/', query: { Action: 'kafka-cluster:Connect' }, headers: { host: hostname } },
    { expiresIn, signingDate: now },
  );
  const url = new URL(`https://${hostname}/`);
  for (const [k, v] of Object.entries(signed.query ?? {})) url.searchParams.append(k, String(v));
  url.searchParams.append('User-Agent', 'algoplanes-msk-iam');
  return { value: Buffer.from(url.toString()).toString('base64url'), expiresAtMs: now.getTime() + expiresIn * 1000 };
}

export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** 'iam' (MSK: TLS + SASL/OAUTHBEARER) or 'none' (a plaintext broker, e.g. a local one). */
  readonly auth: 'iam' | 'none';
  readonly region?: string;
  readonly credentials?: () => Promise<AwsCredentials>;
}

export function kafkaClient(c: KafkaConnection): Kafka {
  if (c.brokers.length === 0) throw new AlgoplanesError('CONFIG', 'kafkaClient: at least one broker is required');
  const base = { clientId: c.clientId, brokers: [...c.brokers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } };
  if (c.auth === 'none') return new Kafka(base);
  const { region, credentials } = c;
  if (!region || !credentials) throw new AlgoplanesError('CONFIG', 'kafkaClient: IAM auth needs a region and credentials');
  return new Kafka({
    ...base,
    ssl: true,
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await mskIamToken(region, await credentials())).value }) },
  });
}

/** Market events to the md.events topic; the producer connects on first use and stays for the container. */
export class KafkaPublisher implements EventPublisher {
  private producer: Promise<Producer> | undefined;

  constructor(private readonly opts: { kafka: Kafka; producer: string }) {}

  private connected(): Promise<Producer> {
    this.producer ??= (async () => {
      // Not idempotent: a Lambda retry resends the batch anyway, and consumers dedup on the envelope id.
      const p = this.opts.kafka.producer({ allowAutoTopicCreation: false });
      await p.connect();
      return p;
    })().catch((err: unknown) => {
      this.producer = undefined;
      throw kafkaError(err, 'KAFKA_CONNECT');
    });
    return this.producer;
  }

  async publish(events: readonly MarketEvent[], traceId: string): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
    for (const e of events) {
      const subject = subjects.marketEvents(e.symbol);
      const { topic, key } = kafkaAddress(subject);
      const env = makeEnvelope(`${MARKET_SCHEMA_PREFIX}${e.kind}.v1`, e, { producer: this.opts.producer, traceId });
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value: JSON.stringify(env), headers: { 'msg-id': env.id, subject } });
      byTopic.set(topic, list);
    }
    const producer = await this.connected();
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (err) {
      throw kafkaError(err, 'KAFKA_PUBLISH');
    }
  }
}

/** kafkajs marks what a retry can fix; anything else (unknown topic, auth) is a wiring fault. */
function kafkaError(err: unknown, code: string): AlgoplanesError {
  if (err instanceof AlgoplanesError) return err;
  const retriable = typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
  return retriable ? new TransientError(code, errorMessage(err), err) : new AlgoplanesError(code, errorMessage(err), { retriable: false, cause: err });
}
