import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareEntries,
  compareNames,
  entryAt,
  entryCount,
  fileChange,
  modifiedStatus,
  canonicalMode,
  parseTree,
  relistTree,
  type EntryChange,
  type TreeListing,
} from '../../../src/source/git-tree.js';
import { prng } from '../../helpers/random.js';

interface Entry {
  mode: string;
  name: string;
  /** Raw id bytes. */
  id: Buffer;
}

const isTree = (e: Entry) => e.mode === '40000';

/** git's tree order (directories sort as `name/`), on bytes. */
function gitOrder(a: Entry, b: Entry): number {
  const x = Buffer.from(isTree(a) ? `${a.name}/` : a.name);
  const y = Buffer.from(isTree(b) ? `${b.name}/` : b.name);
  return Buffer.compare(x, y);
}

function serialize(entries: readonly Entry[]): Buffer {
  const sorted = [...entries].sort(gitOrder);
  return Buffer.concat(sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), e.id]));
}

function idBytes(rand: () => number, bytes = 20): Buffer {
  const b = Buffer.alloc(bytes);
  // Ids full of NUL and space bytes, the separators of the format, so they must not be scanned.
  for (let i = 0; i < bytes; i++) b[i] = rand() < 0.3 ? (rand() < 0.5 ? 0 : 0x20) : Math.floor(rand() * 256);
  return b;
}

const MODES = ['100644', '100755', '120000', '160000', '40000'];
const NAMES = ['a', 'a-b', 'a.yaml', 'a0', 'b', 'ds 1.yaml', 'é.yaml', 'z', 'a b', '100644 x', 'x\u00ff'];

function randomName(rand: () => number): string {
  if (rand() < 0.4) return NAMES[Math.floor(rand() * NAMES.length)]!;
  return `ds-${Math.floor(rand() * 5000)}.yaml`;
}

/** Entries of one tree: unique names per kind (a file and a directory may share a name). */
function randomEntries(rand: () => number, count: number, bytes = 20): Entry[] {
  const seen = new Set<string>();
  const out: Entry[] = [];
  while (out.length < count) {
    const mode = rand() < 0.8 ? '100644' : MODES[Math.floor(rand() * MODES.length)]!;
    const name = randomName(rand);
    const key = `${isTree({ mode, name, id: Buffer.alloc(0) })}:${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ mode, name, id: idBytes(rand, bytes) });
  }
  return out;
}

/** Applies a few random edits: changed ids and modes, removed and added entries. */
function mutate(rand: () => number, entries: readonly Entry[], bytes = 20): Entry[] {
  const out = entries.map((e) => ({ ...e }));
  const edits = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < edits; k++) {
    const roll = rand();
    if (roll < 0.35 && out.length > 0) out[Math.floor(rand() * out.length)]!.id = idBytes(rand, bytes);
    else if (roll < 0.5 && out.length > 0) {
      const e = out[Math.floor(rand() * out.length)]!;
      if (e.mode !== '40000') e.mode = e.mode === '100644' ? '100755' : '100644';
    } else if (roll < 0.75 && out.length > 0) out.splice(Math.floor(rand() * out.length), 1);
    else {
      const [added] = randomEntries(rand, 1, bytes);
      if (!out.some((e) => e.name === added!.name && isTree(e) === isTree(added!))) out.push(added!);
    }
  }
  return out;
}

function oidOf(bytes: number, n: number): string {
  return n.toString(16).padStart(bytes * 2, '0');
}

/** Every entry change of two trees, compared in full. */
function fullChanges(before: TreeListing, after: TreeListing): EntryChange[] {
  return compareEntries(before, 0, entryCount(before), after, 0, entryCount(after));
}

function describe(changes: readonly EntryChange[]): string[] {
  const side = (e: EntryChange['before']) => (e ? `${e.mode} ${e.name} ${e.oid}` : '-');
  return changes.map((c) => `${side(c.before)} => ${side(c.after)}`);
}

/** Relists `data` from `before`, checks the offsets against a full parse, returns the changed names. */
function relistedNames(before: TreeListing, data: Buffer): string[][] {
  const { listing, changes } = relistTree(before, oidOf(20, 2), data);
  assert.deepEqual([...listing.starts], [...parseTree(oidOf(20, 2), data).starts]);
  return changes.map((c) => [c.before?.name ?? '-', c.after?.name ?? '-']);
}

test('parseTree reads modes, names with spaces and multi-byte characters, and binary ids', () => {
  const entries: Entry[] = [
    { mode: '100644', name: 'a b.yaml', id: Buffer.alloc(20, 0x20) },
    { mode: '40000', name: 'dir', id: Buffer.alloc(20, 0) },
    { mode: '120000', name: 'é.yaml', id: Buffer.alloc(20, 0xab) },
  ];
  const tree = parseTree(oidOf(20, 1), serialize(entries));
  assert.equal(entryCount(tree), 3);
  assert.deepEqual(
    [0, 1, 2].map((i) => {
      const e = entryAt(tree, i);
      return [e.mode, e.name, e.oid, e.isTree];
    }),
    [
      ['100644', 'a b.yaml', '20'.repeat(20), false],
      ['40000', 'dir', '00'.repeat(20), true],
      ['120000', 'é.yaml', 'ab'.repeat(20), false],
    ],
  );
  assert.equal(entryCount(parseTree(oidOf(20, 2), Buffer.alloc(0))), 0);
});

test('parseTree refuses bytes that are not a tree', () => {
  const good = serialize([{ mode: '100644', name: 'a', id: Buffer.alloc(20, 1) }]);
  assert.throws(() => parseTree(oidOf(20, 1), good.subarray(0, good.length - 1)), /cut short/);
  assert.throws(() => parseTree(oidOf(20, 1), Buffer.from('100644a\0')), /no mode/);
  assert.throws(() => parseTree(oidOf(20, 1), Buffer.from('100644 \0xxxxxxxxxxxxxxxxxxxx')), /no name/);
});

test('relistTree gives the listing and changes of a full parse and comparison (random trees, SHA-1 and SHA-256)', () => {
  for (const bytes of [20, 32]) {
    for (let seed = 1; seed <= 400; seed++) {
      const rand = prng(seed * 7919 + bytes);
      const beforeEntries = randomEntries(rand, Math.floor(rand() * 60), bytes);
      const afterEntries = mutate(rand, beforeEntries, bytes);
      const before = parseTree(oidOf(bytes, 1), serialize(beforeEntries));
      const afterData = serialize(afterEntries);
      const full = parseTree(oidOf(bytes, 2), afterData);
      const { listing, changes } = relistTree(before, oidOf(bytes, 2), afterData);
      assert.deepEqual([...listing.starts], [...full.starts], `offsets, seed ${seed}`);
      assert.deepEqual(describe(changes), describe(fullChanges(before, full)), `changes, seed ${seed}`);
    }
  }
});

test('relistTree finds the change in a 10,000-entry tree without being misled by a shared tail', () => {
  const rand = prng(42);
  const entries: Entry[] = [];
  for (let i = 0; i < 10_000; i++) entries.push({ mode: '100644', name: `ds-${i}.yaml`, id: idBytes(rand) });
  const before = parseTree(oidOf(20, 1), serialize(entries));
  const changed = entries.map((e) => ({ ...e }));
  changed[5000]!.id = idBytes(rand);
  changed.splice(7000, 1);
  changed.push({ mode: '100755', name: 'ds-5000.yaml-new', id: idBytes(rand) });
  assert.deepEqual(relistedNames(before, serialize(changed)), [
    ['ds-5000.yaml', 'ds-5000.yaml'],
    ['-', 'ds-5000.yaml-new'],
    ['ds-7000.yaml', '-'],
  ]);
});

test('relistTree: where the shared tail starts inside an old entry, the new entries keep their own boundaries', () => {
  // The old tree's last entry is named `q 100644 r`: its bytes end with those of an entry `r`, which
  // the new tree has. The common tail then starts at a new entry that is not an old boundary.
  const id = Buffer.alloc(20, 0x41);
  const old: Entry[] = [
    { mode: '100644', name: 'a', id: Buffer.alloc(20, 1) },
    { mode: '100644', name: 'q 100644 r', id },
  ];
  const next: Entry[] = [
    { mode: '100644', name: 'a', id: Buffer.alloc(20, 2) },
    { mode: '100644', name: 'r', id },
  ];
  assert.deepEqual(relistedNames(parseTree(oidOf(20, 1), serialize(old)), serialize(next)), [
    ['a', 'a'],
    ['q 100644 r', '-'],
    ['-', 'r'],
  ]);
});

test('compareNames sorts a directory as its name followed by "/"', () => {
  const tree = parseTree(
    oidOf(20, 1),
    serialize([
      { mode: '40000', name: 'a', id: Buffer.alloc(20, 1) },
      { mode: '100644', name: 'a', id: Buffer.alloc(20, 2) },
      { mode: '100644', name: 'a-b', id: Buffer.alloc(20, 3) },
      { mode: '100644', name: 'a0', id: Buffer.alloc(20, 4) },
    ]),
  );
  const names = [0, 1, 2, 3].map((i) => entryAt(tree, i));
  assert.deepEqual(
    names.map((e) => `${e.name}${e.isTree ? '/' : ''}`),
    ['a', 'a-b', 'a/', 'a0'],
  );
  for (let i = 1; i < names.length; i++) assert.ok(compareNames(names[i - 1]!, names[i]!) < 0);
});

test('fileChange and modifiedStatus follow git raw output', () => {
  const blob = 'ab'.repeat(20);
  assert.deepEqual(fileChange('x.yaml', 'M', '100644', blob), { path: 'x.yaml', status: 'M', blob });
  assert.deepEqual(fileChange('x.yaml', 'D', '000000', '0'.repeat(40)), { path: 'x.yaml', status: 'D', blob: null });
  assert.deepEqual(fileChange('x.yaml', 'T', '120000', blob), {
    path: 'x.yaml',
    status: 'T',
    blob: null,
    notRegular: 'symbolic link',
  });
  assert.deepEqual(fileChange('m', 'A', '160000', blob), {
    path: 'm',
    status: 'A',
    blob: null,
    notRegular: 'submodule',
  });
  assert.equal(fileChange('x', 'R100', '100644', blob), undefined);
  assert.equal(modifiedStatus('100644', '100755'), 'M');
  assert.equal(modifiedStatus('100644', '120000'), 'T');
  assert.equal(modifiedStatus('160000', '100644'), 'T');
});

test('canonicalMode reads modes as git does', () => {
  assert.deepEqual(['100644', '100664', '100755', '100775', '120000', '40000', '160000'].map(canonicalMode), [
    '100644',
    '100644',
    '100755',
    '100755',
    '120000',
    '40000',
    '160000',
  ]);
});
