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
  const key = `${decision.accountId}|${decision.strategyId}|${decision.symbol}|${decision.ts}|${decision.side}|${decision.qty}|${decision.seq ?? 0}`;
  return 'ap-' + hash128Hex(key).slice(0, 29);
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

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(x: number): string {
  return HEX_BYTE[(x >>> 24) & 255] + HEX_BYTE[(x >>> 16) & 255] + HEX_BYTE[(x >>> 8) & 255] + HEX_BYTE[x & 255];
}

/** Four chained 32-bit lanes over the UTF-16 code units, then a cross-lane avalanche. */
export function hash128Hex(text: string): string {
  let a = 0x6a09e667;
  let b = 0xbb67ae85;
  let c = 0x3c6ef372;
  let d = 0xa54ff53a;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    a = Math.imul(a ^ k, M1);
    a = (a << 13) | (a >>> 19);
    b = (Math.imul(b ^ k, M2) + a) | 0;
    b = (b << 17) | (b >>> 15);
    c = (Math.imul(c ^ k, M3) + b) | 0;
    c = (c << 11) | (c >>> 21);
    d = (Math.imul(d ^ k, M4) + c) | 0;
    d = (d << 19) | (d >>> 13);
  }
  a = (a ^ text.length) | 0;
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
  return hex8(a) + hex8(b) + hex8(c) + hex8(d);
}
