/**
 * Field errors shaped like `k8s.io/apimachinery/pkg/util/validation/field`: a dotted path
 * (`spec.template.spec.containers[0].image`) and a message that reads like the API server's.
 */

/** One problem with one field of a DaemonSet, without a position in any file. */
export interface FieldError {
  /** Field path as the API server prints it, e.g. `spec.updateStrategy.rollingUpdate.maxSurge`. */
  field: string;
  /**
   * The complete line as the API server prints it, starting with the field path, e.g.
   * `spec.selector: Required value`.
   */
  message: string;
}

/** Codes a field error can carry into a `ManifestError`. */
export type FieldErrorCode = 'INVALID_FIELD' | 'INVALID_TYPE' | 'UNKNOWN_FIELD' | 'WRONG_API_VERSION';

/**
 * A {@link FieldError} that also knows where its value sits in the object, so the YAML parser can
 * turn it into a line and column. Internal to `src/manifest`.
 */
export interface LocatedFieldError extends FieldError {
  code: FieldErrorCode;
  /** Keys and indexes from the object root to the node to point at. */
  path: readonly (string | number)[];
  /** Point at the key of the last path element (bad label keys, unknown fields) rather than its value. */
  atKey: boolean;
}

/** A field path that renders like Go's `field.Path` and also keeps the raw keys for locating nodes. */
export class FieldPath {
  private constructor(
    readonly segments: readonly (string | number)[],
    readonly text: string,
  ) {}

  static root(): FieldPath {
    return new FieldPath([], '');
  }

  /** `parent.name` */
  child(...names: string[]): FieldPath {
    let text = this.text;
    for (const name of names) text = text === '' ? name : `${text}.${name}`;
    return new FieldPath([...this.segments, ...names], text);
  }

  /** `parent[3]` */
  index(i: number): FieldPath {
    return new FieldPath([...this.segments, i], `${this.text}[${i}]`);
  }

  /** `parent[key]`, for an entry of a map such as labels. */
  key(key: string): FieldPath {
    return new FieldPath([...this.segments, key], `${this.text}[${key}]`);
  }
}

const MAX_RENDERED_VALUE = 200;

/**
 * A bad value as the API server quotes it: numbers and booleans bare, strings in double quotes,
 * anything else as (truncated) JSON.
 */
export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[...]' : '{...}';
  }
  return text.length > MAX_RENDERED_VALUE ? `${text.slice(0, MAX_RENDERED_VALUE)}...` : text;
}

function prefix(path: FieldPath): string {
  return path.text === '' ? '' : `${path.text}: `;
}

/** Collects errors of one object, with the constructors of Go's `field` package. */
export class FieldErrorList {
  readonly errors: LocatedFieldError[] = [];

  private push(
    path: FieldPath,
    message: string,
    code: FieldErrorCode,
    at: { path?: FieldPath; atKey?: boolean } = {},
  ): void {
    this.errors.push({
      field: path.text,
      message: `${prefix(path)}${message}`,
      code,
      path: (at.path ?? path).segments,
      atKey: at.atKey ?? false,
    });
  }

  /** `field: Invalid value: <value>: <detail>` */
  invalid(path: FieldPath, value: unknown, detail: string, at?: { path?: FieldPath; atKey?: boolean }): void {
    this.push(path, `Invalid value: ${renderValue(value)}: ${detail}`, 'INVALID_FIELD', at);
  }

  /** `field: Required value[: detail]` */
  required(path: FieldPath, detail = ''): void {
    this.push(path, detail === '' ? 'Required value' : `Required value: ${detail}`, 'INVALID_FIELD');
  }

  /** `field: Forbidden: <detail>` */
  forbidden(path: FieldPath, detail: string): void {
    this.push(path, `Forbidden: ${detail}`, 'INVALID_FIELD');
  }

  /** `field: Unsupported value: <value>: supported values: "A", "B"` */
  notSupported(path: FieldPath, value: unknown, supported: readonly string[], detail?: string): void {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    const message = `Unsupported value: ${renderValue(value)}: supported values: ${list}`;
    this.push(path, detail === undefined ? message : `${message}; ${detail}`, 'INVALID_FIELD');
  }

  /** `field: Duplicate value: <value>` */
  duplicate(path: FieldPath, value: unknown): void {
    this.push(path, `Duplicate value: ${renderValue(value)}`, 'INVALID_FIELD');
  }

  /** `field: Too long: must have at most <n> bytes` */
  tooLong(path: FieldPath, maxBytes: number): void {
    this.push(path, `Too long: must have at most ${maxBytes} bytes`, 'INVALID_FIELD');
  }

  /** A value of the wrong JSON type, which the API server refuses while decoding. */
  wrongType(path: FieldPath, value: unknown, detail: string): void {
    this.push(path, `Invalid value: ${renderValue(value)}: ${detail}`, 'INVALID_TYPE');
  }

  /** A field the apps/v1 schema does not declare (kubectl's strict field validation). */
  unknownField(path: FieldPath, suggestion?: string): void {
    const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
    this.push(path, `Unknown field: field not declared in schema${hint}`, 'UNKNOWN_FIELD', { atKey: true });
  }

  /** A DaemonSet written against an API version that is no longer served. */
  wrongApiVersion(path: FieldPath, value: unknown, detail: string): void {
    this.push(path, `Unsupported value: ${renderValue(value)}: ${detail}`, 'WRONG_API_VERSION');
  }
}
