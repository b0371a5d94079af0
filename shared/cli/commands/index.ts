import type { Command } from 'commander';
import { registerBacktestCommands } from './backtest.ts';

/** One place lists every command group the CLI offers. */
export function registerCommands(program: Command): void {
  registerBacktestCommands(program);
}
