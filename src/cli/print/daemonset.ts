/**
 * How DaemonSets print: the rows of `get ds` (daemonset-semantics.md §12.1) and `describe ds` (§12.2), byte for byte
 * as kubectl prints them, plus dsctl lines after `Events` only when they carry news (paused, a failing condition).
 */
import type { LabelSelector } from '../../domain/kubernetes.js';
import type { DaemonSetView, EventView } from '../../domain/views.js';
import type { FleetPod } from '../../fleet/driver.js';
import { age, humanDuration } from './duration.js';
import { describePodTemplateLines } from './pod-template.js';
import { alignTabbed } from './tab-writer.js';

/** `k=v,k2=v2` sorted by key; `<none>` when empty (`labels.FormatLabels`). */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => compare(a, b));
  return pairs.length === 0 ? '<none>' : pairs.map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * A label selector as kubectl prints it (`metav1.LabelSelectorAsSelector(...).String()`): requirements sorted by key,
 * `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by `,`. Empty string for an empty selector.
 */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) reqs.push({ key, text: `${key}=${value}` });
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort(compare).join(',');
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, text: `${e.key} in (${values})` });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, text: `${e.key} notin (${values})` });
        break;
      case 'Exists':
        reqs.push({ key: e.key, text: e.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, text: `!${e.key}` });
        break;
      default:
        reqs.push({ key: e.key, text: `${e.key} ${e.operator.toLowerCase()} (${values})` });
    }
  }
  return reqs
    .sort((a, b) => compare(a.key, b.key))
    .map((r) => r.text)
    .join(',');
}

/** Header of `get ds`; `wide` adds CONTAINERS IMAGES SELECTOR, `namespace` puts NAMESPACE first (`-A`). */
export function daemonSetHeader(opts: { wide?: boolean; namespace?: boolean } = {}): string[] {
  return [
    ...(opts.namespace === true ? ['NAMESPACE'] : []),
    'NAME',
    'DESIRED',
    'CURRENT',
    'READY',
    'UP-TO-DATE',
    'AVAILABLE',
    'NODE SELECTOR',
    'AGE',
    ...(opts.wide === true ? ['CONTAINERS', 'IMAGES', 'SELECTOR'] : []),
  ];
}

/** One row of `get ds` at `now` (epoch ms). */
export function daemonSetRow(ds: DaemonSetView, now: number, opts: { wide?: boolean; namespace?: boolean } = {}) {
  const s = ds.status;
  const podSpec = ds.spec.template?.spec ?? {};
  const containers = podSpec.containers ?? [];
  const selector = formatLabelSelector(ds.spec.selector);
  return [
    ...(opts.namespace === true ? [ds.metadata.namespace] : []),
    ds.metadata.name,
    String(s.desiredNumberScheduled),
    String(s.currentNumberScheduled),
    String(s.numberReady),
    String(s.updatedNumberScheduled),
    String(s.numberAvailable),
    formatLabels(podSpec.nodeSelector),
    age(ds.metadata.creationTimestamp, now),
    ...(opts.wide === true
      ? [
          containers.map((c) => c.name ?? '').join(','),
          containers.map((c) => c.image ?? '').join(','),
          selector === '' ? '<none>' : selector,
        ]
      : []),
  ];
}

/** Pods by phase as `describe` counts them: Running / Waiting (Pending) / Succeeded / Failed. */
export function countPodPhases(pods: readonly Pick<FleetPod, 'phase'>[]) {
  const count = { running: 0, waiting: 0, succeeded: 0, failed: 0 };
  for (const p of pods) {
    if (p.phase === 'Running') count.running++;
    else if (p.phase === 'Pending') count.waiting++;
    else if (p.phase === 'Succeeded') count.succeeded++;
    else if (p.phase === 'Failed') count.failed++;
  }
  return count;
}

/** Longest annotation printed on one line (kubectl's maxAnnotationLen). */
const MAX_ANNOTATION_LEN = 140;
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** kubectl's printLabelsMultiline: `Title:\tk=v`, then `\tk=v` per further label; `<none>` when empty. */
function labelLines(title: string, labels: Record<string, string> | undefined): string[] {
  const keys = Object.keys(labels ?? {}).sort(compare);
  if (keys.length === 0) return [`${title}:\t<none>`];
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${labels![k]}`);
}

/** kubectl's printAnnotationsMultiline: long or multi-line values go on their own indented lines. */
function annotationLines(title: string, annotations: Record<string, string> | undefined): string[] {
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !SKIPPED_ANNOTATIONS.has(k))
    .sort(compare);
  if (keys.length === 0) return [`${title}:\t<none>`];
  const out: string[] = [];
  keys.forEach((key, i) => {
    const head = i === 0 ? `${title}:\t` : '\t';
    const value = annotations![key]!.replace(/\n$/, '');
    if (value.length + key.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      out.push(`${head}${key}:`);
      for (const s of value.split('\n')) out.push(`\t  ${shorten(s, MAX_ANNOTATION_LEN - 2)}`);
    } else {
      out.push(`${head}${key}: ${value}`);
    }
  });
  return out;
}

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Conditions that make the dsctl section worth printing: abnormal ones. */
function isNoteworthy(c: DaemonSetView['status']['conditions'][number]): boolean {
  if (c.type === 'Progressing' || c.type === 'Ready' || c.type === 'Available') return c.status !== 'True';
  return c.status === 'True';
}

/**
 * `describe ds` text (ending with a newline) at `now`: kubectl's layout through the tab writer, the events table
 * aligned on its own (kubectl flushes before it), and—only when paused or a condition is abnormal—a dsctl section.
 */
export function describeDaemonSet(
  ds: DaemonSetView,
  pods: readonly Pick<FleetPod, 'phase'>[],
  events: readonly EventView[],
  now: number,
): string {
  const s = ds.status;
  const phases = countPodPhases(pods);
  const lines = [
    `Name:\t${ds.metadata.name}`,
    `Namespace:\t${ds.metadata.namespace}`,
    `Selector:\t${formatLabelSelector(ds.spec.selector)}`,
    `Node-Selector:\t${formatLabels(ds.spec.template?.spec?.nodeSelector)}`,
    ...labelLines('Labels', ds.metadata.labels),
    ...annotationLines('Annotations', ds.metadata.annotations),
    `Desired Number of Nodes Scheduled: ${s.desiredNumberScheduled}`,
    `Current Number of Nodes Scheduled: ${s.currentNumberScheduled}`,
    `Number of Nodes Scheduled with Up-to-date Pods: ${s.updatedNumberScheduled}`,
    `Number of Nodes Scheduled with Available Pods: ${s.numberAvailable}`,
    `Number of Nodes Misscheduled: ${s.numberMisscheduled}`,
    `Pods Status:\t${phases.running} Running / ${phases.waiting} Waiting / ${phases.succeeded} Succeeded / ${phases.failed} Failed`,
    ...describePodTemplateLines(ds.spec.template),
  ];
  let text: string;
  if (events.length === 0) {
    text = alignTabbed([...lines, 'Events:\t<none>']).join('\n');
  } else {
    const sorted = [...events].sort((a, b) => a.ts - b.ts);
    const table = [
      'Events:',
      '  Type\tReason\tAge\tFrom\tMessage',
      '  ----\t------\t----\t----\t-------',
      ...sorted.map((e) => `  ${e.type}\t${e.reason}\t${eventAge(e, now)}\t${e.from}\t${e.message.trim()}`),
    ];
    text = `${alignTabbed(lines).join('\n')}\n${alignTabbed(table).join('\n')}`;
  }
  const extra: string[] = [];
  if (s.paused) extra.push('Paused:\ttrue');
  const conditions = s.conditions ?? [];
  if (conditions.some(isNoteworthy)) {
    extra.push(
      'Conditions:',
      '  Type\tStatus\tReason\tMessage',
      '  ----\t------\t------\t-------',
      ...conditions.map((c) => `  ${c.type}\t${c.status}\t${c.reason}\t${c.message}`),
    );
  }
  if (extra.length > 0) text += `\n${alignTabbed(extra).join('\n')}`;
  return `${text}\n`;
}

/** kubectl describe's event age: `3m (x10 over 5m)` for an event seen more than once. */
function eventAge(e: EventView, now: number): string {
  if (e.count !== undefined && e.count > 1) {
    return `${humanDuration(now - e.ts)} (x${e.count} over ${humanDuration(now - (e.firstTs ?? e.ts))})`;
  }
  return humanDuration(now - e.ts);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
