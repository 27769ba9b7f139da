/**
 * Plays every planner scenario: the shared ones in ../shared/scenarios (read in place, never
 * copied) and dsctl's own in test/fixtures/scenarios.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScenarios, playScenario } from '../../helpers/scenario-runner.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sharedDir = process.env.DSCTL_SCENARIOS_DIR ?? join(repoRoot, '..', 'shared', 'scenarios');
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
