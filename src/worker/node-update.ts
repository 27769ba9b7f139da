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
import type { FleetDriver, FleetPod } from '../fleet/driver.js';
import type { NodeJobData } from '../queue/jobs.js';
import type { DesiredStateReader } from './desired-state.js';
import { generatePodName } from './reconciler.js';
import type { RolloutState } from './rollout-state.js';

export type NodeJobOutcome = 'updated' | 'superseded' | 'noop' | 'failed';

export interface NodeJobDeps {
  state: RolloutState;
  desired: DesiredStateReader;
  fleet: FleetDriver;
  logger: Logger;
  requestReconcile(daemonSet: string, reason: string): Promise<void>;
  observe?(seconds: number, outcome: NodeJobOutcome): void;
  /** Longest pause between readiness checks. @defaultValue 1000 */
  maxCheckIntervalMs?: number;
}

function isAvailable(pod: FleetPod, minReadySeconds: number, now: number): boolean {
  if (!pod.ready || pod.deleting) return false;
  if (minReadySeconds <= 0) return true;
  return pod.readySince !== undefined && pod.readySince + minReadySeconds * 1000 <= now;
}

export function createNodeJobProcessor(deps: NodeJobDeps) {
  const maxInterval = deps.maxCheckIntervalMs ?? 1000;

  return async function processNodeJob(job: Job<NodeJobData>, token?: string): Promise<NodeJobOutcome> {
    const data = job.data;
    const jobId = job.id!;
    const { daemonSet: ds, node, revision } = data;
    const [namespace] = ds.split('/');

    const finish = async (outcome: NodeJobOutcome): Promise<NodeJobOutcome> => {
      await deps.state.finishNode(ds, node, jobId);
      if (outcome === 'updated') await deps.state.recordNodeDuration(ds, Date.now() - data.plannedAt);
      deps.observe?.((Date.now() - data.plannedAt) / 1000, outcome);
      await deps.requestReconcile(ds, `node ${node} ${outcome}`);
      return outcome;
    };

    const entry = await deps.state.inflightEntry(ds, node);
    if (!entry || entry.jobId !== jobId) {
      deps.observe?.((Date.now() - data.plannedAt) / 1000, 'superseded');
      return 'superseded';
    }
    const desired = await deps.desired.get(ds);
    if (!desired || desired.deleted || desired.updateRevision !== revision) return finish('superseded');

    let { now, pods } = await deps.fleet.podsOnNode(ds, node);
    const live = pods.filter((p) => !p.deleting);
    const isNew = (p: FleetPod) => p.revision === revision && p.phase !== 'Failed' && p.phase !== 'Succeeded';

    if (data.mode === 'replace') {
      for (const pod of live.filter((p) => !isNew(p))) await deletePod(deps, ds, pod);
    }

    let newPod = live.find(isNew);
    if (data.createPod && !newPod) {
      const podName = data.podName ?? generatePodName(ds.split('/')[1]!);
      if (!data.podName) await job.updateData({ ...data, podName });
      const result = await deps.fleet.createPod({
        daemonSet: ds,
        node,
        revision,
        podName,
        images: data.images,
        // Fixed for this job (its id and creation time), so a retry never makes a second pod.
        idempotencyKey: `${jobId}@${job.timestamp}`,
        createdBy: 'dsctl-worker',
      });
      if (result.created) {
        await deps.state.recordEvent(ds, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `Created pod: ${result.pod.name}`,
          from: 'daemonset-controller',
        });
      } else if (result.pod.deleting) {
        // Our pod was deleted since (by a person, or as failed): the next plan decides again.
        return finish('noop');
      }
      newPod = result.pod;
      ({ now } = await deps.fleet.podsOnNode(ds, node).then((r) => ({ now: r.now })));
    }

    if (newPod && newPod.phase === 'Failed') return finish('failed');
    if (newPod && !isAvailable(newPod, data.minReadySeconds, now)) {
      const checks = (data.checks ?? 0) + 1;
      const wait =
        newPod.ready && newPod.readySince !== undefined
          ? newPod.readySince + data.minReadySeconds * 1000 - now + 1
          : Math.min(maxInterval, 25 * 2 ** Math.min(checks, 10));
      await job.updateData({ ...job.data, checks });
      await job.moveToDelayed(Date.now() + Math.max(1, wait), token);
      throw new DelayedError();
    }

    if (data.mode === 'create') {
      // Surge: the old pod goes only now that the new one is available.
      ({ pods } = await deps.fleet.podsOnNode(ds, node));
      for (const pod of pods.filter((p) => !p.deleting && !isNew(p))) await deletePod(deps, ds, pod);
    }
    void namespace;
    return finish('updated');
  };
}

async function deletePod(deps: NodeJobDeps, ds: string, pod: FleetPod): Promise<void> {
  if (await deps.fleet.deletePod(ds, pod.name)) {
    await deps.state.recordEvent(ds, {
      type: 'Normal',
      reason: 'SuccessfulDelete',
      message: `Deleted pod: ${pod.name}`,
      from: 'daemonset-controller',
    });
  }
}
