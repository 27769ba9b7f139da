/**
 * Every Redis key of the simulated fleet, derived from one prefix (like BullMQ's `QueueKeys`).
 *
 * All keys share the Redis Cluster hash tag `{<prefix>}`, so they live in one slot and one Lua script may touch any of
 * them. The Lua scripts (`lua.ts`) derive the per-DaemonSet, per-node and per-key names from {@link FleetKeys.base}
 * with the same suffixes as below; change both together (the integration tests check they agree).
 *
 * | key                                   | type   | content                                                    |
 * | ------------------------------------- | ------ | ---------------------------------------------------------- |
 * | `{p}:fleet:meta`                      | hash   | `createdAt`, `nodeCount` of `init`; marks the fleet exists |
 * |                                       |        | `epoch`, `nodesSeq`: the nodes' version (see readFleet)     |
 * | `{p}:fleet:nodes`                     | hash   | node name → `NodeInput` JSON (`ready` always set)          |
 * | `{p}:fleet:daemonsets`                | set    | `namespace/name` of every DaemonSet that has pods          |
 * | `{p}:fleet:pods-versions`             | hash   | `namespace/name` → its pods' change count (see readFleet)  |
 * | `{p}:fleet:pods:<ns>/<name>`          | hash   | pod name → pod JSON                                        |
 * | `{p}:fleet:node-pods:<node>`          | set    | `<ns>/<name> <pod>` of every pod on the node               |
 * | `{p}:fleet:pending`                   | zset   | `<ns>/<name> <pod>` scored by the ms its containers start  |
 * | `{p}:fleet:timeline`                  | stream | pod transitions, id `<ts>-<seq>`, capped (≈ MAXLEN)        |
 * | `{p}:fleet:clock`                     | string | highest Redis `TIME` (ms) seen; keeps the clock monotonic  |
 * | `{p}:fleet:idempotency:<key>`         | string | pod JSON created under `<key>` (last state once deleted)   |
 */
import { FleetInputError } from '../errors.js';

/** Key names of one simulated fleet. */
export interface FleetKeys {
  /** `{<prefix>}:fleet`; every key starts with it. */
  readonly base: string;
  readonly meta: string;
  readonly nodes: string;
  readonly daemonSets: string;
  readonly podsVersions: string;
  readonly pending: string;
  readonly timeline: string;
  readonly clock: string;
  pods(daemonSet: string): string;
  nodePods(node: string): string;
  idempotency(key: string): string;
}

/**
 * Builds the key names of the fleet under `prefix` (for example `dsctl` → `{dsctl}:fleet:nodes`).
 * The prefix must be non-empty and contain no `{`, `}` or whitespace, so the hash tag stays intact.
 */
export function fleetKeys(prefix: string): FleetKeys {
  if (!/^[^{}\s]+$/.test(prefix)) {
    throw new FleetInputError(`fleet keys: prefix ${JSON.stringify(prefix)} must be non-empty, without {, } or spaces`);
  }
  const base = `{${prefix}}:fleet`;
  return {
    base,
    meta: `${base}:meta`,
    nodes: `${base}:nodes`,
    daemonSets: `${base}:daemonsets`,
    podsVersions: `${base}:pods-versions`,
    pending: `${base}:pending`,
    timeline: `${base}:timeline`,
    clock: `${base}:clock`,
    pods: (daemonSet) => `${base}:pods:${daemonSet}`,
    nodePods: (node) => `${base}:node-pods:${node}`,
    idempotency: (key) => `${base}:idempotency:${key}`,
  };
}
