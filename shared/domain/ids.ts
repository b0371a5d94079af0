/**
 * Deterministic client order id: a hash of the decision itself, so the same intent delivered twice
 * (retry, redelivery, Lambda re-invocation) names the same order and dedup becomes a key lookup.
 * The hash is a 128-bit non-cryptographic mix (ids need uniqueness, not secrecy); it runs once per
 * decision and costs a fraction of a microsecond, where sha256 through node:crypto cost several.
 */
export function clientOrderId(decision: {
  accountId: string;
  strategyId: string;
  symbol: string;
  ts: number;
  side: string;
  qty: number;
  /** Distinguishes several decisions a strategy makes at the same instant for the same symbol. */
  seq?: number;
}): string {
  // The key `accountId|strategyId|symbol|ts|side|qty|seq` is written as code units, not built as a
  // string. Its `accountId|strategyId|symbol|` prefix is the same from one id to the next: the lanes
  // after hashing it are kept, so an id hashes only the rest (same units, same order, same hash).
  if (decision.accountId !== prefixAccountId || decision.strategyId !== prefixStrategyId || decision.symbol !== prefixSymbol) {
    keyLength = 0;
    putText(decision.accountId);
    putText('|');
    putText(decision.strategyId);
    putText('|');
    putText(decision.symbol);
    putText('|');
    startLanes();
    mixKey();
    prefixLength = keyLength;
    prefixLanes[0] = laneA;
    prefixLanes[1] = laneB;
    prefixLanes[2] = laneC;
    prefixLanes[3] = laneD;
    prefixAccountId = decision.accountId;
    prefixStrategyId = decision.strategyId;
    prefixSymbol = decision.symbol;
  }
  keyLength = 0;
  putNumber(decision.ts);
  putText('|');
  putText(decision.side);
  putText('|');
  putNumber(decision.qty);
  putText('|');
  putNumber(decision.seq ?? 0);
  laneA = prefixLanes[0];
  laneB = prefixLanes[1];
  laneC = prefixLanes[2];
  laneD = prefixLanes[3];
  mixKey();
  finishHash(prefixLength + keyLength, ID_CODES, ID_PREFIX.length);
  return String.fromCharCode.apply(null, ID_CODES);
}

export function execId(clientOrderId: string, fillSeq: number): string {
  return `${clientOrderId}-f${fillSeq}`;
}

const M1 = 0x85ebca6b;
const M2 = 0xc2b2ae35;
const M3 = 0x27d4eb2f;
const M4 = 0x165667b1;

/** Final avalanche: every input bit flips each output bit with probability ~1/2. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, M1);
  h ^= h >>> 13;
  h = Math.imul(h, M2);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX_CODES = Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
const ID_PREFIX = 'ap-';
/** Char codes of the id being made: the prefix, then the first 29 hex digits of the hash. */
const ID_CODES = Array.from(ID_PREFIX.padEnd(32, '0'), (ch) => ch.charCodeAt(0));
/** Decimal digits of an integer being written, least significant first (2^53 has 16). */
const DIGIT_CODES = new Array<number>(16).fill(0);
/** Char codes of a full 128-bit hash. */
const HASH_CODES = new Array<number>(32).fill(0);

// The key being hashed, as UTF-16 code units: module-level so an id costs no allocation (JS is
// single-threaded; ids are not made re-entrantly).
let key = new Uint16Array(256);
let keyLength = 0;

function putCode(k: number): void {
  if (keyLength === key.length) {
    const grown = new Uint16Array(key.length * 2);
    grown.set(key);
    key = grown;
  }
  key[keyLength++] = k;
}

function putText(text: string): void {
  for (let i = 0; i < text.length; i++) putCode(text.charCodeAt(i));
}

/**
 * Writes String(x). Integers (timestamps, whole quantities) are written digit by digit: converting
 * a 16-digit timestamp to a string costs more than hashing it. The digits come from two halves
 * below 10^8 so every step is integer arithmetic (a double's % is a library call).
 */
function putNumber(x: number): void {
  if (!(Number.isSafeInteger(x) && x >= 0)) {
    putText(String(x));
    return;
  }
  let high = Math.floor(x / 1e8);
  let low = x - high * 1e8;
  // x / 1e8 may round up to the next integer just below a multiple of 10^8.
  if (low < 0) {
    high--;
    low += 1e8;
  }
  high |= 0;
  low |= 0;
  let n = 0;
  do {
    DIGIT_CODES[n++] = 48 + (low % 10);
    low = (low / 10) | 0;
  } while (low > 0 || (high > 0 && n < 8));
  while (high > 0) {
    DIGIT_CODES[n++] = 48 + (high % 10);
    high = (high / 10) | 0;
  }
  for (let i = n - 1; i >= 0; i--) putCode(DIGIT_CODES[i]);
}

// The hash's four lanes, module-level like the key so hashing allocates nothing.
let laneA = 0;
let laneB = 0;
let laneC = 0;
let laneD = 0;

/** The account, strategy and symbol whose key prefix was hashed last, its length and the lanes after it. */
let prefixAccountId: string | undefined;
let prefixStrategyId: string | undefined;
let prefixSymbol: string | undefined;
let prefixLength = 0;
const prefixLanes = new Int32Array(4);

function startLanes(): void {
  laneA = 0x6a09e667;
  laneB = 0xbb67ae85 | 0;
  laneC = 0x3c6ef372;
  laneD = 0xa54ff53a | 0;
}

/** Mixes the key's code units into the lanes: four chained 32-bit lanes, one code unit at a time. */
function mixKey(): void {
  let a = laneA;
  let b = laneB;
  let c = laneC;
  let d = laneD;
  const units = key;
  const length = keyLength;
  for (let i = 0; i < length; i++) {
    const k = units[i];
    a = Math.imul(a ^ k, M1);
    a = (a << 13) | (a >>> 19);
    b = (Math.imul(b ^ k, M2) + a) | 0;
    b = (b << 17) | (b >>> 15);
    c = (Math.imul(c ^ k, M3) + b) | 0;
    c = (c << 11) | (c >>> 21);
    d = (Math.imul(d ^ k, M4) + c) | 0;
    d = (d << 19) | (d >>> 13);
  }
  laneA = a;
  laneB = b;
  laneC = c;
  laneD = d;
}

/**
 * Ends a hash of `length` code units: a cross-lane avalanche, then the 128 bits as hex digit char
 * codes into `out` from `at`, as many as fit (a string made from them at once is flat, with no
 * pieces to join or slice).
 */
function finishHash(length: number, out: number[], at: number): void {
  let a = (laneA ^ length) | 0;
  let b = laneB;
  let c = laneC;
  let d = laneD;
  a = (a + b + c + d) | 0;
  b = (b + a) | 0;
  c = (c + a) | 0;
  d = (d + a) | 0;
  a = avalanche(a);
  b = avalanche(b ^ a);
  c = avalanche(c ^ b);
  d = avalanche(d ^ c);
  a = (a + b + c + d) | 0;
  b = (b + a) | 0;
  c = (c + a) | 0;
  d = (d + a) | 0;
  putHex(a, out, at);
  putHex(b, out, at + 8);
  putHex(c, out, at + 16);
  putHex(d, out, at + 24);
}

function putHex(x: number, out: number[], at: number): void {
  for (let i = at + 7; i >= at; i--) {
    if (i < out.length) out[i] = HEX_CODES[x & 15];
    x >>>= 4;
  }
}

export function hash128Hex(text: string): string {
  keyLength = 0;
  putText(text);
  startLanes();
  mixKey();
  finishHash(keyLength, HASH_CODES, 0);
  return String.fromCharCode.apply(null, HASH_CODES);
}
