import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ValidationError } from '../util/errors.ts';
import { csvBatches, csvSymbolOf, detectCsvLayout } from './csv-source.ts';
import { openParquetLayout, parquetBatches } from './parquet-source.ts';
import type { MarketSource, SourceBatch, SourceOptions } from './source-types.ts';
import { DEFAULT_BATCH_SIZE } from './source-types.ts';

/** Bytes read to find the header and first data line. */
const PEEK_BYTES = 1 << 16;

/**
 * Symbol implied by a file name: the upper-cased stem before the first '_'
 * (`btc-perp-2022-01_1m.csv` -> `BTC-PERP-2022-01`); characters a symbol may not hold become '-'.
 */
export function symbolFromPath(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '').split('_')[0];
  const symbol = stem.toUpperCase().replace(/[^A-Z0-9._:/-]/g, '-');
  return symbol === '' ? 'UNKNOWN' : symbol;
}

async function peekLines(path: string): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(PEEK_BYTES);
    const { bytesRead } = await handle.read(buf, 0, PEEK_BYTES, 0);
    return buf.toString('utf8', 0, bytesRead).split('\n', 2).map((l) => l.replace(/\r$/, ''));
  } finally {
    await handle.close();
  }
}

/**
 * Opens a market-data file for streaming. The format follows from the extension (.csv/.txt, .parquet)
 * and the column names; the symbol from a symbol column, else `opts.symbol`, else the file name.
 */
export async function openMarketSource(path: string, opts: SourceOptions = {}): Promise<MarketSource> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!(batchSize >= 1)) throw new ValidationError('BAD_OPTION', `batchSize must be >= 1, got ${batchSize}`, path);
  const totalBytes = (await stat(path)).size;
  const fallbackSymbol = opts.symbol ?? symbolFromPath(path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) {
    const pq = await openParquetLayout(path);
    return {
      path,
      kind: pq.kind,
      symbol: pq.firstSymbol ?? fallbackSymbol,
      totalBytes,
      batches: () => parquetBatches(path, pq, fallbackSymbol, batchSize, opts.intervalUs),
    };
  }
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) {
    const [header = '', firstRow = ''] = await peekLines(path);
    const layout = detectCsvLayout(header, path);
    return {
      path,
      kind: layout.kind,
      symbol: csvSymbolOf(layout, firstRow) ?? fallbackSymbol,
      totalBytes,
      batches: () => csvBatches(path, layout, fallbackSymbol, batchSize, opts.intervalUs),
    };
  }
  throw new ValidationError('UNKNOWN_FORMAT', 'unsupported file type (expected .csv, .txt or .parquet)', path);
}

/**
 * Several files of one kind read back to back as one stream, e.g. a depth snapshot followed by its
 * diff updates so an order book can be built. `bytesRead` counts across all files.
 */
export async function openMarketSources(paths: readonly string[], opts: SourceOptions = {}): Promise<MarketSource> {
  if (paths.length === 0) throw new ValidationError('BAD_OPTION', 'no files given', 'openMarketSources');
  const sources = await Promise.all(paths.map((p) => openMarketSource(p, opts)));
  const kind = sources[0].kind;
  const mismatch = sources.find((s) => s.kind !== kind);
  if (mismatch) throw new ValidationError('BAD_OPTION', `holds ${mismatch.kind}, but ${sources[0].path} holds ${kind}`, mismatch.path);
  async function* chained(): AsyncGenerator<SourceBatch> {
    let done = 0;
    for (const source of sources) {
      for await (const batch of source.batches()) yield { ...batch, bytesRead: done + batch.bytesRead };
      done += source.totalBytes;
    }
  }
  return {
    path: paths.join(','),
    kind,
    symbol: sources[0].symbol,
    totalBytes: sources.reduce((sum, s) => sum + s.totalBytes, 0),
    batches: chained,
  };
}
