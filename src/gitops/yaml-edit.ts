/**
 * Comment-preserving edits of one DaemonSet document inside a manifest file, for changes written back to Git
 * (rollback, set image, pause). Pure: text in, text out.
 *
 * How: the file is parsed with the `yaml` Document API (YAML 1.1, as the manifest parser reads it); the DaemonSet's
 * document is brought to the wanted object by changing the existing nodes as little as possible (a changed scalar
 * keeps its node, a list of named items such as `containers` or `env` is matched by `name`, a key added to a map goes
 * next to its neighbour), which keeps every comment the nodes carry. Then only the text of the nodes that changed is
 * replaced in the original file, at their source ranges: a changed scalar is one token, a map that gained or lost a
 * key is re-rendered at its own indentation. Everything else, including other documents of the file, stays
 * byte-identical (the `doc.toString()` of a whole document would reformat it, ecosystem.md §4).
 *
 * Invariants:
 * - the result, parsed again, equals the wanted object exactly (checked; otherwise the edit is refused);
 * - if the minimal edit cannot be verified (anchors tying fields together, exotic syntax), a coarser one is tried that
 *   replaces each changed top-level field wholesale and re-renders the document's body (its header comments stay);
 *   `rewrote` tells the caller that comments inside the replaced fields are gone;
 * - BOM and CRLF line endings of the file are kept; a `.json` file stays JSON.
 */
import {
  Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Node,
  type Pair,
  type ToStringOptions,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { COMPOSE_OPTIONS, MAX_ALIAS_EXPANSION } from '../manifest/yaml-stream.js';
import { DaemonSetNotInGitError, ManifestEditError } from './errors.js';

/** Which DaemonSet of the file to edit. */
export interface ManifestRef {
  readonly namespace: string;
  readonly name: string;
}

/** A plain JSON-like object (a Kubernetes object as YAML gives it). */
export type JsonObject = Record<string, unknown>;

/** Returns the wanted object; receives a deep copy of the current one and may change it in place. */
export type ManifestMutation = (current: JsonObject) => JsonObject;

export interface ManifestEdit {
  /** The new file text (the input when nothing changed). */
  readonly text: string;
  readonly changed: boolean;
  /** The DaemonSet document before and after, as plain objects (no defaults applied). */
  readonly before: JsonObject;
  readonly after: JsonObject;
  /** 0-based index of the edited document among the file's YAML documents. */
  readonly documentIndex: number;
  /**
   * The minimal edit could not be verified and whole top-level fields (e.g. `spec`) were re-rendered: comments inside
   * them may be lost. Callers should say so.
   */
  readonly rewrote: boolean;
}

const DEFAULT_NAMESPACE = 'default';

/**
 * Applies `mutate` to the DaemonSet `ref` in `text` (a manifest file, possibly multi-document) and returns the new
 * text. Throws {@link DaemonSetNotInGitError} when the file does not define the DaemonSet and
 * {@link ManifestEditError} when no verified edit exists.
 */
export function editManifest(
  text: string,
  ref: ManifestRef,
  mutate: ManifestMutation,
  options: { file?: string } = {},
): ManifestEdit {
  const file = options.file ?? '<manifest>';
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  let src = bom ? text.slice(1) : text;
  const crlf = isCrlf(src);
  if (crlf) src = src.replace(/\r\n/g, '\n');
  const restore = (out: string): string => bom + (crlf ? out.replace(/\n/g, '\r\n') : out);

  const docs = parseDocuments(src);
  const index = findDaemonSet(docs, ref);
  if (index < 0) {
    throw new DaemonSetNotInGitError(`${file} defines no DaemonSet ${ref.namespace}/${ref.name}`);
  }
  const doc = docs[index]!;
  const before = toJsObject(doc);
  const after = mutate(structuredClone(before));
  if (stableJson(before) === stableJson(after)) {
    return { text, changed: false, before, after, documentIndex: index, rewrote: false };
  }

  if (/\.json$/i.test(file) || (docs.length === 1 && isMap(doc.contents) && doc.contents.flow === true)) {
    // JSON stays JSON: changed values are spliced in as inline JSON; if that cannot be verified, the file is
    // serialised again (JSON has no comments to lose).
    const spliced = attempt(() => new NodeEditor(src, doc, true).edit(after));
    if (spliced !== undefined && isJsonEqual(spliced, after)) {
      return { text: restore(spliced), changed: true, before, after, documentIndex: index, rewrote: false };
    }
    const indent = /\n([ \t]+)"/.exec(src)?.[1] ?? '  ';
    const out = JSON.stringify(after, null, indent) + (src.endsWith('\n') ? '\n' : '');
    return { text: restore(out), changed: true, before, after, documentIndex: index, rewrote: false };
  }

  // Line edits where collections only gained or lost elements; if that cannot be verified, re-render them.
  for (const lineEdits of [true, false]) {
    const fresh = lineEdits ? doc : parseDocuments(src)[index]!;
    const minimal = attempt(() => new NodeEditor(src, fresh, false, lineEdits).edit(after));
    if (minimal !== undefined && verify(minimal, index, after)) {
      return { text: restore(minimal), changed: true, before, after, documentIndex: index, rewrote: false };
    }
  }
  // Coarser: re-render each changed top-level field of a fresh parse.
  const fresh = parseDocuments(src)[index]!;
  const coarse = attempt(() => new NodeEditor(src, fresh).rewriteTopLevel(after));
  if (coarse !== undefined && verify(coarse, index, after)) {
    return { text: restore(coarse), changed: true, before, after, documentIndex: index, rewrote: true };
  }
  throw new ManifestEditError(
    `cannot edit ${ref.namespace}/${ref.name} in ${file} safely (YAML anchors or aliases tie the changed fields to ` +
      'others, or the syntax is unusual); change it by hand',
  );
}

/** The containers and init containers of a pod template, by name, with their images. */
export function templateImages(template: unknown): { name: string; image: string; init: boolean }[] {
  const spec = isRecord(template) && isRecord(template['spec']) ? template['spec'] : {};
  const out: { name: string; image: string; init: boolean }[] = [];
  for (const [field, init] of [
    ['initContainers', true],
    ['containers', false],
  ] as const) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (isRecord(c) && typeof c['name'] === 'string') {
        out.push({ name: c['name'], image: typeof c['image'] === 'string' ? c['image'] : '', init });
      }
    }
  }
  return out;
}

/** JSON with object keys sorted, everything else kept (nulls, empty collections): exact structural equality. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isRecord(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every line break is CRLF (a mixed file is left alone). */
function isCrlf(text: string): boolean {
  const lf = (text.match(/\n/g) ?? []).length;
  return lf > 0 && (text.match(/\r\n/g) ?? []).length === lf;
}

function parseDocuments(src: string): Document.Parsed[] {
  const docs = parseAllDocuments(src, COMPOSE_OPTIONS);
  return Array.isArray(docs) ? docs : [];
}

function toJsObject(doc: Document.Parsed): JsonObject {
  const js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  return isRecord(js) ? js : {};
}

function findDaemonSet(docs: readonly Document.Parsed[], ref: ManifestRef): number {
  return docs.findIndex((doc) => {
    if (doc.errors.length > 0) return false;
    let js: JsonObject;
    try {
      js = toJsObject(doc);
    } catch {
      return false;
    }
    const meta = isRecord(js['metadata']) ? js['metadata'] : {};
    const namespace = typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : undefined;
    return (
      js['kind'] === 'DaemonSet' && meta['name'] === ref.name && (namespace ?? DEFAULT_NAMESPACE) === ref.namespace
    );
  });
}

function verify(out: string, index: number, after: JsonObject): boolean {
  try {
    const doc = parseDocuments(out)[index];
    return doc !== undefined && doc.errors.length === 0 && stableJson(toJsObject(doc)) === stableJson(after);
  } catch {
    return false;
  }
}

function isJsonEqual(text: string, after: JsonObject): boolean {
  try {
    return stableJson(JSON.parse(text)) === stableJson(after);
  } catch {
    return false;
  }
}

/** JSON on one line, spaced like hand-written JSON: `{ "a": 1, "b": [1, 2] }`. */
function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`;
  if (isRecord(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return JSON.stringify(value ?? null);
}

function attempt(fn: () => string | undefined): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Where a node sits, so it can be replaced in its container. */
type Replace = (node: Node) => void;

interface Splice {
  start: number;
  end: number;
  text: string;
  /** The node whose change this is (escalated to a full re-render on a conflict). */
  owner: Node;
}

/** Pairs or items a block collection gained or lost, applied as whole lines instead of a re-render. */
interface LineChange {
  /** Removed pairs (maps) or items (sequences), with their original ranges. */
  removed: unknown[];
  /** Added pairs or items, now in `items`. */
  added: unknown[];
  /** Offsets where the original elements (keys, items) start, ascending. */
  originals: number[];
}

/**
 * One edit of one parsed document: reconciles nodes with the wanted value, remembers which nodes changed ("dirty",
 * re-rendered) and which block collections only gained or lost elements (edited line by line), and turns them into
 * text splices of the original source.
 */
class NodeEditor {
  private readonly dirty = new Set<Node>();
  private readonly lineChanges = new Map<YAMLMap | YAMLSeq, LineChange>();
  private readonly parents = new Map<Node, Node | null>();
  private rootReplaced = false;
  private readonly render: ToStringOptions;

  constructor(
    private readonly src: string,
    private readonly doc: Document.Parsed,
    /** Render changed values as inline JSON (a `.json` manifest). */
    private readonly json = false,
    /** Add and remove whole lines where a collection only gained or lost elements; else re-render it. */
    private readonly lineEdits = true,
  ) {
    this.render = { ...detectStyle(src, doc), lineWidth: 0, flowCollectionPadding: false };
  }

  /** The minimal edit; `undefined` when it cannot be expressed as splices. */
  edit(target: JsonObject): string | undefined {
    const root = this.doc.contents;
    if (!isNode(root)) return undefined;
    this.reconcile(root, target, null, (n) => {
      this.doc.contents = n as typeof this.doc.contents;
    });
    if (this.rootReplaced) return undefined;
    return this.apply();
  }

  /** Replaces each top-level field whose value differs, wholesale, keeping only the comments on the field itself. */
  rewriteTopLevel(target: JsonObject): string | undefined {
    const root = this.doc.contents;
    if (!isMap(root) || !allScalarKeys(root)) return undefined;
    this.parents.set(root, null);
    this.reconcileMap(root, target, null, () => undefined, true);
    if (this.rootReplaced) return undefined;
    return this.apply();
  }

  private reconcile(node: unknown, target: unknown, parent: Node | null, replace: Replace, shallow = false): void {
    if (isNode(node)) this.parents.set(node, parent);
    if (isNode(node) && stableJson(this.valueOf(node)) === stableJson(target)) return;
    if (shallow) return this.replaceWith(node, target, parent, replace);
    if (isMap(node) && isRecord(target) && allScalarKeys(node) && !hasMergeKey(node)) {
      return this.reconcileMap(node, target, parent, replace);
    }
    if (isSeq(node) && Array.isArray(target)) return this.reconcileSeq(node, target, parent, replace);
    if (isScalar(node) && !isRecord(target) && !Array.isArray(target)) {
      if (typeof node.value !== typeof target || node.value === null || target === null) {
        // A different type: let the library choose the representation (quotes where a plain scalar would mislead).
        node.type = undefined;
        node.tag = undefined;
        node.format = undefined;
      }
      node.value = target;
      this.dirty.add(node);
      return;
    }
    this.replaceWith(node, target, parent, replace);
  }

  private valueOf(node: Node): unknown {
    return node.toJS(this.doc, { maxAliasCount: MAX_ALIAS_EXPANSION });
  }

  /** A new node for `target` in place of `old` (keeping the comments around it); the container is re-rendered. */
  private replaceWith(old: unknown, target: unknown, parent: Node | null, replace: Replace): void {
    const fresh = this.doc.createNode(target);
    if (isNode(old) && !isAlias(old)) {
      fresh.commentBefore = old.commentBefore;
      fresh.comment = old.comment;
      fresh.spaceBefore = old.spaceBefore;
    }
    replace(fresh);
    this.parents.set(fresh, parent);
    this.markContainer(parent);
  }

  private markContainer(parent: Node | null): void {
    if (parent === null) this.rootReplaced = true;
    else this.dirty.add(parent);
  }

  private reconcileMap(map: YAMLMap, target: JsonObject, parent: Node | null, replace: Replace, shallow = false): void {
    const wanted = Object.keys(target);
    const wantedSet = new Set(wanted);
    const originals = map.items.map((p) => (isNode(p.key) ? (p.key.range?.[0] ?? -1) : -1)).sort((a, b) => a - b);
    const removed: unknown[] = [];
    const added: unknown[] = [];
    for (let i = map.items.length - 1; i >= 0; i--) {
      if (!wantedSet.has(keyOf(map.items[i]!) ?? '')) removed.push(...map.items.splice(i, 1));
    }
    wanted.forEach((key, position) => {
      const pair = map.items.find((p) => keyOf(p) === key);
      if (pair) {
        this.reconcile(
          pair.value,
          target[key],
          map,
          (n) => {
            pair.value = n;
          },
          shallow,
        );
        return;
      }
      let at = 0;
      for (let j = position - 1; j >= 0; j--) {
        const found = map.items.findIndex((p) => keyOf(p) === wanted[j]);
        if (found >= 0) {
          at = found + 1;
          break;
        }
      }
      const pair_ = this.doc.createPair(key, target[key]) as Pair<unknown, unknown>;
      map.items.splice(at, 0, pair_);
      added.push(pair_);
    });
    if (removed.length > 0 || added.length > 0) {
      this.structuralChange(map, parent, replace, shallow ? undefined : { removed, added, originals });
    }
  }

  private reconcileSeq(seq: YAMLSeq, target: unknown[], parent: Node | null, replace: Replace): void {
    const items = seq.items;
    const originals = items.map((i) => (isNode(i) ? (i.range?.[0] ?? -1) : -1));
    const oldNames = items.map(nodeName);
    const newNames = target.map((t) => (isRecord(t) && typeof t['name'] === 'string' ? t['name'] : undefined));
    const named =
      items.length > 0 &&
      target.length > 0 &&
      oldNames.every((n) => n !== undefined) &&
      newNames.every((n) => n !== undefined) &&
      new Set(oldNames).size === oldNames.length &&
      new Set(newNames).size === newNames.length;
    const reuse: (unknown | undefined)[] = [];
    let removed: unknown[];
    if (named) {
      const pool = new Map(oldNames.map((n, i) => [n!, items[i]]));
      for (const n of newNames) reuse.push(pool.get(n!));
      removed = items.filter((_, i) => !newNames.includes(oldNames[i]!));
    } else {
      for (let i = 0; i < target.length; i++) reuse.push(i < items.length ? items[i] : undefined);
      removed = items.slice(target.length);
    }
    const quoted = items.find((i) => isScalar(i) && (i.type === 'QUOTE_DOUBLE' || i.type === 'QUOTE_SINGLE'));
    const added: unknown[] = [];
    seq.items = reuse.map((existing, i) => {
      if (existing !== undefined) return existing;
      const fresh = this.doc.createNode(target[i]);
      if (isScalar(fresh) && isScalar(quoted) && typeof fresh.value === 'string') fresh.type = quoted.type;
      added.push(fresh);
      return fresh;
    });
    reuse.forEach((existing, i) => {
      if (existing === undefined) return;
      this.reconcile(existing, target[i], seq, (n) => {
        seq.items[i] = n;
      });
    });
    const kept = reuse.filter((r) => r !== undefined);
    const inOrder = kept.every((r, i) => i === 0 || items.indexOf(r) > items.indexOf(kept[i - 1]));
    const appendOnly = reuse.every((r, i) => r !== undefined || reuse.slice(i).every((x) => x === undefined));
    if (removed.length > 0 || added.length > 0 || !inOrder) {
      const lineable = inOrder && appendOnly;
      this.structuralChange(seq, parent, replace, lineable ? { removed, added, originals } : undefined);
    }
  }

  /**
   * A collection gained or lost items: it is edited line by line when it can be, else re-rendered. An emptied block
   * collection or a flow one that was empty is rendered by its container instead (as `key: []` or as a new block),
   * never as a lone `[]` on its own line.
   */
  private structuralChange(
    coll: YAMLMap | YAMLSeq,
    parent: Node | null,
    replace: Replace,
    change: LineChange | undefined,
  ): void {
    const wasEmptyFlow = coll.flow === true && coll.range !== undefined && /^[[{]\s*[\]}]$/.test(this.slice(coll));
    if (coll.items.length === 0 && coll.flow !== true) {
      this.markContainer(parent);
    } else if (wasEmptyFlow && coll.items.length > 0) {
      coll.flow = false;
      replace(coll);
      this.markContainer(parent);
    } else if (this.lineEdits && change !== undefined && coll.flow !== true && coll.range) {
      this.lineChanges.set(coll, change);
    } else {
      this.dirty.add(coll);
    }
  }

  private slice(node: Node): string {
    const r = node.range!;
    return this.src.slice(r[0], r[1]);
  }

  private hasDirtyAncestor(node: Node): boolean {
    for (let p = this.parents.get(node) ?? null; p !== null; p = this.parents.get(p) ?? null) {
      if (this.dirty.has(p)) return true;
    }
    return false;
  }

  /** Re-render `coll` instead of editing its lines. */
  private toFull(coll: Node): void {
    this.lineChanges.delete(coll as YAMLMap);
    this.dirty.add(coll);
  }

  /** Dirty nodes and line changes → splices, escalating what cannot be done in place. */
  private apply(): string | undefined {
    for (let round = 0; round < 10_000; round++) {
      const outer = [...this.dirty].filter((n) => !this.hasDirtyAncestor(n));
      const stuck = outer.find((n) => !this.splicable(n));
      if (stuck !== undefined) {
        this.dirty.delete(stuck);
        const parent = this.parents.get(stuck) ?? null;
        if (parent === null) return undefined;
        this.dirty.add(parent);
        continue;
      }
      const splices = outer.map((n) => this.splice(n));
      let failed: Node | undefined;
      for (const [coll, change] of this.lineChanges) {
        if (this.dirty.has(coll) || this.hasDirtyAncestor(coll)) continue;
        const lines = this.lineSplices(coll, change);
        if (lines === undefined) {
          failed = coll;
          break;
        }
        splices.push(...lines);
      }
      if (failed !== undefined) {
        this.toFull(failed);
        continue;
      }
      splices.sort((a, b) => a.start - b.start || a.end - b.end);
      const clash = splices.findIndex(
        (s, i) => i > 0 && (splices[i - 1]!.end > s.start || splices[i - 1]!.start === s.start),
      );
      if (clash > 0) {
        const owners = [splices[clash - 1]!.owner, splices[clash]!.owner].filter((o) =>
          this.lineChanges.has(o as YAMLMap),
        );
        if (owners.length === 0) return undefined;
        for (const o of owners) this.toFull(o);
        continue;
      }
      let out = this.src;
      for (const s of [...splices].reverse()) out = out.slice(0, s.start) + s.text + out.slice(s.end);
      return out;
    }
    return undefined;
  }

  /**
   * Whole-line removals and insertions for a block collection that only gained or lost elements: a removed pair or
   * item goes with its lines (comments above the next element stay), new ones are rendered at the collection's
   * indentation before the next surviving element or at its end. Undefined when the layout does not allow it.
   */
  private lineSplices(coll: YAMLMap | YAMLSeq, change: LineChange): Splice[] | undefined {
    const src = this.src;
    const [r0, , r2] = coll.range!;
    const col = column(src, r0);
    const first = lineStart(src, r0);
    const seq = isSeq(coll);
    const startOf = (element: unknown): number | undefined => {
      const node = seq ? element : (element as Pair<unknown, unknown>).key;
      return isNode(node) ? node.range?.[0] : undefined;
    };
    const prefixOk = (offset: number): boolean =>
      (seq ? /^ *- +$/ : /^ *$/).test(src.slice(lineStart(src, offset), offset)) && column(src, offset) >= col;
    /** Start of the lines that belong to the element at `offset`: its line, plus comment lines above at its level. */
    const region = (offset: number): number => {
      let s = lineStart(src, offset);
      while (s > first) {
        const prev = lineStart(src, s - 1);
        const line = src.slice(prev, s - 1);
        const comment = line.trimStart().startsWith('#') && line.length - line.trimStart().length === col;
        if (!comment) break;
        s = prev;
      }
      return s;
    };
    const slice = src.slice(r0, r2);
    const lastBreak = slice.lastIndexOf('\n');
    const tail = lastBreak >= 0 ? slice.slice(lastBreak + 1) : undefined;
    const end = tail !== undefined && /^[ \t]*$/.test(tail) ? r2 - tail.length : undefined;
    const after = (offset: number): number | undefined => {
      const next = change.originals.find((o) => o > offset);
      return next !== undefined ? region(next) : end;
    };

    const out: Splice[] = [];
    for (const element of change.removed) {
      const at = startOf(element);
      if (at === undefined || at < 0 || !prefixOk(at)) return undefined;
      const stop = after(at);
      if (stop === undefined) return undefined;
      out.push({ start: lineStart(src, at), end: stop, text: '', owner: coll });
    }
    // Runs of consecutive new elements, each inserted before the next surviving one (or at the end).
    const items = coll.items as unknown[];
    for (let i = 0; i < items.length; i++) {
      if (!change.added.includes(items[i])) continue;
      let j = i;
      while (j < items.length && change.added.includes(items[j])) j++;
      const next = items[j];
      let at: number | undefined;
      if (next === undefined) at = end;
      else {
        const o = startOf(next);
        if (o === undefined || !prefixOk(o)) return undefined;
        at = region(o);
      }
      if (at === undefined) return undefined;
      out.push({ start: at, end: at, text: this.renderLines(coll, items.slice(i, j), col), owner: coll });
      i = j - 1;
    }
    return out;
  }

  /** New pairs or items as whole lines at column `col`. */
  private renderLines(coll: YAMLMap | YAMLSeq, elements: unknown[], col: number): string {
    const holder = this.doc.createNode(isSeq(coll) ? [] : {}) as YAMLMap | YAMLSeq;
    (holder as { items: unknown[] }).items = elements;
    let text = new Document(holder, COMPOSE_OPTIONS).toString(this.render);
    if (!text.endsWith('\n')) text += '\n';
    return text
      .split('\n')
      .map((line) => (line === '' ? line : ' '.repeat(col) + line))
      .join('\n');
  }

  private splicable(node: Node): boolean {
    if (!node.range) return false;
    if (isScalar(node)) {
      const original = this.slice(node);
      const type = node.type;
      return (
        !original.includes('\n') &&
        type !== 'BLOCK_LITERAL' &&
        type !== 'BLOCK_FOLDED' &&
        !this.renderBare(node).includes('\n')
      );
    }
    return isMap(node) || isSeq(node);
  }

  private splice(node: Node): Splice {
    const [start, valueEnd, nodeEnd] = node.range!;
    const flow = isScalar(node) || ((isMap(node) || isSeq(node)) && node.flow === true);
    if (flow) return { start, end: valueEnd, text: this.renderBare(node), owner: node };
    const col = column(this.src, start);
    const rendered = this.renderBlock(node);
    const indented = rendered
      .split('\n')
      .map((line, i) => (i === 0 || line === '' ? line : ' '.repeat(col) + line))
      .join('\n');
    const original = this.src.slice(start, nodeEnd);
    const lastBreak = original.lastIndexOf('\n');
    const after = lastBreak >= 0 ? original.slice(lastBreak + 1) : original;
    const text = lastBreak >= 0 && /^[ \t]*$/.test(after) ? indented + after : indented.replace(/\n$/, '');
    return { start, end: nodeEnd, text, owner: node };
  }

  /** A scalar or flow collection as one token, without its comments (they stay in the source around it). */
  private renderBare(node: Node): string {
    if (this.json) return inlineJson(this.valueOf(node));
    return this.withoutComments(node, false, () => new Document(node, COMPOSE_OPTIONS).toString(this.render)).replace(
      /\n$/,
      '',
    );
  }

  /** A block collection at column 0, without the comment before it (that lies outside its range). */
  private renderBlock(node: Node): string {
    const text = this.withoutComments(node, true, () => new Document(node, COMPOSE_OPTIONS).toString(this.render));
    const lines = text.split('\n');
    while (lines.length > 0 && (lines[0]!.trim() === '' || lines[0]!.trimStart().startsWith('#'))) lines.shift();
    return lines.join('\n');
  }

  private withoutComments(node: Node, keepTrailing: boolean, fn: () => string): string {
    const saved = { before: node.commentBefore, comment: node.comment, space: node.spaceBefore };
    node.commentBefore = undefined;
    node.spaceBefore = undefined;
    if (!keepTrailing) node.comment = undefined;
    try {
      return fn();
    } finally {
      node.commentBefore = saved.before;
      node.comment = saved.comment;
      node.spaceBefore = saved.space;
    }
  }
}

function lineStart(src: string, offset: number): number {
  return src.lastIndexOf('\n', offset - 1) + 1;
}

function column(src: string, offset: number): number {
  return offset - lineStart(src, offset);
}

function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function allScalarKeys(map: YAMLMap): boolean {
  return map.items.every((p) => isScalar(p.key));
}

function hasMergeKey(map: YAMLMap): boolean {
  return map.items.some((p) => isScalar(p.key) && p.key.value === '<<');
}

function nodeName(item: unknown): string | undefined {
  if (!isMap(item)) return undefined;
  const name = item.items.find((p) => keyOf(p) === 'name')?.value;
  return isScalar(name) && typeof name.value === 'string' ? name.value : undefined;
}

/**
 * Indentation width and whether sequences under a key are indented (`key:\n  - a`) or not (`key:\n- a`), read from
 * the document so re-rendered parts look like their neighbours.
 */
function detectStyle(src: string, doc: Document.Parsed): { indent: number; indentSeq: boolean } {
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const column = (offset: number): number => offset - (src.lastIndexOf('\n', offset - 1) + 1);
  const walk = (node: unknown, depth: number): void => {
    if (depth > 50 || (indent !== undefined && indentSeq !== undefined)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key;
        const value = pair.value;
        if (isScalar(key) && key.range && isNode(value) && value.range && !(isMap(value) && value.flow)) {
          const delta = column(value.range[0]) - column(key.range[0]);
          if (isMap(value) && indent === undefined && delta > 0) indent = delta;
          if (isSeq(value) && value.flow !== true && indentSeq === undefined) indentSeq = delta > 0;
        }
        walk(value, depth + 1);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item, depth + 1);
    }
  };
  walk(doc.contents, 0);
  return { indent: indent ?? 2, indentSeq: indentSeq ?? true };
}
