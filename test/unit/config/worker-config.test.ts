import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration } from '../../../src/config/duration.js';
import { loadWorkerConfig } from '../../../src/config/worker-config.js';

describe('parseDuration', () => {
  for (const [text, ms] of [
    ['500ms', 500],
    ['5s', 5000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['250', 250],
    ['1.5s', 1500],
  ] as const) {
    test(`${text} is ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  for (const bad of ['', 'soon', '5x', '-1s', '1m junk']) {
    test(`"${bad}" is refused`, () => assert.throws(() => parseDuration(bad), /invalid duration/));
  }
});

describe('loadWorkerConfig', () => {
  test('defaults', () => {
    const c = loadWorkerConfig({ repo: '/tmp/r' }, {});
    assert.equal(c.pollIntervalMs, 60_000);
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(c.prefix, 'dsctl');
    assert.deepEqual([c.listenHost, c.listenPort], ['0.0.0.0', 8080]);
    assert.equal(c.prune, true);
  });

  test('env twins, and flags win over them', () => {
    const env = { DSCTL_REPO: '/tmp/env', DSCTL_POLL_INTERVAL: '5s', REDIS_URL: 'redis://r:1', DSCTL_PRUNE: 'false' };
    const fromEnv = loadWorkerConfig({}, env);
    assert.deepEqual(
      [fromEnv.repo, fromEnv.pollIntervalMs, fromEnv.redisUrl, fromEnv.prune],
      ['/tmp/env', 5000, 'redis://r:1', false],
    );
    const flags = loadWorkerConfig({ repo: '/tmp/flag', pollInterval: '500ms' }, env);
    assert.deepEqual([flags.repo, flags.pollIntervalMs], ['/tmp/flag', 500]);
  });

  test('every problem is listed with its flag', () => {
    assert.throws(
      () => loadWorkerConfig({ pollInterval: 'often', fleet: 'k8s', prefix: 'a:b' }, {}),
      (err: Error) =>
        /--repo/.test(err.message) &&
        /--poll-interval/.test(err.message) &&
        /--fleet/.test(err.message) &&
        /--prefix/.test(err.message),
    );
  });
});
