/**
 * `FakeControlPlane`: an in-memory fake of the Redis/BullMQ-backed `ControlPlane` the worker implements, for HTTP and
 * CLI tests (style.md §6.7: fakes, not mocking libraries). It keeps DaemonSets, history, events, nodes, pods and a
 * timeline in plain arrays, records every mutation and sync request (like Kubernetes' `FakePodControl`), and can
 * script a sequence of statuses that successive reads of a DaemonSet walk through (for `rollout status`).
 */
import type { NodeInput } from '../../src/domain/plan.js';
import type { DaemonSetStatusView, DaemonSetView, EventView, HistoryEntry } from '../../src/domain/views.js';
import type { FleetPod, TimelineEntry, TimelineQuery } from '../../src/fleet/driver.js';
import type { ControlPlane, DaemonSetRef, SyncTrigger } from '../../src/worker/control-plane.js';

const key = (ref: DaemonSetRef) => `${ref.namespace}/${ref.name}`;

/** Options of {@link makeDaemonSetView}. */
export interface DaemonSetViewInit {
  name: string;
  namespace?: string;
  image?: string;
  containerName?: string;
  generation?: number;
  /** ISO creation time. @defaultValue 12 minutes ago */
  creationTimestamp?: string;
  nodeSelector?: Record<string, string>;
  strategy?: 'RollingUpdate' | 'OnDelete';
  annotations?: Record<string, string>;
  status?: Partial<DaemonSetStatusView>;
  env?: { name: string; value: string }[];
}

/** A complete, rolled-out DaemonSetView (5 nodes) unless `status` says otherwise. */
export function makeDaemonSetView(init: DaemonSetViewInit): DaemonSetView {
  const namespace = init.namespace ?? 'default';
  const generation = init.generation ?? 1;
  const container: Record<string, unknown> = { name: init.containerName ?? init.name, image: init.image ?? 'nginx:1' };
  if (init.env !== undefined) container['env'] = init.env;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: init.name,
      namespace,
      generation,
      creationTimestamp: init.creationTimestamp ?? new Date(Date.now() - 12 * 60_000).toISOString(),
      labels: { app: init.name },
      ...(init.annotations === undefined ? {} : { annotations: init.annotations }),
    },
    spec: {
      selector: { matchLabels: { app: init.name } },
      updateStrategy: { type: init.strategy ?? 'RollingUpdate' },
      template: {
        metadata: { labels: { app: init.name } },
        spec: {
          containers: [container],
          ...(init.nodeSelector === undefined ? {} : { nodeSelector: init.nodeSelector }),
        },
      },
    },
    status: {
      desiredNumberScheduled: 5,
      currentNumberScheduled: 5,
      updatedNumberScheduled: 5,
      numberReady: 5,
      numberAvailable: 5,
      numberUnavailable: 0,
      numberMisscheduled: 0,
      observedGeneration: generation,
      currentRevision: 'abc123',
      updateRevision: 'abc123',
      paused: false,
      conditions: [],
      ...init.status,
    },
  };
}

/** In-memory {@link ControlPlane}; every field is public so tests can arrange and inspect state. */
export class FakeControlPlane implements ControlPlane {
  daemonSets: DaemonSetView[] = [];
  histories = new Map<string, HistoryEntry[]>();
  eventsByDs = new Map<string, EventView[]>();
  nodes: NodeInput[] = [];
  pods: FleetPod[] = [];
  timelineEntries: TimelineEntry[] = [];
  isReady = true;
  /** Every `requestSync` call, in order. */
  syncRequests: SyncTrigger[] = [];
  /** Every `listPods` filter, in order. */
  podQueries: { namespace?: string; daemonSet?: string }[] = [];
  /** Every `history` call's options. */
  historyQueries: { ref: DaemonSetRef; all: boolean }[] = [];
  /** Every `timeline` query. */
  timelineQueries: (TimelineQuery | undefined)[] = [];
  /** Make `requestSync` fail (Redis down). */
  failSync = false;
  private readonly scripts = new Map<string, Partial<DaemonSetStatusView>[]>();

  /**
   * Successive `getDaemonSet` reads of `ref` apply the next of `statuses` to the stored view (the last one sticks), as
   * if the worker made progress between polls.
   */
  scriptStatus(ref: DaemonSetRef, statuses: Partial<DaemonSetStatusView>[]): void {
    this.scripts.set(key(ref), [...statuses]);
  }

  async listDaemonSets(namespace?: string): Promise<DaemonSetView[]> {
    return structuredClone(
      this.daemonSets.filter((d) => namespace === undefined || d.metadata.namespace === namespace),
    );
  }

  async getDaemonSet(ref: DaemonSetRef): Promise<DaemonSetView | undefined> {
    const ds = this.find(ref);
    if (ds === undefined) return undefined;
    const script = this.scripts.get(key(ref));
    if (script !== undefined && script.length > 0) {
      const next = script.length > 1 ? script.shift()! : script[0]!;
      ds.status = { ...ds.status, ...next };
    }
    return structuredClone(ds);
  }

  async history(ref: DaemonSetRef, opts?: { all?: boolean }): Promise<HistoryEntry[] | undefined> {
    this.historyQueries.push({ ref, all: opts?.all === true });
    if (this.find(ref) === undefined) return undefined;
    return structuredClone(this.histories.get(key(ref)) ?? []);
  }

  async events(ref: DaemonSetRef): Promise<EventView[]> {
    return structuredClone(this.eventsByDs.get(key(ref)) ?? []);
  }

  async listNodes(): Promise<NodeInput[]> {
    return structuredClone([...this.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  async listPods(filter?: { namespace?: string; daemonSet?: string }): Promise<FleetPod[]> {
    this.podQueries.push({ ...filter });
    return structuredClone(
      this.pods.filter((p) => {
        const [ns, name] = p.daemonSet.split('/');
        if (filter?.namespace !== undefined && ns !== filter.namespace) return false;
        if (filter?.daemonSet !== undefined && name !== filter.daemonSet && p.daemonSet !== filter.daemonSet)
          return false;
        return true;
      }),
    );
  }

  async deletePod(namespace: string, podName: string): Promise<boolean> {
    const i = this.pods.findIndex((p) => p.name === podName && p.daemonSet.startsWith(`${namespace}/`));
    if (i < 0) return false;
    this.pods.splice(i, 1);
    return true;
  }

  async setPaused(ref: DaemonSetRef, paused: boolean): Promise<boolean> {
    const ds = this.find(ref);
    if (ds === undefined) return false;
    ds.status.paused = paused;
    return true;
  }

  async addNode(node: NodeInput): Promise<void> {
    this.nodes = this.nodes.filter((n) => n.name !== node.name);
    this.nodes.push(structuredClone(node));
  }

  async removeNode(name: string): Promise<boolean> {
    const before = this.nodes.length;
    this.nodes = this.nodes.filter((n) => n.name !== name);
    return this.nodes.length < before;
  }

  async setNodeReady(name: string, ready: boolean): Promise<boolean> {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) return false;
    node.ready = ready;
    return true;
  }

  async timeline(query?: TimelineQuery): Promise<TimelineEntry[]> {
    this.timelineQueries.push(query === undefined ? undefined : { ...query });
    let entries = [...this.timelineEntries];
    if (query?.afterId !== undefined) {
      const after = query.afterId;
      entries = entries.filter((e) => e.id > after);
    } else if (query?.sinceTs !== undefined) {
      const since = query.sinceTs;
      entries = entries.filter((e) => e.ts >= since);
    }
    if (query?.limit !== undefined) entries = entries.slice(0, query.limit);
    return structuredClone(entries);
  }

  async requestSync(trigger: SyncTrigger): Promise<void> {
    if (this.failSync) throw new Error('redis: connection refused');
    this.syncRequests.push({ ...trigger });
  }

  async ready(): Promise<boolean> {
    return this.isReady;
  }

  private find(ref: DaemonSetRef): DaemonSetView | undefined {
    return this.daemonSets.find((d) => d.metadata.namespace === ref.namespace && d.metadata.name === ref.name);
  }
}
