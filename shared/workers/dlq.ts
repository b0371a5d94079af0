/** Reading and replaying the dead-letter subjects (sys.dlq.>) kept in the SYSTEM stream (NATS). */
import { DeadLetterSchema, NatsBus, type DeadLetter } from '../bus/index.ts';
import { EnvelopeSchema } from '../domain/envelope.ts';
import type { Bus } from '../bus/index.ts';
import { ConfigError } from '../util/errors.ts';

export interface StoredDeadLetter {
  readonly seq: number;
  readonly subject: string;
  readonly time: string;
  readonly letter: DeadLetter;
}

function requireNats(bus: Bus): NatsBus {
  if (!(bus instanceof NatsBus)) throw new ConfigError(`dlq needs BUS=nats (dead letters are kept in the SYSTEM stream); BUS=${bus.kind} has no stored DLQ to read`);
  return bus;
}

export async function listDeadLetters(bus: Bus, opts: { limit?: number } = {}): Promise<StoredDeadLetter[]> {
  const nats = requireNats(bus);
  const info = await nats.jsm.streams.info('SYSTEM', { subjects_filter: 'sys.dlq.>' });
  const stored = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (stored === 0) return [];
  const consumer = await nats.nc.jetstream().consumers.get('SYSTEM', { filterSubjects: 'sys.dlq.>' });
  const limit = opts.limit ?? 1_000;
  const out: StoredDeadLetter[] = [];
  const msgs = await consumer.fetch({ max_messages: limit, expires: 2_000 });
  for await (const m of msgs) {
    const env = EnvelopeSchema.parse(m.json());
    out.push({ seq: m.seq, subject: m.subject, time: env.timestamp, letter: DeadLetterSchema.parse(env.data) });
    if (m.info.pending === 0 || out.length >= limit) break;
  }
  return out;
}

/**
 * Republishes dead letters whose original was an envelope onto their origin subject (after the
 * cause is fixed). Raw text that never parsed cannot be replayed and is reported as skipped.
 */
export async function replayDeadLetters(bus: Bus, opts: { originPrefix?: string; limit?: number } = {}): Promise<{ replayed: number; skipped: StoredDeadLetter[] }> {
  const letters = (await listDeadLetters(bus, { limit: opts.limit })).filter((l) => !opts.originPrefix || l.letter.originSubject.startsWith(opts.originPrefix));
  let replayed = 0;
  const skipped: StoredDeadLetter[] = [];
  for (const l of letters) {
    const env = EnvelopeSchema.safeParse(l.letter.original);
    if (!env.success) {
      skipped.push(l);
      continue;
    }
    // A fresh msgID: the original id is inside JetStream's dedup window when replayed quickly.
    await bus.publish(l.letter.originSubject, env.data, { msgId: `${env.data.id}:dlq-replay:${l.seq}` });
    replayed++;
  }
  return { replayed, skipped };
}
