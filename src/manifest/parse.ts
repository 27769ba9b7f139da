/**
 * Multi-document YAML → apps/v1 DaemonSets, each error placed at file:line:column.
 *
 * Assumptions: the text comes from a Git repository and may be hostile or broken in any way, so
 * every step is bounded (size, nesting, aliases) and every exception of the YAML library becomes a
 * {@link ManifestError}. YAML is read as 1.1, like go-yaml in kubectl and the API server, so an
 * unquoted `yes` is a boolean and is refused where Kubernetes wants a string.
 *
 * Invariants: `parseManifests` never throws; a DaemonSet is returned only when its document has no
 * error at all; `sources[i]` describes `daemonSets[i]`; nothing inside `spec.template` is changed.
 */
import { isMap, isScalar, visit, type Document, type ParsedNode, type YAMLParseError } from 'yaml';
import type { DaemonSet } from '../domain/kubernetes.js';
import { applyDaemonSetDefaults, DEFAULT_NAMESPACE } from './defaults.js';
import { renderValue, type LocatedFieldError } from './field-error.js';
import { locate } from './locate.js';
import type { ManifestError, ManifestErrorCode, ParseOptions, ParseResult } from './types.js';
import { collectDaemonSetErrors } from './validate.js';
import {
  MAX_ALIAS_EXPANSION,
  MAX_NESTING_DEPTH,
  readYamlStream,
  type StreamDocument,
  type YamlStream,
} from './yaml-stream.js';

/** Default of {@link ParseOptions.maxBytes}: 1 MiB. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** YAML errors reported per document; broken binary files would otherwise produce thousands. */
const MAX_YAML_ERRORS_PER_DOCUMENT = 10;
/** Validation errors reported per DaemonSet. */
const MAX_FIELD_ERRORS_PER_DOCUMENT = 50;
/** Errors reported per text before reading stops; beyond this the file is garbage, not a manifest. */
const MAX_ERRORS = 1000;
const DEFAULT_FILE = '<stdin>';

type Rec = Record<string, unknown>;

interface Identity {
  namespace?: string;
  name?: string;
}

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** UTF-8 size of `text`, counting no further than just past `limit`. */
function utf8SizeUpTo(text: string, limit: number): number {
  if (text.length > limit) return text.length;
  if (text.length * 3 <= limit) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}

function nameOf(value: unknown): Identity {
  if (!isRecord(value)) return {};
  const metadata = Object.hasOwn(value, 'metadata') ? value.metadata : undefined;
  if (!isRecord(metadata)) return {};
  const name = Object.hasOwn(metadata, 'name') ? metadata.name : undefined;
  const namespace = Object.hasOwn(metadata, 'namespace') ? metadata.namespace : undefined;
  if (typeof name !== 'string' || name === '') return {};
  return { name, namespace: typeof namespace === 'string' && namespace !== '' ? namespace : DEFAULT_NAMESPACE };
}

/** Why a document of another kind is left alone, in words for a log line. */
function skipReason(kind: string, apiVersion: string | undefined): string {
  if (kind === 'List' || kind.endsWith('List')) {
    return `kind ${kind} is not expanded; keep each DaemonSet in its own YAML document (separated by ---)`;
  }
  const what = apiVersion === undefined ? kind : `${apiVersion} ${kind}`;
  return `${what} is not a DaemonSet; dsctl rolls out only apps/v1 DaemonSets`;
}

class ManifestReader {
  private readonly result: ParseResult = { daemonSets: [], sources: [], skipped: [], errors: [] };
  /** First definition of each `namespace/name`, as `file:line`. */
  private readonly seen = new Map<string, string>();
  private stream: YamlStream | undefined;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  get output(): ParseResult {
    return this.result;
  }

  private position(offset: number): { line: number; column: number } {
    if (this.stream === undefined) return { line: 1, column: 1 };
    const { line, col } = this.stream.lineCounter.linePos(Math.max(0, offset));
    // A byte-order mark is an offset for the library but no column for an editor.
    const bom = line <= 1 && this.text.charCodeAt(0) === 0xfeff ? 1 : 0;
    return { line: Math.max(1, line), column: Math.max(1, col - bom) };
  }

  private error(
    code: ManifestErrorCode,
    offset: number,
    message: string,
    extra: { documentIndex?: number; field?: string } & Identity = {},
  ): void {
    const error: ManifestError = { file: this.file, ...this.position(offset), message, code };
    if (extra.field !== undefined) error.field = extra.field;
    if (extra.documentIndex !== undefined) error.documentIndex = extra.documentIndex;
    if (extra.name !== undefined) {
      error.namespace = extra.namespace ?? DEFAULT_NAMESPACE;
      error.name = extra.name;
    }
    this.result.errors.push(error);
  }

  read(maxBytes: number): void {
    const size = utf8SizeUpTo(this.text, maxBytes);
    if (size > maxBytes) {
      this.error(
        'TOO_LARGE',
        0,
        `manifest is larger than the limit of ${maxBytes} bytes (maxBytes); it was not parsed — split it into several files`,
      );
      return;
    }
    this.stream = readYamlStream(this.text);
    if (this.stream.aborted) {
      this.error(this.stream.aborted.code, this.stream.aborted.offset, this.stream.aborted.message);
      return;
    }
    for (const error of this.stream.streamErrors.slice(0, MAX_YAML_ERRORS_PER_DOCUMENT)) {
      this.error('YAML_SYNTAX', error.pos[0], `YAML syntax error: ${describe(error)}`);
    }
    for (const entry of this.stream.documents) {
      if (this.result.errors.length >= MAX_ERRORS) {
        this.error(
          'TOO_LARGE',
          entry.offset,
          `more than ${MAX_ERRORS} errors; reading stopped at document ${entry.index} (is this a manifest?)`,
        );
        return;
      }
      try {
        this.document(entry);
      } catch (error) {
        this.error('INTERNAL', entry.offset, `could not read this document: ${describe(error)}`, {
          documentIndex: entry.index,
        });
      }
    }
  }

  /** Best-effort identity of a broken document, so its errors can be attributed to a DaemonSet. */
  private peekIdentity(doc: Document.Parsed | null): Identity {
    if (doc === null) return {};
    try {
      if (doc.getIn(['kind']) !== 'DaemonSet') return {};
      const name = doc.getIn(['metadata', 'name']);
      const namespace = doc.getIn(['metadata', 'namespace']);
      if (typeof name !== 'string' || name === '') return {};
      return { name, namespace: typeof namespace === 'string' && namespace !== '' ? namespace : DEFAULT_NAMESPACE };
    } catch {
      return {};
    }
  }

  private yamlErrors(entry: StreamDocument, doc: Document.Parsed, identity: Identity): boolean {
    // Messages are built only for the errors shown: garbage input yields hundreds of thousands.
    const found: { code: ManifestErrorCode; offset: number; error?: YAMLParseError; key?: string }[] = [];
    for (const error of doc.errors as YAMLParseError[]) {
      const code: ManifestErrorCode = error.code === 'RESOURCE_EXHAUSTION' ? 'NESTING_TOO_DEEP' : 'YAML_SYNTAX';
      found.push({ code, offset: error.pos[0], error });
    }
    for (const duplicate of entry.duplicateKeys) {
      found.push({ code: 'DUPLICATE_KEY', offset: duplicate.offset, key: duplicate.key });
    }
    if (found.length === 0) return false;
    found.sort((a, b) => a.offset - b.offset);
    const extra = { documentIndex: entry.index, ...identity };
    for (const { code, offset, error, key } of found.slice(0, MAX_YAML_ERRORS_PER_DOCUMENT)) {
      let message: string;
      if (key !== undefined) {
        message = `duplicate key ${JSON.stringify(key)}: a YAML mapping may not repeat a key (kubectl and the API server refuse it)`;
      } else if (code === 'NESTING_TOO_DEEP') {
        message = `YAML nesting too deep: ${describe(error)}`;
      } else {
        message = `YAML syntax error: ${describe(error)}`;
        if (error?.code === 'TAB_AS_INDENT') message += ' (indent with spaces)';
      }
      this.error(code, offset, message, extra);
    }
    if (found.length > MAX_YAML_ERRORS_PER_DOCUMENT) {
      const last = found[MAX_YAML_ERRORS_PER_DOCUMENT];
      this.error(
        'YAML_SYNTAX',
        last?.offset ?? entry.offset,
        `${found.length - MAX_YAML_ERRORS_PER_DOCUMENT} more YAML errors in this document not shown`,
        extra,
      );
    }
    return true;
  }

  private document(entry: StreamDocument): void {
    const where = { documentIndex: entry.index };
    if (entry.refusal) {
      this.error(entry.refusal.code, entry.refusal.offset, entry.refusal.message, where);
      return;
    }
    const doc = entry.doc;
    if (doc === null) {
      this.error('INTERNAL', entry.offset, 'the YAML composer returned no document', where);
      return;
    }
    if (this.yamlErrors(entry, doc, this.peekIdentity(doc))) return;

    const contents = doc.contents as ParsedNode | null;
    if (contents === null || (isScalar(contents) && contents.value === null)) return; // empty document
    const start = contents.range[0];

    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
    } catch (error) {
      const message = describe(error);
      const identity = { ...where, ...this.peekIdentity(doc) };
      if (/alias count|resource exhaustion/i.test(message)) {
        this.error(
          'ALIAS_LIMIT',
          start,
          `YAML aliases expand too much (limit ${MAX_ALIAS_EXPANSION}): ${message}; the document was not read`,
          identity,
        );
      } else if (error instanceof RangeError) {
        this.error('NESTING_TOO_DEEP', start, `YAML nesting too deep: ${message}`, identity);
      } else {
        this.error('YAML_SYNTAX', unresolvedAliasOffset(doc) ?? start, `YAML error: ${message}`, identity);
      }
      return;
    }
    const shape = checkTree(value, MAX_NESTING_DEPTH);
    if (shape === 'cycle') {
      this.error('ALIAS_LIMIT', start, 'a YAML alias refers to a node that contains it (a cycle)', where);
      return;
    }
    if (shape === 'deep') {
      this.error(
        'NESTING_TOO_DEEP',
        start,
        `YAML nesting deeper than ${MAX_NESTING_DEPTH} levels after aliases`,
        where,
      );
      return;
    }

    if (!isMap(contents) || !isRecord(value)) {
      const what = Array.isArray(value) ? 'a list' : `a ${typeof value} (${renderValue(value)})`;
      this.error(
        'NOT_A_MAPPING',
        start,
        `document is ${what}; a Kubernetes object must be a mapping with apiVersion and kind` +
          (Array.isArray(value) ? ' (separate objects with --- instead of listing them)' : ''),
        where,
      );
      return;
    }

    const kind = Object.hasOwn(value, 'kind') ? value.kind : undefined;
    const rawApiVersion = Object.hasOwn(value, 'apiVersion') ? value.apiVersion : undefined;
    const apiVersion = typeof rawApiVersion === 'string' ? rawApiVersion : undefined;
    if (kind === undefined || kind === null || kind === '') {
      this.error(
        'MISSING_KIND',
        start,
        'kind: Required value: every Kubernetes object needs apiVersion and kind',
        where,
      );
      return;
    }
    if (typeof kind !== 'string') {
      const at = locate(doc, ['kind'], false).offset;
      this.error('MISSING_KIND', at, `kind: Invalid value: ${renderValue(kind)}: must be a string`, where);
      return;
    }
    if (kind !== 'DaemonSet') {
      // Near misses ("daemonset", "DaemonSets", "DaemonSet ") are typos, not other kinds: an error keeps the DaemonSet.
      if (/^daemonsets?$/.test(kind.trim().toLowerCase())) {
        const at = locate(doc, ['kind'], false).offset;
        this.error(
          'INVALID_FIELD',
          at,
          `kind: Unsupported value: ${JSON.stringify(kind)}: supported values: "DaemonSet"`,
          {
            ...where,
            field: 'kind',
            ...nameOf(value),
          },
        );
        return;
      }
      const { name, namespace } = nameOf(value);
      const kindAt = this.position(locate(doc, ['kind'], false).offset);
      this.result.skipped.push({
        file: this.file,
        ...this.position(start),
        documentIndex: entry.index,
        ...(apiVersion === undefined ? {} : { apiVersion }),
        kind,
        kindLine: kindAt.line,
        kindColumn: kindAt.column,
        ...(name === undefined ? {} : { name, namespace: namespace ?? DEFAULT_NAMESPACE }),
        reason: skipReason(kind, apiVersion),
      });
      return;
    }
    this.daemonSet(entry, doc, value, start);
  }

  private daemonSet(entry: StreamDocument, doc: Document.Parsed, value: Rec, start: number): void {
    const identity = nameOf(value);
    const extra = { documentIndex: entry.index, ...identity };
    const problems: LocatedFieldError[] = [];
    const rawApiVersion = Object.hasOwn(value, 'apiVersion') ? value.apiVersion : undefined;
    if (rawApiVersion === undefined || rawApiVersion === null || rawApiVersion === '') {
      problems.push({
        field: 'apiVersion',
        message: 'apiVersion: Required value: a DaemonSet needs apiVersion: apps/v1',
        code: 'WRONG_API_VERSION',
        path: [],
        atKey: false,
      });
    }
    problems.push(...collectDaemonSetErrors(value));
    // Placing an error scans its mapping, so a document with 100,000 bad labels must not place them all.
    const placed = problems.slice(0, MAX_FIELD_ERRORS_PER_DOCUMENT).map((problem) => {
      const { offset, node } = locate(doc, problem.path, problem.atKey);
      let message = problem.message;
      const source = (node as { source?: unknown } | undefined)?.source;
      if (
        problem.code === 'INVALID_TYPE' &&
        message.endsWith('; quote it') &&
        isScalar(node) &&
        node.type === 'PLAIN' &&
        typeof source === 'string'
      ) {
        message += ` as ${JSON.stringify(source)}`;
      }
      return { problem, offset, message };
    });
    // Reading order, as compilers report; the sort is stable, so errors on one node keep field order.
    placed.sort((a, b) => a.offset - b.offset);
    for (const { problem, offset, message } of placed) {
      this.error(problem.code, offset, message, { ...extra, field: problem.field === '' ? undefined : problem.field });
    }
    if (problems.length > MAX_FIELD_ERRORS_PER_DOCUMENT) {
      const last = placed[placed.length - 1];
      this.error(
        last?.problem.code ?? 'INVALID_FIELD',
        last?.offset ?? start,
        `${problems.length - MAX_FIELD_ERRORS_PER_DOCUMENT} more errors in this DaemonSet not shown`,
        extra,
      );
    }

    const position = this.position(start);
    let duplicate = false;
    if (identity.name !== undefined) {
      const key = `${identity.namespace}/${identity.name}`;
      const first = this.seen.get(key);
      const here = `${this.file}:${position.line}`;
      if (first === undefined) {
        this.seen.set(key, here);
      } else {
        duplicate = true;
        this.error(
          'DUPLICATE_NAME',
          locate(doc, ['metadata', 'name'], false).offset,
          `DaemonSet ${JSON.stringify(key)} is defined more than once: first at ${first}, again at ${here}; the second definition is ignored`,
          { ...extra, field: 'metadata.name' },
        );
      }
    }
    if (problems.length > 0 || duplicate || identity.name === undefined) return;

    const daemonSet = applyDaemonSetDefaults(value as DaemonSet);
    this.result.daemonSets.push(daemonSet);
    this.result.sources.push({
      file: this.file,
      ...position,
      documentIndex: entry.index,
      key: `${identity.namespace}/${identity.name}`,
    });
  }
}

/** Offset of the first alias without an anchor before it, the usual reason `toJS` fails. */
function unresolvedAliasOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * Whether a value converted from YAML is safe to hand on: `'cycle'` when an alias made it refer
 * to itself, `'deep'` when aliases stacked it deeper than `maxDepth`. Iterative, and each shared
 * subtree is measured once.
 */
function checkTree(root: unknown, maxDepth: number): 'cycle' | 'deep' | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  interface Frame {
    node: object;
    children: unknown[];
    next: number;
    height: number;
  }
  const heights = new Map<object, number>();
  const open = new Set<object>();
  const stack: Frame[] = [];
  const enter = (node: object): void => {
    open.add(node);
    stack.push({ node, children: Object.values(node), next: 0, height: 0 });
  };
  enter(root);
  while (stack.length > 0) {
    if (stack.length > maxDepth) return 'deep';
    const frame = stack[stack.length - 1] as Frame;
    if (frame.next < frame.children.length) {
      const child = frame.children[frame.next++];
      if (typeof child !== 'object' || child === null) continue;
      if (open.has(child)) return 'cycle';
      const known = heights.get(child);
      if (known === undefined) {
        enter(child);
      } else {
        if (stack.length + 1 + known > maxDepth) return 'deep';
        frame.height = Math.max(frame.height, known + 1);
      }
      continue;
    }
    stack.pop();
    open.delete(frame.node);
    heights.set(frame.node, frame.height);
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.height = Math.max(parent.height, frame.height + 1);
  }
  return undefined;
}

/**
 * Parses a multi-document YAML text (one file of the repository) into apps/v1 DaemonSets with
 * DaemonSet-level defaults applied, the documents of other kinds it skipped, and every error with
 * file, 1-based line and column and an API-server style message.
 *
 * A DaemonSet is returned only when its document is entirely valid; a second DaemonSet with the
 * same namespace/name is dropped with a `DUPLICATE_NAME` error. Limits: `maxBytes` (default 1 MiB)
 * for the whole text, {@link MAX_NESTING_DEPTH} levels of nesting and bounded alias use per
 * document. Never throws, whatever the input.
 */
export function parseManifests(text: string, opts?: ParseOptions): ParseResult {
  let file = DEFAULT_FILE;
  let reader: ManifestReader | undefined;
  try {
    if (typeof opts?.file === 'string' && opts.file !== '') file = opts.file;
    if (typeof text !== 'string') {
      return {
        daemonSets: [],
        sources: [],
        skipped: [],
        errors: [
          { file, line: 1, column: 1, code: 'INVALID_INPUT', message: `expected YAML text, got ${typeof text}` },
        ],
      };
    }
    const maxBytes =
      typeof opts?.maxBytes === 'number' && Number.isFinite(opts.maxBytes) && opts.maxBytes >= 0
        ? opts.maxBytes
        : DEFAULT_MAX_BYTES;
    reader = new ManifestReader(text, file);
    reader.read(maxBytes);
    return reader.output;
  } catch (error) {
    const result = reader?.output ?? { daemonSets: [], sources: [], skipped: [], errors: [] };
    result.errors.push({
      file,
      line: 1,
      column: 1,
      code: 'INTERNAL',
      message: `could not read manifests: ${describe(error)}`,
    });
    return result;
  }
}
