import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { Fill } from '../../domain/index.ts';
import { ValidationError } from '../../util/errors.ts';
import { PerformanceTracker, type Curves } from '../stats.ts';
import { FillsCsvWriter } from './fills-csv.ts';
import { renderHtml } from './html.ts';
import { BacktestReportSchema, type BacktestReport } from './schema.ts';

export interface ReportPaths {
  readonly json: string;
  readonly html: string;
  readonly csv: string;
}

export const REPORT_FILES = { json: 'report.json', html: 'report.html', csv: 'fills.csv' } as const;

/**
 * Writes report.json, report.html and fills.csv into `dir`. Pass the fills to write them here, or
 * 'streamed' when the engine already appended them with a FillsCsvWriter at `dir/fills.csv`.
 * The report is validated first so a malformed report.json is never written.
 */
export function writeReport(dir: string, report: BacktestReport, source: PerformanceTracker | Curves, fills: Iterable<Fill> | 'streamed'): ReportPaths {
  const parsed = BacktestReportSchema.safeParse(report);
  if (!parsed.success) throw new ValidationError('BAD_REPORT', z.prettifyError(parsed.error), 'writeReport');
  mkdirSync(dir, { recursive: true });
  const paths: ReportPaths = { json: join(dir, REPORT_FILES.json), html: join(dir, REPORT_FILES.html), csv: join(dir, REPORT_FILES.csv) };

  if (fills === 'streamed') {
    if (!existsSync(paths.csv)) throw new ValidationError('MISSING_FILLS', `fills were declared streamed but ${paths.csv} does not exist`, 'writeReport');
  } else {
    const writer = new FillsCsvWriter(paths.csv);
    try {
      for (const fill of fills) writer.add(fill);
    } finally {
      writer.close();
    }
  }
  const curves = source instanceof PerformanceTracker ? source.curves() : source;
  writeFileSync(paths.json, `${JSON.stringify(parsed.data, null, 2)}\n`);
  writeFileSync(paths.html, renderHtml(parsed.data, curves));
  return paths;
}
