import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Fill, Side } from '../../../shared/domain/index.ts';
import { PerformanceTracker } from '../../../shared/backtest/stats.ts';
import {
  BacktestReportSchema,
  FillsCsvWriter,
  formatStatisticsTable,
  formatTsIso,
  renderHtml,
  timeTicks,
  valueTicks,
  writeReport,
  type BacktestReport,
} from '../../../shared/backtest/report/index.ts';

const T0 = 1_640_995_200_000_000; // 2022-01-01T00:00:00Z
const MINUTE_US = 60_000_000;

function fill(i: number, side: Side, qty: number, price: number, fee: number, ts: number): Fill {
  return {
    execId: `e${i}`,
    clientOrderId: `order-${String(i).padStart(4, '0')}`,
    accountId: 'paper-1',
    strategyId: 's1',
    symbol: 'BTCUSDT',
    side,
    qty,
    price,
    fee,
    liquidity: 'taker',
    ts,
    arrivalPrice: price,
  };
}

function syntheticRun(): { tracker: PerformanceTracker; fills: Fill[] } {
  const tracker = new PerformanceTracker({ initialCash: 10_000, maxCurvePoints: 200 });
  const fills = [fill(1, 'buy', 0.5, 100.25, 0.05, T0 + 10 * MINUTE_US + 123), fill(2, 'sell', 0.5, 104.5, 0.05, T0 + 400 * MINUTE_US)];
  let next = 0;
  for (let i = 0; i < 1000; i++) {
    const ts = T0 + i * MINUTE_US;
    while (next < fills.length && fills[next].ts <= ts) tracker.onFill(fills[next++]);
    const price = 100 + 5 * Math.sin(i / 80);
    const inMarket = i > 10 && i <= 400;
    tracker.onMark(ts, 10_000 + (inMarket ? 0.5 * (price - 100.25) : 0), inMarket ? 0.5 * price : 0, price);
  }
  return { tracker, fills };
}

function report(tracker: PerformanceTracker, name = 'sma-cross'): BacktestReport {
  return {
    generatedAt: '2024-05-01T12:00:00.000Z',
    strategy: { name, params: { fast: 10, slow: 30 } },
    data: { path: 'data/bars/btc.csv', symbol: 'BTCUSDT', kind: 'bar', events: 1000, rejected: 2 },
    config: { cash: 10_000, sizing: 'fixed-qty', fillModel: 'next-bar-open', makerFeeBps: 0, takerFeeBps: 5, latencyUs: 0 },
    statistics: tracker.finalize(),
    costModel: { a: 0, b: 0.5, c: 1, observations: 12 },
    quality: { OUTLIER: 1, DUPLICATE: 1 },
    risk: { breaches: 1, byRule: { PRICE_COLLAR: 1 }, finalState: 'ACTIVE' },
    engine: { events: 1000, bars: 1000, seconds: 0.01 },
  };
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'algoplanes-report-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('writes a schema-valid report.json, fills.csv with the exact header and rows, and an offline report.html', () => {
    const dir = tempDir();
    const { tracker, fills } = syntheticRun();
    const input = report(tracker);
    const paths = writeReport(dir, input, tracker, fills);
    for (const p of [paths.json, paths.html, paths.csv]) expect(existsSync(p)).toBe(true);

    const json = BacktestReportSchema.parse(JSON.parse(readFileSync(paths.json, 'utf8')));
    expect(json.statistics).toEqual(input.statistics);
    expect(json.statistics.tradeCount).toBe(1);

    expect(readFileSync(paths.csv, 'utf8')).toBe(
      'time,side,qty,price,fee\n' + '2022-01-01T00:10:00.000123Z,buy,0.5,100.25,0.05\n' + '2022-01-01T06:40:00.000000Z,sell,0.5,104.5,0.05\n',
    );

    const html = readFileSync(paths.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link/i);
    expect(html.match(/<polygon class="buy"/g)).toHaveLength(1);
    expect(html.match(/<polygon class="sell"/g)).toHaveLength(1);
    expect(html).toContain('Max drawdown');
    expect(html).toContain('PRICE_COLLAR');
  });

  it('escapes text taken from the report', () => {
    const { tracker } = syntheticRun();
    const input = report(tracker, '<img src=x onerror=alert(1)>');
    input.costModel = { note: '"quoted" & <b>bold</b>' };
    const html = renderHtml(input, tracker.curves());
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>bold');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
  });

  it('accepts fills streamed by FillsCsvWriter and refuses when the file is missing', () => {
    const dir = tempDir();
    const { tracker, fills } = syntheticRun();
    const writer = new FillsCsvWriter(join(dir, 'fills.csv'));
    for (let i = 0; i < 5000; i++) writer.add(fills[i % 2]);
    writer.close();
    writer.close();
    expect(writer.count).toBe(5000);
    writeReport(dir, report(tracker), tracker, 'streamed');
    const lines = readFileSync(join(dir, 'fills.csv'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5001);
    expect(lines[0]).toBe('time,side,qty,price,fee');
    expect(lines[5000]).toBe('2022-01-01T06:40:00.000000Z,sell,0.5,104.5,0.05');

    expect(() => writeReport(tempDir(), report(tracker), tracker, 'streamed')).toThrow(/does not exist/);
  });

  it('rejects an invalid report before writing anything', () => {
    const dir = join(tempDir(), 'out');
    const { tracker, fills } = syntheticRun();
    const bad = report(tracker);
    bad.config = { ...bad.config, cash: -1 };
    expect(() => writeReport(dir, bad, tracker, fills)).toThrow(/cash/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('formatting', () => {
  it('prints an aligned statistics table with percentages and n/a', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    [100, 110, 99, 120].forEach((e, i) => t.onMark(T0 + i * 86_400_000_000, e, 0, 1));
    const text = formatStatisticsTable(t.finalize());
    const lines = text.split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines.find((l) => l.startsWith('Total return'))).toMatch(/ 20\.00%$/);
    expect(lines.find((l) => l.startsWith('Max drawdown '))).toMatch(/ 10\.00%$/);
    expect(lines.find((l) => l.startsWith('Max drawdown duration'))).toMatch(/ 2\.0 days$/);
    expect(lines.find((l) => l.startsWith('Win rate'))).toMatch(/ n\/a$/);
    expect(lines.find((l) => l.startsWith('Start '))).toMatch(/ 2022-01-01$/);
  });

  it('formats microsecond timestamps as ISO-8601 UTC', () => {
    expect(formatTsIso(T0 + 1_500_007)).toBe('2022-01-01T00:00:01.500007Z');
  });

  it('places round time ticks inside the range with labels that fit the span', () => {
    const daily = timeTicks(T0, T0 + 30 * 86_400_000_000);
    expect(daily.length).toBeGreaterThanOrEqual(3);
    for (const t of daily) expect(t.label).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const years = timeTicks(Date.UTC(1995, 0, 3) * 1000, Date.UTC(2014, 11, 31) * 1000);
    expect(years.map((t) => t.label)).toEqual(['1996', '1998', '2000', '2002', '2004', '2006', '2008', '2010', '2012', '2014']);

    const intraday = timeTicks(T0 + 7 * MINUTE_US, T0 + 95 * MINUTE_US);
    expect(intraday.map((t) => t.label)).toEqual(['00:10', '00:20', '00:30', '00:40', '00:50', '01:00', '01:10', '01:20', '01:30']);
  });

  it('chooses round value ticks', () => {
    expect(valueTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(valueTicks(-0.27, 0)).toEqual([-0.25, -0.2, -0.15, -0.1, -0.05, 0]);
  });
});
