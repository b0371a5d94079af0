import { describe, expect, it, vi } from 'vitest';
import { createBacktestApp, parseBacktestEvent } from '../../../functions/backtest/app.ts';
import { createObservability } from '../../../shared/lambda/index.ts';
import { MemoryStore } from '../../../shared/store/index.ts';

describe('backtest function core', () => {
  it('runs a backtest on real bars, uploads report.json/html/fills.csv and stores a summary', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const store = new MemoryStore();
    const uploads = new Map<string, { body: Buffer; type: string }>();
    const app = createBacktestApp({
      store,
      obs: createObservability('backtest', { POWERTOOLS_LOG_LEVEL: 'SILENT' }),
      artefacts: {
        download: async () => Promise.reject(new Error('not used')),
        upload: async (key, body, type) => void uploads.set(key, { body, type }),
      },
    });
    const req = parseBacktestEvent({ dataPath: 'data/bars/btc-perp-2022-01_1m.csv', strategy: 'sma-cross', params: { fast: 10, slow: 30 } });
    expect(req.runId).toBe(parseBacktestEvent({ dataPath: 'data/bars/btc-perp-2022-01_1m.csv', strategy: 'sma-cross', params: { fast: 10, slow: 30 } }).runId);
    const out = await app.handle(req);
    expect(out.ok).toBe(true);
    expect([...uploads.keys()].sort()).toEqual([`backtests/${req.runId}/fills.csv`, `backtests/${req.runId}/report.html`, `backtests/${req.runId}/report.json`]);
    const report = JSON.parse(uploads.get(`backtests/${req.runId}/report.json`)?.body.toString() ?? '{}') as { strategy: { name: string } };
    expect(report.strategy.name).toBe('sma-cross');
    const summary = await store.getBacktestSummary(req.runId);
    expect(summary?.artefacts).toHaveLength(3);
    expect(Object.keys(summary?.metrics ?? {}).length).toBeGreaterThan(0);
    vi.restoreAllMocks();
  });

  it('rejects a request naming both or neither data source', () => {
    expect(() => parseBacktestEvent({ strategy: 'sma-cross' })).toThrow(/dataPath or dataKey/);
    expect(() => parseBacktestEvent({ dataPath: 'a', dataKey: 'b' })).toThrow(/dataPath or dataKey/);
  });
});
