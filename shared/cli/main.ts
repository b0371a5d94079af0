#!/usr/bin/env node
/**
 * The `algoplanes` command line. Every command has --help; bad arguments or data exit non-zero with
 * one clear line on stderr (never a stack trace, never a secret).
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { errorMessage } from '../util/errors.ts';

export function buildProgram(): Command {
  const program = new Command('algoplanes')
    .description('Algorithmic trading on three planes (data, strategy, order): backtest, local workers, AWS Lambda.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; usage errors were already printed by commander.
      return err.exitCode;
    }
    process.stderr.write(`algoplanes: ${errorMessage(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// Workers keep running after parse; one-shot commands end here.
if (code !== 0 || process.exitCode !== undefined) process.exit(code);
