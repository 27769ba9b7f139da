/**
 * `dsctl` entry point: a kubectl-shaped client plus the `worker` command.
 * Each verb lives in `commands/<verb>.ts` and registers itself on the program.
 * Exit codes: 0 success, 1 failure or timeout, 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { CliError } from './errors.js';

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('dsctl')
    .description('GitOps rollouts of DaemonSets')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander but successes to the user.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
