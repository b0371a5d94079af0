import { createHash } from 'node:crypto';

/**
 * Deterministic client order id: a hash of the decision itself, so the same intent delivered twice
 * (retry, redelivery, Lambda re-invocation) names the same order and dedup becomes a key lookup.
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
  return 'ap-' + createHash('sha256').update(key).digest('hex').slice(0, 29);
}

export function execId(clientOrderId: string, fillSeq: number): string {
  return `${clientOrderId}-f${fillSeq}`;
}
