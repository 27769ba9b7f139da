/**
 * The node-update job: bring one node of a DaemonSet to one revision, then get out of the way.
 *
 * `replace` (maxSurge = 0): delete the old pods, create the new one. `create` (surge, or an empty
 * node): create the new pod, and delete the old ones once it is available. Either way the job
 * then waits for the new pod to be ready for minReadySeconds through delayed re-checks (the job
 * sits in BullMQ's delayed set and holds no worker slot), removes its in-flight entry, and asks
 * for the next planning step of the DaemonSet at once.
 *
 * At-least-once safe: every step is idempotent (the pod is created under an idempotency key
 * fixed for this job, deletions of pods already gone are silent), so a job taken over after a
 * crash resumes without updating the node twice. A job whose in-flight entry is gone or belongs
 * to another job was superseded by a newer plan and stops.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { EventView } from '../domain/views.js';
import type { FleetDriver, FleetPod } from '../fleet/driver.js';
import { PodExistsError } from '../fleet/errors.js';
import type { NodeJobData } from '../queue/jobs.js';
import type { DesiredDaemonSet, DesiredStateReader } from './desired-state.js';
import { generatePodName } from './reconciler.js';
import type { RolloutState } from './rollout-state.js';

export type NodeJobOutcome = 'updated' | 'superseded' | 'noop' | 'failed';

export interface NodeJobDeps {
  state: RolloutState;
  desired: DesiredStateReader;
  fleet: FleetDriver;
  logger: Logger;
  /** `now`: maybe the last update; `soon`: nodes wait for budget; `refresh`: only the status is stale. */
  requestReconcile(daemonSet: string, reason: string, urgency: 'now' | 'soon' | 'refresh'): Promise<void>;
  observe?(seconds: number, outcome: NodeJobOutcome): void;
  /** Longest pause between readiness checks. @defaultValue 1000 */
  maxCheckIntervalMs?: number;
  /** How long a job may act on a cached desired state; newer plans supersede by in-flight entry anyway. @defaultValue 1000 */
  desiredCacheMs?: number;
}

type NodeEvent = Omit<EventView, 'ts'>;

function isAvailable(pod: FleetPod, minReadySeconds: number, now: number): boolean {
  if (!pod.ready || pod.deleting) return false;
  if (minReadySeconds <= 0) return true;
  return pod.readySince !== undefined && pod.readySince + minReadySeconds * 1000 <= now;
}

const POD_NAME_ATTEMPTS = 8;

export function createNodeJobProcessor(deps: NodeJobDeps) {
  const maxInterval = deps.maxCheckIntervalMs ?? 1000;
  const cacheMs = deps.desiredCacheMs ?? 1000;
  const desiredCache = new Map<string, { at: number; value: Promise<DesiredDaemonSet | undefined> }>();

  // Thousands of jobs of one DaemonSet read the same desired state: share one read per second.
  const desiredOf = (ds: string): Promise<DesiredDaemonSet | undefined> => {
    const hit = desiredCache.get(ds);
    if (hit && performance.now() - hit.at < cacheMs) return hit.value;
    const value = deps.desired.get(ds);
    desiredCache.set(ds, { at: performance.now(), value });
    value.catch(() => desiredCache.delete(ds));
    return value;
  };

  return async function processNodeJob(job: Job<NodeJobData>, token?: string): Promise<NodeJobOutcome> {
    const data = job.data;
    const jobId = job.id!;
    const { daemonSet: ds, node, revision } = data;
    const events: NodeEvent[] = [];

    const finish = async (outcome: NodeJobOutcome): Promise<NodeJobOutcome> => {
      const elapsed = Date.now() - data.plannedAt;
      const left = await deps.state.finishNodeUpdate(
        ds,
        node,
        jobId,
        events,
        outcome === 'updated' ? elapsed : undefined,
      );
      deps.observe?.(elapsed / 1000, outcome);
      // Re-plan at once when nodes wait for budget or this was the last update; else only refresh status now and then.
      const urgency = left.inflightLeft === 0 || outcome !== 'updated' ? 'now' : left.waiting > 0 ? 'soon' : 'refresh';
      await deps.requestReconcile(ds, `node ${node} ${outcome}`, urgency);
      return outcome;
    };
    const deleteOld = async (pods: readonly FleetPod[]) => {
      for (const pod of pods) {
        if (await deps.fleet.deletePod(ds, pod.name)) {
          events.push({
            type: 'Normal',
            reason: 'SuccessfulDelete',
            message: `Deleted pod: ${pod.name}`,
            from: 'daemonset-controller',
          });
        }
      }
    };

    const [entry, desired] = await Promise.all([deps.state.inflightEntry(ds, node), desiredOf(ds)]);
    if (!entry || entry.jobId !== jobId) {
      deps.observe?.((Date.now() - data.plannedAt) / 1000, 'superseded');
      return 'superseded';
    }
    if (!desired || desired.deleted || desired.updateRevision !== revision) {
      // Maybe just a cached view older than the plan: look once more before giving up.
      desiredCache.delete(ds);
      const fresh = await desiredOf(ds);
      if (!fresh || fresh.deleted || fresh.updateRevision !== revision) return finish('superseded');
    }

    const isNew = (p: FleetPod) => p.revision === revision && p.phase !== 'Failed' && p.phase !== 'Succeeded';
    // One fleet call: clear the node of other revisions (replace) and create the new pod, idempotently.
    let newPod: FleetPod | undefined;
    let podName = data.podName ?? generatePodName(ds.split('/')[1]!);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await deps.fleet.convergeNode({
          daemonSet: ds,
          node,
          revision,
          podName,
          images: data.images,
          // Fixed for this job (its id and creation time), so a retry never makes a second pod.
          idempotencyKey: `${jobId}@${job.timestamp}`,
          createdBy: 'dsctl-worker',
          deleteOtherRevisions: data.mode === 'replace',
        });
        for (const name of result.deleted) {
          events.push({
            type: 'Normal',
            reason: 'SuccessfulDelete',
            message: `Deleted pod: ${name}`,
            from: 'daemonset-controller',
          });
        }
        if (result.created) {
          events.push({
            type: 'Normal',
            reason: 'SuccessfulCreate',
            message: `Created pod: ${result.pod.name}`,
            from: 'daemonset-controller',
          });
        } else if (result.pod.deleting) {
          return finish('noop'); // our pod was deleted since (by a person, or as failed): the next plan decides
        }
        newPod = result.pod;
        break;
      } catch (err) {
        // Random names collide now and then (5 characters, as Kubernetes' generateName): pick another.
        if (!(err instanceof PodExistsError) || attempt >= POD_NAME_ATTEMPTS) throw err;
        podName = generatePodName(ds.split('/')[1]!);
      }
    }
    const now = data.minReadySeconds > 0 && newPod.ready ? await deps.fleet.now() : 0;

    if (newPod.phase === 'Failed') return finish('failed');
    if (!isAvailable(newPod, data.minReadySeconds, now)) {
      await deps.state.recordNodeEvents(ds, events);
      const checks = (data.checks ?? 0) + 1;
      const wait =
        newPod.ready && newPod.readySince !== undefined
          ? newPod.readySince + data.minReadySeconds * 1000 - now + 1
          : Math.min(maxInterval, 25 * 2 ** Math.min(checks, 10));
      await job.updateData({ ...job.data, podName: newPod.name, checks });
      await job.moveToDelayed(Date.now() + Math.max(1, wait), token);
      throw new DelayedError();
    }

    if (data.mode === 'create') {
      // Surge: the old pod goes only now that the new one is available.
      const { pods } = await deps.fleet.podsOnNode(ds, node);
      await deleteOld(pods.filter((p) => !p.deleting && !isNew(p)));
    }
    return finish('updated');
  };
}
