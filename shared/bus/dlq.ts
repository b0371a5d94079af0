import * as z from 'zod';
import { makeEnvelope, type Envelope } from '../domain/envelope.ts';
import { errorMessage, isRetriable, AlgoplanesError } from '../util/errors.ts';
import { subjects } from './subjects.ts';
import type { Bus, BusMessage, MessageHandler } from './types.ts';

export const DEAD_LETTER_SCHEMA = 'sys.dlq.v1';

/** Error code: published outputs did not reach the broker; only a replay from the last checkpoint recovers them. */
export const OUTPUT_LOST = 'OUTPUT_LOST';

export const DeadLetterSchema = z.object({
  originSubject: z.string(),
  reason: z.string(),
  code: z.string(),
  where: z.string(),
  redeliveries: z.number().int().nonnegative(),
  /** The original message exactly as received: the envelope when it parsed, else the raw text. */
  original: z.unknown(),
});
export type DeadLetter = Readonly<z.infer<typeof DeadLetterSchema>>;

export async function publishDeadLetter(bus: Bus, letter: DeadLetter, producer: string, traceId?: string): Promise<void> {
  const env = makeEnvelope(DEAD_LETTER_SCHEMA, letter, { producer, traceId });
  await bus.publish(subjects.dlq(letter.originSubject), env);
}

/** Redeliveries after which a retriable failure is dead-lettered instead of retried forever. */
export const MAX_REDELIVERIES = 5;

/**
 * Runs a handler and settles the message: success -> ack; retriable error -> nak with backoff (the
 * attempt count travels as `redeliveries`); anything else, or too many attempts -> term + DLQ.
 */
export async function runHandler(
  handler: MessageHandler,
  msg: BusMessage,
  deadLetter: (letter: DeadLetter, traceId: string) => Promise<void>,
): Promise<void> {
  try {
    await handler(msg);
    if (!msg.settled) msg.ack();
  } catch (err) {
    await settleFailure(msg, err, deadLetter);
  }
}

/** The failure half of runHandler: nak a retriable error (with backoff) or term and dead-letter. */
export async function settleFailure(msg: BusMessage, err: unknown, deadLetter: (letter: DeadLetter, traceId: string) => Promise<void>): Promise<void> {
  if (msg.settled) return;
  if (isRetriable(err) && msg.redeliveries < MAX_REDELIVERIES) {
    msg.nak(Math.min(5_000, 100 * 2 ** msg.redeliveries));
    return;
  }
  msg.term(errorMessage(err));
  await deadLetter(
    {
      originSubject: msg.subject,
      reason: errorMessage(err),
      code: err instanceof AlgoplanesError ? err.code : 'HANDLER_ERROR',
      where: err instanceof AlgoplanesError && err.where ? err.where : msg.subject,
      redeliveries: msg.redeliveries,
      original: msg.envelope,
    },
    msg.envelope.trace_id,
  );
}

/** Dead letter for bytes that are not even an envelope. */
export function undecodableLetter(subject: string, text: string, err: unknown, redeliveries: number): DeadLetter {
  return {
    originSubject: subject,
    reason: errorMessage(err),
    code: err instanceof AlgoplanesError ? err.code : 'BAD_ENVELOPE',
    where: err instanceof AlgoplanesError && err.where ? err.where : subject,
    redeliveries,
    original: text,
  };
}

export type { Envelope };
