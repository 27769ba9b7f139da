/**
 * manifests-example/ seeds the demo repository, so every file in it must parse without an error
 * and hold the DaemonSets its README promises.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseManifests } from '../../../src/manifest/index.js';

const EXAMPLES = fileURLToPath(new URL('../../../manifests-example/', import.meta.url));

const expected: Record<string, { key: string; images: string[] }[]> = {
  'filebeat-ds.yaml': [{ key: 'default/filebeat-ds', images: ['ikubernetes/filebeat:5.6.5-alpine'] }],
  'fluentd-elasticsearch.yaml': [
    { key: 'kube-system/fluentd-elasticsearch', images: ['quay.io/fluentd_elasticsearch/fluentd:v2.5.2'] },
  ],
  'nginx-daemonset.yaml': [{ key: 'default/nginx-daemonset', images: ['nginx:1.9.1'] }],
  'node-agents.yaml': [
    { key: 'monitoring/node-exporter', images: ['quay.io/prometheus/node-exporter:v1.8.2'] },
    {
      key: 'kube-system/node-problem-detector',
      images: ['registry.k8s.io/node-problem-detector/node-problem-detector:v0.8.19'],
    },
  ],
};

const files = readdirSync(EXAMPLES)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

test('examples: every manifest file is covered by this test', () => {
  assert.deepEqual(files, Object.keys(expected).sort());
});

for (const file of files) {
  test(`examples: ${file} parses without errors into the expected DaemonSets`, () => {
    const result = parseManifests(readFileSync(`${EXAMPLES}${file}`, 'utf8'), { file });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(
      result.daemonSets.map((ds, i) => ({
        key: result.sources[i]?.key,
        images: (ds.spec?.template?.spec?.containers ?? []).map((c) => c.image),
      })),
      expected[file],
    );
  });
}

test('examples: at least one file holds two documents', () => {
  const multi = files.filter((f) => parseManifests(readFileSync(`${EXAMPLES}${f}`, 'utf8')).sources.length > 1);
  assert.ok(multi.length >= 1);
});

test('examples: filebeat-ds is the seed DaemonSet', () => {
  const [ds] = parseManifests(readFileSync(`${EXAMPLES}filebeat-ds.yaml`, 'utf8')).daemonSets;
  assert.deepEqual(ds?.spec?.selector, { matchLabels: { app: 'filebeat', release: 'stable' } });
  assert.deepEqual(ds?.spec?.template?.metadata?.labels, { app: 'filebeat', release: 'stable' });
  const [container] = ds?.spec?.template?.spec?.containers ?? [];
  assert.equal(container?.name, 'filebeat');
  assert.deepEqual(container?.env, [
    { name: 'REDIS_HOST', value: 'db.ilinux.io:6379' },
    { name: 'LOG_LEVEL', value: 'info' },
  ]);
});

test('examples: fluentd-elasticsearch tolerates control-plane nodes and rolls one node at a time', () => {
  const [ds] = parseManifests(readFileSync(`${EXAMPLES}fluentd-elasticsearch.yaml`, 'utf8')).daemonSets;
  assert.deepEqual(ds?.spec?.updateStrategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
  });
  assert.deepEqual(ds?.spec?.template?.spec?.tolerations, [
    { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
  ]);
  const volumes = ds?.spec?.template?.spec?.volumes as { hostPath?: { path?: string } }[] | undefined;
  assert.ok(volumes?.some((v) => v.hostPath?.path === '/var/log'));
});
