/**
 * Feeds the bus's raw-ingest subjects: a recorded file through the data plane's readers
 * (`algoplanes replay`), or a synthetic random walk (`algoplanes feed --synthetic`). Published in
 * batches without per-message acks (hot path), packed several ticks per wire message (one pack per
 * batch and subject, up to MAX_PACK), one flush per batch as back-pressure.
 */
import { randomUUID } from 'node:crypto';
import { subjects, NatsBus, type Bus, type PublishItem } from '../bus/index.ts';
import { makeEnvelope } from '../domain/envelope.ts';
import type { Bar, MarketEvent } from '../domain/index.ts';
import { US_PER_SECOND, nowUs } from '../domain/time.ts';
import { openMarketSource } from '../data-plane/index.ts';

export interface ReplayOptions {
  /** Event-time speed-up (2 = twice real time) or 'max' (as fast as the bus takes it). */
  speed: number | 'max';
  symbol?: string;
  /** Stop after this many events (slices for tests). */
  limit?: number;
  batchSize?: number;
  onProgress?: (published: number) => void;
}

export interface ReplayStats {
  readonly published: number;
  readonly rejectedByReader: number;
  readonly seconds: number;
}

async function flushBatch(bus: Bus, items: PublishItem[]): Promise<void> {
  await bus.publishBatch(items, { fireAndForget: true, pack: true });
  if (bus instanceof NatsBus) await bus.flush();
}

export async function publishMarketSource(bus: Bus, path: string, opts: ReplayOptions): Promise<ReplayStats> {
  const source = await openMarketSource(path, { symbol: opts.symbol });
  const run = randomUUID().slice(0, 8);
  const started = Date.now();
  const limit = opts.limit ?? Infinity;
  const batchSize = opts.batchSize ?? 1_000;
  let published = 0;
  let rejected = 0;
  let firstTs = 0;
  let items: PublishItem[] = [];
  outer: for await (const batch of source.batches()) {
    rejected += batch.rejected.length;
    for (const e of batch.events) {
      if (published >= limit) break outer;
      if (opts.speed !== 'max') {
        firstTs ||= e.ts;
        const dueMs = (e.ts - firstTs) / 1_000 / opts.speed;
        const waitMs = dueMs - (Date.now() - started);
        if (waitMs > 1) {
          await flushBatch(bus, items);
          items = [];
          await new Promise((r) => setTimeout(r, waitMs));
        }
      }
      items.push({ subject: subjects.rawIngest(e.symbol), envelope: makeEnvelope(`market.${e.kind}.v1`, e, { producer: 'replay' }), msgId: `replay-${run}-${published}` });
      published++;
      if (items.length >= batchSize) {
        await flushBatch(bus, items);
        items = [];
        opts.onProgress?.(published);
      }
    }
  }
  await flushBatch(bus, items);
  opts.onProgress?.(published);
  return { published, rejectedByReader: rejected, seconds: (Date.now() - started) / 1_000 };
}

export interface SyntheticFeedOptions {
  symbol: string;
  /** Bars per second of wall time. */
  rate: number;
  /** Stop after this many bars (undefined = until the signal aborts). */
  count?: number;
  signal?: AbortSignal;
  startPrice?: number;
  seed?: number;
}

/** Deterministic random-walk one-second bars (mulberry32), stamped with wall-clock event time. */
export function syntheticBars(opts: Pick<SyntheticFeedOptions, 'symbol' | 'startPrice' | 'seed'>): () => Bar {
  let s = opts.seed ?? 42;
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let price = opts.startPrice ?? 100;
  let ts = Math.floor(nowUs() / US_PER_SECOND) * US_PER_SECOND;
  return () => {
    const open = price;
    const close = Math.max(0.01, Math.round(open * (1 + (rnd() - 0.5) * 0.002) * 100) / 100);
    const high = Math.max(open, close) + 0.01;
    const low = Math.max(0.01, Math.min(open, close) - 0.01);
    price = close;
    ts += US_PER_SECOND;
    return { kind: 'bar', symbol: opts.symbol, ts, intervalUs: US_PER_SECOND, open, high, low, close, volume: Math.round(rnd() * 1000) / 10 + 1 };
  };
}

export async function runSyntheticFeed(bus: Bus, opts: SyntheticFeedOptions): Promise<number> {
  const next = syntheticBars(opts);
  const started = Date.now();
  let sent = 0;
  while (!opts.signal?.aborted && (opts.count === undefined || sent < opts.count)) {
    const due = Math.floor(((Date.now() - started) / 1_000) * opts.rate) + 1;
    const n = Math.min(due - sent, (opts.count ?? Infinity) - sent, 1_000);
    if (n <= 0) {
      await new Promise((r) => setTimeout(r, Math.max(1, 1_000 / opts.rate)));
      continue;
    }
    const items: PublishItem[] = [];
    for (let i = 0; i < n; i++) {
      const e: MarketEvent = next();
      items.push({ subject: subjects.rawIngest(e.symbol), envelope: makeEnvelope('market.bar.v1', e, { producer: 'synthetic-feed' }) });
    }
    await flushBatch(bus, items);
    sent += n;
  }
  return sent;
}
