import { ValidationError } from '../util/errors.ts';

/**
 * Timestamp parsing for market data: ISO-8601 dates/date-times and epoch numbers, to epoch
 * microseconds. The byte scanner is the hot path of every CSV reader, so it does civil-date
 * arithmetic by hand instead of calling Date.parse, and reports failure as NaN plus a reason kept
 * in a module variable (no allocation per row).
 */

const US_PER_SECOND = 1_000_000;
const US_PER_DAY = 86_400 * US_PER_SECOND;
const MAX_FRACTION_DIGITS = 9;
/** µs multiplier for the first 6 fraction digits, by digit position. */
const FRACTION_SCALE = [100_000, 10_000, 1_000, 100, 10, 1];

let failure = '';

/** Why the last scanTimestamp call returned NaN. */
export function lastTimestampFailure(): string {
  return failure;
}

function fail(reason: string): number {
  failure = reason;
  return NaN;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Reads exactly `n` digits at `i`, or -1. */
function digits(b: Uint8Array, i: number, n: number, end: number): number {
  if (i + n > end) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[i + k];
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * Parses bytes [start, end) to epoch microseconds, or NaN (see lastTimestampFailure()).
 * Accepts `YYYY-MM-DD`, `YYYY-MM-DD[ T]HH:MM[:SS[.f{1,9}]][Z|±HH[:MM]]`, and epoch numbers whose
 * unit follows from the integer digit count: <=10 s, 11-13 ms, 14-16 µs, 17-19 ns.
 */
export function scanTimestamp(b: Uint8Array, start: number, end: number): number {
  if (start >= end) return fail('empty timestamp');
  let leading = 0;
  while (start + leading < end && isDigit(b[start + leading])) leading++;
  if (leading === 4 && start + 4 < end && b[start + 4] === 45) return scanIso(b, start, end);
  if (leading === 0) return fail('expected an ISO-8601 date or epoch number');
  return scanEpoch(b, start, end, leading);
}

function scanEpoch(b: Uint8Array, start: number, end: number, intDigits: number): number {
  const intEnd = start + intDigits;
  let fracEnd = intEnd;
  if (intEnd < end) {
    if (b[intEnd] !== 46) return fail(`unexpected character '${String.fromCharCode(b[intEnd])}' in epoch number`);
    fracEnd = intEnd + 1;
    while (fracEnd < end && isDigit(b[fracEnd])) fracEnd++;
    if (fracEnd !== end || fracEnd === intEnd + 1) return fail('malformed fraction in epoch number');
  }
  /** Leading digits that make up whole units, and what one unit is worth in µs. */
  let unitDigits: number;
  let scaleToUs: number;
  if (intDigits <= 10) [unitDigits, scaleToUs] = [intDigits, US_PER_SECOND];
  else if (intDigits <= 13) [unitDigits, scaleToUs] = [intDigits, 1_000];
  else if (intDigits <= 16) [unitDigits, scaleToUs] = [intDigits, 1];
  else if (intDigits <= 19) [unitDigits, scaleToUs] = [intDigits - 3, 1]; // ns: drop the sub-µs digits
  else return fail(`epoch number has ${intDigits} digits (at most 19 for nanoseconds)`);
  let whole = 0;
  for (let i = start; i < start + unitDigits; i++) whole = whole * 10 + (b[i] - 48);
  let us = whole * scaleToUs;
  // Fraction digits only matter above µs resolution (seconds and milliseconds).
  let fracScale = scaleToUs / 10;
  for (let i = intEnd + 1; i < fracEnd && fracScale >= 1; i++, fracScale /= 10) us += (b[i] - 48) * fracScale;
  if (!Number.isSafeInteger(us)) return fail('epoch number beyond the representable range');
  if (us <= 0) return fail('timestamp must be after 1970-01-01');
  return us;
}

/** Two ASCII digits as a number, or a negative value when either is not a digit. */
function twoDigits(b: Uint8Array, i: number): number {
  const hi = b[i] - 48;
  const lo = b[i + 1] - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}

let cachedDateKey = -1;
let cachedDateUs = 0;
let prefixEnd = 0;

/** Where the text read by the last successful scanDateTimePrefix call ends. */
export function dateTimePrefixEnd(): number {
  return prefixEnd;
}

/**
 * `YYYY-MM-DD HH:MM:SS` with nothing, a fraction, a `Z` or both after it, at the start of bytes
 * [start, end): the layouts of nearly every data file (`Z` is what toISOString writes). Returns µs
 * with dateTimePrefixEnd() just past the text read, so a reader can look for the field's end there;
 * NaN (without a failure reason) for anything else.
 */
export function scanDateTimePrefix(b: Uint8Array, start: number, end: number): number {
  if (end - start < 19 || b[start + 4] !== 45 || b[start + 7] !== 45 || b[start + 13] !== 58 || b[start + 16] !== 58) return NaN;
  const sep = b[start + 10];
  if (sep !== 32 && sep !== 84) return NaN;
  const century = twoDigits(b, start);
  const yy = twoDigits(b, start + 2);
  const month = twoDigits(b, start + 5);
  const day = twoDigits(b, start + 8);
  const hour = twoDigits(b, start + 11);
  const minute = twoDigits(b, start + 14);
  const second = twoDigits(b, start + 17);
  if ((century | yy | month | day | hour | minute | second) < 0) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  // Consecutive rows mostly share their date: reuse its day count.
  const dateKey = ((century * 100 + yy) * 100 + month) * 100 + day;
  if (dateKey !== cachedDateKey) {
    const year = century * 100 + yy;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || (day > 28 && day > daysInMonth(year, month))) return NaN;
    cachedDateKey = dateKey;
    cachedDateUs = daysFromCivil(year, month, day) * US_PER_DAY;
  }
  let us = cachedDateUs + (hour * 3600 + minute * 60 + second) * US_PER_SECOND;
  let i = start + 19;
  if (i < end && b[i] === 46) {
    i++;
    let n = 0;
    for (let d = 0; i < end && (d = b[i] - 48) >= 0 && d <= 9; i++, n++) {
      if (n < 6) us += d * FRACTION_SCALE[n];
    }
    if (n === 0 || n > MAX_FRACTION_DIGITS) return NaN;
  }
  // UTC said explicitly: the same instant.
  if (i < end && (b[i] === 90 || b[i] === 122)) i++;
  prefixEnd = i;
  return us;
}

function scanIso(b: Uint8Array, start: number, end: number): number {
  // Anything unusual (offsets, no seconds, bad values) takes the general path, which explains failures.
  const common = scanDateTimePrefix(b, start, end);
  if (!Number.isNaN(common) && prefixEnd === end) return common;
  const year = digits(b, start, 4, end);
  const month = digits(b, start + 5, 2, end);
  if (month < 0 || b[start + 7] !== 45) return fail('expected YYYY-MM-DD');
  const day = digits(b, start + 8, 2, end);
  if (day < 0) return fail('expected YYYY-MM-DD');
  if (month < 1 || month > 12) return fail(`month ${month} out of range`);
  if (day < 1 || day > daysInMonth(year, month)) return fail(`day ${day} out of range for ${year}-${month}`);
  if (year < 1970) return fail('timestamp must be after 1970-01-01');
  let us = daysFromCivil(year, month, day) * US_PER_DAY;
  let i = start + 10;
  if (i === end) return us;
  if (b[i] !== 32 && b[i] !== 84 && b[i] !== 116) return fail(`expected ' ' or 'T' after the date`);
  i++;
  const hour = digits(b, i, 2, end);
  const minute = digits(b, i + 3, 2, end);
  if (hour < 0 || b[i + 2] !== 58 || minute < 0) return fail('expected HH:MM after the date');
  if (hour > 23 || minute > 59) return fail(`time ${hour}:${minute} out of range`);
  i += 5;
  let second = 0;
  if (i < end && b[i] === 58) {
    second = digits(b, i + 1, 2, end);
    if (second < 0) return fail('expected SS after HH:MM:');
    if (second > 59) return fail(`second ${second} out of range`);
    i += 3;
  }
  us += (hour * 3600 + minute * 60 + second) * US_PER_SECOND;
  if (i < end && b[i] === 46) {
    i++;
    let n = 0;
    while (i < end && isDigit(b[i])) {
      if (n < 6) us += (b[i] - 48) * FRACTION_SCALE[n];
      n++;
      i++;
    }
    if (n === 0) return fail('empty fraction of a second');
    if (n > MAX_FRACTION_DIGITS) return fail(`fraction of a second has ${n} digits (at most 9)`);
  }
  if (i === end) return us;
  const c = b[i];
  if (c === 90 || c === 122) return i + 1 === end ? us : fail('unexpected text after Z');
  if (c !== 43 && c !== 45) return fail(`unexpected character '${String.fromCharCode(c)}' in time`);
  const offHour = digits(b, i + 1, 2, end);
  if (offHour < 0 || offHour > 23) return fail('malformed UTC offset');
  let j = i + 3;
  let offMinute = 0;
  if (j < end) {
    if (b[j] === 58) j++;
    offMinute = digits(b, j, 2, end);
    if (offMinute < 0 || offMinute > 59) return fail('malformed UTC offset');
    j += 2;
  }
  if (j !== end) return fail('unexpected text after UTC offset');
  const offsetUs = (offHour * 3600 + offMinute * 60) * US_PER_SECOND;
  us += c === 43 ? -offsetUs : offsetUs;
  return us > 0 ? us : fail('timestamp must be after 1970-01-01');
}

/** Parses a timestamp string to epoch microseconds; throws a ValidationError naming the reason. */
export function parseTimestamp(text: string, where?: string): number {
  const trimmed = text.trim();
  const us = scanTimestamp(Buffer.from(trimmed, 'latin1'), 0, trimmed.length);
  if (Number.isNaN(us)) throw new ValidationError('BAD_TIMESTAMP', `cannot parse timestamp '${text}': ${failure}`, where);
  return us;
}
