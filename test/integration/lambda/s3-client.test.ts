/**
 * The backtest function's S3 object client against s3rver (path-style under a custom endpoint, as
 * AWS_ENDPOINT_URL_S3 configures it), checked through the AWS SDK's own S3 client: what one writes
 * the other reads, keys that need encoding included, and S3's errors for a missing key or bucket.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectClient } from '../../../shared/lambda/s3.ts';
import { LOCAL_CREDENTIALS } from '../../helpers/dynamodb-local.ts';
import { startS3Local, type S3Local } from '../../helpers/s3-local.ts';

const BUCKET = 'objects';
let s3: S3Local;
let client: S3ObjectClient;
let dir: string;

beforeAll(async () => {
  s3 = await startS3Local();
  await s3.createBucket(BUCKET);
  client = new S3ObjectClient({ region: async () => 'us-east-1', credentials: async () => LOCAL_CREDENTIALS, endpoint: s3.endpoint, retryBaseMs: 5 });
  dir = mkdtempSync(join(tmpdir(), 's3-client-it-'));
});

afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('S3ObjectClient against s3rver', () => {
  const awkward = "reports/run 1/ünï côdé+(v2)!'*$&=.csv";

  it('puts an object the SDK reads back with its content type, under a key that needs encoding', async () => {
    const body = Buffer.from('time,side,qty,price,fee\n1,buy,1,100,0\n');
    await client.putObject(BUCKET, awkward, body, 'text/csv');
    const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: awkward }));
    expect(out.ContentType).toBe('text/csv');
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('downloads to a file what the SDK wrote, byte for byte', async () => {
    const body = readFileSync('data/bars/orcl-1995-2014_1d.csv');
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'daily/orcl 1d.csv', Body: body }));
    const file = join(dir, 'orcl.csv');
    await client.getObjectToFile(BUCKET, 'daily/orcl 1d.csv', file);
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('a missing key: NoSuchKey, not retried, naming s3://bucket/key', async () => {
    const err = await client.getObjectToFile(BUCKET, 'daily/nope.csv', join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'S3_FAILED', retriable: false, status: 404, s3Code: 'NoSuchKey', attempts: 1 });
    expect((err as Error).message).toMatch(/^GetObject s3:\/\/objects\/daily\/nope\.csv: NoSuchKey: .* \(HTTP 404\)$/);
  });

  it('a missing bucket: NoSuchBucket, not retried', async () => {
    const err = await client.putObject('no-such-bucket', 'k.json', '{}', 'application/json').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'S3_FAILED', retriable: false, status: 404, s3Code: 'NoSuchBucket', attempts: 1 });
    expect((err as Error).message).toMatch(/^PutObject s3:\/\/no-such-bucket\/k\.json: NoSuchBucket/);
  });
});
