import type { Command } from 'commander';
import { registerBacktestCommands } from './backtest.ts';
import { register as registerDlq } from './dlq.ts';
import { register as registerFeed } from './feed.ts';
import { register as registerHealth } from './health.ts';
import { register as registerReplay } from './replay.ts';
import { register as registerStreams } from './streams.ts';
import { register as registerTopics } from './topics.ts';
import { register as registerWorker } from './worker.ts';

/** One place lists every command group the CLI offers, in the order --help shows them. */
export function registerCommands(program: Command): void {
  registerBacktestCommands(program);
  registerWorker(program);
  registerReplay(program);
  registerFeed(program);
  registerStreams(program);
  registerTopics(program);
  registerDlq(program);
  registerHealth(program);
}
