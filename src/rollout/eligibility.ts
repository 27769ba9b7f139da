/**
 * Node eligibility for a DaemonSet pod (daemonset-semantics.md §4), the pure equivalent of
 * Kubernetes' `NodeShouldRunDaemonPod`: a simulated pod from the template, plus the tolerations
 * every DaemonSet pod gets, checked against node name, node affinity and taints.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration } from '../domain/kubernetes.js';
import type { NodeInput } from '../domain/plan.js';

export interface NodeEligibility {
  /** A pod should be created here if none exists; the node counts in desiredNumberScheduled. */
  shouldRun: boolean;
  /** An existing pod may stay (false: an untolerated NoExecute taint or a failed selector/affinity). */
  shouldContinueRunning: boolean;
}

const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

/** The tolerations Kubernetes adds to every DaemonSet pod (`AddOrUpdateDaemonPodTolerations`). */
export function defaultDaemonTolerations(hostNetwork: boolean): Toleration[] {
  const tolerations: Toleration[] = [
    { key: NOT_READY_TAINT, operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: UNSCHEDULABLE_TAINT, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork)
    tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return tolerations;
}

/**
 * The taints the node lifecycle controller would have put on the node: its own taints, plus
 * not-ready (NoSchedule and NoExecute) when `ready === false`, plus unschedulable when cordoned.
 */
export function effectiveTaints(node: NodeInput): Taint[] {
  const taints = [...(node.taints ?? [])];
  if (node.ready === false) {
    taints.push({ key: NOT_READY_TAINT, effect: 'NoSchedule' }, { key: NOT_READY_TAINT, effect: 'NoExecute' });
  }
  if (node.unschedulable === true) taints.push({ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' });
  return taints;
}

/** Kubernetes `Toleration.ToleratesTaint`. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

function matchesRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean | undefined {
  const values = req.values ?? [];
  // As labels.NewRequirement: In/NotIn need values, Exists/DoesNotExist take none; else the term is invalid.
  switch (req.operator) {
    case 'In':
      if (values.length === 0) return undefined;
      return value !== undefined && values.includes(value);
    case 'NotIn':
      if (values.length === 0) return undefined;
      return value === undefined || !values.includes(value);
    case 'Exists':
      if (values.length > 0) return undefined;
      return value !== undefined;
    case 'DoesNotExist':
      if (values.length > 0) return undefined;
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || value === undefined) return values.length === 1 ? false : undefined;
      const want = parseStrictInt(values[0]);
      const have = parseStrictInt(value);
      if (want === undefined) return undefined; // an unparsable requirement makes the whole term invalid
      if (have === undefined) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return undefined;
  }
}

function parseStrictInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return undefined;
  return Number.parseInt(text, 10);
}

/** One nodeSelectorTerm: all expressions and fields AND-ed; empty or unparsable terms match nothing. */
function matchesTerm(term: NodeSelectorTerm, node: NodeInput): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.labels ?? {};
  for (const req of expressions) {
    const ok = matchesRequirement(req, Object.hasOwn(labels, req.key) ? labels[req.key] : undefined);
    if (ok !== true) return false;
  }
  for (const req of fields) {
    // Only metadata.name is a supported field, and only with In/NotIn.
    if (req.key !== 'metadata.name' || (req.operator !== 'In' && req.operator !== 'NotIn')) return false;
    if (matchesRequirement(req, node.name) !== true) return false;
  }
  return true;
}

/** nodeSelector AND required node affinity (terms OR-ed). */
export function matchesNodeAffinity(podSpec: PodSpec, node: NodeInput): boolean {
  const labels = node.labels ?? {};
  if (podSpec.nodeSelector) {
    for (const key in podSpec.nodeSelector) {
      if (!Object.hasOwn(podSpec.nodeSelector, key)) continue;
      if (!Object.hasOwn(labels, key) || labels[key] !== podSpec.nodeSelector[key]) return false;
    }
  }
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((term) => matchesTerm(term, node))) return false;
  }
  return true;
}

const RUN: NodeEligibility = Object.freeze({ shouldRun: true, shouldContinueRunning: true });
const DO_NOT_RUN: NodeEligibility = Object.freeze({ shouldRun: false, shouldContinueRunning: false });
const KEEP_ONLY: NodeEligibility = Object.freeze({ shouldRun: false, shouldContinueRunning: true });

/**
 * `NodeShouldRunDaemonPod` for one pod template spec, compiled once for many nodes: the tolerations
 * are built once, and a ready, schedulable node without taints needs no taint check at all. The
 * results are shared frozen objects; a reconcile of 10,000 nodes allocates none per node.
 */
export function eligibilityChecker(podSpec: PodSpec): (node: NodeInput) => NodeEligibility {
  const tolerations = [...(podSpec.tolerations ?? []), ...defaultDaemonTolerations(podSpec.hostNetwork === true)];
  return (node) => {
    if (podSpec.nodeName && podSpec.nodeName !== node.name) return DO_NOT_RUN;
    if (!matchesNodeAffinity(podSpec, node)) return DO_NOT_RUN;
    if (
      node.ready !== false &&
      node.unschedulable !== true &&
      (node.taints === undefined || node.taints.length === 0)
    ) {
      return RUN;
    }
    let untoleratedNoSchedule = false;
    let untoleratedNoExecute = false;
    for (const taint of effectiveTaints(node)) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue; // PreferNoSchedule is a preference
      if (tolerations.some((t) => toleratesTaint(t, taint))) continue;
      if (taint.effect === 'NoExecute') untoleratedNoExecute = true;
      else untoleratedNoSchedule = true;
    }
    if (!untoleratedNoSchedule && !untoleratedNoExecute) return RUN;
    return untoleratedNoExecute ? DO_NOT_RUN : KEEP_ONLY;
  };
}

/** Kubernetes `NodeShouldRunDaemonPod` for one node and one pod template spec. */
export function nodeShouldRunDaemonPod(node: NodeInput, podSpec: PodSpec): NodeEligibility {
  return eligibilityChecker(podSpec)(node);
}
