import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from '../util/errors.ts';

/**
 * Every message on a real bus travels in this envelope. `schema` names the payload's schema and
 * version (e.g. `market.bar.v1`) so consumers can reject what they cannot read instead of guessing.
 */
export const EnvelopeSchema = z.object({
  id: z.string().min(1),
  /** ISO-8601 time the envelope was produced. */
  timestamp: z.string().min(1),
  producer_service: z.string().min(1),
  trace_id: z.string().min(1),
  schema: z.string().min(1),
  data: z.unknown(),
});
export type Envelope<T = unknown> = Readonly<Omit<z.infer<typeof EnvelopeSchema>, 'data'> & { data: T }>;

export function makeEnvelope<T>(
  schema: string,
  data: T,
  opts: { producer: string; traceId?: string; id?: string; now?: Date },
): Envelope<T> {
  return {
    id: opts.id ?? randomUUID(),
    timestamp: (opts.now ?? new Date()).toISOString(),
    producer_service: opts.producer,
    trace_id: opts.traceId ?? randomUUID(),
    schema,
    data,
  };
}

/** Parses the envelope apart from its payload, then the payload with its own schema. */
export function openEnvelope<S extends z.ZodType>(raw: unknown, payload: S, where: string): Envelope<z.infer<S>> {
  const env = EnvelopeSchema.safeParse(raw);
  if (!env.success) throw new ValidationError('BAD_ENVELOPE', describeZodError(env.error), where);
  const data = payload.safeParse(env.data.data);
  if (!data.success) throw new ValidationError('BAD_PAYLOAD', `${env.data.schema}: ${describeZodError(data.error)}`, where);
  return { ...env.data, data: data.data };
}

/** `field.path: message; ...` — short enough for a log line, precise enough to find the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Parses with a schema and throws a ValidationError naming the place and field on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError('INVALID', describeZodError(r.error), where);
  return r.data;
}
