import { Command } from 'commander';
import { ConfigError } from '../src/model/errors';
import { commandModules } from './commands';

/** `trader` — the operator CLI: one binary, subcommands, --help everywhere. */
export function buildProgram(): Command {
  const program = new Command('trader')
    .description('Autonomous AI trading system on Temporal (paper trading by default).')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const m of commandModules) m.register(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const e = err as Error;
      console.error(e instanceof ConfigError ? e.message : `error: ${e.message}`);
      if (process.env.TRADER_DEBUG && e.stack) console.error(e.stack);
      process.exitCode = e instanceof ConfigError ? 2 : 1;
    });
}
