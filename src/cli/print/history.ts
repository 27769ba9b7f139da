/**
 * Output of `rollout history ds/NAME` (daemonset-semantics.md §12.4), extended with the Git
 * columns COMMIT (short sha), AUTHOR and DATE, and the `-o json` shape of product.md.
 */
import type { Operation } from 'fast-json-patch';
import type { PodTemplateSpec } from '../../domain/kubernetes.js';
import type { Revision } from '../../revision/history.js';
import { formatPodTemplate } from './pod-template.js';

/** One `rollout history -o json` entry (product.md), plus `createdBy` for reused revisions. */
export interface HistoryEntry {
  readonly revision: number;
  readonly hash: string;
  /** Full sha of the commit that last made this template current. */
  readonly commit: string;
  readonly author: string;
  /** ISO 8601 author date. */
  readonly date: string;
  readonly subject: string;
  readonly changeCause: string;
  readonly path: string;
  /** The commit that first created this template (only on revisions reused by a later commit). */
  readonly createdBy?: Revision['createdBy'];
}

export function toHistoryEntry(r: Revision): HistoryEntry {
  return {
    revision: r.revision,
    hash: r.hash,
    commit: r.commit,
    author: r.author,
    date: r.date,
    subject: r.subject,
    changeCause: r.changeCause,
    path: r.path,
    ...(r.createdBy ? { createdBy: r.createdBy } : {}),
  };
}

/**
 * kubectl's table: `daemonset.apps/NAME ` (trailing space), then columns padded to the widest
 * cell plus 2 spaces, and an empty last line; `No rollout history found.` when empty.
 */
export function formatHistoryTable(
  name: string,
  revisions: readonly Pick<Revision, 'revision' | 'commit' | 'author' | 'date' | 'changeCause'>[],
): string {
  if (revisions.length === 0) return 'No rollout history found.\n';
  const rows = [
    ['REVISION', 'COMMIT', 'AUTHOR', 'DATE', 'CHANGE-CAUSE'],
    ...revisions.map((r) => [
      String(r.revision),
      r.commit.slice(0, 7),
      oneLine(r.author) || '<none>',
      r.date,
      oneLine(r.changeCause) || '<none>',
    ]),
  ];
  return `daemonset.apps/${name} \n${padColumns(rows).join('\n')}\n\n`;
}

/**
 * `daemonset.apps/NAME with revision #N`, the pod template with raw tabs as kubectl prints it,
 * then the RFC 6902 patch from the kept revision below N (a dsctl extension).
 */
export function formatRevisionDetail(
  name: string,
  revision: Revision,
  previous: Revision | undefined,
  patch: readonly Operation[],
): string {
  let out = `daemonset.apps/${name} with revision #${revision.revision}\n`;
  out += formatPodTemplate(revision.template as PodTemplateSpec);
  out += '\n';
  if (!previous) {
    out += 'Patch: <none> (no earlier revision kept)\n';
  } else if (patch.length === 0) {
    out += `Patch from revision #${previous.revision}: <none>\n`;
  } else {
    out += `Patch from revision #${previous.revision} (RFC 6902):\n`;
    for (const op of patch) out += `  ${JSON.stringify(op)}\n`;
  }
  return out;
}

/** Left-aligned columns, each as wide as its widest cell plus `gap`; the last column is not padded. */
export function padColumns(rows: readonly (readonly string[])[], gap = 2): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length + gap)))
      .join(''),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
