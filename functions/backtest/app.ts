/**
 * Backtest function core: a scheduled or on-demand request -> runBacktest -> report artefacts to the
 * results bucket and a summary item to the store. A repeated request (same runId) is answered from
 * the idempotency record instead of running again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { BacktestOptionsSchema, runBacktest } from '../../shared/backtest/index.ts';
import { nowUs, parseOrThrow } from '../../shared/domain/index.ts';
import type { Observability } from '../../shared/lambda/observability.ts';
import type { Store } from '../../shared/store/index.ts';
import { ValidationError } from '../../shared/util/errors.ts';

export const BacktestRequestSchema = BacktestOptionsSchema.omit({ dataPath: true, outDir: true })
  .extend({
    /** Names the run (S3 prefix, summary key, idempotency key); derived from the request when absent. */
    runId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
    /** Local path (bundled data, EFS) or S3 key of the market data. */
    dataPath: z.string().min(1).optional(),
    dataKey: z.string().min(1).optional(),
  })
  .refine((r) => (r.dataPath === undefined) !== (r.dataKey === undefined), { message: 'give exactly one of dataPath or dataKey', path: ['dataPath'] });
export type BacktestRequest = z.infer<typeof BacktestRequestSchema>;

export interface ArtefactStore {
  /** Downloads an object to a local file (for dataKey requests). */
  download(key: string, file: string): Promise<void>;
  upload(key: string, body: Buffer, contentType: string): Promise<void>;
}

export interface BacktestAppDeps {
  readonly store: Store;
  readonly artefacts: ArtefactStore;
  readonly obs: Observability;
}

export interface BacktestResponse {
  readonly ok: boolean;
  readonly runId?: string;
  readonly artefacts?: readonly string[];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly code?: string;
  readonly message?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = { 'report.json': 'application/json', 'report.html': 'text/html', 'fills.csv': 'text/csv' };

/** EventBridge Scheduler passes its payload as the event; on-demand invokes send the request itself. */
export function parseBacktestEvent(raw: unknown): BacktestRequest & { runId: string } {
  const req = parseOrThrow(BacktestRequestSchema, raw, 'backtest request');
  return { ...req, runId: req.runId ?? 'bt-' + createHash('sha256').update(JSON.stringify(req)).digest('hex').slice(0, 24) };
}

export function createBacktestApp(deps: BacktestAppDeps) {
  return {
    async handle(req: BacktestRequest & { runId: string }): Promise<BacktestResponse> {
      const work = mkdtempSync(join(tmpdir(), 'backtest-'));
      try {
        const { runId, dataKey, dataPath, ...options } = req;
        let input = dataPath ?? '';
        if (dataKey !== undefined) {
          input = join(work, dataKey.split('/').pop() || 'data');
          await deps.artefacts.download(dataKey, input);
        }
        if (!existsSync(input)) throw new ValidationError('NO_DATA', `market data ${input} does not exist`, 'backtest request.dataPath');
        const outDir = join(work, 'out');
        const result = await runBacktest({ ...options, dataPath: input, outDir });
        const artefacts: string[] = [];
        for (const [file, type] of Object.entries(CONTENT_TYPES)) {
          const path = join(outDir, file);
          if (!existsSync(path)) continue;
          const key = `backtests/${runId}/${file}`;
          await deps.artefacts.upload(key, readFileSync(path), type);
          artefacts.push(key);
        }
        const metrics = Object.fromEntries(
          Object.entries(result.report.statistics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
        );
        await deps.store.putBacktestSummary({ runId, strategy: options.strategy, params: options.params, source: dataKey ?? input, createdTs: nowUs(), metrics, artefacts });
        deps.obs.logger.info('backtest done', { runId, artefacts, fills: result.fills.length });
        return { ok: true, runId, artefacts, metrics };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
