import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import type { Bar, MarketEvent, Quote, Trade } from '../domain/market.ts';
import type { QualityReason, QuarantineEntry } from '../domain/system.ts';
import { ValidationError } from '../util/errors.ts';
import { ROLE, aggressorSide, detectCsvLayout } from './csv-source.ts';
import type { CsvLayout } from './csv-source.ts';
import { badNumberReason } from './scan.ts';
import { lastTimestampFailure, scanTimestamp } from './timestamp.ts';
import type { Mutable, SourceBatch, SourceKind } from './source-types.ts';

/**
 * Parquet reader (hyparquet), one row group at a time so memory follows the row-group size.
 * Timestamp logical types are decoded straight to epoch µs; plain integer/string time columns
 * (e.g. nautilus `ts_event` in ns) go through the epoch digit-count rule of scanTimestamp.
 * hyparquet ships snappy only; pyarrow files often use brotli or gzip, which node:zlib provides.
 */
const compressors = {
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
};
const parsers = {
  timestampFromMilliseconds: (ms: bigint) => Number(ms) * 1_000,
  timestampFromMicroseconds: (us: bigint) => Number(us),
  timestampFromNanoseconds: (ns: bigint) => Number(ns / 1_000n),
  dateFromDays: (days: number) => days * 86_400_000_000,
};

type Row = Record<string, unknown>;

export interface ParquetLayout {
  readonly file: AsyncBuffer;
  readonly metadata: FileMetaData;
  readonly layout: CsvLayout;
  /** Original column names, indexed like layout.names. */
  readonly columns: readonly string[];
  readonly kind: SourceKind;
  readonly firstSymbol: string | undefined;
}

export async function openParquetLayout(path: string): Promise<ParquetLayout> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  // The first schema element is the root; leaf columns follow.
  const columns = metadata.schema.slice(1).map((s) => s.name);
  const layout = detectCsvLayout(columns.join(','), path);
  if (layout.kind === 'depth') throw new ValidationError('UNKNOWN_FORMAT', 'depth updates in Parquet are not supported', path);
  let firstSymbol: string | undefined;
  const symbolColumn = layout.columnOf[ROLE.SYMBOL];
  if (symbolColumn >= 0 && Number(metadata.num_rows) > 0) {
    const [row] = await parquetReadObjects({ file, metadata, columns: [columns[symbolColumn]], rowStart: 0, rowEnd: 1, compressors, parsers });
    const symbol = row?.[columns[symbolColumn]];
    if (typeof symbol === 'string' && symbol.trim() !== '') firstSymbol = symbol.trim();
  }
  return { file, metadata, layout, columns, kind: layout.kind, firstSymbol };
}

function jsonSafe(row: Row): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

class RowConverter {
  private rowNo = 0;
  private row: Row = {};

  constructor(
    private readonly pq: ParquetLayout,
    private readonly path: string,
    private readonly defaultSymbol: string,
    private readonly intervalUs: number,
    private readonly rejected: QuarantineEntry[],
  ) {}

  convert(row: Row, rowNo: number): MarketEvent | undefined {
    this.row = row;
    this.rowNo = rowNo;
    const ts = this.time();
    if (Number.isNaN(ts)) return undefined;
    const symbol = this.symbol();
    if (symbol === undefined) return undefined;
    const num = (role: number, positive: boolean) => this.number(role, positive, ts);
    switch (this.pq.kind) {
      case 'bars': {
        const [open, high, low, close] = [num(ROLE.OPEN, true), num(ROLE.HIGH, true), num(ROLE.LOW, true), num(ROLE.CLOSE, true)];
        const volume = this.has(ROLE.VOLUME) ? num(ROLE.VOLUME, false) : 0;
        if ([open, high, low, close, volume].some(Number.isNaN)) return undefined;
        if (high < low || high < Math.max(open, close) || low > Math.min(open, close)) {
          return this.reject('INVALID_VALUE', `high ${high} / low ${low} do not bound open ${open} / close ${close}`, ts);
        }
        const bar: Bar = { kind: 'bar', symbol, ts, intervalUs: this.intervalUs, open, high, low, close, volume };
        return bar;
      }
      case 'quotes': {
        const bid = num(ROLE.BID, true);
        const ask = num(ROLE.ASK, true);
        const bidSize = this.has(ROLE.BID_SIZE) ? num(ROLE.BID_SIZE, false) : undefined;
        const askSize = this.has(ROLE.ASK_SIZE) ? num(ROLE.ASK_SIZE, false) : undefined;
        if ([bid, ask, bidSize ?? 0, askSize ?? 0].some(Number.isNaN)) return undefined;
        const quote: Mutable<Quote> = { kind: 'quote', symbol, ts, bid, ask };
        if (bidSize !== undefined) quote.bidSize = bidSize;
        if (askSize !== undefined) quote.askSize = askSize;
        return quote;
      }
      case 'trades': {
        const price = num(ROLE.PRICE, true);
        const size = num(ROLE.SIZE, true);
        if (Number.isNaN(price) || Number.isNaN(size)) return undefined;
        const trade: Mutable<Trade> = { kind: 'trade', symbol, ts, price, size };
        if (this.has(ROLE.SIDE)) {
          const side = aggressorSide(String(this.value(ROLE.SIDE) ?? ''));
          if (side) trade.side = side;
        } else if (this.has(ROLE.BUYER_MAKER)) {
          // A maker buyer means the seller crossed the spread.
          const maker = String(this.value(ROLE.BUYER_MAKER)).trim().toLowerCase();
          if (maker === 'true') trade.side = 'sell';
          else if (maker === 'false') trade.side = 'buy';
        }
        if (this.has(ROLE.ID)) {
          const id = this.value(ROLE.ID);
          if (id !== null && id !== undefined && String(id) !== '') trade.tradeId = String(id);
        }
        return trade;
      }
      default:
        return undefined;
    }
  }

  private has(role: number): boolean {
    return this.pq.layout.columnOf[role] >= 0;
  }

  private name(role: number): string {
    return this.pq.columns[this.pq.layout.columnOf[role]];
  }

  private value(role: number): unknown {
    return this.row[this.name(role)];
  }

  private time(): number {
    const v = this.value(ROLE.TIME);
    let ts: number;
    if (typeof v === 'number') ts = Number.isSafeInteger(v) && v > 0 ? v : NaN;
    else if (typeof v === 'bigint' || typeof v === 'string') {
      const text = String(v);
      ts = scanTimestamp(Buffer.from(text, 'latin1'), 0, text.length);
    } else ts = NaN;
    if (Number.isNaN(ts)) {
      const why = typeof v === 'string' || typeof v === 'bigint' ? lastTimestampFailure() : 'not a positive integer of epoch µs';
      this.reject('PARSE_ERROR', `${this.name(ROLE.TIME)}: cannot parse '${String(v)}': ${why}`);
    }
    return ts;
  }

  private symbol(): string | undefined {
    if (!this.has(ROLE.SYMBOL)) return this.defaultSymbol;
    const v = this.value(ROLE.SYMBOL);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    this.reject('PARSE_ERROR', `${this.name(ROLE.SYMBOL)}: empty`);
    return undefined;
  }

  /** The field as a number, or NaN after quarantining the row. */
  private number(role: number, strictlyPositive: boolean, ts: number): number {
    const raw = this.value(role);
    const name = this.name(role);
    const v = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (strictlyPositive ? v > 0 && v < Infinity : v >= 0 && v < Infinity) return v;
    if (raw === null || raw === undefined || raw === '') this.reject('PARSE_ERROR', `${name}: empty`, ts);
    else if (Number.isNaN(v)) {
      const reason = typeof raw === 'number' ? 'INVALID_VALUE' : badNumberReason(String(raw));
      this.reject(reason, reason === 'PARSE_ERROR' ? `${name}: '${String(raw)}' is not a number` : `${name}: ${String(raw)} is not a finite number`, ts);
    } else if (!Number.isFinite(v)) this.reject('INVALID_VALUE', `${name}: ${v} is not a finite number`, ts);
    else this.reject('INVALID_VALUE', `${name}: ${v} must be ${strictlyPositive ? '> 0' : '>= 0'}`, ts);
    return NaN;
  }

  private reject(reason: QualityReason, message: string, ts?: number): undefined {
    this.rejected.push({ reason, where: `${this.path}:${this.rowNo}`, message, ts, raw: jsonSafe(this.row), rejected: true });
    return undefined;
  }
}

/** Smallest positive gap among the first rows' times: the bar interval (later gaps are missing bars). */
async function inferParquetInterval(pq: ParquetLayout): Promise<number> {
  const timeColumn = pq.columns[pq.layout.columnOf[ROLE.TIME]];
  const rows = await parquetReadObjects({ file: pq.file, metadata: pq.metadata, columns: [timeColumn], rowStart: 0, rowEnd: 64, compressors, parsers });
  const times = rows.map((r) => r[timeColumn]).filter((t): t is number => typeof t === 'number');
  let smallest = Infinity;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap > 0 && gap < smallest) smallest = gap;
  }
  return Number.isFinite(smallest) ? smallest : 0;
}

export async function* parquetBatches(
  path: string,
  pq: ParquetLayout,
  symbol: string,
  batchSize: number,
  intervalUs: number | undefined,
): AsyncGenerator<SourceBatch> {
  const barInterval = pq.kind === 'bars' ? intervalUs ?? (await inferParquetInterval(pq)) : 0;
  let rowStart = 0;
  let events: MarketEvent[] = [];
  let lines: number[] = [];
  const rejected: QuarantineEntry[] = [];
  const converter = new RowConverter(pq, path, symbol, barInterval, rejected);
  const compressedTotal = pq.metadata.row_groups.reduce((sum, g) => sum + Number(g.total_compressed_size ?? g.total_byte_size), 0);
  let compressedDone = 0;
  for (const group of pq.metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file: pq.file, metadata: pq.metadata, rowStart, rowEnd, compressors, parsers });
    compressedDone += Number(group.total_compressed_size ?? group.total_byte_size);
    // Row-group byte sizes stand in for file offsets so progress still ends at totalBytes.
    const bytesRead = Math.round((pq.file.byteLength * compressedDone) / Math.max(1, compressedTotal));
    for (let i = 0; i < rows.length; i++) {
      const e = converter.convert(rows[i], rowStart + i + 1);
      if (e) {
        events.push(e);
        lines.push(rowStart + i + 1);
      }
      if (events.length >= batchSize || rejected.length >= batchSize) {
        yield { events, rejected: rejected.splice(0), lines, bytesRead };
        events = [];
        lines = [];
      }
    }
    if (events.length > 0 || rejected.length > 0) {
      yield { events, rejected: rejected.splice(0), lines, bytesRead };
      events = [];
      lines = [];
    }
    rowStart = rowEnd;
  }
}
