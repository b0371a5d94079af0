/** The NATS -> Lambda bridge against a real nats-server with JetStream, with an injected invoker. */
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsLambdaBridge, type BridgeEvent } from '../../../shared/bridge/index.ts';
import { parseStreamEvent, streamItems } from '../../../shared/lambda/index.ts';
import { requireBinary, startServer, type RunningServer } from '../../helpers/launch.ts';

let server: RunningServer;
let nc: NatsConnection;

beforeAll(async () => {
  const bin = requireBinary('nats-server', 'apt-get install -y nats-server');
  server = await startServer({ name: 'nats', command: bin, args: (port, dir) => ['-js', '-sd', dir, '-p', String(port), '-a', '127.0.0.1'] });
  nc = await connect({ servers: `127.0.0.1:${server.port}` });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function setup(stream: string, count: number): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, { durable_name: 'bridge', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
  const js = nc.jetstream();
  for (let i = 0; i < count; i++) await js.publish(`${stream}.BTC`, new TextEncoder().encode(JSON.stringify({ n: i })));
}

const payloads = (e: BridgeEvent) => streamItems(parseStreamEvent(e)).map((i) => (JSON.parse(i.text) as { n: number }).n);

async function pending(stream: string) {
  const info = await (await nc.jetstreamManager()).consumers.info(stream, 'bridge');
  return { unacked: info.num_ack_pending, undelivered: info.num_pending };
}

describe('NatsLambdaBridge', () => {
  it('acks only after the function succeeded, and redelivers a batch whose invoke failed', async () => {
    await setup('EV1', 5);
    const seen: number[][] = [];
    let calls = 0;
    const bridge = new NatsLambdaBridge({
      nc,
      stream: 'EV1',
      consumer: 'bridge',
      functionName: 'strategy',
      batchSize: 10,
      maxWaitMs: 1_000,
      backoffMs: [50],
      invoke: async (_fn, event) => {
        seen.push(payloads(event));
        if (++calls === 1) throw new Error('Lambda throttled');
        return { batchItemFailures: [] };
      },
    });
    const first = await bridge.runOnce();
    expect(first).toEqual({ delivered: 5, acked: 0, naked: 5 });
    expect((await pending('EV1')).unacked + (await pending('EV1')).undelivered).toBe(5);
    await new Promise((r) => setTimeout(r, 150));
    const second = await bridge.runOnce();
    expect(second).toEqual({ delivered: 5, acked: 5, naked: 0 });
    expect(seen).toEqual([
      [0, 1, 2, 3, 4],
      [0, 1, 2, 3, 4],
    ]);
    expect(await pending('EV1')).toEqual({ unacked: 0, undelivered: 0 });
  });

  it('redelivers only the records the function reported as failed', async () => {
    await setup('EV2', 4);
    const batches: number[][] = [];
    const bridge = new NatsLambdaBridge({
      nc,
      stream: 'EV2',
      consumer: 'bridge',
      functionName: 'data',
      batchSize: 10,
      maxWaitMs: 1_000,
      backoffMs: [50],
      invoke: async (_fn, event) => {
        batches.push(payloads(event));
        const items = streamItems(parseStreamEvent(event));
        // The function fails record n=2 on its first delivery only.
        const failed = batches.length === 1 ? items.filter((i) => (JSON.parse(i.text) as { n: number }).n === 2) : [];
        return { batchItemFailures: failed.map((i) => ({ itemIdentifier: i.id })) };
      },
    });
    expect(await bridge.runOnce()).toEqual({ delivered: 4, acked: 3, naked: 1 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await bridge.runOnce()).toEqual({ delivered: 1, acked: 1, naked: 0 });
    expect(batches).toEqual([[0, 1, 2, 3], [2]]);
    expect(await pending('EV2')).toEqual({ unacked: 0, undelivered: 0 });
  });

  it('runs as a loop until stopped', async () => {
    await setup('EV3', 3);
    const got: number[] = [];
    const bridge = new NatsLambdaBridge({ nc, stream: 'EV3', consumer: 'bridge', functionName: 'f', batchSize: 2, maxWaitMs: 1_000, invoke: async (_f, e) => void got.push(...payloads(e)) });
    bridge.start();
    for (let i = 0; i < 200 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    await bridge.stop();
    expect(got).toEqual([0, 1, 2]);
    expect(await pending('EV3')).toEqual({ unacked: 0, undelivered: 0 });
  });

  it('validates its options when constructed', () => {
    const base = { nc, stream: 's', consumer: 'c', functionName: 'f', invoke: async () => ({}) };
    expect(() => new NatsLambdaBridge({ ...base, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new NatsLambdaBridge({ ...base, backoffMs: [] })).toThrow(/backoffMs/);
    expect(() => new NatsLambdaBridge({ ...base, stream: '' })).toThrow(/stream/);
    expect(() => new NatsLambdaBridge({ ...base, maxWaitMs: 10 })).toThrow(/maxWaitMs/);
  });
});
