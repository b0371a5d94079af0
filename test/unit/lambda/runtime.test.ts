import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createObservability, parseStreamEvent, planeHandler, processBatch, requireEnv, secretRedactor, streamItems, REDACTED, type BatchItem } from '../../../shared/lambda/index.ts';
import { packEnvelopes, packable } from '../../../shared/bus/codec.ts';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import { MemoryStore } from '../../../shared/store/index.ts';
import { TransientError, ValidationError } from '../../../shared/util/errors.ts';
import { lambdaContext } from '../../integration/lambda/context.ts';

const quietLogger = () => new Logger({ logLevel: 'SILENT' });
const item = (id: string, groupId?: string): BatchItem => ({ id, where: `q#${id}`, source: 'q', text: id, receiveCount: 1, groupId });

afterEach(() => vi.restoreAllMocks());

describe('requireEnv', () => {
  it('names the missing variable', () => {
    expect(() => requireEnv('TABLE_NAME', {})).toThrow(/TABLE_NAME is required/);
    expect(() => requireEnv('TABLE_NAME', { TABLE_NAME: ' ' })).toThrow(/TABLE_NAME/);
    expect(requireEnv('TABLE_NAME', { TABLE_NAME: 't' })).toBe('t');
  });
});

describe('secretRedactor', () => {
  it('blanks secret-looking keys and every occurrence of a registered secret value', () => {
    const replacer = secretRedactor(() => ['s3cr3t-value']);
    const line = JSON.stringify({ apiKey: 'abc', password: 'p', note: 'token is s3cr3t-value here', nested: { authorization: 'Bearer x' } }, replacer);
    expect(line).not.toContain('abc');
    expect(line).not.toContain('s3cr3t-value');
    expect(line).not.toContain('Bearer x');
    expect(JSON.parse(line)).toEqual({ apiKey: REDACTED, password: REDACTED, note: `token is ${REDACTED} here`, nested: { authorization: REDACTED } });
  });
});

describe('processBatch', () => {
  it('dead-letters poison, reports retriable failures, and holds back the rest of a failed FIFO group', async () => {
    const dead: string[] = [];
    const handled: string[] = [];
    const out = await processBatch(
      [item('a', 'g1'), item('poison', 'g1'), item('flaky', 'g2'), item('b', 'g2'), item('c', 'g1')],
      async (i) => {
        if (i.id === 'poison') throw new ValidationError('BAD', 'bad', i.where);
        if (i.id === 'flaky') throw new TransientError('DOWN', 'store down');
        handled.push(i.id);
      },
      { logger: quietLogger(), dlq: { deadLetter: async (i) => void dead.push(i.id) } },
    );
    expect(dead).toEqual(['poison']);
    expect(handled).toEqual(['a', 'c']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'flaky' }, { itemIdentifier: 'b' }]);
    expect(out).toMatchObject({ processed: 2, deadLettered: 1, retriable: 2 });
  });

  it('reports a poison record when the dead-letter write fails', async () => {
    const out = await processBatch([item('x')], async () => Promise.reject(new ValidationError('BAD', 'bad')), {
      logger: quietLogger(),
      dlq: { deadLetter: async () => Promise.reject(new Error('dlq down')) },
    });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'x' }]);
  });
});

describe('packed stream records', () => {
  const kinesisRecord = (seq: string, text: string) => ({
    eventSource: 'aws:kinesis',
    eventID: `shard-0:${seq}`,
    eventSourceARN: 'arn:aws:kinesis:us-east-1:1:stream/md',
    kinesis: { data: Buffer.from(text).toString('base64'), partitionKey: 'BTC', sequenceNumber: seq, approximateArrivalTimestamp: 1 },
  });

  it('become one item per envelope under the record id; a failing envelope reports its record once', async () => {
    const packed = JSON.stringify([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const items = streamItems(parseStreamEvent({ Records: [kinesisRecord('7', packed), kinesisRecord('8', '{"n":4}'), kinesisRecord('9', '[]')] }));
    expect(items.map((i) => [i.id, i.where.slice(i.where.indexOf('#')), i.text])).toEqual([
      ['7', '#7[0]', '{"n":1}'],
      ['7', '#7[1]', '{"n":2}'],
      ['7', '#7[2]', '{"n":3}'],
      ['8', '#8', '{"n":4}'],
      ['9', '#9', '[]'],
    ]);

    const dead: string[] = [];
    const out = await processBatch(
      items,
      async (i) => {
        const body = JSON.parse(i.text) as { n?: number };
        if (body.n === undefined) throw new ValidationError('BAD_ENVELOPE', 'not an envelope', i.where);
        if (body.n >= 2 && body.n <= 3) throw new TransientError('DOWN', 'store down');
      },
      { logger: quietLogger(), dlq: { deadLetter: async (i) => void dead.push(i.where) } },
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: '7' }]);
    expect(dead).toEqual(['arn:aws:kinesis:us-east-1:1:stream/md#9']);
  });

  it('give each envelope of a pack whose elements share fields back whole', () => {
    const envs = [1, 2].map((n) => makeEnvelope('market.bar.v1', { n }, { producer: 'data-worker', now: new Date(0) }));
    const packed = new TextDecoder().decode(packEnvelopes(envs.map(packable)));
    expect(packed.match(/"schema"/g)).toHaveLength(1);
    const items = streamItems(parseStreamEvent({ Records: [kinesisRecord('7', packed)] }));
    expect(items.map((i) => JSON.parse(i.text) as unknown)).toEqual(envs);
  });
});

describe('planeHandler', () => {
  it('emits EMF metrics in the algoplanes namespace with the plane dimension', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const obs = createObservability('order', { POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const h = planeHandler({ obs, parse: (raw) => raw as { n: number }, handle: async (e) => (obs.count('Orders', e.n), 'ok') });
    await h({ n: 3 }, lambdaContext('order'));
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => '_aws' in l) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }; Orders: number; plane: string };
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('algoplanes');
    expect(emf._aws.CloudWatchMetrics[0].Dimensions[0]).toContain('plane');
    expect(emf.plane).toBe('order');
    expect(emf.Orders).toBe(3);
  });

  it('answers a repeated request from the idempotency record and maps non-retriable errors to a response', async () => {
    const obs = createObservability('backtest', { POWERTOOLS_LOG_LEVEL: 'SILENT' });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let runs = 0;
    const h = planeHandler<{ id: string; fail?: boolean }, { ok: boolean; run?: number; code?: string }>({
      obs,
      parse: (raw) => raw as { id: string; fail?: boolean },
      handle: async (e) => {
        if (e.fail) throw new ValidationError('NO_DATA', 'missing data', 'request.dataPath');
        return { ok: true, run: ++runs };
      },
      idempotency: { store: new MemoryStore(), keyOf: (e) => e.id, leaseMs: 60_000, ttlSeconds: 60 },
      respondToError: (err) => ({ ok: false, code: err.code }),
    });
    expect(await h({ id: 'r1' }, lambdaContext('bt'))).toEqual({ ok: true, run: 1 });
    expect(await h({ id: 'r1' }, lambdaContext('bt'))).toEqual({ ok: true, run: 1 });
    expect(await h({ id: 'r2' }, lambdaContext('bt'))).toEqual({ ok: true, run: 2 });
    expect(await h({ id: 'r3', fail: true }, lambdaContext('bt'))).toEqual({ ok: false, code: 'NO_DATA' });
  });
});
