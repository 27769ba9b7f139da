/** Payloads of the worker's BullMQ jobs. Never put credentials in them: job data is stored in clear. */
import type { SyncTrigger } from '../worker/control-plane.js';

export interface SyncJobData {
  trigger: SyncTrigger;
}

export interface ReconcileJobData {
  daemonSet: string;
  reason: string;
}

/**
 * Bring one node of a DaemonSet to one revision.
 * `replace`: delete the old pods first, then create (maxSurge = 0).
 * `create`: create next to whatever runs, wait until available, then delete the old pods (surge,
 * or an empty node).
 */
export interface NodeJobData {
  daemonSet: string;
  revision: string;
  node: string;
  mode: 'replace' | 'create';
  /** Whether a new pod goes on the node (false when the node should no longer run the DaemonSet). */
  createPod: boolean;
  images: string[];
  minReadySeconds: number;
  /** Epoch ms the plan was made; for durations and ETA. */
  plannedAt: number;
  /** Set by the job as it goes, so a retried job resumes instead of starting over. */
  podName?: string;
  checks?: number;
}
