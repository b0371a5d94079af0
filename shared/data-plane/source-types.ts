import type { MarketEvent } from '../domain/market.ts';
import type { QuarantineEntry } from '../domain/system.ts';

export type SourceKind = 'bars' | 'quotes' | 'trades' | 'depth';

export interface SourceBatch {
  readonly events: MarketEvent[];
  /** Malformed rows of this batch, already described; the stream continues past them. */
  readonly rejected: QuarantineEntry[];
  /** Source line (CSV, 1-based, header = 1) or row number (Parquet, 1-based) of each event, parallel to `events`. */
  readonly lines: number[];
  /** Bytes of the file consumed so far (cumulative), for progress against `totalBytes`. */
  readonly bytesRead: number;
}

export interface MarketSource {
  readonly path: string;
  readonly kind: SourceKind;
  readonly symbol: string;
  readonly totalBytes: number;
  batches(): AsyncIterable<SourceBatch>;
}

export interface SourceOptions {
  /** Used when the file has no symbol column (before falling back to the file name). */
  symbol?: string;
  /** Events per batch (default DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  /** Bar length in µs; inferred from the first rows when absent. */
  intervalUs?: number;
}

/**
 * Small on purpose: a batch's events stay alive until it is consumed, and every young-generation GC
 * copies what is alive (a bar is seven heap objects), so a few hundred rows in flight keep those GCs
 * cheap where a few thousand made them a tenth of a backtest's time.
 */
export const DEFAULT_BATCH_SIZE = 512;
export const READ_CHUNK_BYTES = 1 << 20;

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
