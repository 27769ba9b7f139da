/**
 * Result types of {@link parseManifests}: what the reconciler needs to attribute every DaemonSet,
 * skipped document and error to a place in a file of the Git repository.
 */
import type { DaemonSet } from '../domain/kubernetes.js';

/** Where a DaemonSet of the result was written. */
export interface ManifestSource {
  file: string;
  /** 1-based line of the document's first key. */
  line: number;
  /** 1-based column of the document's first key. */
  column: number;
  /** 0-based position of the document in the file, counting empty documents. */
  documentIndex: number;
  /** `namespace/name`, with the namespace defaulted. */
  key: string;
}

/** A well-formed document that is not a DaemonSet (ConfigMap, Deployment, List, ...). */
export interface SkippedDocument {
  file: string;
  line: number;
  column: number;
  documentIndex: number;
  apiVersion?: string;
  kind?: string;
  /** Line and column of the `kind` value (where an error about the kind points). */
  kindLine: number;
  kindColumn: number;
  name?: string;
  /** With `name`: `metadata.namespace`, `default` when absent or empty (as in {@link ManifestSource.key}). */
  namespace?: string;
  /** Why dsctl does not roll it out, for people reading logs. */
  reason: string;
}

/**
 * Stable codes of {@link ManifestError}; callers may switch on them.
 * - `TOO_LARGE`: the text is above `maxBytes` (nothing was parsed), has more than 10,000 documents,
 *   or produced more than 1,000 errors (reading stopped).
 * - `YAML_SYNTAX`: the YAML library refused the text (bad indentation, tabs, unclosed quotes, ...).
 * - `DUPLICATE_KEY`: a mapping repeats a key.
 * - `NESTING_TOO_DEEP`: more nesting than dsctl reads (also the library's RESOURCE_EXHAUSTION).
 * - `ALIAS_LIMIT`: too many aliases or too much alias expansion (billion laughs), or a cyclic alias.
 * - `NOT_A_MAPPING`: a document that is a list or a scalar, not a Kubernetes object.
 * - `MISSING_KIND`: a mapping without `kind`, or with a `kind` that is not a string.
 * - `WRONG_API_VERSION`: a DaemonSet that is not `apps/v1`.
 * - `INVALID_FIELD`: a field the API server would reject.
 * - `INVALID_TYPE`: a field of the wrong type (e.g. an unquoted `yes` or `8080` where a string goes).
 * - `UNKNOWN_FIELD`: a field the apps/v1 schema does not declare (often a typo).
 * - `DUPLICATE_NAME`: a second DaemonSet with the same namespace/name; it is dropped.
 * - `INVALID_INPUT`: the input was not a string.
 * - `INTERNAL`: an unexpected failure, reported instead of thrown.
 */
export type ManifestErrorCode =
  | 'TOO_LARGE'
  | 'YAML_SYNTAX'
  | 'DUPLICATE_KEY'
  | 'NESTING_TOO_DEEP'
  | 'ALIAS_LIMIT'
  | 'NOT_A_MAPPING'
  | 'MISSING_KIND'
  | 'WRONG_API_VERSION'
  | 'INVALID_FIELD'
  | 'INVALID_TYPE'
  | 'UNKNOWN_FIELD'
  | 'DUPLICATE_NAME'
  | 'INVALID_INPUT'
  | 'INTERNAL';

/** One problem in a manifest file, placed on the offending node. */
export interface ManifestError {
  file: string;
  /** 1-based line of the offending node (of the parent mapping when a required field is missing). */
  line: number;
  /** 1-based column. */
  column: number;
  /**
   * A message a person can act on, formatted like the API server's, e.g.
   * `spec.selector: Required value`.
   */
  message: string;
  /** Field path of a validation error, e.g. `spec.updateStrategy.rollingUpdate.maxSurge`. */
  field?: string;
  code: ManifestErrorCode;
  /** 0-based document of the file, when the error belongs to one. */
  documentIndex?: number;
  /** Set with `name` when the error belongs to a DaemonSet whose identity is known. */
  namespace?: string;
  name?: string;
}

/** Result of {@link parseManifests}. */
export interface ParseResult {
  /** Valid apps/v1 DaemonSets, DaemonSet-level defaults applied, in file order. */
  daemonSets: DaemonSet[];
  /** Same order and length as `daemonSets`. */
  sources: ManifestSource[];
  skipped: SkippedDocument[];
  /** Empty when the text is entirely valid. A DaemonSet with errors is not in `daemonSets`. */
  errors: ManifestError[];
}

/** Options of {@link parseManifests}. */
export interface ParseOptions {
  /**
   * Name reported in sources and errors (a path relative to the repository root).
   * @defaultValue `"<stdin>"`
   */
  file?: string;
  /**
   * Largest text, in UTF-8 bytes, that is parsed at all.
   * @defaultValue 1048576 (1 MiB)
   */
  maxBytes?: number;
}
