import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests } from '../../../src/manifest/index.js';
import { canonicalJson } from '../../../src/revision/canonical.js';
import { diffTemplates } from '../../../src/revision/diff.js';
import { templateHash } from '../../../src/revision/hash.js';

const template = () => ({
  metadata: { labels: { app: 'a' } },
  spec: {
    containers: [
      {
        name: 'c',
        image: 'img:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
    ],
  },
});

function yamlTemplate(text: string): unknown {
  const result = parseManifests(text, { file: 't.yaml' });
  assert.deepEqual(result.errors, []);
  return result.daemonSets[0]!.spec!.template;
}

describe('templateHash', () => {
  test('is 1 to 10 characters of the digit alphabet', () => {
    for (let i = 0; i < 200; i++) {
      const hash = templateHash({ spec: { containers: [{ name: 'c', image: `img:${i}` }] } });
      assert.match(hash, /^[456789bcdf]{1,10}$/);
    }
  });

  test('ignores key order, YAML style and comments', () => {
    const block = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: x}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata:
      labels: {app: a}   # the label
    spec:
      containers:
        - name: c
          image: "img:1"
`;
    const flow = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: x}
spec:
  template: {spec: {containers: [{image: 'img:1', name: c}]}, metadata: {labels: {app: a}}}
  selector: {matchLabels: {app: a}}
`;
    assert.equal(templateHash(yamlTemplate(block)), templateHash(yamlTemplate(flow)));
  });

  test('drops null and empty values as the API server does', () => {
    const withEmpty = { ...template(), metadata: { labels: { app: 'a' }, annotations: {} }, extra: null };
    assert.equal(templateHash(withEmpty), templateHash(template()));
  });

  const changes: [string, (t: ReturnType<typeof template>) => void][] = [
    ['image', (t) => (t.spec.containers[0]!.image = 'img:2')],
    ['template label', (t) => (t.metadata.labels.app = 'b')],
    ['env order', (t) => t.spec.containers[0]!.env.reverse()],
    ['env value', (t) => (t.spec.containers[0]!.env[0]!.value = 'x')],
  ];
  for (const [what, change] of changes) {
    test(`changes with the ${what}`, () => {
      const changed = template();
      change(changed);
      assert.notEqual(templateHash(changed), templateHash(template()));
    });
  }

  test('collisionCount: absent, 0 and 1 all differ; the same count is stable', () => {
    const hashes = [templateHash(template()), templateHash(template(), 0), templateHash(template(), 1)];
    assert.equal(new Set(hashes).size, 3);
    assert.equal(templateHash(template(), 1), templateHash(template(), 1));
  });

  test('a __proto__ key is data, not a prototype', () => {
    const evil = JSON.parse('{"metadata":{"labels":{"__proto__":{"x":"1"},"app":"a"}}}') as unknown;
    assert.match(canonicalJson(evil), /__proto__/);
    assert.notEqual(templateHash(evil), templateHash({ metadata: { labels: { app: 'a' } } }));
  });
});

describe('diffTemplates', () => {
  test('is an RFC 6902 patch of the real change only', () => {
    const next = template();
    next.spec.containers[0]!.image = 'img:2';
    assert.deepEqual(diffTemplates(template(), next), [
      { op: 'replace', path: '/spec/containers/0/image', value: 'img:2' },
    ]);
  });
});
