/**
 * The backtest function's S3 object client: SigV4 against AWS's published S3 example, addressing and
 * key encoding, and what each failure becomes, against a scripted HTTP server on a free port (S3's
 * status codes and XML error bodies, dropped connections, silence).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SHA256, S3ObjectClient, S3RequestError, isRetriableS3, objectUrl, signS3Request } from '../../../shared/lambda/s3.ts';
import type { AwsCredentials } from '../../../shared/lambda/sigv4.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const CREDS: AwsCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN' };

describe('SigV4 for S3', () => {
  it("signs AWS's GET Object example (sig-v4-header-based-auth) to the published signature", async () => {
    const { sessionToken: _none, ...longTerm } = CREDS;
    const headers = await signS3Request(
      { method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), headers: { range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256 },
      'us-east-1',
      longTerm,
      new Date('2013-05-24T00:00:00Z'),
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(headers['x-amz-date']).toBe('20130524T000000Z');
    expect(headers.host).toBeUndefined();
  });

  it('signs the session token (a Lambda role session) and the content type', async () => {
    const url = objectUrl('results', 'backtests/run/report.json', 'eu-west-1');
    const headers = await signS3Request({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, payloadHash: 'ab'.repeat(32) }, 'eu-west-1', CREDS);
    expect(headers['x-amz-security-token']).toBe(CREDS.sessionToken);
    expect(headers.authorization).toMatch(/\/eu-west-1\/s3\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  });
});

describe('addressing', () => {
  it('virtual-hosted on AWS, path-style under a custom endpoint or for a bucket with dots', () => {
    expect(objectUrl('results', 'a/b.csv', 'us-east-1').href).toBe('https://results.s3.us-east-1.amazonaws.com/a/b.csv');
    expect(objectUrl('my.bucket', 'a', 'eu-west-1').href).toBe('https://s3.eu-west-1.amazonaws.com/my.bucket/a');
    expect(objectUrl('results', 'a/b.csv', 'us-east-1', 'http://127.0.0.1:4569/').href).toBe('http://127.0.0.1:4569/results/a/b.csv');
  });

  it("encodes keys the S3 way: RFC 3986 per segment, '/' kept ($ as in AWS's PUT example)", () => {
    expect(objectUrl('examplebucket', 'test$file.text', 'us-east-1').pathname).toBe('/test%24file.text');
    expect(objectUrl('examplebucket', "dir/a b+c!'()*ü.csv", 'us-east-1').pathname).toBe('/dir/a%20b%2Bc%21%27%28%29%2A%C3%BC.csv');
  });

  it("refuses keys a URL would rewrite ('.' and '..' segments) or an empty key", () => {
    expect(() => objectUrl('b', 'backtests/../report.json', 'us-east-1')).toThrow(/s3:\/\/b\/backtests\/\.\.\/report\.json: .*'\.\.' segment/);
    expect(() => objectUrl('b', '', 'us-east-1')).toThrow(/empty/);
  });
});

describe('retriable classification', () => {
  it.each([
    [503, 'SlowDown', true],
    [500, 'InternalError', true],
    [429, 'Http429', true],
    [400, 'RequestTimeout', true],
    [undefined, 'NetworkError', true],
    [404, 'NoSuchKey', false],
    [403, 'AccessDenied', false],
    [403, 'SignatureDoesNotMatch', false],
    [400, 'ExpiredToken', false],
  ] as const)('HTTP %s %s -> retriable %s', (status, code, retriable) => {
    expect(isRetriableS3(status, code)).toBe(retriable);
  });
});

type Script = (req: IncomingMessage, body: Buffer, res: ServerResponse, n: number) => void;

describe('S3ObjectClient against a scripted server', () => {
  let server: Server;
  let endpoint: string;
  let script: Script;
  let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
  let dir: string;

  const errorXml = (code: string, message: string, extra = '') => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>R1</RequestId></Error>`;
  const reply = (res: ServerResponse, status: number, body = '') => res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
  const client = (over: { maxAttempts?: number; timeoutMs?: number; endpoint?: string } = {}) =>
    new S3ObjectClient({ region: async () => 'us-east-1', credentials: async () => CREDS, endpoint, retryBaseMs: 5, maxAttempts: 3, ...over });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-client-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        script(req, body, res, seen.length);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = (s: Script) => {
    seen = [];
    script = s;
  };

  it('PUT: path-style, signed with the body hash, the content type and the session token; SlowDown retried', async () => {
    fresh((_req, _body, res, n) => (n <= 2 ? reply(res, 503, errorXml('SlowDown', 'Please reduce your request rate.')) : reply(res, 200)));
    const body = Buffer.from('{"ok":true}');
    await client().putObject('results', 'backtests/r 1/report.json', body, 'application/json');
    expect(seen).toHaveLength(3);
    for (const r of seen) {
      expect(r).toMatchObject({ method: 'PUT', url: '/results/backtests/r%201/report.json', body });
      expect(r.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-amz-security-token']).toBe(CREDS.sessionToken);
      expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, /);
    }
  });

  it('5xx every time: a retriable error after the bounded number of attempts', async () => {
    fresh((_req, _body, res) => reply(res, 500, errorXml('InternalError', 'We encountered an internal error. Please try again.')));
    const err = await client().putObject('results', 'k.json', 'x', 'application/json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RequestError);
    expect(err).toMatchObject({ code: 'S3_UNAVAILABLE', retriable: true, status: 500, s3Code: 'InternalError', attempts: 3, bucket: 'results', key: 'k.json' });
    expect((err as Error).message).toBe('PutObject s3://results/k.json: InternalError: We encountered an internal error. Please try again. (HTTP 500, gave up after 3 attempts)');
    expect(seen).toHaveLength(3);
  });

  it('403 SignatureDoesNotMatch: not retried, and neither the credentials nor the signature reach the error', async () => {
    fresh((req, _body, res) => {
      const sig = /Signature=(\w+)/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      // S3 echoes the access key id, what it signed and the signature it was given.
      const extra = `<AWSAccessKeyId>${CREDS.accessKeyId}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 ...</StringToSign><SignatureProvided>${sig}</SignatureProvided>`;
      reply(res, 403, errorXml('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', extra));
    });
    const err = (await client().putObject('results', 'k.json', 'x', 'application/json').catch((e: unknown) => e)) as S3RequestError;
    expect(err).toMatchObject({ code: 'S3_FAILED', retriable: false, status: 403, s3Code: 'SignatureDoesNotMatch', attempts: 1 });
    expect(err.message).toMatch(/^PutObject s3:\/\/results\/k\.json: SignatureDoesNotMatch: The request signature we calculated/);
    expect(seen).toHaveLength(1);
    const signature = /Signature=(\w+)/.exec(String(seen[0].headers.authorization))?.[1];
    const everything = JSON.stringify({ ...err, message: err.message, stack: err.stack, cause: String(err.cause) });
    for (const secret of [SECRET, CREDS.accessKeyId, CREDS.sessionToken, signature]) expect(everything).not.toContain(secret);
  });

  it('404 NoSuchKey on GET: a clear non-retriable error naming s3://bucket/key, and no file', async () => {
    fresh((_req, _body, res) => reply(res, 404, errorXml('NoSuchKey', 'The specified key does not exist.', '<Key>daily/nope.csv</Key>')));
    const file = join(dir, 'nope.csv');
    const err = await client().getObjectToFile('market-data', 'daily/nope.csv', file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'S3_FAILED', retriable: false, status: 404, s3Code: 'NoSuchKey', attempts: 1 });
    expect((err as Error).message).toBe('GetObject s3://market-data/daily/nope.csv: NoSuchKey: The specified key does not exist. (HTTP 404)');
    expect(seen).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it('GET streams the body to the file; a connection dropped mid-body is retried and the file rewritten whole', async () => {
    const data = Buffer.alloc(4 * 1024 * 1024, 0);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    fresh((_req, _body, res, n) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(data.length) });
      if (n === 1) res.write(data.subarray(0, 1024 * 1024), () => res.destroy());
      else res.end(data);
    });
    const file = join(dir, 'data.bin');
    await client().getObjectToFile('market-data', 'big.bin', file);
    expect(seen.map((r) => [r.method, r.url, r.headers['x-amz-content-sha256']])).toEqual([
      ['GET', '/market-data/big.bin', EMPTY_SHA256],
      ['GET', '/market-data/big.bin', EMPTY_SHA256],
    ]);
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it('a file that cannot be written is not retried (the disk, not the connection, failed)', async () => {
    fresh((_req, _body, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,2\n'));
    const file = join(dir, 'no-such-dir', 'data.csv');
    const err = await client().getObjectToFile('market-data', 'daily/x.csv', file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'S3_FAILED', retriable: false });
    expect((err as Error).message).toMatch(new RegExp(`^GetObject s3://market-data/daily/x\\.csv: writing ${file}: ENOENT`));
    expect(seen).toHaveLength(1);
  });

  it('no response (silence past the timeout, or nothing listening): retriable, attempts counted', async () => {
    fresh(() => undefined);
    const silent = await client({ timeoutMs: 100, maxAttempts: 2 }).getObjectToFile('b', 'k', join(dir, 'k')).catch((e: unknown) => e);
    expect(silent).toMatchObject({ code: 'S3_UNAVAILABLE', retriable: true, status: undefined, s3Code: 'Timeout', attempts: 2 });
    expect((silent as Error).message).toMatch(/^GetObject s3:\/\/b\/k: Timeout: .*100 ms \(no response, gave up after 2 attempts\)$/);
    expect(seen).toHaveLength(2);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 }).putObject('b', 'k', 'x', 'text/plain').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'S3_UNAVAILABLE', retriable: true, s3Code: 'NetworkError', attempts: 2 });
    expect((refused as Error).message).toMatch(/^PutObject s3:\/\/b\/k: NetworkError: fetch failed: ECONNREFUSED \(no response, gave up after 2 attempts\)$/);
  });

  it('a failing credential provider is a clear, non-retried error', async () => {
    fresh((_req, _body, res) => reply(res, 200));
    const c = new S3ObjectClient({ region: async () => 'us-east-1', credentials: () => Promise.reject(new Error('Could not load credentials from any providers')), endpoint });
    await expect(c.putObject('b', 'k', 'x', 'text/plain')).rejects.toThrow('PutObject s3://b/k: no credentials: Could not load credentials from any providers');
    expect(seen).toHaveLength(0);
  });
});
