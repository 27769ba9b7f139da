/** `dsctl sync`: asks the worker to fetch Git and reconcile now (`POST /api/v1/sync`), instead of waiting for a poll. */
import type { Command } from 'commander';
import { clientFor, out, withServer, type ServerOptions } from './common.js';

/** Registers `sync`. */
export function registerSync(program: Command): void {
  const cmd = program.command('sync').description('fetch Git and reconcile now');
  withServer(cmd);
  cmd.action(async (opts: ServerOptions) => {
    await clientFor(opts).sync();
    out('sync requested\n');
  });
}
