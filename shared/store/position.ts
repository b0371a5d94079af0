import type { Fill, Position } from '../domain/index.ts';

/** Quantities and prices below this are float noise left by partial closes. */
const QTY_EPSILON = 1e-12;

/**
 * Applies one fill to a position with average-cost accounting: adding to a position moves the
 * average price, reducing realises PnL against it, crossing through zero opens the rest at the fill.
 */
export function applyFillToPosition(current: Position | undefined, fill: Fill): Position {
  const pos: Position = current ?? { symbol: fill.symbol, qty: 0, avgPrice: 0, realizedPnl: 0, unrealizedPnl: 0, lastPrice: fill.price, fees: 0 };
  const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
  let qty = pos.qty + signed;
  if (Math.abs(qty) < QTY_EPSILON) qty = 0;
  let avgPrice = pos.avgPrice;
  let realized = pos.realizedPnl;
  const sameDirection = pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed);
  if (sameDirection) {
    avgPrice = (Math.abs(pos.qty) * pos.avgPrice + fill.qty * fill.price) / Math.abs(qty);
  } else {
    const closed = Math.min(Math.abs(pos.qty), fill.qty);
    realized += closed * (fill.price - pos.avgPrice) * Math.sign(pos.qty);
    if (qty === 0) avgPrice = 0;
    else if (Math.sign(qty) !== Math.sign(pos.qty)) avgPrice = fill.price;
  }
  return {
    symbol: fill.symbol,
    qty,
    avgPrice,
    realizedPnl: realized - fill.fee,
    unrealizedPnl: qty * (fill.price - avgPrice),
    lastPrice: fill.price,
    fees: pos.fees + fill.fee,
  };
}
