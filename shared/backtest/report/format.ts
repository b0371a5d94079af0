import { US_PER_MS } from '../../domain/time.ts';
import type { Statistics } from '../stats.ts';

type StatKind = 'pct' | 'ratio' | 'money' | 'int' | 'days' | 'ts' | 'times' | 'number';

/** How each statistic is labelled and formatted; typed over every key so a new statistic cannot go unshown. */
export const STATISTIC_ROWS: Readonly<Record<keyof Statistics, { label: string; kind: StatKind }>> = {
  totalReturn: { label: 'Total return', kind: 'pct' },
  cagr: { label: 'CAGR', kind: 'pct' },
  annualVolatility: { label: 'Annual volatility', kind: 'pct' },
  sharpe: { label: 'Sharpe', kind: 'ratio' },
  sortino: { label: 'Sortino', kind: 'ratio' },
  calmar: { label: 'Calmar', kind: 'ratio' },
  maxDrawdown: { label: 'Max drawdown', kind: 'pct' },
  maxDrawdownDurationDays: { label: 'Max drawdown duration', kind: 'days' },
  winRate: { label: 'Win rate', kind: 'pct' },
  profitFactor: { label: 'Profit factor', kind: 'ratio' },
  expectancy: { label: 'Expectancy (per trade)', kind: 'money' },
  tradeCount: { label: 'Round trips', kind: 'int' },
  fillCount: { label: 'Fills', kind: 'int' },
  exposure: { label: 'Time in market', kind: 'pct' },
  turnover: { label: 'Turnover (x mean equity)', kind: 'times' },
  fees: { label: 'Fees', kind: 'money' },
  bars: { label: 'Bars', kind: 'int' },
  startTs: { label: 'Start', kind: 'ts' },
  endTs: { label: 'End', kind: 'ts' },
  startEquity: { label: 'Start equity', kind: 'money' },
  endEquity: { label: 'End equity', kind: 'money' },
  periodsPerYear: { label: 'Periods per year', kind: 'number' },
};

export const NOT_AVAILABLE = 'n/a';

function grouped(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function formatPercent(value: number, decimals = 2): string {
  return `${(value * 100).toFixed(decimals)}%`;
}

export function formatDurationDays(days: number): string {
  if (days >= 1) return `${grouped(days, 1)} days`;
  const hours = days * 24;
  if (hours >= 1) return `${hours.toFixed(1)} h`;
  return `${(hours * 60).toFixed(1)} min`;
}

/** ISO-8601 UTC with microseconds, e.g. 2022-01-01T00:00:00.000123Z. */
export function formatTsIso(ts: number): string {
  const ms = Math.floor(ts / US_PER_MS);
  const micros = ts - ms * US_PER_MS;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** Compact UTC time for people: drops a zero fraction, and the clock entirely at midnight. */
export function formatTsShort(ts: number): string {
  const iso = formatTsIso(ts);
  if (iso.endsWith('T00:00:00.000000Z')) return iso.slice(0, 10);
  const fraction = iso.slice(19, -1).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction === '.' ? '' : fraction} UTC`;
}

export function formatStatistic(key: keyof Statistics, value: number | null): string {
  if (value === null) return NOT_AVAILABLE;
  switch (STATISTIC_ROWS[key].kind) {
    case 'pct':
      return formatPercent(value);
    case 'ratio':
      return value.toFixed(2);
    case 'money':
      return grouped(value, 2);
    case 'int':
      return grouped(value, 0);
    case 'days':
      return formatDurationDays(value);
    case 'ts':
      return formatTsShort(value);
    case 'times':
      return `${value.toFixed(2)}x`;
    case 'number':
      return grouped(value, 1);
  }
}

/** [label, formatted value] for every statistic, in display order. */
export function statisticRows(stats: Statistics): [string, string][] {
  return (Object.keys(STATISTIC_ROWS) as (keyof Statistics)[]).map((key) => [STATISTIC_ROWS[key].label, formatStatistic(key, stats[key])]);
}

/** Aligned two-column plain-text table for the CLI summary. */
export function formatStatisticsTable(stats: Statistics): string {
  const rows = statisticRows(stats);
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  return rows.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value.padStart(valueWidth)}`).join('\n');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}
