/**
 * What one manifest file says about DaemonSets, as the Git sync needs it: valid documents by
 * `namespace/name`, the names the file claims (valid or not), errors naming a DaemonSet, errors
 * naming none (which hold the whole file at its last good state), and the names of documents of
 * other kinds (so a DaemonSet whose document became a Deployment is not read as removed).
 */
import type { DaemonSet } from '../domain/kubernetes.js';
import type { SkippedDocument } from '../manifest/types.js';

/** Where a document sits in its file (the `sources` entries of `parseManifests`). */
export interface ManifestSource {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly documentIndex: number;
  /** `namespace/name`. */
  readonly key: string;
}

export interface ManifestParseError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly code: string;
  readonly field?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A well-formed document of another kind: the part of `parseManifests`' `skipped` entries the sync reads. */
export type ManifestSkipped = Pick<
  SkippedDocument,
  'file' | 'line' | 'column' | 'documentIndex' | 'kind' | 'kindLine' | 'kindColumn' | 'name' | 'namespace'
>;

/** The part of `parseManifests`' result the sync reads. */
export interface ManifestParseResult {
  readonly daemonSets: readonly DaemonSet[];
  readonly sources: readonly ManifestSource[];
  readonly errors: readonly ManifestParseError[];
  /** Documents of other kinds; absent from a parser that does not report them. */
  readonly skipped?: readonly ManifestSkipped[];
}

/** `parseManifests` from `src/manifest`, injectable (tests count calls). */
export type ParseManifests = (text: string, opts?: { file?: string; maxBytes?: number }) => ManifestParseResult;

export interface ManifestDocument {
  readonly daemonSet: DaemonSet;
  readonly source: ManifestSource;
}

/** An error found in a file, before it is tied to a commit. */
export interface FileProblem {
  readonly code: string;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field?: string;
  readonly key?: string;
}

/** A document of another kind (a Deployment, a ServiceAccount named like its DaemonSet, ...). */
export interface OtherKindDocument {
  readonly kind: string;
  /** Where its `kind` value is. */
  readonly line: number;
  readonly column: number;
}

export interface ManifestFile {
  /** Valid documents whose name occurs once in the file. */
  readonly docs: ReadonlyMap<string, ManifestDocument>;
  /** Every DaemonSet the file defines, valid or not, in document order, without repeats. */
  readonly keys: readonly string[];
  /** Problems that name a DaemonSet: only that DaemonSet is held back. */
  readonly keyProblems: ReadonlyMap<string, readonly FileProblem[]>;
  /** Problems that name none (YAML syntax, unreadable file): the whole file is held back. */
  readonly fileProblems: readonly FileProblem[];
  /** Documents of other kinds by `namespace/name`, in document order (they are not in `keys`). */
  readonly otherKinds: ReadonlyMap<string, readonly OtherKindDocument[]>;
}

export const EMPTY_MANIFEST_FILE: ManifestFile = {
  docs: new Map(),
  keys: [],
  keyProblems: new Map(),
  fileProblems: [],
  otherKinds: new Map(),
};

/** Runs `parse` on one file's text and sorts the outcome into a {@link ManifestFile}. Never throws. */
export function readManifestFile(
  parse: ParseManifests,
  text: string,
  file: string,
  options: { maxBytes?: number } = {},
): ManifestFile {
  let result: ManifestParseResult;
  try {
    result = parse(text, { file, ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ...EMPTY_MANIFEST_FILE,
      fileProblems: [{ code: 'ManifestUnreadable', message, file, line: 1, column: 1 }],
    };
  }

  const keys: string[] = [];
  const seen = new Map<string, ManifestDocument>();
  const repeated = new Set<string>();
  const keyProblems = new Map<string, FileProblem[]>();
  const fileProblems: FileProblem[] = [];
  const addKey = (key: string): void => {
    if (!keys.includes(key)) keys.push(key);
  };

  result.daemonSets.forEach((daemonSet, i) => {
    const source = result.sources[i];
    if (!source) return;
    addKey(source.key);
    const earlier = seen.get(source.key);
    if (earlier) {
      repeated.add(source.key);
      pushTo(keyProblems, source.key, {
        code: 'DuplicateDaemonSet',
        message: `DaemonSet ${source.key} is defined twice in ${file} (lines ${earlier.source.line} and ${source.line})`,
        file,
        line: source.line,
        column: source.column,
        key: source.key,
      });
    } else {
      seen.set(source.key, { daemonSet, source });
    }
  });

  for (const e of result.errors) {
    const problem: FileProblem = {
      code: e.code,
      message: e.message,
      file: e.file || file,
      line: e.line,
      column: e.column,
      ...(e.field !== undefined ? { field: e.field } : {}),
    };
    if (e.name) {
      const key = `${e.namespace || 'default'}/${e.name}`;
      addKey(key);
      pushTo(keyProblems, key, { ...problem, key });
    } else {
      fileProblems.push(problem);
    }
  }

  const otherKinds = new Map<string, OtherKindDocument[]>();
  for (const s of result.skipped ?? []) {
    if (!s.name || s.kind === undefined) continue;
    pushTo(otherKinds, `${s.namespace || 'default'}/${s.name}`, {
      kind: s.kind,
      line: s.kindLine,
      column: s.kindColumn,
    });
  }

  const docs = new Map<string, ManifestDocument>();
  for (const [key, doc] of seen) if (!repeated.has(key) && !keyProblems.has(key)) docs.set(key, doc);
  return { docs, keys, keyProblems, fileProblems, otherKinds };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Manifest files are YAML or JSON; everything else under the path is ignored. */
export function isManifestPath(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(path);
}
