import type { Curves } from '../stats.ts';
import type { BacktestReport } from './schema.ts';
import { escapeHtml, formatStatistic, formatTsShort, statisticRows } from './format.ts';
import { renderChart } from './svg.ts';

/** Decimals a tick label needs so neighbouring ticks stay distinct. */
function decimalsFor(step: number): number {
  return step > 0 ? Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : 2;
}

function tickNumber(value: number, step: number): string {
  const decimals = decimalsFor(step);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function tickPercent(value: number, step: number): string {
  return `${(value * 100).toFixed(decimalsFor(step * 100))}%`;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Nested objects become dotted keys so any config or cost-model summary renders as a plain table. */
function flatten(value: unknown, prefix = '', depth = 0): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 4) {
    const rows = Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k, depth + 1));
    return rows.length > 0 ? rows : [[prefix || '(empty)', '{}']];
  }
  return [[prefix || 'value', scalar(value)]];
}

function table(rows: readonly (readonly [string, string])[], cls = 'kv'): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<table class="${cls}"><tbody>${body}</tbody></table>`;
}

function section(title: string, content: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>${content}</section>`;
}

function statisticsTables(stats: BacktestReport['statistics']): string {
  const rows = statisticRows(stats);
  const half = Math.ceil(rows.length / 2);
  return `<div class="grid2">${table(rows.slice(0, half))}${table(rows.slice(half))}</div>`;
}

const CSS = `
:root{--fg:#1d2433;--muted:#6b7385;--line:#e3e6ec;--bg:#f5f6f8;--panel:#fff;--equity:#2456c7;--dd:#c62f3a;--price:#333a48;--buy:#1a9c4b;--sell:#d2372f;--exp:#7a4fc4}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 16px 48px}
header h1{font-size:22px;margin:0 0 4px}
header p{margin:0;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:10px;margin:18px 0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card .v{font-size:18px;white-space:nowrap;font-weight:600;font-variant-numeric:tabular-nums}
.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.pos{color:var(--buy)}.neg{color:var(--sell)}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:14px 0}
section h2{font-size:15px;margin:0 0 10px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px}
.grid2 section{margin:0}
svg.chart{width:100%;height:auto;display:block}
svg .grid line{stroke:var(--line);stroke-width:1}
svg .frame{fill:none;stroke:#c9ced8}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;fill:var(--muted)}
svg .reference{stroke:var(--muted);stroke-dasharray:4 4}
svg .buy{fill:var(--buy)}svg .sell{fill:var(--sell)}
.legend{color:var(--muted);font-size:12px;margin:4px 0 0}
.legend span{margin-right:14px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
table th,table td{padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
table th{text-align:left;font-weight:500;color:var(--muted);white-space:nowrap}
table td{text-align:right;overflow-wrap:anywhere}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px;margin-top:18px}
`;

/** A single offline HTML page: inline CSS and SVG charts, no scripts, fonts or links to fetch. */
export function renderHtml(report: BacktestReport, curves: Curves): string {
  const s = report.statistics;
  const symbol = report.data.symbol;
  const symbolMarkers = curves.markers.filter((m) => m.symbol === symbol);
  const markers = symbolMarkers.length > 0 ? symbolMarkers : curves.markers;
  const title = `${report.strategy.name} on ${symbol || report.data.path}`;
  const span = s.startTs !== null && s.endTs !== null ? `${formatTsShort(s.startTs)} to ${formatTsShort(s.endTs)}` : 'no bars';

  const card = (label: string, key: keyof typeof s, signed = false): string => {
    const value = s[key];
    const cls = signed && typeof value === 'number' ? (value > 0 ? ' pos' : value < 0 ? ' neg' : '') : '';
    return `<div class="card"><div class="l">${escapeHtml(label)}</div><div class="v${cls}">${escapeHtml(formatStatistic(key, value))}</div></div>`;
  };

  const equityChart = renderChart({
    label: 'Equity curve',
    ts: curves.ts,
    lines: [{ values: curves.equity, color: 'var(--equity)' }],
    reference: { value: curves.initialCash, label: `initial ${curves.initialCash.toLocaleString('en-US')}` },
    formatValue: tickNumber,
    height: 280,
  });
  const drawdownChart = renderChart({
    label: 'Drawdown',
    ts: curves.ts,
    lines: [{ values: curves.drawdown.map((d) => -d), color: 'var(--dd)', area: true }],
    formatValue: tickPercent,
    height: 170,
  });
  const priceChart = renderChart({
    label: `Price ${symbol} with fills`,
    ts: curves.ts,
    band: { low: curves.priceLow, high: curves.priceHigh, color: 'rgba(51,58,72,0.12)' },
    lines: [{ values: curves.price, color: 'var(--price)' }],
    markers,
    formatValue: tickNumber,
    height: 300,
  });
  const exposureChart = renderChart({
    label: 'Gross exposure',
    ts: curves.ts,
    lines: [{ values: curves.exposure, color: 'var(--exp)', area: true }],
    formatValue: tickNumber,
    height: 150,
  });

  const sampling =
    curves.marksPerPoint > 1
      ? `Charts show ${curves.ts.length.toLocaleString('en-US')} points, each summarising ${curves.marksPerPoint.toLocaleString('en-US')} bars (drawdown: deepest in the bucket; price band: low-high).`
      : `Charts show every bar (${curves.ts.length.toLocaleString('en-US')}).`;
  const markerNote =
    curves.markersDropped > 0 ? ` ${curves.markersDropped.toLocaleString('en-US')} fills beyond the first ${curves.markers.length.toLocaleString('en-US')} are not drawn.` : '';

  const engineRate = report.engine.seconds > 0 ? Math.round(report.engine.events / report.engine.seconds).toLocaleString('en-US') : 'n/a';
  const riskRows: [string, string][] = [
    ['breaches', report.risk.breaches.toLocaleString('en-US')],
    ['final trading state', report.risk.finalState],
    ...Object.entries(report.risk.byRule).map(([rule, n]): [string, string] => [rule, n.toLocaleString('en-US')]),
  ];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Backtest: ${title}`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Backtest: ${escapeHtml(title)}</h1>
<p>${escapeHtml(span)} &middot; ${escapeHtml(report.data.kind)} data &middot; generated ${escapeHtml(report.generatedAt)}</p>
</header>
<div class="cards">
${card('Total return', 'totalReturn', true)}
${card('CAGR', 'cagr', true)}
${card('Sharpe', 'sharpe', true)}
${card('Max drawdown', 'maxDrawdown')}
${card('Round trips', 'tradeCount')}
${card('Win rate', 'winRate')}
${card('Profit factor', 'profitFactor')}
${card('Fees', 'fees')}
</div>
${section('Equity', equityChart)}
${section('Drawdown', drawdownChart)}
${section(`Price ${symbol}`, `${priceChart}<p class="legend"><span class="pos">&#9650; buy</span><span class="neg">&#9660; sell</span><span>${escapeHtml(`${markers.length.toLocaleString('en-US')} fills drawn`)}</span></p>`)}
${section('Gross exposure', exposureChart)}
<p class="legend">${escapeHtml(sampling + markerNote)}</p>
${section('Statistics', statisticsTables(s))}
<div class="grid2">
${section('Strategy', table(flatten({ name: report.strategy.name, params: report.strategy.params })))}
${section('Config', table(flatten(report.config)))}
${section('Data', table(flatten(report.data)))}
${section('Data quality', table(Object.entries(report.quality).map(([k, v]): [string, string] => [k, v.toLocaleString('en-US')])))}
${section('Risk', table(riskRows))}
${section('Cost model', table(flatten(report.costModel)))}
${section('Engine', table([
    ['events', report.engine.events.toLocaleString('en-US')],
    ['bars', report.engine.bars.toLocaleString('en-US')],
    ['seconds', report.engine.seconds.toFixed(3)],
    ['events per second', engineRate],
  ]))}
</div>
<footer>algoplanes backtest report &middot; all times UTC</footer>
</main>
</body>
</html>
`;
}
