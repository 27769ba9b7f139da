/**
 * Rollback, set image and pause as Git commits: decide on the revision history, edit the DaemonSet's document at the
 * branch tip (comments and formatting kept, see yaml-edit.ts), commit and push through a {@link GitWriter}. Used by
 * the worker (API routes, auto-rollback) and by the CLI with `--repo`.
 *
 * Invariants:
 * - the target template of a rollback is decided once, from the history; on a lost push race the same edit is applied
 *   to the new tip (so a concurrent change to other fields survives, and a concurrent identical rollback makes this
 *   one a no-op instead of a duplicate);
 * - nothing is committed that the manifest parser would refuse for this DaemonSet;
 * - a dry run fetches and computes only.
 */
import { parseManifests } from '../manifest/index.js';
import { canonicalTemplate, type Revision } from '../revision/history.js';
import type { DaemonSetRecord } from '../revision/store.js';
import { isManifestPath } from '../source/manifest-file.js';
import { validatePath } from '../source/validate.js';
import {
  chooseAutoRollback,
  chooseRollback,
  parseTrailers,
  pauseMessage,
  pauseMutation,
  rollbackMessage,
  rollbackMutation,
  setImageMessage,
  setImageMutation,
  templateOf,
  TRAILER_AUTO_ROLLBACK,
  TRAILER_DAEMONSET,
  TRAILER_ROLLBACK_OF_HASH,
  type AutoRollbackCause,
} from './changes.js';
import { DaemonSetNotInGitError, ManifestEditError } from './errors.js';
import type { GitWriter, Worktree, WriteResult } from './git-writer.js';
import type {
  ChangeResult,
  DaemonSetKey,
  GitOpsApi,
  RollbackRequest,
  SetImageRequest,
  SetPausedRequest,
} from './types.js';
import { editManifest, type ManifestEdit, type ManifestMutation } from './yaml-edit.js';

export interface GitOpsServiceOptions {
  readonly writer: GitWriter;
  /** The DaemonSet's record (history with templates, file it lives in), as fresh as the caller can make it. */
  readonly history: (key: string) => Promise<DaemonSetRecord | undefined>;
  /** Directory inside the repository holding the manifests (searched when the DaemonSet left its file). */
  readonly path?: string;
}

/** Outcome of an automatic rollback. */
export interface AutoRollbackResult extends ChangeResult {
  /** The revision rolled back from and to. */
  from?: Revision;
  to?: Revision;
}

export class GitOpsService implements GitOpsApi {
  private readonly writer: GitWriter;
  private readonly path: string;

  constructor(private readonly options: GitOpsServiceOptions) {
    this.writer = options.writer;
    this.path = validatePath(options.path ?? '');
  }

  async rollback(ref: DaemonSetKey, request: RollbackRequest): Promise<ChangeResult> {
    const record = await this.record(ref);
    const choice = chooseRollback(record.history, request.toRevision);
    const wanted = canonicalTemplate(choice.target.template);
    const result = await this.change(
      ref,
      record.desired.file,
      rollbackMutation(choice.target.template),
      (edit) =>
        canonicalTemplate(templateOf(edit.before) ?? {}) === wanted
          ? `current template already matches revision ${choice.requested}`
          : undefined,
      (edit, file) =>
        rollbackMessage({ ds: ref, choice, file, before: templateOf(edit.before), after: templateOf(edit.after) }),
      request.dryRun,
    );
    const line = `daemonset.apps/${ref.name}`;
    return {
      ...result,
      revision: choice.target.revision,
      message:
        result.outcome === 'skipped'
          ? `${line} skipped rollback (current template already matches revision ${choice.requested})`
          : `${line} rolled back${result.outcome === 'dry-run' ? ' (dry run)' : ''}`,
    };
  }

  async setImage(ref: DaemonSetKey, request: SetImageRequest): Promise<ChangeResult> {
    const record = await this.record(ref);
    const result = await this.change(
      ref,
      record.desired.file,
      setImageMutation(request.images),
      () => undefined,
      (edit, file) =>
        setImageMessage({ ds: ref, file, before: templateOf(edit.before), after: templateOf(edit.after) }),
      request.dryRun,
    );
    const line = `daemonset.apps/${ref.name}`;
    return {
      ...result,
      message:
        result.outcome === 'skipped'
          ? `${line} image unchanged (already ${Object.values(request.images).join(', ')})`
          : `${line} image updated${result.outcome === 'dry-run' ? ' (dry run)' : ''}`,
    };
  }

  async setPaused(ref: DaemonSetKey, request: SetPausedRequest): Promise<ChangeResult> {
    const record = await this.record(ref);
    const result = await this.change(
      ref,
      record.desired.file,
      pauseMutation(request.paused),
      () => undefined,
      (_edit, file) => pauseMessage({ ds: ref, file, paused: request.paused }),
      request.dryRun,
    );
    const line = `daemonset.apps/${ref.name}`;
    const verb = request.paused ? 'paused' : 'resumed';
    return {
      ...result,
      message:
        result.outcome === 'skipped'
          ? `${line} ${request.paused ? 'already paused' : 'not paused'} (nothing to commit)`
          : `${line} ${verb}${result.outcome === 'dry-run' ? ' (dry run)' : ''}`,
    };
  }

  /**
   * The worker's own rollback of a failed revision (`fromHash`, which must still be current): to the highest older
   * revision that was not itself rolled back automatically (read back from the `Auto-Rollback` trailers in Git), with
   * a message and trailers that say why. `skipped` when the revision is no longer current, when there is nothing to
   * go back to, or when the tip already has the target template.
   */
  async autoRollback(ref: DaemonSetKey, fromHash: string, cause: AutoRollbackCause): Promise<AutoRollbackResult> {
    const record = await this.record(ref);
    const current = record.history.revisions.at(-1);
    const line = `daemonset.apps/${ref.name}`;
    if (current === undefined || current.hash !== fromHash) {
      return { outcome: 'skipped', message: `${line} revision ${fromHash} is no longer current; no rollback` };
    }
    const excluded = await this.autoRolledBackHashes(ref);
    excluded.add(fromHash);
    const target = chooseAutoRollback(record.history, excluded);
    if (target === undefined) {
      return {
        outcome: 'skipped',
        from: current,
        message:
          `${line} has no revision to roll back to (revisions: ${record.history.revisions.map((r) => r.revision).join(', ')}` +
          `; revisions rolled back automatically before are never targets)`,
      };
    }
    const choice = { current, target };
    const wanted = canonicalTemplate(target.template);
    const result = await this.change(
      ref,
      record.desired.file,
      rollbackMutation(target.template),
      (edit) =>
        canonicalTemplate(templateOf(edit.before) ?? {}) === wanted
          ? `current template already matches revision ${target.revision}`
          : undefined,
      (edit, file) =>
        rollbackMessage({
          ds: ref,
          choice,
          file,
          before: templateOf(edit.before),
          after: templateOf(edit.after),
          auto: cause,
        }),
      false,
    );
    return {
      ...result,
      from: current,
      to: target,
      revision: target.revision,
      message:
        result.outcome === 'skipped'
          ? `${line} skipped rollback (current template already matches revision ${target.revision})`
          : `${line} rolled back to revision ${target.revision}`,
    };
  }

  /** Hashes of revisions of `ref` that the worker rolled back on its own, from the commit trailers on the branch. */
  async autoRolledBackHashes(ref: DaemonSetKey): Promise<Set<string>> {
    const key = `${ref.namespace}/${ref.name}`;
    const out = new Set<string>();
    for (const { message } of await this.writer.findCommits(`${TRAILER_AUTO_ROLLBACK}: `)) {
      const trailers = parseTrailers(message);
      if (!trailers.get(TRAILER_DAEMONSET)?.includes(key) || !trailers.has(TRAILER_AUTO_ROLLBACK)) continue;
      for (const hash of trailers.get(TRAILER_ROLLBACK_OF_HASH) ?? []) out.add(hash);
    }
    return out;
  }

  private async record(ref: DaemonSetKey): Promise<DaemonSetRecord> {
    const record = await this.options.history(`${ref.namespace}/${ref.name}`);
    if (!record) {
      throw new DaemonSetNotInGitError(`daemonsets.apps "${ref.name}" not found in namespace "${ref.namespace}"`);
    }
    return record;
  }

  /**
   * One edit through the writer: locate the DaemonSet's file at the tip, apply `mutate`, skip when `skipWhen` says so
   * or nothing changes, check the result with the manifest parser, commit with `message`.
   */
  private async change(
    ref: DaemonSetKey,
    fileHint: string | undefined,
    mutate: ManifestMutation,
    skipWhen: (edit: ManifestEdit) => string | undefined,
    message: (edit: ManifestEdit, file: string) => string,
    dryRun: boolean | undefined,
  ): Promise<ChangeResult> {
    let edited: { edit: ManifestEdit; file: string } | undefined;
    const result: WriteResult = await this.writer.write(
      async (tree) => {
        const { file, text } = await this.locate(tree, ref, fileHint);
        const edit = editManifest(text, ref, mutate, { file });
        edited = { edit, file };
        const skip = skipWhen(edit) ?? (edit.changed ? undefined : 'nothing to change');
        if (skip !== undefined) return { skip };
        checkParses(edit.text, file, ref);
        return { files: new Map([[file, edit.text]]), message: message(edit, file) };
      },
      { dryRun: dryRun === true },
    );
    const warnings =
      edited?.edit.rewrote === true
        ? [
            `the minimal edit of ${edited.file} could not be verified; changed top-level fields were rewritten ` +
              'and comments inside them are gone',
          ]
        : [];
    return {
      outcome: result.outcome === 'pushed' ? 'committed' : result.outcome,
      message: '',
      ...(result.commit ? { commit: result.commit } : {}),
      ...(result.message ? { commitMessage: result.message } : {}),
      ...(result.diff ? { diff: result.diff } : {}),
      ...(edited ? { file: edited.file } : {}),
      attempts: result.attempts,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  /** The file at the tip that defines the DaemonSet: the recorded one, else the first manifest under the path. */
  private async locate(
    tree: Worktree,
    ref: DaemonSetKey,
    hint: string | undefined,
  ): Promise<{ file: string; text: string }> {
    if (hint) {
      const text = await tree.read(hint);
      if (text !== undefined && definesStrictly(text, ref)) return { file: hint, text };
    }
    for (const file of (await tree.list(this.path)).filter(isManifestPath).sort()) {
      if (file === hint) continue;
      const text = await tree.read(file);
      if (text !== undefined && text.includes(ref.name) && definesStrictly(text, ref)) return { file, text };
    }
    throw new DaemonSetNotInGitError(
      `no manifest ${this.path ? `under ${this.path} ` : ''}at commit ${tree.head.slice(0, 7)} of ` +
        `${this.writer.displayUrl} defines DaemonSet ${ref.namespace}/${ref.name}`,
    );
  }
}

/** The file defines the DaemonSet in a document the editor can find (valid YAML, kind, name, namespace). */
function definesStrictly(text: string, ref: DaemonSetKey): boolean {
  try {
    editManifest(text, ref, (o) => o);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a result the manifest parser would not accept for this DaemonSet. */
function checkParses(text: string, file: string, ref: DaemonSetKey): void {
  const parsed = parseManifests(text, { file });
  const key = `${ref.namespace}/${ref.name}`;
  const errors = parsed.errors.filter((e) => e.name === undefined || `${e.namespace ?? 'default'}/${e.name}` === key);
  if (parsed.sources.some((s) => s.key === key) && errors.every((e) => e.name === undefined)) return;
  const detail = errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join('; ');
  throw new ManifestEditError(
    `the change would make ${key} in ${file} invalid, so nothing was written: ${detail || 'DaemonSet not found after the edit'}`,
  );
}
