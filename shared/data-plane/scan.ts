/**
 * Byte-level number scanning for the CSV readers. Decimal text with at most 2^53 in its digits is
 * converted as an exact integer divided by an exact power of ten, which IEEE division rounds
 * correctly, so the result equals Number(text); everything else takes the slow path.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_EXACT_MANTISSA = Number.MAX_SAFE_INTEGER;
// `\d+(\.\d*)?` rather than `\d+\.?\d*`: the latter backtracks quadratically on a long run of digits that fails to match.
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** Parses the decimal in bytes [start, end); NaN when it is not a plain decimal number. */
export function scanNumber(b: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && (b[i] === 45 || b[i] === 43)) {
    negative = b[i] === 45;
    i++;
  }
  let mantissa = 0;
  let digitCount = 0;
  let fractionDigits = 0;
  while (i < end) {
    const c = b[i];
    if (c < 48 || c > 57) break;
    mantissa = mantissa * 10 + (c - 48);
    digitCount++;
    i++;
  }
  if (i < end && b[i] === 46) {
    i++;
    while (i < end) {
      const c = b[i];
      if (c < 48 || c > 57) break;
      mantissa = mantissa * 10 + (c - 48);
      digitCount++;
      fractionDigits++;
      i++;
    }
  }
  if (i !== end || digitCount === 0 || mantissa > MAX_EXACT_MANTISSA || fractionDigits > 22) return slowNumber(b, start, end);
  const value = fractionDigits === 0 ? mantissa : mantissa / POW10[fractionDigits];
  return negative ? -value : value;
}

function slowNumber(b: Uint8Array, start: number, end: number): number {
  const text = latin1(b, start, end).trim();
  if (DECIMAL.test(text)) return Number(text);
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return NaN;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** Why a field's text is not an acceptable number: INVALID_VALUE for NaN/inf, PARSE_ERROR for garbage. */
export function badNumberReason(text: string): 'INVALID_VALUE' | 'PARSE_ERROR' {
  return NON_FINITE.test(text.trim()) ? 'INVALID_VALUE' : 'PARSE_ERROR';
}
