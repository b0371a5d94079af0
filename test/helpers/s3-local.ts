/**
 * s3rver (an S3-compatible server from npm: objects on disk, S3's REST/XML API) on a free port, for
 * the backtest function's S3 reads and writes. It is a Node library, so it runs in the test process,
 * and it learns the local credentials every other emulator here takes (DynamoDB Local keys its data
 * by access key, so one handler process must use one key for both). Its endpoint is an IP address,
 * so SDK v3 addresses buckets path-style (its S3 endpoint rules do for IP endpoints): a plain
 * `new S3Client({})` reaches it through AWS_ENDPOINT_URL_S3 alone. s3rver does not check SigV4
 * signatures, only that the access key is known.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { LOCAL_CREDENTIALS } from './dynamodb-local.ts';
import { freePort, tempDir } from './launch.ts';

interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: { port: number; address: string; directory: string; silent: boolean; vhostBuckets: boolean }) => S3rverServer;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);

export interface S3Local {
  readonly endpoint: string;
  readonly client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3Local(): Promise<S3Local> {
  const directory = tempDir('s3rver');
  const server = new S3rver({ port: await freePort(), address: '127.0.0.1', directory, silent: true, vhostBuckets: false });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
