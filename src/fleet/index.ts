/**
 * Fleet drivers: the seam between the reconciler and what runs on the nodes.
 */
export type {
  CreatePodRequest,
  CreatePodResult,
  FleetDriver,
  FleetPod,
  FleetSnapshot,
  TimelineEntry,
  TimelineEvent,
  TimelineQuery,
} from './driver.js';
export { FleetError, FleetInputError, FleetStateError, NodeNotFoundError, PodExistsError } from './errors.js';
export { measureNodesDown, type NodesDownReport } from './timeline-analysis.js';
export { fleetKeys, type FleetKeys } from './simulated/keys.js';
export type { FleetRedis } from './simulated/simulated-fleet-driver.js';
export {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_TIMELINE_CAP,
  MAX_INIT_NODES,
  SimulatedFleetDriver,
  type SimulatedFleetOptions,
} from './simulated/simulated-fleet-driver.js';
