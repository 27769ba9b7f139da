import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests } from '../../../src/manifest/index.js';
import { DocumentParseCache, splitDocuments } from '../../../src/source/document-cache.js';
import { readManifestFile, type ManifestParseResult } from '../../../src/source/manifest-file.js';
import { daemonSetYaml } from '../../helpers/git.js';
import { countingParse } from './fixtures.js';

const ds = (name: string, image = 'busybox:1'): string => daemonSetYaml({ name, image });
const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: "1"\n';
const broken = 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: bad\n  namespace: default\n';

const samples: Record<string, string> = {
  'one document': ds('a'),
  'two documents': `${ds('a')}---\n${ds('b')}`,
  'leading marker and comment prelude': `# header comment\n---\n${ds('a')}---\n${ds('b')}`,
  'empty documents in between': `${ds('a')}---\n---\n# only a comment\n---\n${ds('b')}`,
  'non-DaemonSet documents': `${configMap}---\n${ds('a')}---\n${configMap}`,
  'a DaemonSet turned Deployment after a ConfigMap': `${configMap}---\n${ds('a').replace('kind: DaemonSet', 'kind: Deployment')}`,
  'a broken document among good ones': `${ds('a')}---\n${broken}---\n${ds('c')}`,
  'an invalid DaemonSet after a good one': `${ds('a')}---\n${ds('b').replace('  selector:\n    matchLabels:\n      app: b\n', '')}`,
  'the same name twice': `${ds('a')}---\n${ds('a', 'busybox:2')}`,
  'marker with trailing comment and CRLF': `${ds('a').replace(/\n/g, '\r\n')}--- # next\r\n${ds('b').replace(/\n/g, '\r\n')}`,
  'block scalar ending at a marker': `${ds('a')}  # trailing\n---\n${ds('b').replace('spec:\n', 'spec:\n  minReadySeconds: 0\n')}`,
  'directives are parsed whole': `%YAML 1.2\n---\n${ds('a')}---\n${ds('b')}`,
  'explicit document end is parsed whole': `${ds('a')}...\n---\n${ds('b')}`,
};

describe('per-document parse cache', () => {
  for (const [name, text] of Object.entries(samples)) {
    test(`same result as a whole-file parse: ${name}`, () => {
      const whole = parseManifests(text, { file: 'deploy/x.yaml' });
      const split = new DocumentParseCache(parseManifests).parseFile(text, 'deploy/x.yaml');
      // What the sync reads: valid documents, claimed names, problems by name, file-level problems.
      const view = (r: ManifestParseResult): unknown => {
        const f = readManifestFile(() => r, text, 'deploy/x.yaml');
        return {
          docs: [...f.docs].map(([k, d]) => [k, d.daemonSet, d.source]),
          keys: f.keys,
          keyProblems: [...f.keyProblems.keys()],
          fileProblems: f.fileProblems.map((p) => [p.line, p.column, p.code]),
          otherKinds: [...f.otherKinds],
        };
      };
      assert.deepEqual(view(split), view(whole));
      if (name !== 'the same name twice') {
        assert.deepEqual(split.daemonSets, whole.daemonSets);
        assert.deepEqual(split.sources, whole.sources);
        const pick = (e: ManifestParseResult['errors'][number]): string =>
          JSON.stringify([e.file, e.line, e.column, e.code, e.namespace, e.name]);
        assert.deepEqual(split.errors.map(pick).sort(), whole.errors.map(pick).sort());
        // Documents of other kinds: same positions (their `kind` too), namespaces and indexes.
        assert.deepEqual(split.skipped, whole.skipped);
      }
    });
  }

  test('changing one document of fifty parses one document', () => {
    const docs = Array.from({ length: 50 }, (_, i) => ds(`ds-${i}`));
    const counter = countingParse();
    const cache = new DocumentParseCache(counter.parse);
    const first = cache.parseFile(docs.join('---\n'), 'all.yaml');
    assert.equal(counter.count(), 50);
    docs[17] = ds('ds-17', 'busybox:2');
    const second = cache.parseFile(docs.join('---\n'), 'all.yaml');
    assert.equal(counter.count(), 51);
    assert.equal(second.daemonSets[3], first.daemonSets[3], 'unchanged documents are the same objects');
    assert.notEqual(second.daemonSets[17], first.daemonSets[17]);
    assert.equal(second.sources[17]!.line, first.sources[17]!.line);
  });

  test('splitDocuments keeps line numbers', () => {
    const chunks = splitDocuments('# c\n---\na: 1\n---\nb: 2\n');
    assert.deepEqual(
      chunks.map((c) => [c.startLine, c.text]),
      [
        [2, '---\na: 1\n'],
        [4, '---\nb: 2\n'],
      ],
    );
    assert.deepEqual(
      splitDocuments('a: 1\n---\nb: 2').map((c) => c.startLine),
      [1, 2],
    );
  });
});
