import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULTS } from '../../config/defaults.ts';
import { runBacktest, type BacktestResult } from '../../backtest/index.ts';
import { formatStatisticsTable } from '../../backtest/report/index.ts';
import { STRATEGY_CATALOG } from '../../strategy-plane/index.ts';
import { progressBar } from '../progress.ts';

const B = DEFAULTS.backtest;
const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
/** The dataset `npm start` runs on; shipped in the repo with its source (data/README.md). */
export const DEFAULT_DATASET = join(repoRoot, 'data/bars/btc-perp-2022-01_1m.csv');

type ParamValue = string | number | boolean;

function collectParam(raw: string, previous: Record<string, ParamValue>): Record<string, ParamValue> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${raw}"`);
  const key = raw.slice(0, eq).trim();
  const text = raw.slice(eq + 1).trim();
  const value: ParamValue = text === 'true' ? true : text === 'false' ? false : text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  return { ...previous, [key]: value };
}

function positiveNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${raw}"`);
  return n;
}

function nonNegativeNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${raw}"`);
  return n;
}

interface BacktestFlags {
  data: string;
  strategy: string;
  param: Record<string, ParamValue>;
  out: string;
  symbol?: string;
  cash: number;
  sizing: 'fixed-qty' | 'fixed-notional' | 'vol-target';
  qty: number;
  notional: number;
  targetVol: number;
  fillModel: 'next-bar-open' | 'quote' | 'book';
  makerFeeBps: number;
  takerFeeBps: number;
  latencyUs: number;
  slippage: boolean;
  costAware: boolean;
  tickSize?: number;
  lotSize?: number;
  progress: boolean;
}

function addBacktestOptions(cmd: Command): Command {
  return cmd
    .option('--strategy <name>', `strategy (${STRATEGY_CATALOG.map((s) => s.name).join(', ')})`, B.strategy)
    .option('--param <key=value>', 'strategy parameter, repeatable (e.g. --param fast=10 --param slow=30)', collectParam, {})
    .option('--out <dir>', 'directory for report.json, report.html and fills.csv', B.outDir)
    .option('--symbol <symbol>', 'symbol name (default: from the data column or file name)')
    .option('--cash <amount>', 'starting cash', positiveNumber, B.cash)
    .addOption(new Option('--sizing <kind>', 'position sizing').choices(['fixed-qty', 'fixed-notional', 'vol-target']).default(B.sizing))
    .option('--qty <quantity>', 'order quantity for fixed-qty sizing', positiveNumber, B.quantity)
    .option('--notional <amount>', 'position notional for fixed-notional sizing', positiveNumber, B.notional)
    .option('--target-vol <fraction>', 'annualised volatility target for vol-target sizing', positiveNumber, 0.2)
    .addOption(new Option('--fill-model <model>', 'paper broker fill model').choices(['next-bar-open', 'quote', 'book']).default(B.fillModel))
    .option('--maker-fee-bps <bps>', 'maker fee in basis points', nonNegativeNumber, B.makerFeeBps)
    .option('--taker-fee-bps <bps>', 'taker fee in basis points', nonNegativeNumber, B.takerFeeBps)
    .option('--latency-us <us>', 'order latency in microseconds (event time)', nonNegativeNumber, B.latencyUs)
    .option('--slippage', 'apply the learned transaction-cost model as slippage', false)
    .option('--cost-aware', 'skip rebalances whose modelled cost exceeds their expected edge', false)
    .option('--tick-size <size>', `price tick size (default ${DEFAULTS.instrument.tickSize})`, positiveNumber)
    .option('--lot-size <size>', `quantity lot size (default ${DEFAULTS.instrument.lotSize})`, positiveNumber)
    .option('--no-progress', 'do not draw a progress bar');
}

async function runAndPrint(flags: BacktestFlags & { data: string }): Promise<BacktestResult> {
  if (!existsSync(flags.data)) throw new Error(`data file not found: ${flags.data}`);
  const bytes = statSync(flags.data).size;
  // Only runs over a few MB are long enough to deserve a bar.
  const progress = progressBar('backtest', bytes, flags.progress && process.stderr.isTTY === true && bytes > 2_000_000);
  const result = await runBacktest(
    {
      dataPath: flags.data,
      symbol: flags.symbol,
      strategy: flags.strategy,
      params: flags.param,
      cash: flags.cash,
      sizing: flags.sizing,
      quantity: flags.qty,
      notional: flags.notional,
      targetVol: flags.targetVol,
      fillModel: flags.fillModel,
      makerFeeBps: flags.makerFeeBps,
      takerFeeBps: flags.takerFeeBps,
      latencyUs: Math.round(flags.latencyUs),
      slippage: flags.slippage,
      costAware: flags.costAware,
      tickSize: flags.tickSize,
      lotSize: flags.lotSize,
      outDir: flags.out,
    },
    {
      // fills.csv receives every fill as it happens; holding them in memory too would grow with the run.
      keepFills: false,
      onProgress: (done) => progress.update(done),
    },
  );
  progress.stop();
  printSummary(result);
  return result;
}

function printSummary(result: BacktestResult): void {
  const { report } = result;
  const params = Object.entries(report.strategy.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [
    `algoplanes backtest: ${report.strategy.name}${params ? ` (${params})` : ''} on ${report.data.symbol}`,
    `data: ${relative(process.cwd(), report.data.path) || report.data.path} — ${report.data.events.toLocaleString('en-US')} events, ${report.data.rejected.toLocaleString('en-US')} quarantined`,
    '',
    formatStatisticsTable(report.statistics),
    '',
    `risk: ${report.risk.breaches} breaches, final state ${report.risk.finalState}`,
    `engine: ${report.engine.events.toLocaleString('en-US')} events in ${report.engine.seconds.toFixed(3)} s (${Math.round(report.engine.events / Math.max(report.engine.seconds, 1e-9)).toLocaleString('en-US')} events/s)`,
  ];
  if (result.outDir) {
    lines.push(`report: ${join(result.outDir, 'report.html')}`, `        ${join(result.outDir, 'report.json')}`, `        ${join(result.outDir, 'fills.csv')}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerBacktestCommands(program: Command): void {
  addBacktestOptions(
    program
      .command('backtest')
      .description('run a strategy over a market data file (CSV or Parquet) and write an HTML/JSON report')
      .requiredOption('--data <file>', 'market data file: CSV bars/quotes/trades/depth or Parquet'),
  ).action(async (flags: BacktestFlags) => {
    await runAndPrint(flags);
  });

  addBacktestOptions(
    program
      .command('start')
      .description(`run the default strategy (${B.strategy}) over the shipped BTC 1-minute bars and print a summary`)
      .option('--data <file>', 'market data file', DEFAULT_DATASET),
  ).action(async (flags: BacktestFlags) => {
    await runAndPrint(flags);
  });

  program
    .command('strategies')
    .description('list the built-in strategies and their parameters')
    .action(() => {
      for (const s of STRATEGY_CATALOG) {
        const params = s.params.map((p) => `${p.name}=${p.default}`).join(' ');
        process.stdout.write(`${s.name.padEnd(16)} ${s.description}\n${''.padEnd(16)} params: ${params}\n`);
      }
    });
}
