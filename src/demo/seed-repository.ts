/**
 * The demo's Git repository: manifests-example/ committed once, then kept open to the worker's
 * own commits (undo, set image, pause) while a person works in it too.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'dsctl demo',
      GIT_AUTHOR_EMAIL: 'demo@dsctl.invalid',
      GIT_COMMITTER_NAME: 'dsctl demo',
      GIT_COMMITTER_EMAIL: 'demo@dsctl.invalid',
    },
  }).trim();
}

/** Creates the repository in `dir` from the files of `manifestsDir` unless it exists; idempotent. */
export function seedDemoRepository(dir: string, manifestsDir: string): void {
  if (!existsSync(join(dir, '.git'))) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(manifestsDir)) cpSync(join(manifestsDir, file), join(dir, file));
    git(dir, ['init', '--quiet', '-b', 'main']);
    git(dir, ['add', '--all']);
    git(dir, ['commit', '--quiet', '-m', 'Add the DaemonSets of the seeds']);
  }
  // The worker pushes its commits into this repository while you work in it: a push to the
  // checked-out branch then updates the work tree too, as long as it is clean.
  git(dir, ['config', 'receive.denyCurrentBranch', 'updateInstead']);
}
