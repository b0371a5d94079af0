import { EnvelopeSchema, describeZodError, type Envelope } from '../domain/envelope.ts';
import { ValidationError } from '../util/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encoder.encode(JSON.stringify(env));
}

/**
 * A packed wire message: several envelopes of one subject as one JSON array, so the hot market
 * stream costs the broker one message per batch instead of one per tick. A single envelope stays a
 * plain object, readable by consumers that know nothing of packing.
 */
export function packEnvelopeJson(jsons: readonly string[]): Uint8Array {
  return encoder.encode(jsons.length === 1 ? jsons[0] : `[${jsons.join(',')}]`);
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
  if (!Array.isArray(raw)) return [checkEnvelope(raw, where, -1, text)];
  const out: DecodedElement[] = new Array<DecodedElement>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = checkEnvelope(raw[i], where, i, undefined);
  return out;
}

/** `index`: the element's place in a packed message (-1: a lone envelope); named in the error only. */
function checkEnvelope(raw: unknown, where: string, index: number, text: string | undefined): DecodedElement {
  // Hot path: a hand-written check of the six string fields; zod only runs to explain a failure.
  if (isEnvelope(raw)) return { envelope: raw };
  const env = EnvelopeSchema.safeParse(raw);
  if (env.success) return { envelope: env.data };
  return { error: new ValidationError('BAD_ENVELOPE', describeZodError(env.error), index < 0 ? where : `${where}[${index}]`), text: text ?? JSON.stringify(raw) };
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return nonEmpty(e.id) && nonEmpty(e.timestamp) && nonEmpty(e.producer_service) && nonEmpty(e.trace_id) && nonEmpty(e.schema) && 'data' in e;
}
