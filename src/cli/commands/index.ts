import type { Command } from 'commander';
import { registerDelete } from './delete.js';
import { registerDescribe } from './describe.js';
import { registerGet } from './get.js';
import { registerNode } from './node.js';
import { registerRolloutHistory } from './rollout-history.js';
import { registerRolloutPause } from './rollout-pause.js';
import { registerRolloutStatus } from './rollout-status.js';
import { registerRolloutUndo } from './rollout-undo.js';
import { registerSetImage } from './set-image.js';
import { registerSync } from './sync.js';
import { registerWorker } from './worker.js';

/** Adds every verb to the program. One line per command file keeps merges trivial. */
export function registerCommands(program: Command): void {
  registerRolloutHistory(program);
  registerGet(program);
  registerDescribe(program);
  registerRolloutStatus(program);
  registerRolloutPause(program);
  registerRolloutUndo(program);
  registerSetImage(program);
  registerDelete(program);
  registerNode(program);
  registerSync(program);
  registerWorker(program);
}
