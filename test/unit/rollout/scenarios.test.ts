/**
 * Plays every planner scenario: the shared ones in ../shared/scenarios (read in place, never
 * copied) and dsctl's own in test/fixtures/scenarios.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScenarios, playScenario } from '../../helpers/scenario-runner.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The shared scenarios live next to the project's checkout (`../shared/scenarios`). A clone made
 * elsewhere from a local checkout (`git clone /work/main /tmp/x`) finds them next to that checkout.
 */
function findSharedDir(): string {
  if (process.env.DSCTL_SCENARIOS_DIR) return process.env.DSCTL_SCENARIOS_DIR;
  const beside = join(repoRoot, '..', 'shared', 'scenarios');
  if (existsSync(beside)) return beside;
  let origin: string;
  try {
    origin = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return beside; // not a clone: report the usual place as missing
  }
  const local = origin.startsWith('file://') ? fileURLToPath(origin) : origin;
  return isAbsolute(local) ? join(local, '..', 'shared', 'scenarios') : beside;
}
const sharedDir = findSharedDir();
const ownDir = join(repoRoot, 'test', 'fixtures', 'scenarios');

describe('shared planner scenarios', () => {
  test('the shared scenario folder is present', () => {
    assert.ok(existsSync(sharedDir), `expected the shared scenarios at ${sharedDir} (set DSCTL_SCENARIOS_DIR)`);
  });
  if (!existsSync(sharedDir)) return;
  const scenarios = loadScenarios(sharedDir);
  test('there are shared scenarios to play', () => assert.ok(scenarios.length > 0));
  for (const { file, scenario } of scenarios) test(`${file}: ${scenario.name}`, () => playScenario(scenario));
});

describe('dsctl planner scenarios', () => {
  const scenarios = loadScenarios(ownDir);
  test('there are own scenarios to play', () => assert.ok(scenarios.length > 0));
  for (const { file, scenario } of scenarios) test(`${file}: ${scenario.name}`, () => playScenario(scenario));
});
