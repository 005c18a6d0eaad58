import { Command } from 'commander';
import { version } from '../package.json';
import { ConfigError } from '../src/model/errors';
import { redactError, redactProcessOutput } from '../src/security/redact';
import { commandModules } from './commands';
import { WorkflowRunError } from './workflow-result';

/** `trader` — the operator CLI: one binary, subcommands, --help everywhere. */
export function buildProgram(): Command {
  const program = new Command('trader')
    .description('Autonomous AI trading system on Temporal (paper trading by default).')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const m of commandModules) m.register(program);
  return program;
}

/**
 * Runs the CLI: everything it prints goes through the redaction of src/security/redact.ts (no credential in
 * output or errors); an error prints its message (a failed workflow: its cause chain) and sets the exit code:
 * 2 for configuration, 1 otherwise. TRADER_DEBUG=1 adds the (redacted) stack.
 */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  redactProcessOutput();
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const plain = e instanceof ConfigError || e instanceof WorkflowRunError;
    console.error(plain ? redactError(e) : `error: ${redactError(e)}`);
    if (process.env.TRADER_DEBUG && e.stack) console.error(redactError(e, { stack: true }));
    process.exitCode = e instanceof ConfigError ? 2 : 1;
  }
}

if (require.main === module) void runCli();
