import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('algoplanes')
    .description('Algorithmic trading on three planes (data, strategy, order): backtest, local workers, AWS Lambda.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}
