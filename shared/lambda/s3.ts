/**
 * The backtest function's S3 access, GetObject to a file and PutObject, as SigV4-signed `fetch`
 * requests. @aws-sdk/client-s3 from the runtime was ~30 ms of the function's cold init for these two
 * calls, and bundled it is ~170 KB.
 *
 * Addressing: virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com/<key>` on AWS, path-style
 * `<endpoint>/<bucket>/<key>` under a custom endpoint (AWS_ENDPOINT_URL_S3: s3rver, MinIO, LocalStack).
 * Failures are S3RequestErrors naming s3://bucket/key with S3's error code; what a retry can fix
 * (5xx, 429, SlowDown, RequestTimeout, no response) is retried with backoff up to `maxAttempts`.
 * Credentials and signatures never appear in an error: only S3's <Code> and <Message> are read from
 * an error body (its other elements can echo the access key and signature).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { SignatureV4 } from '@smithy/signature-v4';
import { AlgoplanesError, errorMessage } from '../util/errors.ts';
import { Sha256, type AwsCredentials } from './sigv4.ts';

export interface S3ObjectClientOptions {
  /** In a Lambda, another SDK client's resolved config: `client.config.region`. */
  readonly region: () => Promise<string>;
  /** In a Lambda, another SDK client's provider chain (`client.config.credentials`): the role's session. */
  readonly credentials: () => Promise<AwsCredentials>;
  /** A custom endpoint, addressed path-style; absent, AWS's regional endpoint. */
  readonly endpoint?: string;
  /** Attempts per request, the first included. */
  readonly maxAttempts?: number;
  /** First backoff; doubled per retry, ±20% jitter. */
  readonly retryBaseMs?: number;
  /** Until a response's status and headers arrive (a GET body then streams without a deadline). */
  readonly timeoutMs?: number;
}

export const S3_DEFAULTS = { maxAttempts: 4, retryBaseMs: 100, timeoutMs: 30_000 } as const;

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** S3 error codes a retry can fix, whatever their status. */
const RETRIABLE_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

/** 5xx, 429, S3's throttling and timeout codes, and no response at all (status undefined). */
export function isRetriableS3(status: number | undefined, code: string): boolean {
  return status === undefined || status >= 500 || status === 429 || RETRIABLE_CODES.has(code);
}

export class S3RequestError extends AlgoplanesError {
  constructor(
    readonly operation: 'GetObject' | 'PutObject',
    readonly bucket: string,
    readonly key: string,
    /** HTTP status; undefined when no response arrived. */
    readonly status: number | undefined,
    /** S3's <Code> (NoSuchKey, AccessDenied, SlowDown, ...), or NetworkError / Timeout. */
    readonly s3Code: string,
    detail: string,
    readonly attempts: number,
    cause?: unknown,
  ) {
    const retriable = isRetriableS3(status, s3Code);
    const tail = [status === undefined ? 'no response' : `HTTP ${status}`, ...(attempts > 1 ? [`gave up after ${attempts} attempts`] : [])].join(', ');
    super(retriable ? 'S3_UNAVAILABLE' : 'S3_FAILED', `${operation} s3://${bucket}/${key}: ${s3Code}${detail ? `: ${detail}` : ''} (${tail})`, { retriable, cause });
  }
}

/** S3's key encoding: RFC 3986 per path segment, `/` kept. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/');
}

/** Names usable as a DNS label under s3.<region>.amazonaws.com over TLS (no dots). */
const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function objectUrl(bucket: string, key: string, region: string, endpoint?: string): URL {
  // A URL resolves `.` and `..` segments, so such a key would silently name another object.
  if (!key || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new AlgoplanesError('S3_FAILED', `s3://${bucket}/${key}: an object key that is empty or has a '.' or '..' segment cannot be addressed`);
  }
  const path = encodeKey(key);
  if (endpoint) return new URL(`${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}/${path}`);
  if (VIRTUAL_HOSTABLE.test(bucket)) return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${path}`);
  return new URL(`https://s3.${region}.amazonaws.com/${encodeURIComponent(bucket)}/${path}`);
}

/**
 * SigV4 headers for an S3 request (x-amz-date, x-amz-content-sha256, the session token when there is
 * one, Authorization), plus the given ones; host is signed but left for fetch to send.
 */
export async function signS3Request(
  req: { method: string; url: URL; headers?: Record<string, string>; payloadHash: string },
  region: string,
  credentials: AwsCredentials,
  date: Date = new Date(),
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 's3', region, credentials, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: req.url.protocol,
      hostname: req.url.hostname,
      path: req.url.pathname,
      query: {},
      headers: { ...req.headers, host: req.url.host, 'x-amz-content-sha256': req.payloadHash },
    },
    { signingDate: date },
  );
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Only <Code> and <Message>: S3 error bodies can also carry the access key id and the signature. */
function parseErrorBody(xml: string, status: number): { code: string; detail: string } {
  const tag = (name: string) => new RegExp(`<${name}>([^<]{1,300})</${name}>`).exec(xml)?.[1].replace(/&(\w+);/g, (m, e: string) => XML_ENTITIES[e] ?? m);
  return { code: tag('Code') ?? `Http${status}`, detail: tag('Message') ?? '' };
}

function networkCode(err: unknown): { code: string; detail: string } {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return { code: 'Timeout', detail: errorMessage(err) };
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return { code: 'NetworkError', detail: [errorMessage(err), cause?.code ?? cause?.message].filter(Boolean).join(': ') };
}

export class S3ObjectClient {
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: S3ObjectClientOptions) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? S3_DEFAULTS.maxAttempts);
    this.retryBaseMs = opts.retryBaseMs ?? S3_DEFAULTS.retryBaseMs;
    this.timeoutMs = opts.timeoutMs ?? S3_DEFAULTS.timeoutMs;
  }

  /** Streams the object into `file` (created or truncated; rewritten from the start on a retry). */
  async getObjectToFile(bucket: string, key: string, file: string): Promise<void> {
    await this.request('GetObject', bucket, key, { method: 'GET', payloadHash: EMPTY_SHA256 }, async (res) => {
      if (!res.body) return;
      const src = Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>);
      const out = createWriteStream(file);
      // pipeline destroys both streams with the first error, so which one failed first is the origin.
      let origin: 'connection' | 'file' | undefined;
      src.once('error', () => (origin ??= 'connection'));
      out.once('error', () => (origin ??= 'file'));
      try {
        await pipeline(src, out);
      } catch (err) {
        // The local disk is not something a retry fixes; the connection is.
        if (origin === 'file') throw new AlgoplanesError('S3_FAILED', `GetObject s3://${bucket}/${key}: writing ${file}: ${errorMessage(err)}`, { cause: err });
        throw err;
      }
    });
  }

  async putObject(bucket: string, key: string, body: Buffer | string, contentType: string): Promise<void> {
    const payloadHash = createHash('sha256').update(body).digest('hex');
    await this.request('PutObject', bucket, key, { method: 'PUT', payloadHash, body, headers: { 'content-type': contentType } }, async (res) => {
      await res.arrayBuffer();
    });
  }

  private async request(
    operation: 'GetObject' | 'PutObject',
    bucket: string,
    key: string,
    req: { method: string; payloadHash: string; body?: Buffer | string; headers?: Record<string, string> },
    onOk: (res: Response) => Promise<void>,
  ): Promise<void> {
    const where = `${operation} s3://${bucket}/${key}`;
    const config = <T>(what: string, get: () => Promise<T>) =>
      get().catch((err: unknown) => {
        throw new AlgoplanesError('S3_FAILED', `${where}: no ${what}: ${errorMessage(err)}`, { cause: err });
      });
    const region = await config('region', this.opts.region);
    const url = objectUrl(bucket, key, region, this.opts.endpoint);
    for (let attempt = 1; ; attempt++) {
      // Each attempt signs anew: a fresh date, and credentials the provider may have refreshed.
      const headers = await signS3Request({ ...req, url }, region, await config('credentials', this.opts.credentials));
      let failure: { status: number | undefined; code: string; detail: string; cause?: unknown };
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new DOMException(`no response within ${this.timeoutMs} ms`, 'TimeoutError')), this.timeoutMs);
      try {
        const res = await fetch(url, { method: req.method, headers, body: req.body, signal: abort.signal });
        clearTimeout(timer);
        if (res.ok) {
          await onOk(res);
          return;
        }
        failure = { status: res.status, ...parseErrorBody(await res.text(), res.status) };
      } catch (err) {
        if (err instanceof AlgoplanesError) throw err;
        failure = { status: undefined, ...networkCode(err), cause: err };
      } finally {
        clearTimeout(timer);
      }
      const error = new S3RequestError(operation, bucket, key, failure.status, failure.code, failure.detail, attempt, failure.cause);
      if (!error.retriable || attempt >= this.maxAttempts) throw error;
      const delay = this.retryBaseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random());
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
