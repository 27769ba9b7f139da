import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { makeDaemonSetView } from '../helpers/fake-control-plane.js';
import { runCli, startServer, type CliServer } from './cli-fixture.js';

const MIN = 60_000;

describe('get and describe against a worker', { concurrency: true }, () => {
  let server: CliServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startServer();
    env = { DSCTL_SERVER: server.url };
    const now = Date.now();
    const cp = server.cp;
    cp.daemonSets.push(
      makeDaemonSetView({
        name: 'fluentd',
        namespace: 'kube-system',
        image: 'fluentd:v1.17',
        generation: 3,
        annotations: { 'deprecated.daemonset.template.generation': '3' },
        status: { numberReady: 4, updatedNumberScheduled: 3, numberAvailable: 4, numberUnavailable: 1 },
      }),
      makeDaemonSetView({
        name: 'node-exporter',
        namespace: 'kube-system',
        image: 'prom/node-exporter:v1.8.0',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        creationTimestamp: new Date(now - (5 * 60 + 30) * MIN).toISOString(),
        status: {
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberReady: 3,
          numberAvailable: 3,
        },
      }),
      makeDaemonSetView({
        name: 'filebeat-ds',
        namespace: 'default',
        image: 'ikubernetes/filebeat:5.6.6-alpine',
        containerName: 'filebeat',
        annotations: { 'deprecated.daemonset.template.generation': '2' },
        env: [
          { name: 'REDIS_HOST', value: 'db.ilinux.io:6379' },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
      }),
    );
    cp.eventsByDs.set('kube-system/fluentd', [
      {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: 'Created pod: fluentd-9bq4m',
        from: 'daemonset-controller',
        ts: now - 41 * MIN,
      },
      {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: 'Deleted pod: fluentd-x7k2p',
        from: 'daemonset-controller',
        ts: now - 42 * MIN,
      },
      {
        // Kubernetes' event aggregation: the 10th and later similar events, combined (kubectl shows the count).
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: '(combined from similar events): Created pod: fluentd-k2m4x',
        from: 'daemonset-controller',
        ts: now - 40 * MIN,
        count: 3,
        firstTs: now - 42 * MIN,
      },
    ]);
    for (let i = 1; i <= 5; i++) {
      cp.pods.push({
        name: `fluentd-pod${i}`,
        node: `node-${i}`,
        daemonSet: 'kube-system/fluentd',
        revision: 'abc123',
        images: ['fluentd:v1.17'],
        image: 'fluentd:v1.17',
        createdAt: now - 15 * MIN,
        ready: i !== 5,
        phase: i === 5 ? 'Pending' : 'Running',
      });
    }
    cp.pods.push({
      name: 'node-exporter-zzzzz',
      node: 'node-1',
      daemonSet: 'kube-system/node-exporter',
      revision: 'def456',
      images: ['prom/node-exporter:v1.8.0'],
      createdAt: now - 15 * MIN,
      ready: true,
      phase: 'Running',
      deleting: true,
    });
    cp.nodes.push(
      { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      { name: 'node-2', ready: false },
      { name: 'node-3', unschedulable: true, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
    );
  });

  after(async () => {
    await server.close();
  });

  test('get ds prints kubectl columns, widest cell plus 3 spaces, kubectl ages', async () => {
    const r = await runCli(['get', 'ds', '-n', 'kube-system'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'NAME            DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE\n' +
        'fluentd         5         5         4       3            4           <none>                   12m\n' +
        'node-exporter   3         3         3       3            3           kubernetes.io/os=linux   5h30m\n',
    );
    assert.equal(r.stderr, '');
  });

  test('get daemonsets -A -o wide adds NAMESPACE, CONTAINERS, IMAGES, SELECTOR', async () => {
    const r = await runCli(['get', 'daemonsets', '-A', '-o', 'wide'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'NAMESPACE     NAME            DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE     CONTAINERS      IMAGES                              SELECTOR\n' +
        'default       filebeat-ds     5         5         5       5            5           <none>                   12m     filebeat        ikubernetes/filebeat:5.6.6-alpine   app=filebeat-ds\n' +
        'kube-system   fluentd         5         5         4       3            4           <none>                   12m     fluentd         fluentd:v1.17                       app=fluentd\n' +
        'kube-system   node-exporter   3         3         3       3            3           kubernetes.io/os=linux   5h30m   node-exporter   prom/node-exporter:v1.8.0           app=node-exporter\n',
    );
  });

  test('get ds NAME, ds/NAME and daemonset.apps/NAME show one row', async () => {
    for (const args of [
      ['get', 'ds', 'fluentd', '-n', 'kube-system'],
      ['get', 'ds/fluentd', '-n', 'kube-system'],
      ['get', 'daemonset.apps/fluentd', '--namespace', 'kube-system'],
    ]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout.split('\n')[1],
        'fluentd   5         5         4       3            4           <none>          12m',
      );
    }
  });

  test('get ds -o json prints the DaemonSetView, or a List', async () => {
    const one = await runCli(['get', 'ds', 'fluentd', '-n', 'kube-system', '-o', 'json'], env);
    assert.equal(one.code, 0, one.stderr);
    const view = JSON.parse(one.stdout);
    assert.equal(view.kind, 'DaemonSet');
    assert.equal(view.metadata.name, 'fluentd');
    for (const field of ['observedGeneration', 'currentRevision', 'updateRevision', 'paused', 'conditions']) {
      assert.ok(field in view.status, field);
    }
    assert.ok(one.stdout.startsWith('{\n    "apiVersion"'), 'kubectl indents JSON by 4 spaces');
    const list = JSON.parse((await runCli(['get', 'ds', '-n', 'kube-system', '-o', 'json'], env)).stdout);
    assert.equal(list.apiVersion, 'v1');
    assert.equal(list.kind, 'List');
    assert.deepEqual(
      list.items.map((d: { metadata: { name: string } }) => d.metadata.name),
      ['fluentd', 'node-exporter'],
    );
  });

  test('get ds -o yaml prints YAML', async () => {
    const r = await runCli(['get', 'ds', 'fluentd', '-n', 'kube-system', '-o', 'yaml'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parse(r.stdout).spec.template.spec.containers[0].image, 'fluentd:v1.17');
  });

  test('an empty namespace prints "No resources found in NS namespace." on stderr and exits 0', async () => {
    const r = await runCli(['get', 'ds', '-n', 'empty'], env);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'No resources found in empty namespace.\n');
  });

  test('an unknown DaemonSet exits 1 with kubectl wording', async () => {
    const r = await runCli(['get', 'ds', 'nope', '-n', 'kube-system'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: daemonsets.apps "nope" not found in namespace "kube-system"\n');
    const d = await runCli(['describe', 'ds', 'nope'], env);
    assert.equal(d.code, 1);
    assert.equal(d.stderr, 'error: daemonsets.apps "nope" not found in namespace "default"\n');
  });

  test('describe ds prints the kubectl layout (§12.2), tab-writer aligned', async () => {
    const r = await runCli(['describe', 'ds', 'fluentd', '-n', 'kube-system'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Name:           fluentd',
        'Namespace:      kube-system',
        'Selector:       app=fluentd',
        'Node-Selector:  <none>',
        'Labels:         app=fluentd',
        'Annotations:    deprecated.daemonset.template.generation: 3',
        'Desired Number of Nodes Scheduled: 5',
        'Current Number of Nodes Scheduled: 5',
        'Number of Nodes Scheduled with Up-to-date Pods: 3',
        'Number of Nodes Scheduled with Available Pods: 4',
        'Number of Nodes Misscheduled: 0',
        'Pods Status:  4 Running / 1 Waiting / 0 Succeeded / 0 Failed',
        'Pod Template:',
        '  Labels:  app=fluentd',
        '  Containers:',
        '   fluentd:',
        '    Image:         fluentd:v1.17',
        '    Port:          <none>',
        '    Host Port:     <none>',
        '    Environment:   <none>',
        '    Mounts:        <none>',
        '  Volumes:         <none>',
        '  Node-Selectors:  <none>',
        '  Tolerations:     <none>',
        'Events:',
        '  Type    Reason            Age                From                  Message',
        '  ----    ------            ----               ----                  -------',
        '  Normal  SuccessfulDelete  42m                daemonset-controller  Deleted pod: fluentd-x7k2p',
        '  Normal  SuccessfulCreate  41m                daemonset-controller  Created pod: fluentd-9bq4m',
        '  Normal  SuccessfulCreate  40m (x3 over 42m)  daemonset-controller  (combined from similar events): Created pod: fluentd-k2m4x',
        '',
      ].join('\n'),
    );
    const slash = await runCli(['describe', 'ds/fluentd', '-n', 'kube-system'], env);
    assert.equal(slash.stdout, r.stdout);
  });

  test('describe ds prints environment variables one per line and Events <none> in the block', async () => {
    const r = await runCli(['describe', 'daemonsets', 'filebeat-ds'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Name:           filebeat-ds',
        'Namespace:      default',
        'Selector:       app=filebeat-ds',
        'Node-Selector:  <none>',
        'Labels:         app=filebeat-ds',
        'Annotations:    deprecated.daemonset.template.generation: 2',
        'Desired Number of Nodes Scheduled: 5',
        'Current Number of Nodes Scheduled: 5',
        'Number of Nodes Scheduled with Up-to-date Pods: 5',
        'Number of Nodes Scheduled with Available Pods: 5',
        'Number of Nodes Misscheduled: 0',
        'Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed',
        'Pod Template:',
        '  Labels:  app=filebeat-ds',
        '  Containers:',
        '   filebeat:',
        '    Image:      ikubernetes/filebeat:5.6.6-alpine',
        '    Port:       <none>',
        '    Host Port:  <none>',
        '    Environment:',
        '      REDIS_HOST:  db.ilinux.io:6379',
        '      LOG_LEVEL:   info',
        '    Mounts:        <none>',
        '  Volumes:         <none>',
        '  Node-Selectors:  <none>',
        '  Tolerations:     <none>',
        'Events:            <none>',
        '',
      ].join('\n'),
    );
  });

  test('describe adds a dsctl section after Events only when paused or a condition fails', async () => {
    const own = await startServer();
    try {
      const ds = makeDaemonSetView({ name: 'paused-ds', namespace: 'extra' });
      ds.status.paused = true;
      ds.status.conditions = [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'no node finished in 600s',
          lastTransitionTime: new Date().toISOString(),
        },
      ];
      own.cp.daemonSets.push(ds);
      const r = await runCli(['describe', 'ds', 'paused-ds', '-n', 'extra'], { DSCTL_SERVER: own.url });
      assert.ok(
        r.stdout.endsWith(
          [
            'Events:            <none>',
            'Paused:  true',
            'Conditions:',
            '  Type         Status  Reason                    Message',
            '  ----         ------  ------                    -------',
            '  Progressing  False   ProgressDeadlineExceeded  no node finished in 600s',
            '',
          ].join('\n'),
        ),
        r.stdout,
      );
    } finally {
      await own.close();
    }
  });

  test('get nodes shows STATUS with NotReady and SchedulingDisabled, ROLES and TAINTS', async () => {
    const r = await runCli(['get', 'nodes'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'NAME     STATUS                     ROLES           TAINTS\n' +
        'node-1   Ready                      control-plane   <none>\n' +
        'node-2   NotReady                   <none>          <none>\n' +
        'node-3   Ready,SchedulingDisabled   <none>          gpu=true:NoSchedule\n',
    );
    const wide = await runCli(['get', 'no', '-o', 'wide'], env);
    assert.equal(
      wide.stdout.split('\n')[1],
      'node-1   Ready                      control-plane   <none>                2      node-role.kubernetes.io/control-plane=',
    );
    const json = JSON.parse((await runCli(['get', 'nodes', '-o', 'json'], env)).stdout);
    assert.equal(json.kind, 'List');
    assert.equal(json.items.length, 3);
  });

  test('get pods shows READY, STATUS (Terminating while deleting), RESTARTS, AGE; -o wide adds NODE REVISION IMAGE', async () => {
    const r = await runCli(['get', 'pods', '-n', 'kube-system'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'NAME                  READY   STATUS        RESTARTS   AGE\n' +
        'fluentd-pod1          1/1     Running       0          15m\n' +
        'fluentd-pod2          1/1     Running       0          15m\n' +
        'fluentd-pod3          1/1     Running       0          15m\n' +
        'fluentd-pod4          1/1     Running       0          15m\n' +
        'fluentd-pod5          0/1     Pending       0          15m\n' +
        'node-exporter-zzzzz   1/1     Terminating   0          15m\n',
    );
    const wide = await runCli(['get', 'po', 'fluentd-pod5', '-n', 'kube-system', '-o', 'wide'], env);
    assert.equal(
      wide.stdout,
      'NAME           READY   STATUS    RESTARTS   AGE   NODE     REVISION   IMAGE\n' +
        'fluentd-pod5   0/1     Pending   0          15m   node-5   abc123     fluentd:v1.17\n',
    );
    const none = await runCli(['get', 'pods'], env);
    assert.equal(none.stderr, 'No resources found in default namespace.\n');
    const missing = await runCli(['get', 'pod', 'nope', '-n', 'kube-system'], env);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error: pods "nope" not found in namespace "kube-system"\n');
  });
});
