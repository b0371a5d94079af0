/**
 * NATS JetStream -> Lambda bridge for the hot path: pulls batches from a durable consumer, invokes
 * the plane function with an MSK-shaped event (the plane handlers already read Kafka batches), and
 * acks only what the function processed. Failed records are nak'ed with a growing delay so JetStream
 * redelivers them; nothing is acked before the function has succeeded.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { JsMsg, NatsConnection } from 'nats';
import * as z from 'zod';
import { awsError } from '../store/errors.ts';
import { ConfigError, TransientError, errorMessage } from '../util/errors.ts';

export interface BridgeEvent {
  eventSource: 'SelfManagedKafka';
  records: Record<string, { topic: string; partition: number; offset: number; timestamp: number; value: string; headers: [] }[]>;
}

const BridgeResponseSchema = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })).default([]) }).loose();
export type BridgeResponse = z.infer<typeof BridgeResponseSchema>;

/** Invokes the plane function; throws when the invocation itself failed. */
export type Invoker = (functionName: string, event: BridgeEvent) => Promise<unknown>;

export interface BridgeOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly consumer: string;
  readonly functionName: string;
  readonly invoke: Invoker;
  readonly batchSize?: number;
  /** How long one pull waits to fill a batch. */
  readonly maxWaitMs?: number;
  /** Nak delay by redelivery count (last value repeats). */
  readonly backoffMs?: readonly number[];
  readonly onError?: (err: Error) => void;
}

export interface BatchResult {
  readonly delivered: number;
  readonly acked: number;
  readonly naked: number;
}

/** The itemIdentifier a handler reports for a bridged record (matches the Kafka adapter's `topic-partition@offset`). */
export function itemId(m: JsMsg): string {
  return `${m.subject}-0@${m.seq}`;
}

export function toBridgeEvent(msgs: readonly JsMsg[]): BridgeEvent {
  const records: BridgeEvent['records'] = {};
  for (const m of msgs) {
    (records[`${m.subject}-0`] ??= []).push({
      topic: m.subject,
      partition: 0,
      offset: m.seq,
      timestamp: Math.floor(m.info.timestampNanos / 1e6),
      value: Buffer.from(m.data).toString('base64'),
      headers: [],
    });
  }
  return { eventSource: 'SelfManagedKafka', records };
}

export class NatsLambdaBridge {
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly backoffMs: readonly number[];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: BridgeOptions) {
    this.batchSize = opts.batchSize ?? 100;
    this.maxWaitMs = opts.maxWaitMs ?? 1_000;
    this.backoffMs = opts.backoffMs ?? [250, 1_000, 5_000, 30_000];
    if (!opts.stream || !opts.consumer || !opts.functionName) throw new ConfigError('bridge: stream, consumer and functionName are required');
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new ConfigError(`bridge: batchSize must be a positive integer, got ${this.batchSize}`);
    // JetStream refuses pull requests that expire in under a second.
    if (!(this.maxWaitMs >= 1_000)) throw new ConfigError(`bridge: maxWaitMs must be >= 1000, got ${this.maxWaitMs}`);
    if (this.backoffMs.length === 0 || this.backoffMs.some((d) => !(d >= 0))) throw new ConfigError('bridge: backoffMs needs at least one delay >= 0');
  }

  /** Pulls one batch and settles every message in it. */
  async runOnce(): Promise<BatchResult> {
    const consumer = await this.opts.nc.jetstream().consumers.get(this.opts.stream, this.opts.consumer);
    const msgs: JsMsg[] = [];
    for await (const m of await consumer.fetch({ max_messages: this.batchSize, expires: this.maxWaitMs })) msgs.push(m);
    if (msgs.length === 0) return { delivered: 0, acked: 0, naked: 0 };

    let failed: Set<string>;
    try {
      const response = BridgeResponseSchema.parse((await this.opts.invoke(this.opts.functionName, toBridgeEvent(msgs))) ?? {});
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (err) {
      this.opts.onError?.(err instanceof Error ? err : new Error(errorMessage(err)));
      failed = new Set(msgs.map(itemId));
    }
    let acked = 0;
    for (const m of msgs) {
      if (failed.has(itemId(m))) m.nak(this.delayFor(m.info.redeliveryCount));
      else {
        await m.ackAck();
        acked++;
      }
    }
    return { delivered: msgs.length, acked, naked: msgs.length - acked };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.runOnce();
        } catch (err) {
          this.opts.onError?.(err instanceof Error ? err : new Error(errorMessage(err)));
          await new Promise((r) => setTimeout(r, this.backoffMs[0]));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private delayFor(redeliveryCount: number): number {
    return this.backoffMs[Math.min(Math.max(redeliveryCount - 1, 0), this.backoffMs.length - 1)];
  }
}

/** The production invoker: synchronous Lambda invoke; a function error is retriable (nak and redeliver). */
export function lambdaInvoker(client: LambdaClient): Invoker {
  return async (functionName, event) => {
    let out;
    try {
      out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    } catch (err) {
      throw awsError('LAMBDA', `Invoke ${functionName}`, err);
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) throw new TransientError('LAMBDA_FUNCTION_ERROR', `${functionName} failed (${out.FunctionError}): ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : {};
  };
}
