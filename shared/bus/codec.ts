import { EnvelopeSchema, describeZodError, type Envelope } from '../domain/envelope.ts';
import { ValidationError } from '../util/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encoder.encode(JSON.stringify(env));
}

/**
 * Parses the envelope only; the payload stays `unknown` until the consumer opens it with its own
 * schema (openEnvelope), so one bad payload is dead-lettered by the one consumer that cannot read it.
 */
export function decodeEnvelope(bytes: Uint8Array, where: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new ValidationError('BAD_JSON', `not JSON: ${(err as Error).message}`, where);
  }
  // Hot path: a hand-written check of the six string fields; zod only runs to explain a failure.
  if (isEnvelope(raw)) return raw;
  const env = EnvelopeSchema.safeParse(raw);
  if (!env.success) throw new ValidationError('BAD_ENVELOPE', describeZodError(env.error), where);
  return env.data;
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return nonEmpty(e.id) && nonEmpty(e.timestamp) && nonEmpty(e.producer_service) && nonEmpty(e.trace_id) && nonEmpty(e.schema) && 'data' in e;
}

export function bytesToText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
