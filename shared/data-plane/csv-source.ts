import { open } from 'node:fs/promises';
import type { Bar, DepthUpdate, Level, MarketEvent, Quote, Side, Trade } from '../domain/market.ts';
import type { QualityReason, QuarantineEntry } from '../domain/system.ts';
import { ValidationError } from '../util/errors.ts';
import { badNumberReason, scanNumber } from './scan.ts';
import { dateTimePrefixEnd, lastTimestampFailure, scanDateTimePrefix, scanTimestamp } from './timestamp.ts';
import type { Mutable, SourceBatch, SourceKind } from './source-types.ts';
import { READ_CHUNK_BYTES } from './source-types.ts';

/**
 * Streaming CSV readers. Rows are parsed straight from the read buffers: each field is scanned once
 * for its comma and once for its value, strings are only decoded for symbol/side/id columns and for
 * rejected lines, so the bar reader stays allocation-light (one Bar object per row).
 * Quoted fields are not supported (none of the venue formats use them).
 */

// Column roles. Numeric so the per-field dispatch is a jump table.
const SKIP = 0;
const TIME = 1;
const SYMBOL = 2;
const OPEN = 3;
const HIGH = 4;
const LOW = 5;
const CLOSE = 6;
const VOLUME = 7;
const BID = 8;
const ASK = 9;
const BID_SIZE = 10;
const ASK_SIZE = 11;
const PRICE = 12;
const SIZE = 13;
const SIDE = 14;
const ID = 15;
const BUYER_MAKER = 16;
const FIRST_ID = 17;
const LAST_ID = 18;
const PREV_ID = 19;
const UPDATE_TYPE = 20;
const ROLE_COUNT = 21;

/** Column roles the Parquet reader addresses through a CsvLayout's `columnOf`. */
export const ROLE = { TIME, SYMBOL, OPEN, HIGH, LOW, CLOSE, VOLUME, BID, ASK, BID_SIZE, ASK_SIZE, PRICE, SIZE, SIDE, ID, BUYER_MAKER } as const;

const IS_TEXT_ROLE = new Uint8Array(ROLE_COUNT);
for (const role of [SYMBOL, SIDE, ID, BUYER_MAKER, UPDATE_TYPE]) IS_TEXT_ROLE[role] = 1;

/** Header names per role; for the time column the first listed name present wins. */
const TIME_NAMES = ['timestamp', 'datetime', 'date', 'time', 'ts_event', 'ts', 'transact_time'];
const ROLE_NAMES: Record<number, readonly string[]> = {
  [SYMBOL]: ['symbol', 'instrument_id', 'ticker'],
  [OPEN]: ['open'],
  [HIGH]: ['high'],
  [LOW]: ['low'],
  [CLOSE]: ['close'],
  [VOLUME]: ['volume'],
  [BID]: ['bid', 'bid_price', 'bid_px'],
  [ASK]: ['ask', 'ask_price', 'ask_px'],
  [BID_SIZE]: ['bid_size', 'bid_qty', 'bid_amount'],
  [ASK_SIZE]: ['ask_size', 'ask_qty', 'ask_amount'],
  [PRICE]: ['price'],
  [SIZE]: ['size', 'qty', 'amount', 'quantity'],
  [SIDE]: ['side'],
  [ID]: ['id', 'trade_id'],
  [BUYER_MAKER]: ['buyer_maker', 'is_buyer_maker'],
  [FIRST_ID]: ['first_update_id'],
  [LAST_ID]: ['last_update_id'],
  [PREV_ID]: ['pu', 'prev_update_id'],
  [UPDATE_TYPE]: ['update_type'],
};

const TARDIS_LEVEL = /^(asks|bids)\[(\d+)\]\.(price|amount)$/;

export interface CsvLayout {
  readonly kind: SourceKind;
  readonly names: readonly string[];
  /** Role of each column. */
  readonly roles: Int8Array;
  /** Column index of each role, -1 when absent. */
  readonly columnOf: Int16Array;
  /** Tardis book_snapshot_N: [side 0 bid / 1 ask, level, price column, amount column]. */
  readonly tardisLevels?: readonly (readonly [number, number, number, number])[];
}

function normaliseName(raw: string): string {
  return raw.replace(/^\uFEFF/, '').trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase();
}

/** Works out what a CSV holds from its header line; throws naming the file when it cannot tell. */
export function detectCsvLayout(headerLine: string, path: string): CsvLayout {
  const names = headerLine.split(',').map(normaliseName);
  const roles = new Int8Array(names.length);
  const columnOf = new Int16Array(ROLE_COUNT).fill(-1);
  const timeName = TIME_NAMES.find((n) => names.includes(n));
  if (timeName) columnOf[TIME] = names.indexOf(timeName);
  for (const [role, candidates] of Object.entries(ROLE_NAMES)) {
    const index = names.findIndex((n) => candidates.includes(n));
    if (index >= 0) columnOf[Number(role)] = index;
  }
  const has = (...rs: number[]) => rs.every((r) => columnOf[r] >= 0);
  const tardisLevels: [number, number, number, number][] = [];
  const levelColumns = new Map<string, number>();
  names.forEach((n, i) => {
    if (TARDIS_LEVEL.test(n)) levelColumns.set(n, i);
  });
  for (const [name, priceColumn] of levelColumns) {
    const m = TARDIS_LEVEL.exec(name);
    if (!m || m[3] !== 'price') continue;
    const amountColumn = levelColumns.get(`${m[1]}[${m[2]}].amount`);
    if (amountColumn !== undefined) tardisLevels.push([m[1] === 'bids' ? 0 : 1, Number(m[2]), priceColumn, amountColumn]);
  }

  let kind: SourceKind;
  let used: number[];
  if (!has(TIME)) {
    throw new ValidationError('UNKNOWN_FORMAT', `no time column (one of ${TIME_NAMES.join('/')}) in header '${headerLine}'`, `${path}:1`);
  } else if (has(FIRST_ID, LAST_ID, SIDE, PRICE, SIZE)) {
    kind = 'depth';
    used = [TIME, SYMBOL, FIRST_ID, LAST_ID, PREV_ID, SIDE, UPDATE_TYPE, PRICE, SIZE];
  } else if (tardisLevels.length > 0) {
    kind = 'depth';
    used = [TIME, SYMBOL];
  } else if (has(OPEN, HIGH, LOW, CLOSE)) {
    kind = 'bars';
    used = [TIME, SYMBOL, OPEN, HIGH, LOW, CLOSE, VOLUME];
  } else if (has(BID, ASK)) {
    kind = 'quotes';
    used = [TIME, SYMBOL, BID, ASK, BID_SIZE, ASK_SIZE];
  } else if (has(PRICE, SIZE)) {
    kind = 'trades';
    used = [TIME, SYMBOL, PRICE, SIZE, SIDE, ID, BUYER_MAKER];
  } else {
    throw new ValidationError(
      'UNKNOWN_FORMAT',
      `header '${headerLine}' matches no known layout (bars: open/high/low/close; quotes: bid/ask; trades: price/size; depth: first_update_id/last_update_id/side/price/qty)`,
      `${path}:1`,
    );
  }
  // Only the roles of the detected kind are parsed; every other column is skipped.
  for (const role of used) if (columnOf[role] >= 0) roles[columnOf[role]] = role;
  for (let r = 0; r < ROLE_COUNT; r++) if (!used.includes(r)) columnOf[r] = -1;
  return { kind, names, roles, columnOf, tardisLevels: tardisLevels.length > 0 ? tardisLevels : undefined };
}

const MAX_EXACT_MANTISSA = Number.MAX_SAFE_INTEGER;
const POW10 = Array.from({ length: 10 }, (_, i) => 10 ** i);
/** End of the field scanned by the last scanNumberField call (its comma or the line end). */
let fieldEnd = 0;

/**
 * Number parsing fused with finding the field's end, so each numeric byte is read once. `end` is the
 * end of the buffered data, not of the line: the field ends at a comma, a newline (a CR before it
 * belongs to the line break) or `end`. Plain decimals of at most 9 integer and 9 fraction digits are
 * converted exactly (their digits as one integer / power of ten, see scan.ts); anything else is handed
 * to scanNumber with the field's bounds.
 */
function scanNumberField(b: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = i < end && b[i] === 45;
  if (negative) i++;
  // Each part is summed in int32 (`| 0`): a digit then costs an integer multiply-add, where a running
  // double would chain a floating multiply and add per digit. Parts longer than 9 digits (which could
  // wrap) take the slow path below.
  const integerStart = i;
  let integer = 0;
  let c = 0;
  while (i < end && (c = b[i] - 48) >= 0 && c <= 9) {
    integer = (integer * 10 + c) | 0;
    i++;
  }
  const integerDigits = i - integerStart;
  let fraction = 0;
  let fractionDigits = 0;
  if (i < end && b[i] === 46) {
    const fractionStart = ++i;
    while (i < end && (c = b[i] - 48) >= 0 && c <= 9) {
      fraction = (fraction * 10 + c) | 0;
      i++;
    }
    fractionDigits = i - fractionStart;
  }
  if (integerDigits + fractionDigits > 0 && integerDigits <= 9 && fractionDigits <= 9 && endsField(b, i, end)) {
    // Prices like `46319.0` skip the division. Otherwise all digits as one integer: exact while it
    // stays a safe integer, and one correctly rounded division by an exact power of ten.
    let v = integer;
    if (fraction !== 0) {
      const mantissa = integer * POW10[fractionDigits] + fraction;
      if (mantissa <= MAX_EXACT_MANTISSA) v = mantissa / POW10[fractionDigits];
      else v = NaN;
    }
    if (v === v) {
      fieldEnd = i;
      return negative ? -v : v;
    }
  }
  const e = textFieldEnd(b, i, end);
  fieldEnd = e;
  return scanNumber(b, start, e);
}

/** Whether a field can end at `i`: a comma, a newline, a CRLF or the end of the data. */
function endsField(b: Uint8Array, i: number, end: number): boolean {
  if (i === end) return true;
  const c = b[i];
  return c === 44 || c === 10 || (c === 13 && (i + 1 === end || b[i + 1] === 10));
}

/** The time field read in one pass when it has the common date-time layout; sets fieldEnd. */
function scanTimeField(b: Uint8Array, start: number, end: number): number {
  const us = scanDateTimePrefix(b, start, end);
  if (!Number.isNaN(us) && endsField(b, dateTimePrefixEnd(), end)) {
    fieldEnd = dateTimePrefixEnd();
    return us;
  }
  fieldEnd = textFieldEnd(b, start, end);
  return scanTimestamp(b, start, fieldEnd);
}

/** End of the field holding `i`: its comma, or the line end without the CR of a CRLF. */
function textFieldEnd(b: Uint8Array, i: number, end: number): number {
  const from = i;
  let c = 0;
  while (i < end && (c = b[i]) !== 44 && c !== 10) i++;
  if (i > from && b[i - 1] === 13 && (i === end || c === 10)) i--;
  return i;
}

/** One row's fields: numbers already parsed for numeric roles, byte ranges for everything. */
class RowFields {
  readonly value = new Float64Array(ROLE_COUNT);
  readonly start = new Int32Array(ROLE_COUNT);
  readonly end = new Int32Array(ROLE_COUNT);
  /** Byte ranges of every column, for layouts addressed by column (Tardis levels). */
  columnStart = new Int32Array(64);
  columnEnd = new Int32Array(64);
  count = 0;
}

interface RowSink {
  event(e: MarketEvent, line: number): void;
  reject(entry: QuarantineEntry): void;
}

/** Turns CSV lines into events; `finish()` emits whatever a multi-row event still holds. */
abstract class RowParser {
  protected readonly fields = new RowFields();
  protected buf: Uint8Array = new Uint8Array(0);
  protected lineStart = 0;
  protected lineEnd = 0;
  /** The header is line 1; parse() is handed the lines after it. */
  protected lineNo = 1;
  protected readonly requiredFields: number;
  private symbolCache = '';
  private symbolBytes: Uint8Array = new Uint8Array(0);

  constructor(
    protected readonly layout: CsvLayout,
    protected readonly path: string,
    protected readonly defaultSymbol: string,
    protected readonly out: RowSink,
  ) {
    let maxColumn = 0;
    for (let r = 1; r < ROLE_COUNT; r++) maxColumn = Math.max(maxColumn, layout.columnOf[r]);
    for (const level of layout.tardisLevels ?? []) maxColumn = Math.max(maxColumn, level[2], level[3]);
    this.requiredFields = maxColumn + 1;
    if (this.requiredFields > this.fields.columnStart.length) {
      this.fields.columnStart = new Int32Array(this.requiredFields);
      this.fields.columnEnd = new Int32Array(this.requiredFields);
    }
  }

  /** False while the parser still holds events it cannot finish (bars before the interval is known). */
  ready(): boolean {
    return true;
  }

  finish(): void {}

  /**
   * Parses up to `budget` lines of [start, end), where `end` is just past a newline or the end of the
   * data, and returns where it stopped (the start of the next line).
   */
  parse(b: Uint8Array, start: number, end: number, budget: number): number {
    this.buf = b;
    let s = start;
    for (let n = 0; n < budget && s < end; n++) {
      this.lineNo++;
      const c = b[s];
      if (c === 10) {
        s++;
        continue;
      }
      if (c === 13 && (s + 1 === end || b[s + 1] === 10)) {
        s = s + 1 === end ? end : s + 2;
        continue;
      }
      this.lineStart = s;
      const e = this.split(b, s, end);
      this.lineEnd = e;
      if (this.fields.count >= this.requiredFields) this.row();
      else this.rejectMissing();
      // e is the line's newline, the CR of its CRLF, or the end of the data.
      s = e === end ? end : b[e] === 10 ? e + 1 : e + 1 === end ? end : e + 2;
    }
    return s;
  }

  protected abstract row(): void;

  /** Scans the fields of the line starting at `s`; returns where the line's text ends. */
  private split(b: Uint8Array, s: number, end: number): number {
    const f = this.fields;
    const roles = this.layout.roles;
    const keepColumns = this.layout.tardisLevels !== undefined;
    let column = 0;
    for (;;) {
      const role = column < roles.length ? roles[column] : SKIP;
      let e: number;
      if (role === TIME) {
        f.value[TIME] = scanTimeField(b, s, end);
        e = fieldEnd;
      } else if (role !== SKIP && IS_TEXT_ROLE[role] === 0) {
        f.value[role] = scanNumberField(b, s, end);
        e = fieldEnd;
      } else {
        // Only text fields keep their bytes' range; a value's text is found again if a message needs it.
        e = textFieldEnd(b, s, end);
        f.start[role] = s;
        f.end[role] = e;
      }
      if (keepColumns && column < f.columnStart.length) {
        f.columnStart[column] = s;
        f.columnEnd[column] = e;
      }
      column++;
      if (e === end || b[e] !== 44) {
        f.count = column;
        return e;
      }
      s = e + 1;
    }
  }

  private rejectMissing(): void {
    const column = this.fields.count;
    const missing = this.layout.names[column] ?? `column ${column + 1}`;
    this.reject('PARSE_ERROR', `${missing}: missing (expected ${this.requiredFields} fields, got ${column})`);
  }

  protected where(): string {
    return `${this.path}:${this.lineNo}`;
  }

  protected raw(): string {
    return this.bytesText(this.lineStart, this.lineEnd);
  }

  protected text(role: number): string {
    if (IS_TEXT_ROLE[role] === 1) return this.bytesText(this.fields.start[role], this.fields.end[role]);
    // A number's or the time's range was not kept: walk the line to its column (messages only).
    let s = this.lineStart;
    for (let c = this.layout.columnOf[role]; c > 0; c--) s = textFieldEnd(this.buf, s, this.lineEnd) + 1;
    return this.bytesText(s, textFieldEnd(this.buf, s, this.lineEnd));
  }

  private bytesText(start: number, end: number): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start).toString('utf8');
  }

  protected reject(reason: QualityReason, message: string): void {
    const ts = this.fields.value[TIME];
    this.out.reject({
      reason,
      where: this.where(),
      message,
      ts: Number.isFinite(ts) && ts > 0 ? ts : undefined,
      raw: this.raw(),
      rejected: true,
    });
  }

  /** The row's timestamp, or rejects the row and returns NaN. */
  protected time(): number {
    const ts = this.fields.value[TIME];
    if (Number.isNaN(ts)) this.reject('PARSE_ERROR', `${this.layout.names[this.layout.columnOf[TIME]]}: cannot parse '${this.text(TIME)}': ${lastTimestampFailure()}`);
    return ts;
  }

  /** Rejects the row when a numeric field is not a number, not finite, or below its floor. */
  protected badNumber(role: number, strictlyPositive: boolean): boolean {
    const v = this.fields.value[role];
    if (strictlyPositive ? v > 0 && v < Infinity : v >= 0 && v < Infinity) return false;
    this.rejectNumber(this.layout.names[this.layout.columnOf[role]], this.text(role), v, strictlyPositive);
    return true;
  }

  protected rejectNumber(name: string, text: string, v: number, strictlyPositive: boolean): void {
    if (text.trim() === '') this.reject('PARSE_ERROR', `${name}: empty`);
    else if (Number.isNaN(v)) {
      const reason = badNumberReason(text);
      this.reject(reason, reason === 'PARSE_ERROR' ? `${name}: '${text}' is not a number` : `${name}: ${text} is not a finite number`);
    } else if (!Number.isFinite(v)) this.reject('INVALID_VALUE', `${name}: ${text} is not a finite number`);
    else this.reject('INVALID_VALUE', `${name}: ${v} must be ${strictlyPositive ? '> 0' : '>= 0'}`);
  }

  protected symbol(): string {
    const column = this.layout.columnOf[SYMBOL];
    if (column < 0) return this.defaultSymbol;
    const s = this.fields.start[SYMBOL];
    const e = this.fields.end[SYMBOL];
    const cached = this.symbolBytes;
    if (cached.length === e - s) {
      let same = true;
      for (let i = 0; i < cached.length; i++) {
        if (cached[i] !== this.buf[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.symbolCache;
    }
    this.symbolBytes = this.buf.slice(s, e);
    this.symbolCache = this.text(SYMBOL).trim();
    return this.symbolCache;
  }

  /** Rejects the row when the symbol column is empty. */
  protected badSymbol(symbol: string): boolean {
    if (symbol !== '') return false;
    this.reject('PARSE_ERROR', `${this.layout.names[this.layout.columnOf[SYMBOL]]}: empty`);
    return true;
  }
}

/** How many leading bars decide the bar interval. */
const INTERVAL_SAMPLE = 64;

class BarParser extends RowParser {
  private intervalUs: number | undefined;
  private readonly sample: Mutable<Bar>[] = [];

  constructor(layout: CsvLayout, path: string, symbol: string, out: RowSink, intervalUs: number | undefined) {
    super(layout, path, symbol, out);
    this.intervalUs = intervalUs;
  }

  override ready(): boolean {
    return this.intervalUs !== undefined;
  }

  override finish(): void {
    if (this.intervalUs === undefined) this.fixInterval();
  }

  protected row(): void {
    const ts = this.time();
    if (Number.isNaN(ts)) return;
    const v = this.fields.value;
    const open = v[OPEN];
    const high = v[HIGH];
    const low = v[LOW];
    const close = v[CLOSE];
    const hasVolume = this.layout.columnOf[VOLUME] >= 0;
    // All valid, checked at once; otherwise field by field, for the first one's message.
    const valid = open > 0 && open < Infinity && high > 0 && high < Infinity && low > 0 && low < Infinity && close > 0 && close < Infinity;
    if (!valid && (this.badNumber(OPEN, true) || this.badNumber(HIGH, true) || this.badNumber(LOW, true) || this.badNumber(CLOSE, true))) return;
    if (hasVolume && this.badNumber(VOLUME, false)) return;
    if (high < low) return this.reject('INVALID_VALUE', `high ${high} < low ${low}`);
    if (high < open || high < close) return this.reject('INVALID_VALUE', `high ${high} below open ${open} or close ${close}`);
    if (low > open || low > close) return this.reject('INVALID_VALUE', `low ${low} above open ${open} or close ${close}`);
    const symbol = this.symbol();
    if (this.badSymbol(symbol)) return;
    const bar: Mutable<Bar> = {
      kind: 'bar',
      symbol,
      ts,
      intervalUs: this.intervalUs ?? 0,
      open,
      high,
      low,
      close,
      volume: hasVolume ? v[VOLUME] : 0,
    };
    if (this.intervalUs === undefined) {
      this.sample.push(bar);
      if (this.sample.length >= INTERVAL_SAMPLE) this.fixInterval();
    }
    this.out.event(bar, this.lineNo);
  }

  /** The smallest positive gap between consecutive leading bars is the bar length (gaps are missing bars). */
  private fixInterval(): void {
    let smallest = Infinity;
    for (let i = 1; i < this.sample.length; i++) {
      const gap = this.sample[i].ts - this.sample[i - 1].ts;
      if (gap > 0 && gap < smallest) smallest = gap;
    }
    this.intervalUs = Number.isFinite(smallest) ? smallest : 0;
    for (const bar of this.sample) bar.intervalUs = this.intervalUs;
    this.sample.length = 0;
  }
}

class QuoteParser extends RowParser {
  protected row(): void {
    const ts = this.time();
    if (Number.isNaN(ts)) return;
    if (this.badNumber(BID, true) || this.badNumber(ASK, true)) return;
    const hasBidSize = this.layout.columnOf[BID_SIZE] >= 0;
    const hasAskSize = this.layout.columnOf[ASK_SIZE] >= 0;
    if ((hasBidSize && this.badNumber(BID_SIZE, false)) || (hasAskSize && this.badNumber(ASK_SIZE, false))) return;
    const symbol = this.symbol();
    if (this.badSymbol(symbol)) return;
    const v = this.fields.value;
    const quote: Mutable<Quote> = { kind: 'quote', symbol, ts, bid: v[BID], ask: v[ASK] };
    if (hasBidSize) quote.bidSize = v[BID_SIZE];
    if (hasAskSize) quote.askSize = v[ASK_SIZE];
    this.out.event(quote, this.lineNo);
  }
}

/** Venue side words to the aggressor side; undefined for unknown/empty. */
export function aggressorSide(text: string): Side | undefined {
  switch (text.trim().toLowerCase()) {
    case 'buy':
    case 'b':
    case 'bid':
      return 'buy';
    case 'sell':
    case 's':
    case 'ask':
    case 'a':
      return 'sell';
    default:
      return undefined;
  }
}

class TradeParser extends RowParser {
  protected row(): void {
    const ts = this.time();
    if (Number.isNaN(ts)) return;
    if (this.badNumber(PRICE, true) || this.badNumber(SIZE, true)) return;
    const symbol = this.symbol();
    if (this.badSymbol(symbol)) return;
    const v = this.fields.value;
    const trade: Mutable<Trade> = { kind: 'trade', symbol, ts, price: v[PRICE], size: v[SIZE] };
    if (this.layout.columnOf[SIDE] >= 0) {
      const side = aggressorSide(this.text(SIDE));
      if (side) trade.side = side;
    } else if (this.layout.columnOf[BUYER_MAKER] >= 0) {
      // A maker buyer means the seller crossed the spread.
      const maker = this.text(BUYER_MAKER).trim().toLowerCase();
      if (maker === 'true') trade.side = 'sell';
      else if (maker === 'false') trade.side = 'buy';
    }
    if (this.layout.columnOf[ID] >= 0) {
      const id = this.text(ID).trim();
      if (id !== '') trade.tradeId = id;
    }
    this.out.event(trade, this.lineNo);
  }
}

/** Binance depth CSV: consecutive rows with the same update ids form one DepthUpdate. */
class BinanceDepthParser extends RowParser {
  private pending: Mutable<DepthUpdate> & { bids: Level[]; asks: Level[] } | undefined;
  private pendingLine = 0;

  protected row(): void {
    const ts = this.time();
    if (Number.isNaN(ts)) return;
    const v = this.fields.value;
    for (const role of [FIRST_ID, LAST_ID]) {
      if (!Number.isSafeInteger(v[role]) || v[role] < 0) {
        return this.reject('PARSE_ERROR', `${this.layout.names[this.layout.columnOf[role]]}: '${this.text(role)}' is not an update id`);
      }
    }
    if (this.badNumber(PRICE, true) || this.badNumber(SIZE, false)) return;
    const sideText = this.text(SIDE).trim().toLowerCase();
    const side = aggressorSide(sideText);
    if (!side) return this.reject('PARSE_ERROR', `${this.layout.names[this.layout.columnOf[SIDE]]}: '${sideText}' is neither bid nor ask`);
    const symbol = this.symbol();
    if (this.badSymbol(symbol)) return;
    const first = v[FIRST_ID];
    const last = v[LAST_ID];
    const p = this.pending;
    if (p && (p.firstUpdateId !== first || p.lastUpdateId !== last || p.symbol !== symbol)) this.emit();
    if (!this.pending) {
      const snapshot = this.layout.columnOf[UPDATE_TYPE] >= 0 && this.text(UPDATE_TYPE).trim().toLowerCase() === 'snap';
      const update: Mutable<DepthUpdate> & { bids: Level[]; asks: Level[] } = {
        kind: 'depth',
        symbol,
        ts,
        firstUpdateId: first,
        lastUpdateId: last,
        snapshot,
        bids: [],
        asks: [],
      };
      // Binance writes pu = -1 when there is no previous update (spot, snapshots).
      const prev = this.layout.columnOf[PREV_ID] >= 0 ? v[PREV_ID] : -1;
      if (Number.isSafeInteger(prev) && prev >= 0 && !snapshot) update.prevUpdateId = prev;
      this.pending = update;
      this.pendingLine = this.lineNo;
    }
    const level: Level = [v[PRICE], v[SIZE]];
    if (side === 'buy') this.pending!.bids.push(level);
    else this.pending!.asks.push(level);
  }

  override finish(): void {
    this.emit();
  }

  private emit(): void {
    if (!this.pending) return;
    this.out.event(this.pending, this.pendingLine);
    this.pending = undefined;
  }
}

/** Tardis book_snapshot_N: every row is a full N-level snapshot. */
class TardisSnapshotParser extends RowParser {
  protected row(): void {
    const ts = this.time();
    if (Number.isNaN(ts)) return;
    const symbol = this.symbol();
    if (this.badSymbol(symbol)) return;
    const bids: Level[] = [];
    const asks: Level[] = [];
    const f = this.fields;
    for (const [side, , priceColumn, amountColumn] of this.layout.tardisLevels ?? []) {
      const ps = f.columnStart[priceColumn];
      const pe = f.columnEnd[priceColumn];
      const as = f.columnStart[amountColumn];
      const ae = f.columnEnd[amountColumn];
      if (ps === pe && as === ae) continue; // the book is shallower than N levels
      const price = scanNumber(this.buf, ps, pe);
      const amount = scanNumber(this.buf, as, ae);
      if (!(price > 0 && price < Infinity)) return this.rejectColumn(priceColumn, price, true);
      if (!(amount >= 0 && amount < Infinity)) return this.rejectColumn(amountColumn, amount, false);
      (side === 0 ? bids : asks).push([price, amount]);
    }
    bids.sort((x, y) => y[0] - x[0]);
    asks.sort((x, y) => x[0] - y[0]);
    const update: DepthUpdate = { kind: 'depth', symbol, ts, firstUpdateId: 0, lastUpdateId: 0, snapshot: true, bids, asks };
    this.out.event(update, this.lineNo);
  }

  private rejectColumn(column: number, v: number, strictlyPositive: boolean): void {
    const text = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.fields.columnStart[column], this.fields.columnEnd[column] - this.fields.columnStart[column]).toString('utf8');
    this.rejectNumber(this.layout.names[column], text, v, strictlyPositive);
  }
}

/** The symbol named in a data line, when the layout has a symbol column. */
export function csvSymbolOf(layout: CsvLayout, dataLine: string): string | undefined {
  const column = layout.columnOf[SYMBOL];
  if (column < 0) return undefined;
  const symbol = dataLine.split(',')[column]?.trim();
  return symbol ? symbol : undefined;
}

function makeParser(layout: CsvLayout, path: string, symbol: string, out: RowSink, intervalUs: number | undefined): RowParser {
  switch (layout.kind) {
    case 'bars':
      return new BarParser(layout, path, symbol, out, intervalUs);
    case 'quotes':
      return new QuoteParser(layout, path, symbol, out);
    case 'trades':
      return new TradeParser(layout, path, symbol, out);
    case 'depth':
      return layout.tardisLevels ? new TardisSnapshotParser(layout, path, symbol, out) : new BinanceDepthParser(layout, path, symbol, out);
  }
}

/**
 * Reads the CSV in ~1 MiB chunks into two reused buffers, the next read running while the current
 * buffer is parsed, and yields batches of about `batchSize` events. A line cut by a read moves to the
 * front of the other buffer; a buffer grows only for a line longer than a chunk.
 */
export async function* csvBatches(
  path: string,
  layout: CsvLayout,
  symbol: string,
  batchSize: number,
  intervalUs: number | undefined,
): AsyncGenerator<SourceBatch> {
  let events: MarketEvent[] = [];
  let rejected: QuarantineEntry[] = [];
  let lines: number[] = [];
  const parser = makeParser(layout, path, symbol, {
    event(e, line) {
      events.push(e);
      lines.push(line);
    },
    reject(entry) {
      rejected.push(entry);
    },
  }, intervalUs);
  let bytesRead = 0;
  const take = (): SourceBatch => {
    const batch = { events, rejected, lines, bytesRead };
    events = [];
    rejected = [];
    lines = [];
    return batch;
  };
  const full = () => (events.length >= batchSize || rejected.length >= batchSize) && parser.ready();
  const room = () => Math.max(1, batchSize - Math.max(events.length, rejected.length));

  const handle = await open(path, 'r');
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    let buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let next = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let filled = (await handle.read(buf, 0, buf.length, 0)).bytesRead;
    let position = filled;
    bytesRead = filled;
    let inHeader = true;
    for (let eof = filled === 0; ; ) {
      // Up to the last newline the buffer holds whole lines; at the end of the file, all of it.
      const complete = eof ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      const tail = filled - complete;
      if (!eof) {
        if (next.length - tail < READ_CHUNK_BYTES / 2) next = Buffer.allocUnsafe(tail + READ_CHUNK_BYTES);
        buf.copy(next, 0, complete, filled);
        reading = handle.read(next, tail, next.length - tail, position);
        // Failures surface where the read is awaited, not as an unhandled rejection meanwhile.
        reading.catch(() => {});
      }
      let pos = 0;
      if (inHeader && complete > 0) {
        const nl = buf.indexOf(10);
        pos = nl < 0 || nl >= complete ? complete : nl + 1;
        inHeader = false;
      }
      while (pos < complete) {
        pos = parser.parse(buf, pos, complete, room());
        if (full()) yield take();
      }
      if (eof) break;
      const got = (await reading!).bytesRead;
      reading = undefined;
      position += got;
      bytesRead += got;
      [buf, next] = [next, buf];
      filled = tail + got;
      eof = got === 0;
    }
  } finally {
    // An abandoned stream still lets its last read land before the file closes.
    await reading?.catch(() => {});
    await handle.close();
  }
  parser.finish();
  if (events.length > 0 || rejected.length > 0) yield take();
}
