import { EnvelopeSchema, describeZodError, type Envelope } from '../domain/envelope.ts';
import { ValidationError } from '../util/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encoder.encode(JSON.stringify(env));
}

/** An envelope on its way into a pack: the payload already JSON, the fields a pack may share kept apart. */
export interface PackableEnvelope {
  readonly id: string;
  readonly timestamp: string;
  readonly producer_service: string;
  readonly trace_id: string;
  readonly schema: string;
  /** undefined when the payload is (as JSON.stringify leaves out a `data: undefined`). */
  readonly dataJson: string | undefined;
}

export function packable(env: Envelope): PackableEnvelope {
  return { id: env.id, timestamp: env.timestamp, producer_service: env.producer_service, trace_id: env.trace_id, schema: env.schema, dataJson: JSON.stringify(env.data) };
}

const quote = JSON.stringify;

/** The JSON of one envelope up to its data (the fields it shares with `previous` left out; no `previous`: all of them, in makeEnvelope's order). */
function elementHead(e: PackableEnvelope, previous: PackableEnvelope | undefined): string {
  let json = `{"id":${quote(e.id)}`;
  if (previous?.timestamp !== e.timestamp) json += `,"timestamp":${quote(e.timestamp)}`;
  if (previous?.producer_service !== e.producer_service) json += `,"producer_service":${quote(e.producer_service)}`;
  json += `,"trace_id":${quote(e.trace_id)}`;
  if (previous?.schema !== e.schema) json += `,"schema":${quote(e.schema)}`;
  return e.dataJson === undefined ? json : `${json},"data":`;
}

/** Characters a packable envelope adds to a pack, about: for cutting packs by size. */
export function packedSize(e: PackableEnvelope): number {
  return (e.dataJson?.length ?? 0) + e.id.length + e.trace_id.length + 32;
}

/**
 * A packed wire message: several envelopes of one subject as `{"pack":[...]}`, so the hot market
 * stream costs the broker one message per batch instead of one per tick. An element leaves out the
 * timestamp, producer and schema that equal the element before it (a tenth to a third of a market
 * event's bytes, and as much of its encoding and parsing). A single envelope stays a plain object,
 * readable by consumers that know nothing of packing.
 */
export function packEnvelopes(envelopes: readonly PackableEnvelope[]): Uint8Array {
  const packed = envelopes.length > 1;
  // Each element's head and data are written straight into one buffer of the exact size: joining
  // them into one string per element first copied every element once more, and a buffer sized for
  // the worst case (3 bytes a character) was never small enough to come from Node's buffer pool.
  const heads = new Array<string>(envelopes.length);
  let bytes = packed ? PACK_OPEN.length + PACK_CLOSE.length + envelopes.length - 1 : 0;
  for (let i = 0; i < envelopes.length; i++) {
    heads[i] = elementHead(envelopes[i], i === 0 ? undefined : envelopes[i - 1]);
    const data = envelopes[i].dataJson;
    bytes += Buffer.byteLength(heads[i]) + (data === undefined ? 0 : Buffer.byteLength(data)) + 1;
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = packed ? out.write(PACK_OPEN, 0, 'latin1') : 0;
  for (let i = 0; i < envelopes.length; i++) {
    if (i > 0) out[at++] = COMMA;
    at += out.write(heads[i], at, 'utf8');
    const data = envelopes[i].dataJson;
    if (data !== undefined) at += out.write(data, at, 'utf8');
    out[at++] = CLOSE_BRACE;
  }
  if (packed) out.write(PACK_CLOSE, at, 'latin1');
  return out;
}

const PACK_OPEN = '{"pack":[';
const PACK_CLOSE = ']}';
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

/**
 * The elements of a packed message's JSON, each a whole envelope again (a shared field is taken from
 * the element before), or undefined when `raw` is no pack. A JSON array is a pack as written before
 * packs shared fields (recordings keep those). Elements that are not objects are left as they are,
 * for the envelope check to reject.
 */
export function packedElements(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  const pack = typeof raw === 'object' && raw !== null ? (raw as { pack?: unknown }).pack : undefined;
  if (!Array.isArray(pack)) return undefined;
  const out = new Array<unknown>(pack.length);
  let timestamp: unknown;
  let producer: unknown;
  let schema: unknown;
  for (let i = 0; i < pack.length; i++) {
    const e = pack[i] as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      out[i] = e;
      continue;
    }
    // Only an absent field is shared: a present one, even null, is the element's own (and checked as such).
    if ('timestamp' in e) timestamp = e.timestamp;
    if ('producer_service' in e) producer = e.producer_service;
    if ('schema' in e) schema = e.schema;
    out[i] =
      'data' in e
        ? { id: e.id, timestamp, producer_service: producer, trace_id: e.trace_id, schema, data: e.data }
        : { id: e.id, timestamp, producer_service: producer, trace_id: e.trace_id, schema };
  }
  return out;
}

/** One element of a wire message: its envelope, or why it cannot be read and its text (for the dead letter). */
export type DecodedElement = { readonly envelope: Envelope; readonly error?: undefined } | { readonly envelope?: undefined; readonly error: ValidationError; readonly text: string };

/**
 * Parses the envelope(s) only; each payload stays `unknown` until the consumer opens it with its own
 * schema, so one bad payload is dead-lettered by the one consumer that cannot read it. An unreadable
 * element of a packed message is reported alone; its neighbours are still delivered.
 */
export function decodeEnvelopes(bytes: Uint8Array, where: string): DecodedElement[] {
  const text = decoder.decode(bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return [{ error: new ValidationError('BAD_JSON', `not JSON: ${(err as Error).message}`, where), text }];
  }
  const elements = packedElements(raw);
  if (elements === undefined) return [checkEnvelope(raw, where, -1, text)];
  const out: DecodedElement[] = new Array<DecodedElement>(elements.length);
  for (let i = 0; i < elements.length; i++) out[i] = checkEnvelope(elements[i], where, i, undefined);
  return out;
}

/** `index`: the element's place in a packed message (-1: a lone envelope); named in the error only. */
function checkEnvelope(raw: unknown, where: string, index: number, text: string | undefined): DecodedElement {
  // Hot path: a hand-written check of the six string fields; zod only runs to explain a failure.
  if (isEnvelope(raw)) return { envelope: raw };
  const env = EnvelopeSchema.safeParse(raw);
  if (env.success) return { envelope: env.data };
  return { error: new ValidationError('BAD_ENVELOPE', describeZodError(env.error), index < 0 ? where : `${where}[${index}]`), text: text ?? JSON.stringify(raw) ?? String(raw) };
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return nonEmpty(e.id) && nonEmpty(e.timestamp) && nonEmpty(e.producer_service) && nonEmpty(e.trace_id) && nonEmpty(e.schema) && 'data' in e;
}
