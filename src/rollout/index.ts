export { planRollout, observeStatus, type PlanOptions } from './plan.js';
export {
  eligibilityChecker,
  nodeShouldRunDaemonPod,
  effectiveTaints,
  toleratesTaint,
  defaultDaemonTolerations,
} from './eligibility.js';
export type { NodeEligibility } from './eligibility.js';
export { rollingBudget, allowsSurge, type RollingBudget } from './budget.js';
export { BURST_REPLICAS } from './working-set.js';
