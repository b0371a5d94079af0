import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_BATCH_SIZE, openMarketSource, openMarketSources, symbolFromPath } from '../../../shared/data-plane/index.ts';
import type { MarketSource } from '../../../shared/data-plane/index.ts';
import type { Bar, DepthUpdate, MarketEvent, Quote, Trade } from '../../../shared/domain/market.ts';
import { MarketEventSchema } from '../../../shared/domain/market.ts';
import type { QuarantineEntry } from '../../../shared/domain/system.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const data = (p: string) => `${root}data/${p}`;
const fixture = (p: string) => `${root}test/fixtures/data-plane/${p}`;

async function readAll(source: MarketSource) {
  const events: MarketEvent[] = [];
  const rejected: QuarantineEntry[] = [];
  const lines: number[] = [];
  let batches = 0;
  let bytesRead = 0;
  for await (const b of source.batches()) {
    batches++;
    expect(b.lines).toHaveLength(b.events.length);
    expect(b.bytesRead).toBeGreaterThanOrEqual(bytesRead);
    bytesRead = b.bytesRead;
    events.push(...b.events);
    rejected.push(...b.rejected);
    lines.push(...b.lines);
  }
  return { events, rejected, lines, batches, bytesRead };
}

/** The file as naive split rows: an independent oracle for the streaming parser. */
function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(','));
}
const isoUs = (text: string) => Date.parse(text.replace(' ', 'T').replace(/(\.\d{3})\d*/, '$1') + (/[Z+]/.test(text.slice(10)) ? '' : 'Z')) * 1000;

describe('CSV bars', () => {
  it('streams the BTC 1-minute file across 1 MiB chunks in DEFAULT_BATCH_SIZE-event batches', async () => {
    const path = data('bars/btc-perp-2022-01_1m.csv');
    const source = await openMarketSource(path);
    expect(source).toMatchObject({ kind: 'bars', symbol: 'BTC-PERP-2022-01', totalBytes: readFileSync(path).length });
    const { events, rejected, batches, bytesRead, lines } = await readAll(source);
    const rows = csvRows(path);
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(rows.length);
    expect(batches).toBe(Math.ceil(rows.length / DEFAULT_BATCH_SIZE));
    expect(bytesRead).toBe(source.totalBytes);
    expect(lines[0]).toBe(2);
    expect(lines.at(-1)).toBe(rows.length + 1);
    for (const [event, row] of [[events[0], rows[0]], [events.at(-1)!, rows.at(-1)!]] as const) {
      expect(event).toEqual({
        kind: 'bar',
        symbol: 'BTC-PERP-2022-01',
        ts: isoUs(row[0]),
        intervalUs: 60_000_000,
        open: Number(row[1]),
        high: Number(row[2]),
        low: Number(row[3]),
        close: Number(row[4]),
        volume: Number(row[5]),
      });
    }
    // Every value equals Number() of its text: the fast decimal path is exact.
    const mismatch = events.findIndex((e, i) => (e as Bar).volume !== Number(rows[i][5]) || (e as Bar).close !== Number(rows[i][4]));
    expect(mismatch).toBe(-1);
    expect(MarketEventSchema.safeParse(events[1000]).success).toBe(true);
  });

  it('reads Yahoo-style daily bars (Date, Adj Close ignored) and infers a one-day interval', async () => {
    const path = data('bars/orcl-1995-2014_1d.csv');
    const source = await openMarketSource(path, { batchSize: 1000 });
    expect(source).toMatchObject({ kind: 'bars', symbol: 'ORCL-1995-2014' });
    const { events, rejected, batches } = await readAll(source);
    const rows = csvRows(path);
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(5036);
    expect(batches).toBe(6);
    const last = events.at(-1) as Bar;
    const lastRow = rows.at(-1)!;
    expect(last).toMatchObject({ ts: Date.parse(`${lastRow[0]}T00:00:00Z`) * 1000, intervalUs: 86_400_000_000, open: Number(lastRow[1]), close: Number(lastRow[4]), volume: Number(lastRow[6]) });
  });

  it('quarantines each malformed row with file:line, the raw line and the field, and keeps going', async () => {
    const path = fixture('btc-perp-malformed_1m.csv');
    const { events, rejected, lines } = await readAll(await openMarketSource(path));
    const fileLines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toEqual([2, 11, 12, 13]);
    expect(events.map((e) => e.ts)).toEqual(lines.map((l) => isoUs(fileLines[l - 1].split(',')[0])));
    const summary = rejected.map((r) => [r.where, r.reason, r.message.split(':')[0]]);
    expect(summary).toEqual([
      [`${path}:3`, 'PARSE_ERROR', 'high'],
      [`${path}:4`, 'INVALID_VALUE', 'close'],
      [`${path}:5`, 'INVALID_VALUE', 'open'],
      [`${path}:6`, 'PARSE_ERROR', 'volume'],
      [`${path}:7`, 'PARSE_ERROR', 'timestamp'],
      [`${path}:8`, 'INVALID_VALUE', 'high 46379 < low 46435'],
      [`${path}:9`, 'PARSE_ERROR', 'close'],
      [`${path}:10`, 'INVALID_VALUE', 'volume'],
    ]);
    for (const r of rejected) {
      expect(r.rejected).toBe(true);
      expect(r.raw).toBe(fileLines[Number(r.where.split(':').at(-1)) - 1]);
    }
    expect(rejected[4].message).toContain('month 13');
    expect(rejected[3].message).toContain('missing');
  });

  it('joins lines cut by read chunks, even a line longer than a chunk, keeping line numbers', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => `${new Date(Date.UTC(2022, 0, 1) + i * 60_000).toISOString()},100.5,101,100,100.25,${i}.125`);
    // Line 20,002 spans about two read chunks; it is not a number, so it is quarantined as that line.
    rows[20_000] = rows[20_000].replace(',100.5,', `,${'9'.repeat(1.5 * 2 ** 20)}x,`);
    const path = join(mkdtempSync(join(tmpdir(), 'csv-chunks-')), 'long_1m.csv');
    writeFileSync(path, `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const { events, rejected, lines } = await readAll(await openMarketSource(path));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ reason: 'PARSE_ERROR', where: `${path}:20002` });
    expect(events).toHaveLength(rows.length - 1);
    expect(lines[19_999]).toBe(20_001);
    expect(lines[20_000]).toBe(20_003);
    const bars = events as Bar[];
    expect(bars.every((b, k) => b.volume === (k < 20_000 ? k : k + 1) + 0.125 && b.ts === isoUs(rows[k < 20_000 ? k : k + 1].split(',')[0]))).toBe(true);
  });

  it('reads every decimal exactly as Number() does, with LF or CRLF line ends and time fractions', async () => {
    // Up to 20 integer and 25 fraction digits: both the exact integer path and its fallbacks (mantissa past 2^53, > 22 fraction digits).
    const decimal = fc
      .tuple(fc.constantFrom('', '+'), fc.stringMatching(/^[0-9]{1,20}$/), fc.option(fc.stringMatching(/^[0-9]{0,25}$/), { nil: undefined }))
      .map(([sign, int, frac]) => sign + int + (frac === undefined ? '' : `.${frac}`));
    const price = decimal.filter((text) => Number(text) > 0);
    const row = fc.record({ price, volume: decimal, fraction: fc.stringMatching(/^[0-9]{0,9}$/), zulu: fc.boolean(), crlf: fc.boolean() });
    const dir = mkdtempSync(join(tmpdir(), 'csv-decimals-'));
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 200 }), async (rows) => {
        const path = join(dir, 'decimals_1m.csv');
        const texts = rows.map((r, i) => {
          const time = new Date(Date.UTC(2022, 0, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' ');
          const stamp = `${time}${r.fraction === '' ? '' : `.${r.fraction}`}${r.zulu ? 'Z' : ''}`;
          return `${stamp},${r.price},${r.price},${r.price},${r.price},${r.volume}${r.crlf ? '\r\n' : '\n'}`;
        });
        writeFileSync(path, `timestamp,open,high,low,close,volume\n${texts.join('')}`);
        const { events, rejected } = await readAll(await openMarketSource(path, { intervalUs: 60_000_000 }));
        expect(rejected).toEqual([]);
        expect(events).toHaveLength(rows.length);
        rows.forEach((r, i) => {
          const bar = events[i] as Bar;
          const fractionUs = Number(r.fraction.slice(0, 6).padEnd(6, '0'));
          expect([bar.ts, bar.open, bar.close, bar.volume]).toEqual([(Date.UTC(2022, 0, 1) + i * 60_000) * 1000 + fractionUs, Number(r.price), Number(r.price), Number(r.volume)]);
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('CSV quotes and trades', () => {
  it('reads TrueFX USD/JPY quotes with +00:00 offsets', async () => {
    const path = data('ticks/usdjpy-quotes_truefx.csv');
    const source = await openMarketSource(path, { symbol: 'USD/JPY' });
    expect(source).toMatchObject({ kind: 'quotes', symbol: 'USD/JPY' });
    const { events, rejected } = await readAll(source);
    const rows = csvRows(path);
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(1000);
    for (const [q, row] of [[events[0], rows[0]], [events.at(-1)!, rows.at(-1)!]] as const) {
      expect(q).toEqual({ kind: 'quote', symbol: 'USD/JPY', ts: isoUs(row[0]), bid: Number(row[1]), ask: Number(row[2]) });
    }
  });

  it('reads Tardis trades: µs timestamps, side, id, symbol column', async () => {
    const path = data('ticks/tardis-bitmex_trades_XBTUSD.csv');
    const source = await openMarketSource(path, { symbol: 'IGNORED' });
    expect(source).toMatchObject({ kind: 'trades', symbol: 'XBTUSD' });
    const { events } = await readAll(source);
    const rows = csvRows(path);
    expect(events).toHaveLength(rows.length);
    const last = events.at(-1) as Trade;
    const row = rows.at(-1)!;
    expect(last).toEqual({ kind: 'trade', symbol: row[1], ts: Number(row[2]), tradeId: row[4], side: row[5], price: Number(row[6]), size: Number(row[7]) });
  });
});

describe('depth', () => {
  it('groups Binance depth rows by update id, marks snapshots, and chains snapshot + diff files', async () => {
    const snapPath = data('ticks/binance-btcusdt-depth-snap.csv');
    const updatePath = data('ticks/binance-btcusdt-depth-update.csv');
    const both = await openMarketSources([snapPath, updatePath]);
    expect(both).toMatchObject({ kind: 'depth', symbol: 'BTCUSDT' });
    const { events, bytesRead } = await readAll(both);
    expect(bytesRead).toBe(both.totalBytes);
    const [snap, diff] = events as DepthUpdate[];
    expect(events).toHaveLength(2);
    const snapRows = csvRows(snapPath);
    const diffRows = csvRows(updatePath);
    expect(snap).toMatchObject({ snapshot: true, ts: Number(snapRows[0][1]) * 1000, firstUpdateId: Number(snapRows[0][2]), lastUpdateId: Number(snapRows[0][3]) });
    expect(snap.prevUpdateId).toBeUndefined();
    expect(snap.bids).toHaveLength(snapRows.filter((r) => r[4] === 'b').length);
    expect(snap.asks).toHaveLength(snapRows.filter((r) => r[4] === 'a').length);
    expect(diff).toMatchObject({ snapshot: false, prevUpdateId: Number(diffRows[0][8]), lastUpdateId: Number(diffRows[0][3]) });
    expect(diff.asks).toHaveLength(diffRows.filter((r) => r[4] === 'a').length);
    expect(diff.bids[0]).toEqual([Number(diffRows.find((r) => r[4] === 'b')![6]), Number(diffRows.find((r) => r[4] === 'b')![7])]);
  });

  it('reads Tardis book_snapshot_25 rows as 25-level snapshots, best first', async () => {
    const path = data('ticks/tardis-binance-futures_book_snapshot_25_BTCUSDT.csv');
    const { events } = await readAll(await openMarketSource(path));
    const rows = csvRows(path);
    expect(events).toHaveLength(rows.length);
    const first = events[0] as DepthUpdate;
    expect(first).toMatchObject({ kind: 'depth', snapshot: true, symbol: 'BTCUSDT', ts: Number(rows[0][2]) });
    expect(first.bids).toHaveLength(25);
    expect(first.asks).toHaveLength(25);
    expect(first.asks[0]).toEqual([Number(rows[0][4]), Number(rows[0][5])]);
    expect(first.bids[0]).toEqual([Number(rows[0][6]), Number(rows[0][7])]);
    expect(first.bids[0][0]).toBeLessThan(first.asks[0][0]);
  });
});

describe('Parquet', () => {
  it('reads Binance trades (brotli, TIMESTAMP_MILLIS, buyer_maker) row group by row group', async () => {
    const source = await openMarketSource(data('ticks/binance-btcusdt-trades.parquet'), { symbol: 'BTCUSDT' });
    expect(source).toMatchObject({ kind: 'trades', symbol: 'BTCUSDT' });
    const { events, rejected, bytesRead } = await readAll(source);
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(2001);
    expect(bytesRead).toBe(source.totalBytes);
    expect(events[0]).toEqual({ kind: 'trade', symbol: 'BTCUSDT', ts: Date.parse('2021-01-08T00:00:00.278Z') * 1000, price: 39432.48, size: 0.000263, side: 'sell', tradeId: '553287559' });
    expect(events.at(-1)).toMatchObject({ ts: Date.parse('2021-01-08T00:00:46.355Z') * 1000, price: 39491.76, tradeId: '553289559' });
  });

  it('reads Binance quotes with their symbol column', async () => {
    const source = await openMarketSource(data('ticks/binance-btcusdt-quotes.parquet'));
    expect(source).toMatchObject({ kind: 'quotes', symbol: 'BTC/USDT' });
    const { events } = await readAll(source);
    expect(events).toHaveLength(451);
    expect(events[0]).toEqual({ kind: 'quote', symbol: 'BTC/USDT', ts: Date.parse('2021-01-08T00:00:01.076Z') * 1000, bid: 39432.99, ask: 39433.62, bidSize: 0.0031, askSize: 0.066851 });
    expect((events.at(-1) as Quote).ask).toBe(39490.98);
  });
});

describe('format detection', () => {
  it('derives symbols from file names', () => {
    expect(symbolFromPath('/x/btc-perp-2022-01_1m.csv')).toBe('BTC-PERP-2022-01');
    expect(symbolFromPath('orcl.csv')).toBe('ORCL');
  });

  it('refuses unknown files naming the path', async () => {
    await expect(openMarketSource(data('ticks/bybit-xrpusdt-ob500.data.zip'))).rejects.toThrow('bybit-xrpusdt-ob500.data.zip');
    await expect(openMarketSource(data('binance/spot/http_json/klines_response.json'))).rejects.toThrow('unsupported file type');
  });
});
