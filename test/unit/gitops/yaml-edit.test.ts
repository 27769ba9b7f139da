import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Lexer } from 'yaml';
import { pauseMutation, rollbackMutation, setImageMutation } from '../../../src/gitops/changes.js';
import { ContainerNotFoundError, DaemonSetNotInGitError } from '../../../src/gitops/errors.js';
import { unifiedDiff } from '../../../src/gitops/unified-diff.js';
import { editManifest, stableJson, type JsonObject } from '../../../src/gitops/yaml-edit.js';
import { parseManifests } from '../../../src/manifest/index.js';

const FILEBEAT = readFileSync(new URL('../../../manifests-example/filebeat-ds.yaml', import.meta.url), 'utf8');
const FILEBEAT_REF = { namespace: 'default', name: 'filebeat-ds' };

/** Every comment token of a YAML text, as the `yaml` lexer sees them (sorted, with repeats). */
function comments(text: string): string[] {
  return [...new Lexer().lex(text.replace(/^\uFEFF/, ''))].filter((t) => t.startsWith('#')).sort();
}

/** Lines removed (-) and added (+) by the change. */
function changedLines(before: string, after: string): string[] {
  return unifiedDiff(before, after, 'f')
    .split('\n')
    .filter((l) => /^[-+](?![-+]{2} )/.test(l));
}

const image = (o: JsonObject): string =>
  (o as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]!.image;

describe('editManifest on the filebeat example (comments everywhere)', () => {
  test('a rollback that changes only the image is a one-line diff, every comment kept', () => {
    const newer = FILEBEAT.replace('5.6.5-alpine', '5.6.6-alpine');
    const older = parseManifests(FILEBEAT).daemonSets[0]!.spec!.template!;
    const edit = editManifest(newer, FILEBEAT_REF, rollbackMutation(older), { file: 'filebeat-ds.yaml' });
    assert.equal(edit.changed, true);
    assert.equal(edit.rewrote, false);
    assert.equal(edit.text, FILEBEAT, 'restoring the template restores the file byte for byte');
    assert.deepEqual(changedLines(newer, edit.text), [
      '-          image: ikubernetes/filebeat:5.6.6-alpine',
      '+          image: ikubernetes/filebeat:5.6.5-alpine',
    ]);
    assert.equal(image(edit.after), 'ikubernetes/filebeat:5.6.5-alpine');
  });

  test('structural template changes keep every comment; lines outside spec.template are byte-identical', () => {
    const target = structuredClone(parseManifests(FILEBEAT).daemonSets[0]!.spec!.template!) as JsonObject & {
      metadata: { labels: Record<string, string> };
      spec: { containers: JsonObject[] };
    };
    const c = target.spec.containers[0] as { env: { name: string; value: string }[]; args?: string[] };
    c.env = [c.env[1]!, { name: 'NEW', value: 'yes' }, c.env[0]!]; // reorder and add (a value needing quotes)
    c.args = ['--path.config', '/etc/filebeat'];
    target.metadata.labels['tier'] = 'logging';
    const edit = editManifest(FILEBEAT, FILEBEAT_REF, rollbackMutation(target), { file: 'filebeat-ds.yaml' });
    assert.equal(edit.rewrote, false);
    assert.deepEqual(comments(edit.text), comments(FILEBEAT));
    const head = FILEBEAT.slice(0, FILEBEAT.indexOf('  template:\n'));
    assert.ok(edit.text.startsWith(head), 'everything before spec.template is unchanged');
    const parsed = parseManifests(edit.text);
    assert.equal(parsed.errors.length, 0);
    assert.equal(stableJson(parsed.daemonSets[0]!.spec!.template), stableJson(target));
    assert.match(edit.text, /- name: NEW\n {14}value: "yes"\n/, 'a YAML 1.1 boolean word is quoted');
  });

  test('pause adds the annotation next to the labels, resume removes it and the emptied map', () => {
    const paused = editManifest(FILEBEAT, FILEBEAT_REF, pauseMutation(true));
    assert.deepEqual(changedLines(FILEBEAT, paused.text), ['+  annotations:', '+    dsctl.dev/paused: "true"']);
    assert.deepEqual(comments(paused.text), comments(FILEBEAT));
    const resumed = editManifest(paused.text, FILEBEAT_REF, pauseMutation(false));
    assert.equal(resumed.text, FILEBEAT);
    assert.equal(editManifest(FILEBEAT, FILEBEAT_REF, pauseMutation(false)).changed, false);
  });

  test('set image: one line; an unknown container names the ones that exist', () => {
    const edit = editManifest(
      FILEBEAT,
      FILEBEAT_REF,
      setImageMutation({ filebeat: 'ikubernetes/filebeat:5.6.6-alpine' }),
    );
    assert.equal(changedLines(FILEBEAT, edit.text).length, 2);
    assert.throws(
      () => editManifest(FILEBEAT, FILEBEAT_REF, setImageMutation({ nginx: 'nginx:1' })),
      (err: unknown) =>
        err instanceof ContainerNotFoundError &&
        err.message === 'unable to find container named "nginx" (containers: filebeat)',
    );
  });

  test('a DaemonSet the file does not define is a clear error', () => {
    assert.throws(
      () => editManifest(FILEBEAT, { namespace: 'kube-system', name: 'filebeat-ds' }, (o) => o, { file: 'f.yaml' }),
      (err: unknown) =>
        err instanceof DaemonSetNotInGitError &&
        /f\.yaml defines no DaemonSet kube-system\/filebeat-ds/.test(err.message),
    );
  });
});

describe('editManifest on every valid fixture and example', () => {
  const dirs = [
    new URL('../../fixtures/manifests/valid/', import.meta.url),
    new URL('../../../manifests-example/', import.meta.url),
  ];
  const files = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .map((f) => ({ name: f, text: readFileSync(new URL(f, d), 'utf8') })),
  );
  for (const file of files) {
    const parsed = parseManifests(file.text, { file: file.name });
    parsed.sources.forEach((source, i) => {
      const [namespace = '', name = ''] = source.key.split('/');
      const ref = { namespace, name };
      const template = structuredClone(parsed.daemonSets[i]!.spec!.template!) as JsonObject & {
        metadata?: { labels?: Record<string, string> };
        spec: { containers: { env?: unknown[] }[] };
      };
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, added: 'true' } };
      template.spec.containers[0]!.env = [...(template.spec.containers[0]!.env ?? []), { name: 'ADDED', value: '1' }];
      const cases = {
        'set image *': setImageMutation({ '*': 'registry.example/new:1' }),
        pause: pauseMutation(true),
        'rollback to a template with more fields': rollbackMutation(template),
      };
      for (const [label, mutate] of Object.entries(cases)) {
        test(`${file.name} ${source.key}: ${label}`, () => {
          const edit = editManifest(file.text, ref, mutate, { file: file.name });
          assert.equal(edit.changed, true);
          const again = parseManifests(edit.text, { file: file.name });
          const j = again.sources.findIndex((s) => s.key === source.key);
          assert.ok(j >= 0, `still a valid DaemonSet: ${JSON.stringify(again.errors)}`);
          assert.equal(again.daemonSets.length, parsed.daemonSets.length, 'the other DaemonSets are still there');
          for (const [k, other] of parsed.sources.entries()) {
            if (other.key === source.key) continue;
            const m = again.sources.findIndex((s) => s.key === other.key);
            assert.equal(stableJson(again.daemonSets[m]), stableJson(parsed.daemonSets[k]), `${other.key} unchanged`);
          }
          if (!file.name.endsWith('.json') && !file.text.trimStart().startsWith('{')) {
            assert.deepEqual(comments(edit.text), comments(file.text), 'every comment kept');
          }
          if (label === 'set image *') {
            const containers = again.daemonSets[j]!.spec!.template!.spec!.containers!;
            assert.ok(containers.every((c) => c.image === 'registry.example/new:1'));
          }
          if (file.name === 'crlf.yaml') assert.ok(!/[^\r]\n/.test(edit.text), 'CRLF kept');
          if (file.name === 'bom.yaml') assert.ok(edit.text.startsWith('\uFEFF'), 'BOM kept');
          // Documents other than the edited one are byte-identical.
          const docsBefore = file.text.split(/^---\s*$/m);
          const docsAfter = edit.text.split(/^---\s*$/m);
          if (docsBefore.length === docsAfter.length && docsBefore.length > 1) {
            const changed = docsBefore.filter((d, k) => d !== docsAfter[k]).length;
            assert.equal(changed, 1, 'exactly one document changed');
          }
        });
      }
    });
  }
});

describe('editManifest edge cases', () => {
  const ref = { namespace: 'default', name: 'x' };
  const base = `# header
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: x
spec:
  selector:
    matchLabels: {app: x}   # flow map, trailing comment
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: x             # non-indented sequence style
        image: "x:1"        # quoted
        args: ["--a", "--b"]
        command:
        - /bin/x
      # end of containers
`;

  test('quote style, non-indented sequences and trailing comments are kept', () => {
    const edit = editManifest(base, ref, setImageMutation({ x: 'x:2' }));
    assert.deepEqual(changedLines(base, edit.text), [
      '-        image: "x:1"        # quoted',
      '+        image: "x:2"        # quoted',
    ]);
  });

  test('a flow list changes in place; a new block list follows the file style', () => {
    const edit = editManifest(base, ref, (o) => {
      const c = (o as { spec: { template: { spec: { containers: JsonObject[] } } } }).spec.template.spec.containers[0]!;
      c['args'] = ['--a', '--c', '--d'];
      c['ports'] = [{ containerPort: 80 }];
      return o;
    });
    assert.equal(edit.rewrote, false);
    assert.deepEqual(comments(edit.text), comments(base));
    assert.match(edit.text, /args: \["--a", "--c", "--d"\]|args: \[ "--a", "--c", "--d" \]|args: \["--a", --c, --d\]/);
    assert.match(edit.text, /\n {8}ports:\n {8}- containerPort: 80\n/, 'non-indented sequence style followed');
  });

  test('no change gives the same text back', () => {
    const edit = editManifest(base, ref, (o) => o);
    assert.equal(edit.changed, false);
    assert.equal(edit.text, base);
  });

  test('an anchored list shared through an alias is split, not changed in both places', () => {
    const anchors = readFileSync(
      new URL('../../fixtures/manifests/valid/anchors-and-merge.yaml', import.meta.url),
      'utf8',
    );
    const edit = editManifest(anchors, { namespace: 'default', name: 'anchors' }, (o) => {
      const c = (o as { spec: { template: { spec: { containers: JsonObject[] } } } }).spec.template.spec.containers[0]!;
      c['env'] = [{ name: 'ONLY_FIRST', value: '1' }]; // env is shared by an alias with the second container
      return o;
    });
    const ds = parseManifests(edit.text).daemonSets[0]!;
    const envs = ds.spec!.template!.spec!.containers!.map((c) =>
      ((c.env ?? []) as { name: string }[]).map((e) => e.name),
    );
    assert.deepEqual(envs, [['ONLY_FIRST'], ['MODE']]);
    assert.deepEqual(comments(edit.text), comments(anchors));
    assert.ok(edit.text.startsWith(anchors.slice(0, anchors.indexOf('    spec:\n      containers:'))));
  });
});

describe('unifiedDiff', () => {
  test('git apply reproduces the new text from random edits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsctl-diff-'));
    try {
      let seed = 7;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let round = 0; round < 25; round++) {
        const lines = FILEBEAT.split('\n');
        for (let k = 0; k < 1 + random(6); k++) {
          const at = random(lines.length);
          const op = random(3);
          if (op === 0) lines.splice(at, 1);
          else if (op === 1) lines.splice(at, 0, `# inserted ${round}-${k}`);
          else lines[at] = `${lines[at]} changed`;
        }
        const after = lines.join('\n');
        const patch = unifiedDiff(FILEBEAT, after, 'f.yaml');
        writeFileSync(join(dir, 'f.yaml'), FILEBEAT);
        writeFileSync(join(dir, 'p.diff'), patch);
        execFileSync('git', ['apply', '--unidiff-zero', 'p.diff'], { cwd: dir, stdio: 'pipe' });
        assert.equal(readFileSync(join(dir, 'f.yaml'), 'utf8'), after, `round ${round}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('equal texts give an empty diff', () => {
    assert.equal(unifiedDiff('a\n', 'a\n', 'f'), '');
  });
});
