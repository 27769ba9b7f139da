import type { Command } from 'commander';

/** Adds every verb to the program. One line per command file keeps merges trivial. */
export function registerCommands(program: Command): void {
  void program;
}
