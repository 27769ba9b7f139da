/**
 * Validation of apps/v1 DaemonSets as the Kubernetes API server does it (daemonset-semantics.md §2),
 * plus the type checks its JSON decoder makes, so that a manifest dsctl rolls out is one
 * `kubectl apply` would accept.
 *
 * Scope: ObjectMeta name/namespace/labels/annotations; the DaemonSet spec (selector, template
 * labels, update strategy, minReadySeconds, revisionHistoryLimit); from the pod spec what matters
 * for a DaemonSet and for dsctl's planner (containers, restartPolicy, activeDeadlineSeconds,
 * nodeSelector, tolerations, hostNetwork). Unknown fields are reported where dsctl reads the
 * object (DaemonSet, spec, selector, strategy, template, tolerations); the rest of the pod spec is
 * passed through unchecked.
 */
import type { DaemonSet, LabelSelector } from '../domain/kubernetes.js';
import { applyDaemonSetDefaults } from './defaults.js';
import { FieldErrorList, FieldPath, type FieldError, type LocatedFieldError } from './field-error.js';
import { intOrPercentValue, percentValue } from './int-or-percent.js';
import { labelSelectorMatches } from './label-selector.js';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue, utf8Length } from './names.js';

export type { FieldError } from './field-error.js';

type Rec = Record<string, unknown>;

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;
const NEGATIVE_MSG = 'must be greater than or equal to 0';
const INT_OR_PERCENT_MSG = "must be an integer or percentage (e.g '5%')";
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')";

const DAEMONSET_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const SPEC_FIELDS = ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'];
const STRATEGY_FIELDS = ['type', 'rollingUpdate'];
const ROLLING_UPDATE_FIELDS = ['maxUnavailable', 'maxSurge'];
const SELECTOR_FIELDS = ['matchLabels', 'matchExpressions'];
const REQUIREMENT_FIELDS = ['key', 'operator', 'values'];
const TEMPLATE_FIELDS = ['metadata', 'spec'];
const TOLERATION_FIELDS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];

const STRATEGY_TYPES = ['OnDelete', 'RollingUpdate'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUnset(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** Own property only: a manifest key `__proto__` or `constructor` must never reach the prototype. */
function get(record: Rec, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function isScalarNonString(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  if (key.length < 4) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

class DaemonSetValidator {
  constructor(private readonly errs: FieldErrorList) {}

  private get count(): number {
    return this.errs.errors.length;
  }

  // ---- type checks (the API server's JSON decoding) ----

  private object(value: unknown, path: FieldPath): Rec | undefined {
    if (isUnset(value)) return undefined;
    if (isRecord(value)) return value;
    this.errs.wrongType(path, value, 'must be an object');
    return undefined;
  }

  /** A list item must be an object; an empty item (`- `) is as wrong as a string. */
  private item(value: unknown, path: FieldPath): Rec | undefined {
    if (isRecord(value)) return value;
    this.errs.wrongType(path, value, 'must be an object');
    return undefined;
  }

  private list(value: unknown, path: FieldPath): unknown[] {
    if (isUnset(value)) return [];
    if (Array.isArray(value)) return value;
    this.errs.wrongType(path, value, 'must be a list');
    return [];
  }

  private string(value: unknown, path: FieldPath): string | undefined {
    if (isUnset(value)) return undefined;
    if (typeof value === 'string') return value;
    this.errs.wrongType(path, value, isScalarNonString(value) ? 'must be a string; quote it' : 'must be a string');
    return undefined;
  }

  private int32(value: unknown, path: FieldPath): number | undefined {
    if (isUnset(value)) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) {
      if (value >= INT32_MIN && value <= INT32_MAX) return value;
      this.errs.wrongType(path, value, 'must fit in a 32-bit integer');
      return undefined;
    }
    this.errs.wrongType(path, value, 'must be an integer');
    return undefined;
  }

  /** A `map[string]string` (labels, annotations, nodeSelector): entries with non-string values are reported and left out. */
  private stringMap(value: unknown, path: FieldPath): Map<string, string> {
    const out = new Map<string, string>();
    if (isUnset(value)) return out;
    if (!isRecord(value)) {
      this.errs.wrongType(path, value, 'must be a map of strings');
      return out;
    }
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (typeof v === 'string') out.set(key, v);
      else if (v === null) this.errs.wrongType(path.key(key), v, 'must be a string; write "" for an empty value');
      else
        this.errs.wrongType(path.key(key), v, isScalarNonString(v) ? 'must be a string; quote it' : 'must be a string');
    }
    return out;
  }

  private unknownFields(record: Rec, known: readonly string[], path: FieldPath): void {
    for (const key of Object.keys(record)) {
      if (known.includes(key)) continue;
      // Suggestions cost an edit distance each; a document with thousands of unknown keys gets none.
      this.errs.unknownField(path.child(key), this.count < 100 ? suggest(key, known) : undefined);
    }
  }

  // ---- metadata ----

  private labels(value: unknown, path: FieldPath): Map<string, string> {
    const labels = this.stringMap(value, path);
    for (const [key, v] of labels) {
      for (const msg of isQualifiedName(key)) this.errs.invalid(path, key, msg, { path: path.key(key), atKey: true });
      for (const msg of isValidLabelValue(v)) this.errs.invalid(path, v, msg, { path: path.key(key) });
    }
    return labels;
  }

  private annotations(value: unknown, path: FieldPath): void {
    const annotations = this.stringMap(value, path);
    let total = 0;
    for (const [key, v] of annotations) {
      for (const msg of isQualifiedName(key.toLowerCase())) {
        this.errs.invalid(path, key, msg, { path: path.key(key), atKey: true });
      }
      total += utf8Length(key) + utf8Length(v);
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) this.errs.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES);
  }

  private objectMeta(value: unknown, path: FieldPath): void {
    const namePath = path.child('name');
    if (isUnset(value)) {
      this.errs.required(namePath, 'name or generateName is required');
      return;
    }
    const meta = this.object(value, path);
    if (meta === undefined) return;
    const rawName = get(meta, 'name');
    if (isUnset(rawName) || rawName === '') {
      if (isUnset(get(meta, 'generateName'))) this.errs.required(namePath, 'name or generateName is required');
      else this.errs.required(namePath, 'dsctl needs a fixed name: generateName is not supported');
    } else {
      const name = this.string(rawName, namePath);
      if (name !== undefined) for (const msg of isDns1123Subdomain(name)) this.errs.invalid(namePath, name, msg);
    }
    const namespacePath = path.child('namespace');
    const namespace = this.string(get(meta, 'namespace'), namespacePath);
    if (namespace !== undefined && namespace !== '') {
      for (const msg of isDns1123Label(namespace)) this.errs.invalid(namespacePath, namespace, msg);
    }
    this.labels(get(meta, 'labels'), path.child('labels'));
    this.annotations(get(meta, 'annotations'), path.child('annotations'));
  }

  // ---- selector ----

  /** Returns whether the selector is well formed, i.e. whether the API server could evaluate it. */
  private labelSelector(selector: Rec, path: FieldPath): boolean {
    const before = this.count;
    this.labels(get(selector, 'matchLabels'), path.child('matchLabels'));
    const exprPath = path.child('matchExpressions');
    this.list(get(selector, 'matchExpressions'), exprPath).forEach((raw, i) => {
      const p = exprPath.index(i);
      const expr = this.item(raw, p);
      if (expr === undefined) return;
      this.unknownFields(expr, REQUIREMENT_FIELDS, p);
      const opPath = p.child('operator');
      const rawOp = get(expr, 'operator');
      const operator = this.string(rawOp, opPath);
      const valuesPath = p.child('values');
      const values = this.list(get(expr, 'values'), valuesPath);
      switch (operator) {
        case 'In':
        case 'NotIn':
          if (values.length === 0)
            this.errs.required(valuesPath, "must be specified when `operator` is 'In' or 'NotIn'");
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length > 0) {
            this.errs.forbidden(valuesPath, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
          }
          break;
        default:
          if (operator !== undefined || isUnset(rawOp)) {
            this.errs.invalid(opPath, operator ?? '', 'not a valid selector operator');
          }
      }
      const keyPath = p.child('key');
      const rawKey = get(expr, 'key');
      const key = isUnset(rawKey) ? '' : this.string(rawKey, keyPath);
      if (key !== undefined) for (const msg of isQualifiedName(key)) this.errs.invalid(keyPath, key, msg);
      values.forEach((rawValue, j) => {
        const value = this.string(rawValue, valuesPath.index(j));
        if (value === undefined) {
          if (rawValue === null) this.errs.wrongType(valuesPath.index(j), null, 'must be a string');
          return;
        }
        for (const msg of isValidLabelValue(value)) this.errs.invalid(valuesPath.index(j), value, msg);
      });
    });
    return this.count === before;
  }

  // ---- pod template ----

  private container(raw: unknown, path: FieldPath, names: Set<string>): void {
    const container = this.item(raw, path);
    if (container === undefined) return;

    const namePath = path.child('name');
    const rawName = get(container, 'name');
    if (isUnset(rawName) || rawName === '') {
      this.errs.required(namePath);
    } else {
      const name = this.string(rawName, namePath);
      if (name !== undefined) {
        for (const msg of isDns1123Label(name)) this.errs.invalid(namePath, name, msg);
        if (names.has(name)) this.errs.duplicate(namePath, name);
        names.add(name);
      }
    }

    const imagePath = path.child('image');
    const rawImage = get(container, 'image');
    if (isUnset(rawImage) || rawImage === '') {
      this.errs.required(imagePath);
    } else {
      const image = this.string(rawImage, imagePath);
      if (image !== undefined && image.trim() !== image) {
        this.errs.invalid(imagePath, image, 'must not have leading or trailing whitespace');
      }
    }

    const policyPath = path.child('imagePullPolicy');
    const policy = this.string(get(container, 'imagePullPolicy'), policyPath);
    if (policy !== undefined && !PULL_POLICIES.includes(policy))
      this.errs.notSupported(policyPath, policy, PULL_POLICIES);

    for (const field of ['command', 'args']) {
      const p = path.child(field);
      this.list(get(container, field), p).forEach((arg, i) => {
        if (arg === null) this.errs.wrongType(p.index(i), arg, 'must be a string');
        else this.string(arg, p.index(i));
      });
    }

    const envPath = path.child('env');
    this.list(get(container, 'env'), envPath).forEach((rawVar, i) => {
      const p = envPath.index(i);
      const envVar = this.item(rawVar, p);
      if (envVar === undefined) return;
      const varNamePath = p.child('name');
      const rawVarName = get(envVar, 'name');
      if (isUnset(rawVarName) || rawVarName === '') {
        this.errs.required(varNamePath);
      } else {
        const varName = this.string(rawVarName, varNamePath);
        // RelaxedEnvironmentVariableValidation (GA in 1.34): any printable ASCII except '='.
        if (varName !== undefined && !/^[\x20-\x3c\x3e-\x7e]+$/.test(varName)) {
          this.errs.invalid(
            varNamePath,
            varName,
            "a valid environment variable name must consist only of printable ASCII characters other than '='",
          );
        }
      }
      this.string(get(envVar, 'value'), p.child('value'));
    });
  }

  private toleration(raw: unknown, path: FieldPath): void {
    const toleration = this.item(raw, path);
    if (toleration === undefined) return;
    this.unknownFields(toleration, TOLERATION_FIELDS, path);
    const keyPath = path.child('key');
    const opPath = path.child('operator');
    const valuePath = path.child('value');
    const effectPath = path.child('effect');
    const key = this.string(get(toleration, 'key'), keyPath) ?? '';
    const operator = this.string(get(toleration, 'operator'), opPath) ?? '';
    const value = this.string(get(toleration, 'value'), valuePath) ?? '';
    const effect = this.string(get(toleration, 'effect'), effectPath) ?? '';
    const seconds = get(toleration, 'tolerationSeconds');
    if (!isUnset(seconds) && !(typeof seconds === 'number' && Number.isSafeInteger(seconds))) {
      this.errs.wrongType(path.child('tolerationSeconds'), seconds, 'must be an integer');
    }

    if (key !== '') for (const msg of isQualifiedName(key)) this.errs.invalid(keyPath, key, msg);
    if (key === '' && operator !== 'Exists') {
      this.errs.invalid(
        opPath,
        operator,
        'operator must be Exists when `key` is empty, which means "match all values and all keys"',
      );
    }
    if (!isUnset(seconds) && effect !== 'NoExecute') {
      this.errs.invalid(effectPath, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    switch (operator) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(value);
        if (msgs.length > 0) this.errs.invalid(opPath, value, msgs.join(';'), { path: valuePath });
        break;
      }
      case 'Exists':
        if (value !== '') {
          this.errs.invalid(opPath, toleration, "value must be empty when `operator` is 'Exists'", { path: valuePath });
        }
        break;
      default:
        this.errs.notSupported(opPath, operator, ['Equal', 'Exists']);
    }
    if (effect !== '' && !TAINT_EFFECTS.includes(effect)) this.errs.notSupported(effectPath, effect, TAINT_EFFECTS);
  }

  private podSpec(spec: Rec, path: FieldPath): void {
    const names = new Set<string>();
    const containersPath = path.child('containers');
    const rawContainers = get(spec, 'containers');
    const containers = this.list(rawContainers, containersPath);
    if (containers.length === 0 && (isUnset(rawContainers) || Array.isArray(rawContainers))) {
      this.errs.required(containersPath);
    }
    containers.forEach((c, i) => this.container(c, containersPath.index(i), names));
    const initPath = path.child('initContainers');
    this.list(get(spec, 'initContainers'), initPath).forEach((c, i) => this.container(c, initPath.index(i), names));

    const restartPath = path.child('restartPolicy');
    const restartPolicy = this.string(get(spec, 'restartPolicy'), restartPath);
    if (restartPolicy !== undefined && restartPolicy !== 'Always') {
      this.errs.notSupported(restartPath, restartPolicy, ['Always']);
    }
    const deadline = get(spec, 'activeDeadlineSeconds');
    if (!isUnset(deadline)) {
      this.errs.invalid(
        path.child('activeDeadlineSeconds'),
        deadline,
        'activeDeadlineSeconds in DaemonSet is not Supported',
      );
    }
    this.labels(get(spec, 'nodeSelector'), path.child('nodeSelector'));
    this.string(get(spec, 'nodeName'), path.child('nodeName'));
    const hostNetwork = get(spec, 'hostNetwork');
    if (!isUnset(hostNetwork) && typeof hostNetwork !== 'boolean') {
      this.errs.wrongType(path.child('hostNetwork'), hostNetwork, 'must be a boolean');
    }
    const tolerationsPath = path.child('tolerations');
    this.list(get(spec, 'tolerations'), tolerationsPath).forEach((t, i) =>
      this.toleration(t, tolerationsPath.index(i)),
    );
    this.object(get(spec, 'affinity'), path.child('affinity'));
  }

  // ---- update strategy ----

  /** Returns false when the value has an error of its own. */
  private intOrPercent(value: unknown, path: FieldPath): boolean {
    if (typeof value === 'string') {
      const percent = percentValue(value);
      if (percent === undefined) this.errs.invalid(path, value, PERCENT_MSG);
      else if (percent > 100) this.errs.invalid(path, value, 'must not be greater than 100%');
      return percent !== undefined;
    }
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value > INT32_MAX || value < INT32_MIN) {
        this.errs.wrongType(path, value, INT_OR_PERCENT_MSG);
        return false;
      }
      if (value < 0) this.errs.invalid(path, value, NEGATIVE_MSG);
      return value >= 0;
    }
    this.errs.wrongType(path, value, INT_OR_PERCENT_MSG);
    return false;
  }

  private rollingUpdate(rolling: Rec, path: FieldPath): void {
    this.unknownFields(rolling, ROLLING_UPDATE_FIELDS, path);
    const maxUnavailable = get(rolling, 'maxUnavailable');
    const maxSurge = get(rolling, 'maxSurge');
    const unavailableOk = this.intOrPercent(maxUnavailable, path.child('maxUnavailable'));
    const surgeOk = this.intOrPercent(maxSurge, path.child('maxSurge'));
    // The API server would go on and read "5.5%" as 0 (strconv.Atoi) and add "cannot be 0 when
    // maxSurge is 0"; one error per mistake is easier to act on.
    if (!unavailableOk || !surgeOk) return;
    const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
    const hasSurge = intOrPercentValue(maxSurge) !== 0;
    if (hasUnavailable && hasSurge) {
      this.errs.invalid(path.child('maxSurge'), maxSurge, 'may not be set when maxUnavailable is non-zero');
    } else if (!hasUnavailable && !hasSurge) {
      this.errs.required(path.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0');
    }
  }

  private updateStrategy(value: unknown, path: FieldPath): void {
    const strategy = this.object(value, path);
    if (strategy === undefined) return;
    this.unknownFields(strategy, STRATEGY_FIELDS, path);
    const typePath = path.child('type');
    const type = this.string(get(strategy, 'type'), typePath);
    switch (type) {
      case undefined:
      case 'OnDelete':
        break;
      case 'RollingUpdate': {
        const rollingPath = path.child('rollingUpdate');
        const raw = get(strategy, 'rollingUpdate');
        if (isUnset(raw)) this.errs.required(rollingPath);
        const rolling = this.object(raw, rollingPath);
        if (rolling !== undefined) this.rollingUpdate(rolling, rollingPath);
        break;
      }
      default:
        this.errs.notSupported(typePath, type, STRATEGY_TYPES);
    }
  }

  // ---- the DaemonSet ----

  private spec(value: unknown, path: FieldPath): void {
    if (isUnset(value)) {
      this.errs.required(path);
      return;
    }
    const spec = this.object(value, path);
    if (spec === undefined) return;
    this.unknownFields(spec, SPEC_FIELDS, path);

    const selectorPath = path.child('selector');
    const rawSelector = get(spec, 'selector');
    let selector: Rec | undefined;
    let selectorUsable = false;
    if (isUnset(rawSelector)) {
      this.errs.required(selectorPath);
    } else {
      selector = this.object(rawSelector, selectorPath);
      if (selector !== undefined) {
        this.unknownFields(selector, SELECTOR_FIELDS, selectorPath);
        selectorUsable = this.labelSelector(selector, selectorPath);
        const matchLabels = get(selector, 'matchLabels');
        const matchExpressions = get(selector, 'matchExpressions');
        const size =
          (isRecord(matchLabels) ? Object.keys(matchLabels).length : 0) +
          (Array.isArray(matchExpressions) ? matchExpressions.length : 0);
        if (size === 0) this.errs.invalid(selectorPath, selector, 'empty selector is invalid for daemonset');
      }
    }

    const templatePath = path.child('template');
    const rawTemplate = get(spec, 'template');
    if (isUnset(rawTemplate)) {
      this.errs.required(templatePath);
    } else {
      const template = this.object(rawTemplate, templatePath);
      if (template !== undefined) {
        this.unknownFields(template, TEMPLATE_FIELDS, templatePath);
        const metaPath = templatePath.child('metadata');
        const meta = this.object(get(template, 'metadata'), metaPath);
        const rawLabels = meta === undefined ? undefined : get(meta, 'labels');
        const labels = this.labels(rawLabels, metaPath.child('labels'));
        if (meta !== undefined) this.annotations(get(meta, 'annotations'), metaPath.child('annotations'));

        // The API server compares even when the selector is missing (a nil selector matches nothing).
        if (isUnset(rawSelector) || selectorUsable) {
          const matches =
            selector !== undefined && labelSelectorMatches(selector as LabelSelector, Object.fromEntries(labels));
          if (!matches) {
            this.errs.invalid(
              metaPath.child('labels'),
              rawLabels ?? null,
              '`selector` does not match template `labels`',
            );
          }
        }

        const podPath = templatePath.child('spec');
        const rawPod = get(template, 'spec');
        if (isUnset(rawPod)) this.errs.required(podPath.child('containers'));
        const pod = this.object(rawPod, podPath);
        if (pod !== undefined) this.podSpec(pod, podPath);
      }
    }

    for (const field of ['minReadySeconds', 'revisionHistoryLimit']) {
      const p = path.child(field);
      const n = this.int32(get(spec, field), p);
      if (n !== undefined && n < 0) this.errs.invalid(p, n, NEGATIVE_MSG);
    }
    this.updateStrategy(get(spec, 'updateStrategy'), path.child('updateStrategy'));
  }

  validate(ds: Rec): void {
    const root = FieldPath.root();
    this.unknownFields(ds, DAEMONSET_FIELDS, root);
    const apiVersionPath = root.child('apiVersion');
    const apiVersion = this.string(get(ds, 'apiVersion'), apiVersionPath);
    if (apiVersion !== undefined && apiVersion !== 'apps/v1') {
      this.errs.wrongApiVersion(
        apiVersionPath,
        apiVersion,
        'supported values: "apps/v1"; DaemonSets are served only as apps/v1 since Kubernetes 1.16 (extensions/v1beta1 and apps/v1beta2 were removed), so write apiVersion: apps/v1',
      );
    }
    const kindPath = root.child('kind');
    const kind = this.string(get(ds, 'kind'), kindPath);
    if (kind !== undefined && kind !== 'DaemonSet') this.errs.notSupported(kindPath, kind, ['DaemonSet']);
    this.objectMeta(get(ds, 'metadata'), root.child('metadata'));
    this.spec(get(ds, 'spec'), root.child('spec'));
  }
}

/**
 * All validation errors of one DaemonSet with the paths needed to place them in a YAML file.
 * Internal to `src/manifest`; callers outside use {@link validateDaemonSet}.
 */
export function collectDaemonSetErrors(ds: unknown): LocatedFieldError[] {
  const errs = new FieldErrorList();
  try {
    if (!isRecord(ds)) {
      errs.wrongType(FieldPath.root(), ds, 'a DaemonSet must be an object');
      return errs.errors;
    }
    new DaemonSetValidator(errs).validate(applyDaemonSetDefaults(ds as DaemonSet) as unknown as Rec);
  } catch (error) {
    // Only reachable through hostile objects (throwing getters, proxies); report instead of throwing.
    errs.errors.push({
      field: '',
      message: `validation stopped: ${error instanceof Error ? error.message : String(error)}`,
      code: 'INVALID_FIELD',
      path: [],
      atKey: false,
    });
  }
  return errs.errors;
}

/**
 * Validates an apps/v1 DaemonSet as the API server would, after applying the DaemonSet defaults
 * (so a raw manifest and its defaulted form give the same answer, and `maxSurge: 1` alone is
 * rejected because `maxUnavailable` defaults to 1).
 *
 * Returns every problem found, in document order of the fields, each as `{ field, message }` where
 * `message` is the full API-server style line, e.g.
 * `spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero`.
 * An empty list means valid. Works on any value (objects that did not come from YAML included)
 * and never throws.
 */
export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return collectDaemonSetErrors(ds).map(({ field, message }) => ({ field, message }));
}
