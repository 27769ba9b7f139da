/**
 * What each Git-written change does to a DaemonSet document, and the commit message that says so. Pure: no I/O.
 *
 * - rollback (`rollout undo`): the target revision is N, or the second-highest number (kubectl,
 *   daemonset-semantics.md §12.5); `spec.template` is replaced wholesale by that revision's template, nothing else;
 * - set image: the `image` of named containers (and init containers; `*` means all), nothing else;
 * - pause/resume: the `dsctl.dev/paused: "true"` annotation on the DaemonSet's metadata is set or removed.
 *
 * Commit messages carry git trailers so the log is an audit trail a program can read back (`git log
 * --format=%(trailers)`): `DaemonSet`, `Rollback-To-Revision`, `Rollback-Of-Commit`, and for the worker's own rollbacks
 * `Auto-Rollback` and `Rollback-Of-Revision-Hash`.
 */
import type { PodTemplateSpec } from '../domain/kubernetes.js';
import type { Revision, RevisionHistory } from '../revision/history.js';
import { ANNOTATION_PAUSED } from '../worker/annotations.js';
import { ContainerNotFoundError, NoPreviousRevisionError, RevisionNotFoundError } from './errors.js';
import { templateImages, type JsonObject, type ManifestMutation } from './yaml-edit.js';

/** Trailer keys written and read back. */
export const TRAILER_DAEMONSET = 'DaemonSet';
export const TRAILER_ROLLBACK_TO = 'Rollback-To-Revision';
export const TRAILER_ROLLBACK_OF_COMMIT = 'Rollback-Of-Commit';
export const TRAILER_ROLLBACK_OF_HASH = 'Rollback-Of-Revision-Hash';
export const TRAILER_AUTO_ROLLBACK = 'Auto-Rollback';

/** The revisions a rollback goes from and to. */
export interface RollbackChoice {
  readonly current: Revision;
  readonly target: Revision;
  /** N as typed; 0 when omitted (kubectl prints it so in "skipped rollback"). */
  readonly requested: number;
}

/**
 * kubectl's choice (§12.5): `toRevision` 0/undefined → the revision with the second-highest number
 * ({@link NoPreviousRevisionError} when there is none), else revision N ({@link RevisionNotFoundError}, listing the
 * numbers that exist, when it is unknown or pruned).
 */
export function chooseRollback(history: RevisionHistory, toRevision?: number): RollbackChoice {
  const revisions = [...history.revisions].sort((a, b) => a.revision - b.revision);
  const numbers = revisions.map((r) => r.revision);
  const current = revisions.at(-1);
  const requested = toRevision ?? 0;
  if (current === undefined) throw new NoPreviousRevisionError(numbers);
  if (requested === 0) {
    const target = revisions.at(-2);
    if (target === undefined) throw new NoPreviousRevisionError(numbers);
    return { current, target, requested };
  }
  const target = revisions.find((r) => r.revision === requested);
  if (target === undefined) throw new RevisionNotFoundError(requested, numbers);
  return { current, target, requested };
}

/**
 * The worker's own choice after a failed rollout: the highest revision below the current one that was not itself
 * rolled back automatically (`excludedHashes`). Undefined when there is none.
 */
export function chooseAutoRollback(
  history: RevisionHistory,
  excludedHashes: ReadonlySet<string>,
): Revision | undefined {
  const revisions = [...history.revisions].sort((a, b) => a.revision - b.revision);
  const current = revisions.at(-1);
  if (current === undefined) return undefined;
  for (let i = revisions.length - 2; i >= 0; i--) {
    const r = revisions[i]!;
    if (r.hash !== current.hash && !excludedHashes.has(r.hash)) return r;
  }
  return undefined;
}

/** Replaces `spec.template` wholesale (kubectl's rollback patch); nothing else of the object changes. */
export function rollbackMutation(template: PodTemplateSpec): ManifestMutation {
  return (ds) => {
    const spec = isRecord(ds['spec']) ? ds['spec'] : {};
    ds['spec'] = { ...spec, template: structuredClone(template) };
    return ds;
  };
}

/**
 * Sets the image of each named container (containers and init containers; `*` sets all of them). Throws
 * {@link ContainerNotFoundError}, listing the containers, for an unknown name.
 */
export function setImageMutation(images: Readonly<Record<string, string>>): ManifestMutation {
  return (ds) => {
    const template = isRecord(ds['spec']) ? ds['spec']['template'] : undefined;
    const known = templateImages(template).map((c) => c.name);
    for (const name of Object.keys(images)) {
      if (name !== '*' && !known.includes(name)) throw new ContainerNotFoundError(name, known);
    }
    const podSpec = isRecord(template) && isRecord(template['spec']) ? template['spec'] : {};
    for (const field of ['initContainers', 'containers']) {
      const list = podSpec[field];
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        if (!isRecord(c) || typeof c['name'] !== 'string') continue;
        const image = images[c['name']] ?? images['*'];
        if (image !== undefined) c['image'] = image;
      }
    }
    return ds;
  };
}

/** Sets (`paused`) or removes the `dsctl.dev/paused` annotation; an emptied `annotations` map is removed too. */
export function pauseMutation(paused: boolean): ManifestMutation {
  return (ds) => {
    const metadata = isRecord(ds['metadata']) ? ds['metadata'] : {};
    const annotations = isRecord(metadata['annotations']) ? { ...metadata['annotations'] } : {};
    if (paused) annotations[ANNOTATION_PAUSED] = 'true';
    else delete annotations[ANNOTATION_PAUSED];
    const next: JsonObject = { ...metadata, annotations };
    if (Object.keys(annotations).length === 0) delete next['annotations'];
    ds['metadata'] = next;
    return ds;
  };
}

/** Whether a manifest object carries the pause annotation. */
export function isPausedInManifest(ds: JsonObject): boolean {
  const metadata = isRecord(ds['metadata']) ? ds['metadata'] : {};
  const annotations = isRecord(metadata['annotations']) ? metadata['annotations'] : {};
  return annotations[ANNOTATION_PAUSED] === 'true';
}

/** `name: old -> new` lines for every container whose image changes (added and removed containers too). */
export function describeImageChanges(before: unknown, after: unknown): string[] {
  const a = templateImages(before);
  const b = templateImages(after);
  const lines: string[] = [];
  for (const c of b) {
    const old = a.find((x) => x.name === c.name && x.init === c.init);
    const label = c.init ? `${c.name} (init)` : c.name;
    if (!old) lines.push(`${label}: (new container) ${c.image}`);
    else if (old.image !== c.image) lines.push(`${label}: ${old.image} -> ${c.image}`);
  }
  for (const c of a) {
    if (!b.some((x) => x.name === c.name && x.init === c.init)) lines.push(`${c.name}: removed (was ${c.image})`);
  }
  return lines;
}

/** The template of a manifest object (`spec.template`), or undefined. */
export function templateOf(ds: JsonObject): unknown {
  return isRecord(ds['spec']) ? ds['spec']['template'] : undefined;
}

export interface DaemonSetKey {
  readonly namespace: string;
  readonly name: string;
}

/** Why the worker rolled back on its own. */
export interface AutoRollbackCause {
  /** `ProgressDeadlineExceeded` or `NewPodsFailed`. */
  readonly reason: string;
  /** Condition message, e.g. "no progress for 30s (deadline 30s); stuck nodes: node-1". */
  readonly detail: string;
}

/** The message of a rollback commit (manual or automatic). */
export function rollbackMessage(input: {
  ds: DaemonSetKey;
  choice: { current: Revision; target: Revision };
  file: string;
  before: unknown;
  after: unknown;
  auto?: AutoRollbackCause;
}): string {
  const { ds, choice, file, auto } = input;
  const { current, target } = choice;
  const subject = auto
    ? `Auto-roll back ds/${ds.name} to revision ${target.revision} (${sentence(auto.reason)})`
    : `Roll back ds/${ds.name} to revision ${target.revision}`;
  const body: string[] = [];
  if (auto) {
    body.push(
      `dsctl rolled back ${ds.namespace}/${ds.name} on its own: revision ${current.revision} ` +
        `(${current.hash}, commit ${short(current.commit)}) failed: ${auto.detail}.`,
    );
  }
  body.push(
    `Restores the pod template of revision ${target.revision} (commit ${short(target.commit)} ` +
      `"${target.subject}") in ${file}; the current revision ${current.revision} came from commit ` +
      `${short(current.commit)} "${current.subject}".`,
  );
  const images = describeImageChanges(input.before, input.after);
  if (images.length > 0) body.push(['Image changes:', ...images.map((l) => `  ${l}`)].join('\n'));
  const trailers = [
    `${TRAILER_DAEMONSET}: ${ds.namespace}/${ds.name}`,
    `${TRAILER_ROLLBACK_TO}: ${target.revision}`,
    `${TRAILER_ROLLBACK_OF_COMMIT}: ${current.commit}`,
  ];
  if (auto) trailers.push(`${TRAILER_ROLLBACK_OF_HASH}: ${current.hash}`, `${TRAILER_AUTO_ROLLBACK}: ${auto.reason}`);
  return [subject, ...body.map(wrap), trailers.join('\n')].join('\n\n') + '\n';
}

/** The message of a `set image` commit. */
export function setImageMessage(input: { ds: DaemonSetKey; file: string; before: unknown; after: unknown }): string {
  const images = describeImageChanges(input.before, input.after);
  const subject = `Set image of ds/${input.ds.name}: ${images.map((l) => l.replace(/: .* -> /, '=')).join(', ')}`;
  return (
    [
      subject.length > 200 ? `Set image of ds/${input.ds.name}` : subject,
      ['Image changes:', ...images.map((l) => `  ${l}`)].join('\n'),
      wrap(`Written by "dsctl set image" in ${input.file}; only the image fields changed.`),
      `${TRAILER_DAEMONSET}: ${input.ds.namespace}/${input.ds.name}`,
    ].join('\n\n') + '\n'
  );
}

/** The message of a pause or resume commit. */
export function pauseMessage(input: { ds: DaemonSetKey; file: string; paused: boolean }): string {
  const { ds, file, paused } = input;
  const subject = `${paused ? 'Pause' : 'Resume'} rollout of ds/${ds.name}`;
  const body = paused
    ? `Sets the annotation ${ANNOTATION_PAUSED}: "true" in ${file}: the worker starts no node updates of ` +
      `${ds.namespace}/${ds.name} until it is removed ("dsctl rollout resume").`
    : `Removes the annotation ${ANNOTATION_PAUSED} in ${file}: node updates of ${ds.namespace}/${ds.name} resume.`;
  return [subject, wrap(body), `${TRAILER_DAEMONSET}: ${ds.namespace}/${ds.name}`].join('\n\n') + '\n';
}

/**
 * Trailers of a commit message (the last paragraph's `Key: value` lines), values per key in order. A message whose
 * last paragraph is not all trailers has none.
 */
export function parseTrailers(message: string): Map<string, string[]> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const last = paragraphs.length > 1 ? paragraphs[paragraphs.length - 1]! : '';
  const out = new Map<string, string[]>();
  const lines = last.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0 || !lines.every((l) => /^[A-Za-z0-9-]+: /.test(l))) return out;
  for (const line of lines) {
    const i = line.indexOf(': ');
    const key = line.slice(0, i);
    out.set(key, [...(out.get(key) ?? []), line.slice(i + 2).trim()]);
  }
  return out;
}

function short(commit: string): string {
  return commit.slice(0, 7);
}

function sentence(reason: string): string {
  return reason.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** Wraps prose at 72 columns (git's convention); lines that start with spaces are kept as they are. */
function wrap(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith(' ') || line.length <= 72) return line;
      const words = line.split(' ');
      const out: string[] = [];
      let current = '';
      for (const w of words) {
        if (current !== '' && current.length + 1 + w.length > 72) {
          out.push(current);
          current = w;
        } else {
          current = current === '' ? w : `${current} ${w}`;
        }
      }
      if (current !== '') out.push(current);
      return out.join('\n');
    })
    .join('\n');
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
