import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseManifests, type ManifestError, type ParseResult } from '../../../src/manifest/index.js';
import { daemonSetYaml } from './builders.js';

/** Every error must be placeable and readable, whatever the input. */
function assertWellFormed(result: ParseResult, file: string): void {
  for (const e of result.errors) {
    assert.equal(e.file, file);
    assert.ok(Number.isInteger(e.line) && e.line >= 1, `line ${e.line}`);
    assert.ok(Number.isInteger(e.column) && e.column >= 1, `column ${e.column}`);
    assert.ok(typeof e.message === 'string' && e.message.length > 0);
    assert.ok(typeof e.code === 'string' && e.code.length > 0);
  }
  assert.equal(result.sources.length, result.daemonSets.length);
}

const pick = (e: ManifestError): Partial<ManifestError> => ({
  code: e.code,
  line: e.line,
  column: e.column,
  ...(e.field === undefined ? {} : { field: e.field }),
});

test('parse: a valid DaemonSet gives no error, its defaults, and its source', () => {
  const text = `# comment\n${daemonSetYaml()}`;
  const result = parseManifests(text, { file: 'ds/filebeat.yaml' });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.sources, [
    { file: 'ds/filebeat.yaml', line: 2, column: 1, documentIndex: 0, key: 'default/filebeat-ds' },
  ]);
  const [ds] = result.daemonSets;
  assert.equal(ds?.metadata?.namespace, 'default');
  assert.deepEqual(ds?.spec?.updateStrategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
  });
  assert.equal(ds?.spec?.revisionHistoryLimit, 10);
  assert.equal(ds?.spec?.minReadySeconds, 0);
});

test('parse: the template is returned exactly as written (no pod defaults)', () => {
  const text = daemonSetYaml();
  const written = parse(text) as { spec: { template: unknown } };
  const [ds] = parseManifests(text).daemonSets;
  assert.deepEqual(ds?.spec?.template, written.spec.template);
});

test('parse: the file defaults to <stdin>', () => {
  const result = parseManifests('kind: [');
  assert.ok(result.errors.length > 0);
  assert.ok(result.errors.every((e) => e.file === '<stdin>'));
});

const positions: { name: string; text: string; want: Partial<ManifestError>[] }[] = [
  {
    name: 'maxSurge alone points at the maxSurge value',
    text: daemonSetYaml({ specLines: ['  updateStrategy:', '    rollingUpdate:', '      maxSurge: 1'] }),
    want: [{ code: 'INVALID_FIELD', line: 11, column: 17, field: 'spec.updateStrategy.rollingUpdate.maxSurge' }],
  },
  {
    name: 'a missing selector points at the spec mapping, the mismatch at the template labels',
    text: daemonSetYaml().replace('  selector:\n    matchLabels:\n      app: filebeat\n', ''),
    want: [
      { code: 'INVALID_FIELD', line: 6, column: 3, field: 'spec.selector' },
      { code: 'INVALID_FIELD', line: 9, column: 9, field: 'spec.template.metadata.labels' },
    ],
  },
  {
    name: 'several errors in one document come in reading order',
    text: [
      'apiVersion: apps/v1',
      'kind: DaemonSet',
      'metadata:',
      '  name: Filebeat',
      '  labels:',
      '    enabled: yes',
      'spec:',
      '  minReadySeconds: -1',
      '  selector:',
      '    matchLabels: {app: filebeat}',
      '  template:',
      '    metadata:',
      '      labels: {app: filebeat}',
      '    spec:',
      '      restartPolicy: Never',
      '      containers:',
      '        - name: filebeat',
      '          image: x',
      '          env:',
      '            - {name: PORT, value: 8080}',
      '  updateStrategy:',
      '    type: Foo',
      '',
    ].join('\n'),
    want: [
      { code: 'INVALID_FIELD', line: 4, column: 9, field: 'metadata.name' },
      { code: 'INVALID_TYPE', line: 6, column: 14, field: 'metadata.labels[enabled]' },
      { code: 'INVALID_FIELD', line: 8, column: 20, field: 'spec.minReadySeconds' },
      { code: 'INVALID_FIELD', line: 15, column: 22, field: 'spec.template.spec.restartPolicy' },
      { code: 'INVALID_TYPE', line: 20, column: 35, field: 'spec.template.spec.containers[0].env[0].value' },
      { code: 'INVALID_FIELD', line: 22, column: 11, field: 'spec.updateStrategy.type' },
    ],
  },
  {
    name: 'a bad label key points at the key, its bad value at the value',
    text: daemonSetYaml().replace('  name: filebeat-ds\n', '  name: filebeat-ds\n  labels:\n    "-x": "bad value"\n'),
    want: [
      { code: 'INVALID_FIELD', line: 6, column: 5, field: 'metadata.labels' },
      { code: 'INVALID_FIELD', line: 6, column: 11, field: 'metadata.labels' },
    ],
  },
  {
    name: 'an unknown field points at its key',
    text: daemonSetYaml({ specLines: ['  updateStrategy:', '    rollingupdate: {}'] }),
    want: [{ code: 'UNKNOWN_FIELD', line: 10, column: 5, field: 'spec.updateStrategy.rollingupdate' }],
  },
  {
    name: 'an empty value points at its key',
    text: daemonSetYaml().replace('image: ikubernetes/filebeat:5.6.5-alpine', 'image:'),
    want: [{ code: 'INVALID_FIELD', line: 16, column: 11, field: 'spec.template.spec.containers[0].image' }],
  },
  {
    name: 'a YAML syntax error has the position the YAML library gives',
    text: 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n\tname: x\n',
    want: [{ code: 'YAML_SYNTAX', line: 4, column: 1 }],
  },
  {
    name: 'lines count from the start of the file in later documents',
    text: `${daemonSetYaml({ name: 'a' })}---\n${daemonSetYaml({ name: 'B' })}`,
    want: [{ code: 'INVALID_FIELD', line: 21, column: 9, field: 'metadata.name' }],
  },
  {
    name: 'errors inside values reached through a merge key point at the merged source',
    text: [
      'base: &base {restartPolicy: Never}',
      'apiVersion: apps/v1',
      'kind: DaemonSet',
      'metadata: {name: merged}',
      'spec:',
      '  selector: {matchLabels: {app: m}}',
      '  template:',
      '    metadata: {labels: {app: m}}',
      '    spec:',
      '      <<: *base',
      '      containers: [{name: m, image: m}]',
      '',
    ].join('\n'),
    want: [
      { code: 'UNKNOWN_FIELD', line: 1, column: 1, field: 'base' },
      { code: 'INVALID_FIELD', line: 1, column: 29, field: 'spec.template.spec.restartPolicy' },
    ],
  },
];
for (const c of positions) {
  test(`parse positions: ${c.name}`, () => {
    const result = parseManifests(c.text, { file: 'x.yaml' });
    assertWellFormed(result, 'x.yaml');
    assert.deepEqual(result.errors.map(pick), c.want, JSON.stringify(result.errors, null, 2));
  });
}

test('parse: messages read like the API server', () => {
  const result = parseManifests(
    daemonSetYaml({ specLines: ['  updateStrategy:', '    rollingUpdate:', '      maxSurge: 1'] }),
  );
  assert.equal(
    result.errors[0]?.message,
    'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
  );
  const noSelector = parseManifests(
    daemonSetYaml().replace('  selector:\n    matchLabels:\n      app: filebeat\n', ''),
  );
  assert.deepEqual(
    noSelector.errors.map((e) => e.message),
    [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: {"app":"filebeat"}: `selector` does not match template `labels`',
    ],
  );
});

test('parse: errors of a DaemonSet carry its namespace/name and document index', () => {
  const text = `${daemonSetYaml({ name: 'ok' })}---\n${daemonSetYaml({ name: 'broken', namespace: 'kube-system', specLines: ['  minReadySeconds: -1'] })}`;
  const result = parseManifests(text);
  assert.deepEqual(
    result.errors.map((e) => [e.documentIndex, e.namespace, e.name, e.field]),
    [[1, 'kube-system', 'broken', 'spec.minReadySeconds']],
  );
  assert.deepEqual(
    result.daemonSets.map((d) => d.metadata?.name),
    ['ok'],
  );
});

test('parse: a syntax error still names the DaemonSet when its name can be read', () => {
  const text = daemonSetYaml({ name: 'named', namespace: 'logging' }).replace(
    '      app: filebeat\n',
    '      app: "x\n',
  );
  const result = parseManifests(text);
  assert.ok(result.errors.length > 0);
  assert.equal(result.errors[0]?.code, 'YAML_SYNTAX');
  assert.equal(result.errors[0]?.name, 'named');
  assert.equal(result.errors[0]?.namespace, 'logging');
});

test('parse: multi-document text with other kinds skipped and empty documents ignored', () => {
  const text = [
    '---',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: cfg}',
    '---',
    '# just a comment',
    '---',
    daemonSetYaml({ name: 'first' }).trimEnd(),
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: web}',
    '---',
    'apiVersion: v1',
    'kind: List',
    'items: []',
    '---',
    daemonSetYaml({ name: 'second', namespace: 'kube-system' }).trimEnd(),
    '---',
    '',
  ].join('\n');
  const result = parseManifests(text, { file: 'all.yaml' });
  assertWellFormed(result, 'all.yaml');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.sources.map((s) => [s.key, s.line, s.documentIndex]),
    [
      ['default/first', 8, 2],
      ['kube-system/second', 33, 5],
    ],
  );
  assert.deepEqual(
    result.skipped.map(({ kind, apiVersion, name, line, documentIndex }) => ({
      kind,
      apiVersion,
      name,
      line,
      documentIndex,
    })),
    [
      { kind: 'ConfigMap', apiVersion: 'v1', name: 'cfg', line: 2, documentIndex: 0 },
      { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', line: 25, documentIndex: 3 },
      { kind: 'List', apiVersion: 'v1', name: undefined, line: 29, documentIndex: 4 },
    ],
  );
  for (const s of result.skipped) assert.ok(s.reason.length > 0 && s.file === 'all.yaml');
});

test('parse: a skipped document carries its namespace (defaulted like DaemonSets) and where its kind is', () => {
  const text = [
    'apiVersion: apps/v1',
    'metadata: {name: web, namespace: shop}',
    'kind:   Deployment',
    '---',
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata:',
    '  name: agent',
    '  namespace: ""',
    '---',
    'kind: "Service"',
    'metadata: {name: agent}',
    '---',
    'apiVersion: v1',
    'kind: List',
    'items: []',
    '',
  ].join('\n');
  const result = parseManifests(text, { file: 'mixed.yaml' });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.skipped.map(({ kind, name, namespace, line, column, kindLine, kindColumn }) => ({
      kind,
      name,
      namespace,
      at: [line, column],
      kindAt: [kindLine, kindColumn],
    })),
    [
      { kind: 'Deployment', name: 'web', namespace: 'shop', at: [1, 1], kindAt: [3, 9] },
      { kind: 'ServiceAccount', name: 'agent', namespace: 'default', at: [5, 1], kindAt: [6, 7] },
      { kind: 'Service', name: 'agent', namespace: 'default', at: [11, 1], kindAt: [11, 7] },
      { kind: 'List', name: undefined, namespace: undefined, at: [14, 1], kindAt: [15, 7] },
    ],
  );
});

test('parse: the same namespace/name twice keeps the first and names both positions', () => {
  const text = `${daemonSetYaml({ specLines: ['  minReadySeconds: 1'] })}---\n${daemonSetYaml({ namespace: 'default', specLines: ['  minReadySeconds: 2'] })}`;
  const result = parseManifests(text, { file: 'dup.yaml' });
  assert.equal(result.daemonSets.length, 1);
  assert.equal(result.daemonSets[0]?.spec?.minReadySeconds, 1);
  assert.deepEqual(result.errors.map(pick), [{ code: 'DUPLICATE_NAME', line: 22, column: 9, field: 'metadata.name' }]);
  assert.match(result.errors[0]?.message ?? '', /"default\/filebeat-ds".*dup\.yaml:1.*dup\.yaml:19/);
  assert.equal(result.errors[0]?.name, 'filebeat-ds');
});

test('parse: the same name in two namespaces is two DaemonSets', () => {
  const text = `${daemonSetYaml({ namespace: 'a' })}---\n${daemonSetYaml({ namespace: 'b' })}`;
  const result = parseManifests(text);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.sources.map((s) => s.key),
    ['a/filebeat-ds', 'b/filebeat-ds'],
  );
});

const yaml11: { name: string; value: string; want: 'ok' | 'INVALID_TYPE' }[] = [
  { name: 'yes is a boolean', value: 'yes', want: 'INVALID_TYPE' },
  { name: 'on is a boolean', value: 'on', want: 'INVALID_TYPE' },
  { name: 'Off is a boolean', value: 'Off', want: 'INVALID_TYPE' },
  { name: 'y is a boolean', value: 'y', want: 'INVALID_TYPE' },
  { name: 'NO is a boolean', value: 'NO', want: 'INVALID_TYPE' },
  { name: 'true is a boolean', value: 'true', want: 'INVALID_TYPE' },
  { name: '0777 is an octal number', value: '0777', want: 'INVALID_TYPE' },
  { name: '1.0 is a number', value: '1.0', want: 'INVALID_TYPE' },
  { name: '~ is null', value: '~', want: 'INVALID_TYPE' },
  { name: 'a quoted "yes" is a string', value: '"yes"', want: 'ok' },
  { name: "a single-quoted 'on' is a string", value: "'on'", want: 'ok' },
  { name: 'a timestamp stays a string, as with go-yaml', value: '2024-01-01', want: 'ok' },
  { name: 'digits with underscores are a number', value: '12_30', want: 'INVALID_TYPE' },
  { name: 'a plain word is a string', value: 'stable', want: 'ok' },
];
for (const c of yaml11) {
  test(`parse YAML 1.1: ${c.name}`, () => {
    const text = daemonSetYaml().replace(
      '  name: filebeat-ds\n',
      `  name: filebeat-ds\n  labels:\n    track: ${c.value}\n`,
    );
    const result = parseManifests(text);
    if (c.want === 'ok') {
      assert.deepEqual(result.errors, []);
      assert.equal(typeof result.daemonSets[0]?.metadata?.labels?.track, 'string');
    } else {
      assert.deepEqual(result.errors.map(pick), [
        { code: c.want, line: 6, column: 12, field: 'metadata.labels[track]' },
      ]);
    }
  });
}

test('parse YAML 1.1: the message says how the value was written', () => {
  const text = daemonSetYaml().replace('  name: filebeat-ds\n', '  name: filebeat-ds\n  labels:\n    enabled: on\n');
  assert.equal(
    parseManifests(text).errors[0]?.message,
    'metadata.labels[enabled]: Invalid value: true: must be a string; quote it as "on"',
  );
});

test('parse YAML 1.1: env values like 12:30 and yes', () => {
  const text = daemonSetYaml().replace(
    'image: ikubernetes/filebeat:5.6.5-alpine\n',
    'image: ikubernetes/filebeat:5.6.5-alpine\n          env:\n            - {name: AT, value: 12:30}\n            - {name: DEBUG, value: yes}\n',
  );
  const result = parseManifests(text);
  assert.deepEqual(
    result.errors.map((e) => e.field),
    ['spec.template.spec.containers[0].env[1].value'],
  );
});

test('parse: a document that is not a mapping, and one without kind, are errors', () => {
  const result = parseManifests('- a\n- b\n---\njust text\n---\nmetadata: {name: x}\n');
  assert.deepEqual(
    result.errors.map((e) => [e.code, e.line, e.documentIndex]),
    [
      ['NOT_A_MAPPING', 1, 0],
      ['NOT_A_MAPPING', 4, 1],
      ['MISSING_KIND', 6, 2],
    ],
  );
});

test('parse: apiVersions other than apps/v1 are refused for DaemonSets and say what to write', () => {
  for (const apiVersion of ['extensions/v1beta1', 'apps/v1beta2']) {
    const result = parseManifests(daemonSetYaml().replace('apps/v1', apiVersion));
    assert.equal(result.daemonSets.length, 0);
    assert.deepEqual(result.errors.map(pick), [
      { code: 'WRONG_API_VERSION', line: 1, column: 13, field: 'apiVersion' },
    ]);
    assert.match(result.errors[0]?.message ?? '', /apiVersion: apps\/v1/);
  }
});

test('parse: text above maxBytes is one TOO_LARGE error, without parsing', () => {
  const big = `${daemonSetYaml()}#${'x'.repeat(2 * 1024 * 1024)}\n`;
  const started = performance.now();
  const result = parseManifests(big, { file: 'big.yaml' });
  assert.ok(performance.now() - started < 200);
  assert.deepEqual(result.errors.map(pick), [{ code: 'TOO_LARGE', line: 1, column: 1 }]);
  assert.equal(result.daemonSets.length, 0);
  // maxBytes counts UTF-8 bytes, not characters.
  assert.equal(parseManifests('é'.repeat(600), { maxBytes: 1000 }).errors[0]?.code, 'TOO_LARGE');
  assert.equal(parseManifests(daemonSetYaml(), { maxBytes: 100 }).errors[0]?.code, 'TOO_LARGE');
  assert.deepEqual(parseManifests(daemonSetYaml(), { maxBytes: 10_000 }).errors, []);
});

test('parse: input that is not a string is an error, not an exception', () => {
  const result = parseManifests(undefined as unknown as string, { file: 'f.yaml' });
  assert.deepEqual(result.errors.map(pick), [{ code: 'INVALID_INPUT', line: 1, column: 1 }]);
});

test('parse: empty text, comments and bare separators give nothing at all', () => {
  for (const text of ['', '\n', '# only a comment\n', '---\n---\n', '...\n', '   \n\t\n']) {
    assert.deepEqual(
      parseManifests(text),
      { daemonSets: [], sources: [], skipped: [], errors: [] },
      JSON.stringify(text),
    );
  }
});

function lolBomb(levels: number): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = String.fromCharCode(96 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

test('parse limits: bombs return an error within 2 s in a child process with a 256 MB heap', () => {
  const bombs: { name: string; text: string; code: string }[] = [
    { name: 'billion laughs (9 levels)', text: lolBomb(9), code: 'ALIAS_LIMIT' },
    {
      name: 'billion laughs inside a DaemonSet',
      text: `${daemonSetYaml()}bomb:\n${lolBomb(9).replace(/^(?=.)/gm, '  ')}`,
      code: 'ALIAS_LIMIT',
    },
    { name: '100,000 nested [', text: '['.repeat(100_000), code: 'NESTING_TOO_DEEP' },
    { name: '300 nested {a:', text: `${'{a: '.repeat(300)}1${'}'.repeat(300)}`, code: 'NESTING_TOO_DEEP' },
    {
      name: '250 levels of block indentation',
      text: Array.from({ length: 250 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      code: 'NESTING_TOO_DEEP',
    },
    { name: '400,000 compact sequence items', text: '- '.repeat(400_000), code: 'NESTING_TOO_DEEP' },
    {
      name: '20,000 aliases of one anchor',
      text: `x: &x {a: 1}\n${Array.from({ length: 20_000 }, (_, i) => `k${i}: *x`).join('\n')}`,
      code: 'ALIAS_LIMIT',
    },
  ];
  const child = spawnSync(
    process.execPath,
    ['--max-old-space-size=256', '--import', 'tsx', fileURLToPath(new URL('./parse-child.ts', import.meta.url))],
    {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      input: JSON.stringify(bombs.map((b) => b.text)),
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  assert.equal(child.error, undefined, `child failed: ${String(child.error)}`);
  assert.equal(child.status, 0, child.stderr);
  const results = JSON.parse(child.stdout) as {
    ms: number;
    errors: { code: string; line: number; column: number }[];
  }[];
  bombs.forEach((bomb, i) => {
    const r = results[i];
    assert.ok(r !== undefined, bomb.name);
    assert.ok(r.ms < 2000, `${bomb.name}: ${r.ms} ms`);
    assert.ok(
      r.errors.some((e) => e.code === bomb.code),
      `${bomb.name}: ${JSON.stringify(r.errors)}`,
    );
    for (const e of r.errors) assert.ok(e.line >= 1 && e.column >= 1);
  });
});

/** Deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}

test('parse: never throws on 1,000 mutations of a valid manifest', () => {
  const base = `${daemonSetYaml({ specLines: ['  updateStrategy:', '    rollingUpdate: {maxUnavailable: "25%"}'] })}---\n${daemonSetYaml({ name: 'two' })}`;
  const alphabet = ' \t\n:-[]{}&*!|>\'"%@`#,?yes0123456789\u0000\u00e9\ufeff';
  const next = random(42);
  for (let i = 0; i < 1000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * chars.length);
      const kind = next();
      const char = alphabet[Math.floor(next() * alphabet.length)] ?? ' ';
      if (kind < 0.4) chars.splice(at, 1);
      else if (kind < 0.8) chars.splice(at, 0, char);
      else chars[at] = char;
    }
    const text = chars.join('');
    let result: ParseResult | undefined;
    assert.doesNotThrow(() => {
      result = parseManifests(text, { file: 'm.yaml' });
    }, JSON.stringify(text));
    assertWellFormed(result as ParseResult, 'm.yaml');
  }
});

test('parse: never throws on random bytes', () => {
  const next = random(7);
  for (let i = 0; i < 300; i++) {
    const length = Math.floor(next() * 400);
    const text = Array.from({ length }, () => String.fromCharCode(Math.floor(next() * 0x3000))).join('');
    let result: ParseResult | undefined;
    assert.doesNotThrow(() => {
      result = parseManifests(text, { file: 'r.yaml' });
    });
    assertWellFormed(result as ParseResult, 'r.yaml');
  }
});
