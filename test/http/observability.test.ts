// Tests of src/observability (kept under test/http/ because that is where the HTTP layer's helpers are tested).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, redactUrl } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';

test('the exposition contains every dsctl_ series the worker feeds', async () => {
  const m = new Metrics();
  m.observeNodeJob(1.5, 'updated');
  m.observeNodeJob(0.2, 'noop');
  m.observeGitPoll(0.3, true);
  m.observeGitPoll(2, false);
  m.countWebhook('gitlab', 'duplicate');
  m.countReconcile('success');
  m.setRolloutProgress('kube-system/fluentd', {
    nodesTotal: 5,
    nodesUpdated: 2,
    nodesAvailable: 4,
    budgetInUse: 1,
    budgetLimit: 1,
    etaSeconds: 42,
  });
  m.setQueueDepthCollector(async () => ({ 'node-updates': { waiting: 3, active: 1 }, sync: { delayed: 0 } }));
  const text = await m.exposition();
  for (const line of [
    'dsctl_node_updates_total{result="updated"} 1',
    'dsctl_node_updates_total{result="noop"} 1',
    'dsctl_node_update_duration_seconds_count{result="updated"} 1',
    'dsctl_git_polls_total{result="ok"} 1',
    'dsctl_git_polls_total{result="error"} 1',
    'dsctl_git_poll_duration_seconds_sum{result="error"} 2',
    'dsctl_webhooks_total{provider="gitlab",result="duplicate"} 1',
    'dsctl_reconciles_total{result="success"} 1',
    'dsctl_rollout_nodes{daemonset="kube-system/fluentd",state="desired"} 5',
    'dsctl_rollout_nodes{daemonset="kube-system/fluentd",state="updated"} 2',
    'dsctl_rollout_nodes{daemonset="kube-system/fluentd",state="available"} 4',
    'dsctl_rollout_budget{daemonset="kube-system/fluentd",kind="in_use"} 1',
    'dsctl_rollout_budget{daemonset="kube-system/fluentd",kind="limit"} 1',
    'dsctl_rollout_eta_seconds{daemonset="kube-system/fluentd"} 42',
    'dsctl_rollout_progress_ratio{daemonset="kube-system/fluentd"} 0.4',
    'dsctl_rollout_deadline_exceeded{daemonset="kube-system/fluentd"} 0',
    'dsctl_queue_jobs{queue="node-updates",state="waiting"} 3',
    'dsctl_queue_jobs{queue="node-updates",state="active"} 1',
    'dsctl_queue_jobs{queue="sync",state="delayed"} 0',
  ]) {
    assert.ok(text.includes(line), `missing: ${line}`);
  }
  assert.match(text, /^dsctl_process_cpu_user_seconds_total /m, 'default metrics carry the dsctl_ prefix');
  const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]!);
  assert.ok(names.length > 10);
  assert.deepEqual(
    names.filter((n) => !n.startsWith('dsctl_')),
    [],
  );
});

test('an unknown ETA removes the series; removeDaemonSet drops all rollout series', async () => {
  const m = new Metrics({ collectDefault: false });
  const p = { nodesTotal: 3, nodesUpdated: 3, nodesAvailable: 3, budgetInUse: 0, budgetLimit: 1, etaSeconds: 10 };
  m.setRolloutProgress('a/b', p);
  m.setRolloutProgress('a/b', { ...p, etaSeconds: null, deadlineExceeded: true });
  let text = await m.exposition();
  assert.ok(!text.includes('dsctl_rollout_eta_seconds{'));
  assert.ok(text.includes('dsctl_rollout_deadline_exceeded{daemonset="a/b"} 1'));
  m.removeDaemonSet('a/b');
  text = await m.exposition();
  assert.ok(!text.includes('daemonset="a/b"'));
});

test('a failing queue-depth collector does not fail the scrape', async () => {
  const m = new Metrics({ collectDefault: false });
  m.setQueueDepthCollector(async () => {
    throw new Error('redis down');
  });
  const text = await m.exposition();
  assert.ok(!text.includes('dsctl_queue_jobs{'));
  assert.ok(text.includes('# TYPE dsctl_queue_jobs gauge'));
});

test('two Metrics instances do not share series', async () => {
  const a = new Metrics({ collectDefault: false });
  const b = new Metrics({ collectDefault: false });
  a.countWebhook('github', 'accepted');
  assert.ok(!(await b.exposition()).includes('provider="github"'));
});

test('createLogger redacts authorization, tokens, passwords, secrets and the GitLab token header', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level: 'info', name: 'test', destination });
  log.info(
    {
      authorization: 'Bearer a',
      git: { token: 'b', password: 'c', url: 'x' },
      hook: { secret: 'd' },
      req: { headers: { authorization: 'Bearer e', 'x-gitlab-token': 'f', host: 'h' } },
    },
    'hello',
  );
  const out = JSON.parse(lines.join(''));
  assert.equal(out.name, 'test');
  assert.equal(out.authorization, '[Redacted]');
  assert.equal(out.git.token, '[Redacted]');
  assert.equal(out.git.password, '[Redacted]');
  assert.equal(out.git.url, 'x');
  assert.equal(out.hook.secret, '[Redacted]');
  assert.equal(out.req.headers.authorization, '[Redacted]');
  assert.equal(out.req.headers['x-gitlab-token'], '[Redacted]');
  assert.equal(out.req.headers.host, 'h');
});

test('redactUrl strips credentials from URLs and from messages containing URLs', () => {
  const cases: [string, string][] = [
    ['https://user:pass@github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['https://x-access-token:ghp_abc@github.com/org/repo', 'https://github.com/org/repo'],
    ['https://token@gitlab.example.com:8443/g/r.git', 'https://gitlab.example.com:8443/g/r.git'],
    ['https://github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['ssh://git@host/r.git', 'ssh://host/r.git'],
    [
      'fatal: unable to access https://u:p@h/r.git/ and redis://:pw@10.0.0.1:6379',
      'fatal: unable to access https://h/r.git/ and redis://10.0.0.1:6379',
    ],
    ['https://h/path?mail=a@b.c', 'https://h/path?mail=a@b.c'],
  ];
  for (const [input, want] of cases) assert.equal(redactUrl(input), want, input);
});
