/**
 * The malformed corpus: each `test/fixtures/manifests/malformed/NN-name.yaml` has a sibling
 * `NN-name.expect.json` saying which error must be among those reported:
 * `{ code?, line?, column?, field?, messageIncludes? }`. Some inputs are generated here instead of
 * committed (2 MiB, thousands of documents). The `valid/` set must give no error at all.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseManifests, type ManifestError, type ParseResult } from '../../../src/manifest/index.js';
import { daemonSetYaml } from './builders.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/manifests/', import.meta.url));
const TIME_LIMIT_MS = 2000;

interface Expectation {
  code?: string;
  line?: number;
  column?: number;
  field?: string;
  messageIncludes?: string;
}

function matches(error: ManifestError, want: Expectation): boolean {
  return (
    (want.code === undefined || error.code === want.code) &&
    (want.line === undefined || error.line === want.line) &&
    (want.column === undefined || error.column === want.column) &&
    (want.field === undefined || error.field === want.field) &&
    (want.messageIncludes === undefined || error.message.includes(want.messageIncludes))
  );
}

/** Parses, timing it, and checks what every malformed input must satisfy. */
function parseMalformed(text: string, file: string): ParseResult {
  let result: ParseResult | undefined;
  const started = performance.now();
  assert.doesNotThrow(() => {
    result = parseManifests(text, { file });
  });
  const elapsed = performance.now() - started;
  assert.ok(elapsed < TIME_LIMIT_MS, `took ${Math.round(elapsed)} ms`);
  const { errors, daemonSets, sources } = result as ParseResult;
  assert.ok(errors.length > 0, 'at least one error');
  for (const e of errors) {
    assert.equal(e.file, file);
    assert.ok(Number.isInteger(e.line) && e.line >= 1, `line ${e.line}`);
    assert.ok(Number.isInteger(e.column) && e.column >= 1, `column ${e.column}`);
    assert.ok(typeof e.message === 'string' && e.message.trim().length > 0, 'message');
  }
  assert.equal(daemonSets.length, sources.length);
  return result as ParseResult;
}

const malformed = readdirSync(`${FIXTURES}malformed`)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

test('corpus: at least 40 malformed fixtures, each with an expectation', () => {
  assert.ok(malformed.length >= 40, `${malformed.length} fixtures`);
  const expectations = new Set(readdirSync(`${FIXTURES}malformed`).filter((f) => f.endsWith('.expect.json')));
  for (const f of malformed) assert.ok(expectations.has(f.replace(/\.yaml$/, '.expect.json')), f);
});

for (const file of malformed) {
  test(`corpus: ${file}`, () => {
    const text = readFileSync(`${FIXTURES}malformed/${file}`, 'utf8');
    const want = JSON.parse(
      readFileSync(`${FIXTURES}malformed/${file.replace(/\.yaml$/, '.expect.json')}`, 'utf8'),
    ) as Expectation;
    const result = parseMalformed(text, file);
    assert.ok(
      result.errors.some((e) => matches(e, want)),
      `expected ${JSON.stringify(want)} among ${JSON.stringify(result.errors, null, 2)}`,
    );
  });
}

const generated: { name: string; text: () => string; want: Expectation }[] = [
  {
    name: 'a 2 MiB manifest',
    text: () => `${daemonSetYaml()}# ${'padding '.repeat((2 * 1024 * 1024) / 8)}\n`,
    want: { code: 'TOO_LARGE', line: 1, column: 1 },
  },
  {
    name: '20,000 documents',
    text: () => 'kind: ConfigMap\n---\n'.repeat(20_000),
    want: { code: 'TOO_LARGE' },
  },
  {
    name: '300 levels of indentation',
    text: () => Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
    want: { code: 'NESTING_TOO_DEEP', line: 201, column: 201 },
  },
  {
    name: '900 KiB of nested flow mappings',
    text: () => '{a: '.repeat(230_000),
    want: { code: 'NESTING_TOO_DEEP', line: 1 },
  },
  {
    name: 'thousands of broken documents',
    text: () => 'a: b: c\n---\n'.repeat(2000),
    want: { code: 'YAML_SYNTAX' },
  },
  {
    name: 'a duplicate key repeated 10,000 times',
    text: () => `${daemonSetYaml()}${'spec: {}\n'.repeat(10_000)}`,
    want: { code: 'DUPLICATE_KEY', line: 17 },
  },
];
for (const c of generated) {
  test(`corpus (generated): ${c.name}`, () => {
    const result = parseMalformed(c.text(), 'generated.yaml');
    assert.ok(
      result.errors.some((e) => matches(e, c.want)),
      `expected ${JSON.stringify(c.want)} among ${JSON.stringify(result.errors.slice(0, 5), null, 2)}`,
    );
  });
}

const valid = readdirSync(`${FIXTURES}valid`)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

for (const file of valid) {
  test(`corpus (valid): ${file} gives no error`, () => {
    const result = parseManifests(readFileSync(`${FIXTURES}valid/${file}`, 'utf8'), { file });
    assert.deepEqual(result.errors, []);
    assert.ok(result.daemonSets.length >= 1);
    assert.equal(result.sources.length, result.daemonSets.length);
    for (const [i, ds] of result.daemonSets.entries()) {
      assert.equal(result.sources[i]?.key, `${ds.metadata?.namespace}/${ds.metadata?.name}`);
    }
  });
}

test('corpus (valid): what the tricky valid fixtures mean', () => {
  const read = (file: string): ParseResult =>
    parseManifests(readFileSync(`${FIXTURES}valid/${file}`, 'utf8'), { file });
  const anchors = read('anchors-and-merge.yaml').daemonSets[0];
  assert.deepEqual(anchors?.spec?.template?.metadata?.labels, { app: 'anchors', release: 'stable', extra: 'true' });
  assert.deepEqual(
    anchors?.spec?.template?.spec?.containers?.map((c) => c.name),
    ['first', 'second'],
  );
  const onDelete = read('on-delete.yaml').daemonSets[0];
  assert.deepEqual(onDelete?.spec?.updateStrategy, { type: 'OnDelete', rollingUpdate: { maxSurge: 1 } });
  const mixed = read('mixed-kinds.yaml');
  assert.deepEqual(
    mixed.skipped.map((s) => s.kind),
    ['ConfigMap', 'List'],
  );
  const exported = read('exported-from-cluster.yaml').daemonSets[0];
  assert.equal(exported?.metadata?.creationTimestamp, '2024-05-01T10:00:00Z');
  assert.equal(read('bom.yaml').sources[0]?.column, 1);
  assert.deepEqual(
    read('two-daemonsets.yaml').sources.map((s) => s.key),
    ['one/same-name', 'two/same-name'],
  );
});
