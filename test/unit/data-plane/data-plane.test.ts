import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataPlane, JsonlQuarantine, openMarketSource, readQuarantine } from '../../../shared/data-plane/index.ts';
import type { MarketEvent } from '../../../shared/domain/market.ts';
import type { QuarantineEntry } from '../../../shared/domain/system.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const S = 1_000_000;
const T0 = Date.UTC(2022, 0, 3) * 1000;
const dir = mkdtempSync(join(tmpdir(), 'dp-quarantine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plane(opts = {}) {
  const market: MarketEvent[] = [];
  const quarantined: QuarantineEntry[] = [];
  return { dp: new DataPlane(opts, { market: (e) => market.push(e), quarantine: (q) => quarantined.push(q) }), market, quarantined };
}

describe('DataPlane', () => {
  it('forwards passing events, quarantines bad ones with where, and derives OFI from sized quotes', () => {
    const { dp, market, quarantined } = plane({ ofiIntervalUs: S });
    dp.process({ kind: 'quote', symbol: 'X', ts: T0 + 1, bid: 100, ask: 101, bidSize: 5, askSize: 4 });
    dp.process({ kind: 'quote', symbol: 'X', ts: T0 + 2, bid: 102, ask: 101, bidSize: 5, askSize: 4 }, 'feed.csv:3');
    dp.process({ kind: 'quote', symbol: 'X', ts: T0 + 3, bid: 100, ask: 101, bidSize: 7, askSize: 4 });
    dp.process({ kind: 'quote', symbol: 'X', ts: T0 + S, bid: 100, ask: 101, bidSize: 7, askSize: 1 });
    expect(quarantined.map((q) => [q.reason, q.where])).toEqual([['CROSSED_BOOK', 'feed.csv:3']]);
    expect(market.map((e) => e.kind)).toEqual(['quote', 'quote', 'ofi', 'quote']);
    expect(market[2]).toMatchObject({ kind: 'ofi', ts: T0 + S, ofi: 2, events: 1 });
    dp.flush();
    expect(market.at(-1)).toMatchObject({ kind: 'ofi', ts: T0 + 2 * S, ofi: 3, events: 1 });
    expect(dp.counts()).toMatchObject({ CROSSED_BOOK: 1, passed: 3 });
  });

  it('derives bars from trades when barIntervalUs is set, and none otherwise', () => {
    const trades = [T0, T0 + 30 * S, T0 + 61 * S].map((ts, i): MarketEvent => ({ kind: 'trade', symbol: 'X', ts, price: 100 + i, size: 1 }));
    const on = plane({ barIntervalUs: 60 * S });
    for (const t of trades) on.dp.process(t);
    on.dp.flush();
    expect(on.market.filter((e) => e.kind === 'bar')).toEqual([
      { kind: 'bar', symbol: 'X', ts: T0, intervalUs: 60 * S, open: 100, high: 101, low: 100, close: 101, volume: 2 },
      { kind: 'bar', symbol: 'X', ts: T0 + 60 * S, intervalUs: 60 * S, open: 102, high: 102, low: 102, close: 102, volume: 1 },
    ]);
    const off = plane();
    for (const t of trades) off.dp.process(t);
    off.dp.flush();
    expect(off.market.map((e) => e.kind)).toEqual(['trade', 'trade', 'trade']);
  });

  it('builds books from depth and derives OFI from their top', async () => {
    const { dp, market } = plane({ ofiIntervalUs: 100_000 });
    for await (const b of (await openMarketSource(`${root}data/ticks/tardis-binance-futures_book_snapshot_25_BTCUSDT.csv`)).batches()) {
      b.events.forEach((e, i) => dp.process(e, `tardis:${b.lines[i]}`));
    }
    dp.flush();
    const book = dp.book('BTCUSDT')!;
    expect(book.levels('bid')).toHaveLength(25);
    expect(book.bestBid()![0]).toBeLessThan(book.bestAsk()![0]);
    const ofis = market.filter((e) => e.kind === 'ofi');
    expect(ofis.length).toBeGreaterThan(0);
    expect(ofis.every((o) => o.kind === 'ofi' && Number.isFinite(o.ofi) && o.mid > 11_000)).toBe(true);
  });

  it('counts reader rejects it is given, so a whole file run adds up', async () => {
    const { dp, market, quarantined } = plane();
    for await (const b of (await openMarketSource(`${root}test/fixtures/data-plane/btc-perp-malformed_1m.csv`)).batches()) {
      b.rejected.forEach((r) => dp.quarantine(r));
      b.events.forEach((e) => dp.process(e));
    }
    const counts = dp.counts();
    expect(counts.PARSE_ERROR + counts.INVALID_VALUE).toBe(8);
    expect(counts.MISSING_BARS).toBe(1); // lines 3-10 are gone: 8 one-minute bars missing
    expect(quarantined.find((q) => q.reason === 'MISSING_BARS')!.message).toMatch(/^8 bar/);
    expect(market).toHaveLength(4);
  });
});

describe('JsonlQuarantine', () => {
  it('appends entries as JSON lines in batches and reads them back for replay', async () => {
    const path = join(dir, 'q.jsonl');
    const store = new JsonlQuarantine(path, 3);
    const entries: QuarantineEntry[] = [];
    for await (const b of (await openMarketSource(`${root}test/fixtures/data-plane/btc-perp-malformed_1m.csv`)).batches()) entries.push(...b.rejected);
    entries.push({ reason: 'OUTLIER', where: 'X', message: 'm', ts: T0, symbol: 'X', raw: { kind: 'trade', price: 1 }, rejected: true });
    entries.forEach((e) => store.add(e));
    expect(readQuarantine(path)).toHaveLength(9 - (9 % 3)); // two full batches written so far
    store.close();
    expect(store.count()).toBe(9);
    expect(readQuarantine(path)).toEqual(entries.map((e) => JSON.parse(JSON.stringify(e))));
  });

  it('names path:line of a corrupt quarantine line', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, `${JSON.stringify({ reason: 'DUPLICATE', where: 'a', message: 'b', rejected: true })}\n{"reason":"NOPE"}\n`);
    expect(() => readQuarantine(path)).toThrow(`${path}:2`);
  });
});
