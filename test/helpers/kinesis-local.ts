/** kinesis-local (kinesis-mock compiled to Node) as a child process on free ports. */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamRecord } from 'aws-lambda';
import { LOCAL_CREDENTIALS, createStreams, startKinesisLocal as startServer } from '../../local/run/aws-local.ts';

export interface KinesisLocal {
  readonly endpoint: string;
  readonly client: KinesisClient;
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record in the stream, all shards, from the start. */
  readAll(name: string): Promise<_Record[]>;
  stop(): Promise<void>;
}

/** The same kinesis-local server `npm run local` uses, on a free port. */
export async function startKinesisLocal(): Promise<KinesisLocal> {
  const server = await startServer();
  const endpoint = `http://127.0.0.1:${server.port}`;
  // The SDK speaks HTTP/2 to Kinesis by default; the mock's plain port only speaks HTTP/1.1.
  const client = new KinesisClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  return {
    endpoint,
    client,
    createStream: (name, shards = 1) => createStreams(endpoint, [name], shards),
    async readAll(name) {
      const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
      const records: _Record[] = [];
      for (const shard of shards) {
        let it = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        while (it) {
          const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
          records.push(...(out.Records ?? []));
          if (!out.Records?.length) break;
          it = out.NextShardIterator;
        }
      }
      return records;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

/** Builds the Kinesis event records Lambda delivers, from JSON payloads. */
export function toKinesisRecords(payloads: readonly (string | object)[], streamArn: string, firstSeq = 1): KinesisStreamRecord[] {
  return payloads.map((p, i) => {
    const seq = String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(firstSeq + i));
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk',
        sequenceNumber: seq,
        data: Buffer.from(typeof p === 'string' ? p : JSON.stringify(p)).toString('base64'),
        approximateArrivalTimestamp: 1_700_000_000 + i / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/local',
      awsRegion: 'us-east-1',
      eventSourceARN: streamArn,
    };
  });
}
