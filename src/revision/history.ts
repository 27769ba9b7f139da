/**
 * Revision history of one DaemonSet as a pure reducer over the templates Git gives it
 * (daemonset-semantics.md §3.2–§3.5). Replaying the first-parent commit chain through
 * {@link applyDaemonSet} gives the same numbers on every worker, with or without Redis.
 *
 * Assumptions:
 * - Templates arrive in commit order, one call per commit that touches the DaemonSet.
 * - Live-pod knowledge is optional (`liveHashes`); a Git-only rebuild prunes by limit only (D8).
 *
 * Invariants:
 * - `revisions` is sorted by ascending `revision`; the last one is current and has the highest number.
 * - No two revisions have canonically equal templates, and no two share a hash.
 * - The k-th template change gets number k+1, whatever was pruned (numbering ignores pruning).
 */
import { CHANGE_CAUSE_ANNOTATION } from '../domain/kubernetes.js';
import type { DaemonSet, PodTemplateSpec } from '../domain/kubernetes.js';
import { canonicalJson } from './canonical.js';
import { templateHash } from './hash.js';

/** The Git commit a revision came from. `date` is the author date, ISO 8601. */
export interface CommitInfo {
  readonly commit: string;
  readonly author: string;
  readonly date: string;
  readonly subject: string;
}

/** Where a template came from: the commit, the file inside the repo and the change-cause. */
export interface RevisionOrigin extends CommitInfo {
  /** `kubernetes.io/change-cause` of the DaemonSet at that commit, else the commit subject. */
  readonly changeCause: string;
  /** File (repository-relative) that held the DaemonSet. */
  readonly path: string;
}

/**
 * One revision. The commit fields describe the commit that last made this template current:
 * for a reused revision that is the commit that returned to it (a deliberate deviation from
 * Kubernetes, whose reused ControllerRevision keeps a stale change-cause, because in Git the
 * audit question is "which commit made revision N"). The commit that first created the
 * template is kept in `createdBy`, present only on reused revisions.
 */
export interface Revision extends RevisionOrigin {
  readonly revision: number;
  /** `controller-revision-hash`-style hash, fixed at creation (a reuse keeps it). */
  readonly hash: string;
  readonly template: PodTemplateSpec;
  readonly createdBy?: RevisionOrigin & { readonly revision: number };
}

/** Revisions of one DaemonSet plus its hash-collision count (§3.3). */
export interface RevisionHistory {
  /** Ascending by number; the last entry is the current revision. */
  readonly revisions: readonly Revision[];
  /** Like `status.collisionCount`: absent until the first collision, never decreases. */
  readonly collisionCount?: number;
}

/** {@link RevisionHistory} plus the generation counters of §3.5. */
export interface DaemonSetHistory extends RevisionHistory {
  /** `metadata.generation`: starts at 1, +1 on every change of `.spec`. */
  readonly generation: number;
  /** `deprecated.daemonset.template.generation`: starts at 1, +1 on every template change. */
  readonly templateGeneration: number;
  /** Canonical JSON of the last applied `.spec`, to detect spec changes. */
  readonly specJson: string;
}

/** `templateHash`-compatible function; injectable so tests can force collisions. */
export type HashFunction = (template: unknown, collisionCount?: number) => string;

export interface HistoryOptions {
  /** @defaultValue {@link templateHash} */
  readonly hash?: HashFunction;
}

export interface TemplateInput {
  readonly template: PodTemplateSpec;
  readonly origin: RevisionOrigin;
  /** Old revisions to keep besides the current one; `Infinity` keeps all. @defaultValue 10 */
  readonly revisionHistoryLimit?: number;
  /** Hashes still running somewhere; never pruned (§3.4 step 3). */
  readonly liveHashes?: ReadonlySet<string>;
}

/** `created`: new revision; `reused`: an old revision renumbered to current; `unchanged`: same template. */
export type RevisionChange = 'created' | 'reused' | 'unchanged';

export interface TemplateResult {
  readonly history: RevisionHistory;
  readonly change: RevisionChange;
  readonly current: Revision;
  /** Revisions removed by `revisionHistoryLimit` in this step. */
  readonly pruned: readonly Revision[];
}

/** The default of `spec.revisionHistoryLimit`. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
const MAX_COLLISION_RETRIES = 1000;

const canonicalCache = new WeakMap<object, string>();

/** Canonical JSON of a template, memoised per object (templates in a history are never mutated). */
export function canonicalTemplate(template: PodTemplateSpec): string {
  if (template === null || typeof template !== 'object') return canonicalJson(template);
  let text = canonicalCache.get(template);
  if (text === undefined) {
    text = canonicalJson(template);
    canonicalCache.set(template, text);
  }
  return text;
}

/** The current revision (highest number), or `undefined` for an empty history. */
export function currentRevision(history: RevisionHistory | undefined): Revision | undefined {
  const revisions = history?.revisions ?? [];
  return revisions[revisions.length - 1];
}

/** change-cause of a DaemonSet at a commit: its `kubernetes.io/change-cause` annotation, else the subject. */
export function changeCauseOf(daemonSet: DaemonSet, subject: string): string {
  const annotation = daemonSet.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return typeof annotation === 'string' && annotation !== '' ? annotation : subject;
}

/**
 * One sync's worth of §3.2–§3.4 for a new desired template: find the revision whose template is
 * canonically equal, renumber it to `highest old + 1` if needed, else create one (bumping
 * `collisionCount` while the hash is taken), then prune old revisions down to the limit.
 */
export function applyTemplate(
  history: RevisionHistory | undefined,
  input: TemplateInput,
  options: HistoryOptions = {},
): TemplateResult {
  const hash = options.hash ?? templateHash;
  const revisions = history?.revisions ?? [];
  let collisionCount = history?.collisionCount;
  const wanted = canonicalTemplate(input.template);

  let match: Revision | undefined;
  let highestOld = 0;
  for (const r of revisions) {
    if (canonicalTemplate(r.template) === wanted) {
      if (match === undefined || r.revision > match.revision) match = r;
    } else if (r.revision > highestOld) {
      highestOld = r.revision;
    }
  }
  const next = highestOld + 1;

  let current: Revision;
  let change: RevisionChange;
  let others: Revision[];
  if (match !== undefined && match.revision >= next) {
    current = match;
    change = 'unchanged';
    others = revisions.filter((r) => r !== match);
  } else if (match !== undefined) {
    const { createdBy, ...rest } = match;
    current = {
      ...rest,
      ...pickOrigin(input.origin),
      revision: next,
      createdBy: createdBy ?? { ...pickOrigin(match), revision: match.revision },
    };
    change = 'reused';
    others = revisions.filter((r) => r !== match);
  } else {
    let h = hash(input.template, collisionCount);
    for (let i = 0; revisions.some((r) => r.hash === h); i++) {
      if (i >= MAX_COLLISION_RETRIES) throw new Error(`no free revision hash after ${i} collisions`);
      collisionCount = (collisionCount ?? 0) + 1;
      h = hash(input.template, collisionCount);
    }
    current = { ...pickOrigin(input.origin), revision: next, hash: h, template: input.template };
    change = 'created';
    others = [...revisions];
  }

  const limit = input.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const { kept, pruned } = pruneRevisions(others, limit, input.liveHashes);
  const next_: RevisionHistory = {
    revisions: [...kept, current],
    ...(collisionCount !== undefined ? { collisionCount } : {}),
  };
  return { history: next_, change, current, pruned };
}

/**
 * §3.4: keep at most `limit` of the `old` revisions (all but the current one), dropping the lowest
 * numbers first and never a revision whose hash is live. `old` must be sorted ascending.
 */
export function pruneRevisions(
  old: readonly Revision[],
  limit: number,
  liveHashes?: ReadonlySet<string>,
): { kept: Revision[]; pruned: Revision[] } {
  let toKill = old.length - Math.max(0, limit);
  if (toKill <= 0) return { kept: [...old], pruned: [] };
  const kept: Revision[] = [];
  const pruned: Revision[] = [];
  for (const r of old) {
    if (toKill > 0 && !liveHashes?.has(r.hash)) {
      pruned.push(r);
      toKill--;
    } else {
      kept.push(r);
    }
  }
  return { kept, pruned };
}

export interface DaemonSetInput {
  /** The DaemonSet with DaemonSet-level defaults applied (template untouched). */
  readonly daemonSet: DaemonSet;
  readonly commit: CommitInfo;
  /** File inside the repository that holds the DaemonSet. */
  readonly path: string;
  /** Overrides `spec.revisionHistoryLimit` (e.g. `Infinity` for `rollout history --all`). */
  readonly revisionHistoryLimit?: number;
  readonly liveHashes?: ReadonlySet<string>;
}

export interface DaemonSetResult {
  readonly state: DaemonSetHistory;
  readonly change: RevisionChange;
  readonly current: Revision;
  readonly pruned: readonly Revision[];
  /** `.spec` changed (template or not), so `generation` went up. Always true for a new DaemonSet. */
  readonly specChanged: boolean;
}

/**
 * Applies one commit's version of a DaemonSet: generation (+1 per `.spec` change),
 * template generation (+1 per template change) and the revision step of {@link applyTemplate}.
 */
export function applyDaemonSet(
  state: DaemonSetHistory | undefined,
  input: DaemonSetInput,
  options: HistoryOptions = {},
): DaemonSetResult {
  const spec = input.daemonSet.spec ?? {};
  const specJson = canonicalJson(spec);
  const template: PodTemplateSpec = spec.template ?? {};
  const limit = input.revisionHistoryLimit ?? spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const result = applyTemplate(
    state,
    {
      template,
      origin: {
        ...pickCommit(input.commit),
        changeCause: changeCauseOf(input.daemonSet, input.commit.subject),
        path: input.path,
      },
      revisionHistoryLimit: limit,
      liveHashes: input.liveHashes,
    },
    options,
  );
  const specChanged = state === undefined || state.specJson !== specJson;
  const templateChanged = state === undefined || result.change !== 'unchanged';
  const next: DaemonSetHistory = {
    ...result.history,
    generation: state === undefined ? 1 : state.generation + (specChanged ? 1 : 0),
    templateGeneration: state === undefined ? 1 : state.templateGeneration + (templateChanged ? 1 : 0),
    specJson,
  };
  return { state: next, change: result.change, current: result.current, pruned: result.pruned, specChanged };
}

/** The revision numbered `n`, if it is still kept. */
export function findRevision(history: RevisionHistory | undefined, n: number): Revision | undefined {
  return history?.revisions.find((r) => r.revision === n);
}

/** The kept revision just below `n` (the one `rollout history --revision n` diffs against). */
export function previousRevision(history: RevisionHistory | undefined, n: number): Revision | undefined {
  let best: Revision | undefined;
  for (const r of history?.revisions ?? [])
    if (r.revision < n && (best === undefined || r.revision > best.revision)) best = r;
  return best;
}

function pickCommit(c: CommitInfo): CommitInfo {
  return { commit: c.commit, author: c.author, date: c.date, subject: c.subject };
}

function pickOrigin(o: RevisionOrigin): RevisionOrigin {
  return { ...pickCommit(o), changeCause: o.changeCause, path: o.path };
}
