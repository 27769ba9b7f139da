import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DaemonSet, PodTemplateSpec } from '../../../src/domain/kubernetes.js';
import {
  chooseAutoRollback,
  chooseRollback,
  describeImageChanges,
  parseTrailers,
  pauseMessage,
  rollbackMessage,
  setImageMessage,
} from '../../../src/gitops/changes.js';
import { NoPreviousRevisionError, RevisionNotFoundError } from '../../../src/gitops/errors.js';
import type { Revision, RevisionHistory } from '../../../src/revision/history.js';
import { decideAutoRollback } from '../../../src/worker/auto-rollback.js';

const tpl = (image: string): PodTemplateSpec => ({
  metadata: { labels: { app: 'a' } },
  spec: { containers: [{ name: 'app', image }] },
});

function rev(revision: number, image: string, hash = `h${revision}`): Revision {
  return {
    revision,
    hash,
    template: tpl(image),
    commit: `${revision}`.repeat(40).slice(0, 40),
    author: 'a',
    date: '2024-01-01T00:00:00Z',
    subject: `image ${image}`,
    changeCause: '',
    path: 'a.yaml',
  };
}

const history = (...revisions: Revision[]): RevisionHistory => ({ revisions });

describe('chooseRollback (kubectl rollout undo)', () => {
  const h = history(rev(2, 'b'), rev(3, 'c'), rev(4, 'a'));

  test('without --to-revision: the second-highest number', () => {
    const c = chooseRollback(h);
    assert.equal(c.target.revision, 3);
    assert.equal(c.current.revision, 4);
    assert.equal(c.requested, 0);
    assert.equal(chooseRollback(h, 0).target.revision, 3);
  });

  test('--to-revision N picks N', () => {
    assert.equal(chooseRollback(h, 2).target.revision, 2);
  });

  test('an unknown or pruned revision lists the ones that exist', () => {
    assert.throws(
      () => chooseRollback(h, 1),
      (err: unknown) =>
        err instanceof RevisionNotFoundError &&
        err.message === 'unable to find specified revision 1 in history (revisions: 2, 3, 4)',
    );
  });

  test('one revision: nothing to go back to', () => {
    assert.throws(() => chooseRollback(history(rev(1, 'a'))), NoPreviousRevisionError);
    assert.throws(() => chooseRollback(history()), NoPreviousRevisionError);
  });
});

describe('chooseAutoRollback', () => {
  test('the highest older revision that was not itself rolled back automatically', () => {
    const h = history(rev(1, 'a'), rev(2, 'b'), rev(3, 'c'));
    assert.equal(chooseAutoRollback(h, new Set())?.revision, 2);
    assert.equal(chooseAutoRollback(h, new Set(['h2']))?.revision, 1);
    assert.equal(chooseAutoRollback(h, new Set(['h1', 'h2'])), undefined);
    assert.equal(chooseAutoRollback(history(rev(1, 'a')), new Set()), undefined);
  });
});

describe('commit messages', () => {
  const ds = { namespace: 'default', name: 'filebeat-ds' };
  const choice = { current: rev(2, 'filebeat:5.6.6'), target: rev(1, 'filebeat:5.6.5') };

  test('a rollback says what and why, with trailers git can read back', () => {
    const message = rollbackMessage({
      ds,
      choice,
      file: 'filebeat-ds.yaml',
      before: choice.current.template,
      after: choice.target.template,
    });
    assert.equal(message.split('\n')[0], 'Roll back ds/filebeat-ds to revision 1');
    assert.match(message, /Image changes:\n {2}app: filebeat:5\.6\.6 -> filebeat:5\.6\.5\n/);
    const trailers = parseTrailers(message);
    assert.deepEqual(trailers.get('Rollback-To-Revision'), ['1']);
    assert.deepEqual(trailers.get('Rollback-Of-Commit'), [choice.current.commit]);
    assert.deepEqual(trailers.get('DaemonSet'), ['default/filebeat-ds']);
    assert.equal(trailers.has('Auto-Rollback'), false);
    for (const line of message.split('\n')) assert.ok(line.length <= 100, `long line: ${line}`);
  });

  test('an automatic rollback carries the reason and the bad hash', () => {
    const message = rollbackMessage({
      ds,
      choice,
      file: 'filebeat-ds.yaml',
      before: choice.current.template,
      after: choice.target.template,
      auto: { reason: 'ProgressDeadlineExceeded', detail: 'no progress for 31s (deadline 30s); stuck nodes: node-1' },
    });
    assert.match(
      message.split('\n')[0]!,
      /^Auto-roll back ds\/filebeat-ds to revision 1 \(progress deadline exceeded\)$/,
    );
    const trailers = parseTrailers(message);
    assert.deepEqual(trailers.get('Auto-Rollback'), ['ProgressDeadlineExceeded']);
    assert.deepEqual(trailers.get('Rollback-Of-Revision-Hash'), ['h2']);
  });

  test('set image and pause subjects', () => {
    const m = setImageMessage({ ds, file: 'f.yaml', before: tpl('x:1'), after: tpl('x:2') });
    assert.equal(m.split('\n')[0], 'Set image of ds/filebeat-ds: app=x:2');
    assert.equal(pauseMessage({ ds, file: 'f.yaml', paused: true }).split('\n')[0], 'Pause rollout of ds/filebeat-ds');
    assert.equal(
      pauseMessage({ ds, file: 'f.yaml', paused: false }).split('\n')[0],
      'Resume rollout of ds/filebeat-ds',
    );
  });

  test('image changes name added and removed containers', () => {
    const before: PodTemplateSpec = {
      spec: {
        containers: [
          { name: 'a', image: 'a:1' },
          { name: 'b', image: 'b:1' },
        ],
      },
    };
    const after: PodTemplateSpec = {
      spec: {
        containers: [
          { name: 'a', image: 'a:2' },
          { name: 'c', image: 'c:1' },
        ],
      },
    };
    assert.deepEqual(describeImageChanges(before, after), [
      'a: a:1 -> a:2',
      'c: (new container) c:1',
      'b: removed (was b:1)',
    ]);
  });

  test('a body that does not end in trailers has none', () => {
    assert.equal(parseTrailers('Subject\n\nJust prose: here.\nMore prose').size, 0);
    assert.equal(parseTrailers('Subject only').size, 0);
  });
});

describe('decideAutoRollback', () => {
  const ds = (annotations: Record<string, string>, maxUnavailable: number | string = 1): DaemonSet => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'a', annotations },
    spec: {
      selector: { matchLabels: { app: 'a' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable } },
      template: tpl('a:1'),
    },
  });
  const on = { 'dsctl.dev/auto-rollback': 'true', 'dsctl.dev/progress-deadline-seconds': '30' };
  const deadline = {
    type: 'Progressing',
    status: 'False' as const,
    reason: 'ProgressDeadlineExceeded',
    message: 'stuck: node-1',
  };
  const rolling = { type: 'Progressing', status: 'True' as const, reason: 'NewRevisionRollingOut', message: '' };
  const failed = (node: string) => ({ node, revision: 'H', phase: 'Failed' as const, deleting: false });

  test('needs both annotations', () => {
    const base = { updateRevision: 'H', conditions: [deadline], desiredNumberScheduled: 5, pods: [] };
    assert.equal(decideAutoRollback({ ...base, daemonSet: ds({}) }), undefined);
    assert.equal(decideAutoRollback({ ...base, daemonSet: ds({ 'dsctl.dev/auto-rollback': 'true' }) }), undefined);
    assert.deepEqual(decideAutoRollback({ ...base, daemonSet: ds(on) }), {
      reason: 'ProgressDeadlineExceeded',
      detail: 'stuck: node-1',
    });
  });

  test('new pods failed on maxUnavailable nodes', () => {
    const base = { daemonSet: ds(on, 2), updateRevision: 'H', conditions: [rolling], desiredNumberScheduled: 5 };
    assert.equal(decideAutoRollback({ ...base, pods: [failed('node-1')] }), undefined);
    assert.equal(
      decideAutoRollback({ ...base, pods: [failed('node-1'), { ...failed('node-2'), revision: 'old' }] }),
      undefined,
    );
    assert.equal(decideAutoRollback({ ...base, pods: [failed('node-1'), failed('node-2')] })?.reason, 'NewPodsFailed');
  });

  test('a complete or paused rollout is left alone', () => {
    const complete = { ...rolling, reason: 'RolloutComplete' };
    const base = { daemonSet: ds(on), updateRevision: 'H', desiredNumberScheduled: 5, pods: [failed('node-1')] };
    assert.equal(decideAutoRollback({ ...base, conditions: [complete] }), undefined);
    assert.equal(
      decideAutoRollback({ ...base, conditions: [{ ...rolling, status: 'Unknown', reason: 'Paused' }] }),
      undefined,
    );
  });
});
