/**
 * The {@link ControlPlane} of a worker: reads desired state from the Git sync's store, observed
 * state from the rollout bookkeeping and the fleet, and turns mutations into fleet calls or
 * BullMQ jobs.
 */
import type { Redis } from 'ioredis';
import type { NodeInput } from '../domain/plan.js';
import type { DaemonSetStatusView, DaemonSetView, EventView, HistoryEntry } from '../domain/views.js';
import type { FleetDriver, FleetPod, TimelineEntry, TimelineQuery } from '../fleet/driver.js';
import type { GitOpsApi } from '../gitops/types.js';
import type { ControlPlane, DaemonSetRef, SyncTrigger } from './control-plane.js';
import type { DesiredDaemonSet, DesiredStateReader } from './desired-state.js';
import type { RolloutState, StoredStatus } from './rollout-state.js';

export interface RedisControlPlaneDeps {
  redis: Redis;
  desired: DesiredStateReader;
  state: RolloutState;
  fleet: FleetDriver;
  requestSync(trigger: SyncTrigger): Promise<void>;
  requestReconcile(daemonSet: string, reason: string): Promise<void>;
  /** True once the first Git sync of this process finished. */
  synced(): boolean;
  /** Git-written changes (issue 6); absent: the routes answer 501. */
  gitOps?: GitOpsApi;
}

const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
const DELIVERY_TTL_SECONDS = 24 * 3600;

function keyOf(ref: DaemonSetRef): string {
  return `${ref.namespace}/${ref.name}`;
}

export function toView(desired: DesiredDaemonSet, status: StoredStatus | undefined): DaemonSetView {
  const ds = desired.daemonSet;
  const statusView: DaemonSetStatusView = status
    ? {
        desiredNumberScheduled: status.desiredNumberScheduled,
        currentNumberScheduled: status.currentNumberScheduled,
        updatedNumberScheduled: status.updatedNumberScheduled,
        numberReady: status.numberReady,
        numberAvailable: status.numberAvailable,
        numberUnavailable: status.numberUnavailable,
        numberMisscheduled: status.numberMisscheduled,
        observedGeneration: status.observedGeneration,
        currentRevision: status.currentRevision,
        updateRevision: status.updateRevision,
        updateRevisionNumber: status.updateRevisionNumber,
        paused: status.paused,
        conditions: status.conditions,
      }
    : {
        desiredNumberScheduled: 0,
        currentNumberScheduled: 0,
        updatedNumberScheduled: 0,
        numberReady: 0,
        numberAvailable: 0,
        numberUnavailable: 0,
        numberMisscheduled: 0,
        observedGeneration: 0,
        currentRevision: '',
        updateRevision: desired.updateRevision,
        updateRevisionNumber: desired.updateRevisionNumber,
        paused: false,
        conditions: [],
      };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      ...ds.metadata,
      name: desired.name,
      namespace: desired.namespace,
      generation: desired.generation,
      creationTimestamp: desired.createdAt,
      annotations: {
        ...ds.metadata?.annotations,
        [TEMPLATE_GENERATION_ANNOTATION]: String(desired.templateGeneration),
      },
    },
    spec: ds.spec ?? {},
    status: statusView,
  };
}

export class RedisControlPlane implements ControlPlane {
  constructor(private readonly deps: RedisControlPlaneDeps) {}

  get gitOps(): GitOpsApi | undefined {
    return this.deps.gitOps;
  }

  async listDaemonSets(namespace?: string): Promise<DaemonSetView[]> {
    const keys = (await this.deps.desired.list()).filter((k) => !namespace || k.startsWith(`${namespace}/`));
    const views: DaemonSetView[] = [];
    const statuses = await this.deps.state.statuses(keys);
    for (const [i, key] of keys.entries()) {
      const desired = await this.deps.desired.get(key);
      if (desired && !desired.deleted) views.push(toView(desired, statuses[i]));
    }
    return views;
  }

  async getDaemonSet(ref: DaemonSetRef): Promise<DaemonSetView | undefined> {
    const desired = await this.deps.desired.get(keyOf(ref));
    if (!desired || desired.deleted) return undefined;
    return toView(desired, await this.deps.state.status(keyOf(ref)));
  }

  history(ref: DaemonSetRef, opts?: { all?: boolean }): Promise<HistoryEntry[] | undefined> {
    return this.deps.desired.history(keyOf(ref), opts);
  }

  events(ref: DaemonSetRef): Promise<EventView[]> {
    return this.deps.state.events(keyOf(ref));
  }

  listNodes(): Promise<NodeInput[]> {
    return this.deps.fleet.listNodes();
  }

  async listPods(filter?: { namespace?: string; daemonSet?: string }): Promise<FleetPod[]> {
    if (filter?.daemonSet) {
      const key = filter.daemonSet.includes('/')
        ? filter.daemonSet
        : `${filter.namespace ?? 'default'}/${filter.daemonSet}`;
      return this.deps.fleet.listPods(key);
    }
    const pods = await this.deps.fleet.listPods();
    return filter?.namespace ? pods.filter((p) => p.daemonSet.startsWith(`${filter.namespace}/`)) : pods;
  }

  async deletePod(namespace: string, podName: string): Promise<boolean> {
    const pod = (await this.deps.fleet.listPods()).find(
      (p) => p.name === podName && p.daemonSet.startsWith(`${namespace}/`) && !p.deleting,
    );
    if (!pod) return false;
    const deleted = await this.deps.fleet.deletePod(pod.daemonSet, pod.name);
    if (deleted) {
      await this.deps.state.recordEvent(pod.daemonSet, {
        type: 'Normal',
        reason: 'PodDeleted',
        message: `Pod ${podName} on node ${pod.node} deleted through the API`,
        from: 'dsctl-api',
      });
      await this.deps.requestReconcile(pod.daemonSet, 'pod deleted');
    }
    return deleted;
  }

  async setPaused(ref: DaemonSetRef, paused: boolean): Promise<boolean> {
    const desired = await this.deps.desired.get(keyOf(ref));
    if (!desired || desired.deleted) return false;
    await this.deps.state.setPaused(keyOf(ref), paused);
    await this.deps.state.recordEvent(keyOf(ref), {
      type: 'Normal',
      reason: paused ? 'Paused' : 'Resumed',
      message: paused ? 'rollout paused: no new node updates' : 'rollout resumed',
      from: 'dsctl-api',
    });
    await this.deps.requestReconcile(keyOf(ref), paused ? 'paused' : 'resumed');
    return true;
  }

  async addNode(node: NodeInput): Promise<void> {
    await this.deps.fleet.addNode(node);
    await this.reconcileAll('node added');
  }

  async removeNode(name: string): Promise<boolean> {
    const removed = await this.deps.fleet.removeNode(name);
    if (removed) await this.reconcileAll('node removed');
    return removed;
  }

  async setNodeReady(name: string, ready: boolean): Promise<boolean> {
    const changed = await this.deps.fleet.setNodeReady(name, ready);
    if (changed) await this.reconcileAll(ready ? 'node ready' : 'node not ready');
    return changed;
  }

  timeline(query?: TimelineQuery): Promise<TimelineEntry[]> {
    return this.deps.fleet.timeline(query);
  }

  async requestSync(trigger: SyncTrigger): Promise<void> {
    if (trigger.deliveryId) {
      // A redelivered webhook (same delivery id) is answered but starts nothing new.
      const key = `${this.deps.state.keys.deliveries}:${trigger.deliveryId}`;
      const first = await this.deps.redis.set(key, '1', 'EX', DELIVERY_TTL_SECONDS, 'NX');
      if (first !== 'OK') return;
    }
    await this.deps.requestSync(trigger);
  }

  async ready(): Promise<boolean> {
    return this.deps.synced() && (await this.deps.redis.ping()) === 'PONG';
  }

  private async reconcileAll(reason: string): Promise<void> {
    for (const key of await this.deps.desired.list()) await this.deps.requestReconcile(key, reason);
  }
}
