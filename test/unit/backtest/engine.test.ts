import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../shared/backtest/index.ts';
import { BacktestReportSchema } from '../../../shared/backtest/report/index.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/backtest/sma-hand.csv');
const dirs: string[] = [];
const tempOut = () => {
  const d = mkdtempSync(join(tmpdir(), 'algoplanes-bt-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('backtest engine on a hand-checkable SMA(2)/SMA(3) crossover', () => {
  /*
   * closes 10 11 12 11 10 9 10 11 12 13 12 11 10 11 (bars 1..14, one minute apart)
   * bar 3:  fast 11.5 > slow 11      first comparison, no signal
   * bar 5:  fast 10.5 < slow 11      crosses below: flat target, already flat, no order
   * bar 8:  fast 10.5 > slow 10      crosses above: buy 1, filled at bar 9's open 11.9 (00:08)
   * bar 12: fast 11.5 < slow 12      crosses below: sell 1, filled at bar 13's open 12.3 (00:12)
   * realised PnL = 12.3 - 11.9 = 0.4, no fees.
   */
  it('fills exactly at the next bar open after each crossing', async () => {
    const out = tempOut();
    const result = await runBacktest({ dataPath: FIXTURE, strategy: 'sma-cross', params: { fast: 2, slow: 3 }, symbol: 'TEST', outDir: out });

    expect(result.fills.map((f) => ({ side: f.side, qty: f.qty, price: f.price, fee: f.fee, ts: new Date(f.ts / 1000).toISOString() }))).toEqual([
      { side: 'buy', qty: 1, price: 11.9, fee: 0, ts: '2024-01-01T00:08:00.000Z' },
      { side: 'sell', qty: 1, price: 12.3, fee: 0, ts: '2024-01-01T00:12:00.000Z' },
    ]);
    expect(result.finalPortfolio.positions.every((p) => p.qty === 0)).toBe(true);
    expect(result.finalPortfolio.equity).toBeCloseTo(100_000.4, 9);
    expect(result.report.statistics.tradeCount).toBe(1);
    expect(result.report.statistics.winRate).toBe(1);
    expect(result.report.engine.bars).toBe(14);

    const csv = readFileSync(join(out, 'fills.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('time,side,qty,price,fee');
    expect(csv.slice(1).map((l) => l.split(',').slice(1).join(','))).toEqual(['buy,1,11.9,0', 'sell,1,12.3,0']);
    const json = BacktestReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    expect(json.engine.events).toBe(14);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('is deterministic: the same data and options give the same fills', async () => {
    const a = await runBacktest({ dataPath: FIXTURE, strategy: 'sma-cross', params: { fast: 2, slow: 3 } });
    const b = await runBacktest({ dataPath: FIXTURE, strategy: 'sma-cross', params: { fast: 2, slow: 3 } });
    expect(b.fills).toEqual(a.fills);
  });

  it('charges taker fees in basis points of notional', async () => {
    const result = await runBacktest({ dataPath: FIXTURE, strategy: 'sma-cross', params: { fast: 2, slow: 3 }, takerFeeBps: 10 });
    expect(result.fills.map((f) => f.fee)).toEqual([expect.closeTo(11.9 * 0.001, 12), expect.closeTo(12.3 * 0.001, 12)]);
    expect(result.finalPortfolio.equity).toBeCloseTo(100_000 + 0.4 - 0.0242, 9);
  });

  it('quarantines a malformed row with file:line and keeps running', async () => {
    const out = tempOut();
    const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
    lines.splice(6, 0, '2024-01-01T00:04:30Z,11.5,12.0,9.5,not-a-number,100');
    const data = join(out, 'bad.csv');
    writeFileSync(data, lines.join('\n') + '\n');

    const result = await runBacktest({ dataPath: data, strategy: 'sma-cross', params: { fast: 2, slow: 3 }, outDir: out });
    expect(result.fills).toHaveLength(2);
    expect(result.report.data.rejected).toBeGreaterThanOrEqual(1);
    const quarantined = readFileSync(join(out, 'quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(quarantined[0]).toMatchObject({ where: `${data}:7`, rejected: true });
    expect(quarantined[0].raw).toContain('not-a-number');
  });

  it('rejects unknown strategies and bad parameters with a clear message', async () => {
    await expect(runBacktest({ dataPath: FIXTURE, strategy: 'no-such-strategy' })).rejects.toThrow(/no-such-strategy/);
    await expect(runBacktest({ dataPath: FIXTURE, strategy: 'sma-cross', params: { fast: 30, slow: 10 } })).rejects.toThrow(/fast/);
  });
});
