/**
 * Plays a planner scenario (format: ../shared/scenarios/README.md) step by step against
 * `planRollout`, applying each result as Kubernetes' fake pod control would.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonSet } from '../../src/domain/kubernetes.js';
import type { NodeInput, PlanResult, PodInput } from '../../src/domain/plan.js';
import { templateHash } from '../../src/revision/hash.js';
import { planRollout } from '../../src/rollout/plan.js';

export interface Scenario {
  name: string;
  why?: string;
  daemonSet: DaemonSet;
  nodes: NodeInput[];
  pods: PodInput[];
  now: number;
  steps: Step[];
}

type NodeList = string[] | 'all';
type Step = { do: string; [key: string]: unknown };

const EXPECT_KEYS = new Set(['create', 'delete', 'status', 'requeueAfterMs', 'allUpdated', 'deletePods']);
const OLD_REVISION = 'old-revision';

export function loadScenarios(dir: string): { file: string; scenario: Scenario }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, scenario: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Scenario }));
}

function onNodes(pods: PodInput[], nodes: NodeList): PodInput[] {
  return nodes === 'all' ? pods : pods.filter((p) => nodes.includes(p.node));
}

function sameMembers(actual: string[], expected: string[], what: string): void {
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);
}

export function playScenario(scenario: Scenario): void {
  const ds: DaemonSet = structuredClone(scenario.daemonSet);
  const initialHash = templateHash(ds.spec?.template);
  let nodes: NodeInput[] = structuredClone(scenario.nodes);
  let pods: PodInput[] = scenario.pods.map((p) => ({
    ready: false,
    phase: 'Running',
    createdAt: 0,
    ...p,
    revision: p.revision === '$new' ? initialHash : p.revision === '$old' ? OLD_REVISION : p.revision,
  }));
  let now = scenario.now;
  let created = 0;

  scenario.steps.forEach((step, index) => {
    const where = `step ${index + 1} (${JSON.stringify(step).slice(0, 120)})`;
    switch (step.do) {
      case 'sync': {
        const result = planRollout({ daemonSet: ds, nodes, pods, now });
        checkExpect(step.expect as Record<string, unknown>, result, where, () => pods);
        const gone = new Set(result.delete.map((d) => d.pod));
        pods = pods.filter((p) => !gone.has(p.name));
        for (const c of result.create) {
          created++;
          pods.push({
            name: `p${created}`,
            node: c.node,
            revision: c.revision,
            ready: false,
            phase: 'Running',
            createdAt: now,
          });
        }
        const expect = step.expect as Record<string, unknown>;
        if (expect.allUpdated === true) {
          const current = templateHash(ds.spec?.template);
          assert.ok(
            pods.every((p) => p.revision === current),
            `${where}: not every pod runs the current revision: ${JSON.stringify(pods.map((p) => [p.node, p.revision]))}`,
          );
        }
        break;
      }
      case 'ready':
        for (const p of onNodes(pods, step.nodes as NodeList)) {
          if (!p.ready) p.readySince = now;
          p.ready = true;
        }
        break;
      case 'unready':
        for (const p of onNodes(pods, step.nodes as NodeList)) p.ready = false;
        break;
      case 'fail':
        for (const p of onNodes(pods, step.nodes as NodeList)) {
          p.phase = 'Failed';
          p.ready = false;
        }
        break;
      case 'advance':
        now += step.ms as number;
        break;
      case 'removePod': {
        const remove = new Set(onNodes(pods, step.nodes as NodeList));
        pods = pods.filter((p) => !remove.has(p));
        break;
      }
      case 'terminating':
        for (const p of onNodes(pods, step.nodes as NodeList)) p.deleting = true;
        break;
      case 'image': {
        const container = ds.spec!.template!.spec!.containers!.find((c) => c.name === step.container);
        assert.ok(container, `${where}: no container ${String(step.container)}`);
        container.image = step.image as string;
        break;
      }
      case 'template':
        ds.spec!.template = structuredClone(step.template) as NonNullable<typeof ds.spec>['template'];
        break;
      case 'strategy':
        ds.spec!.updateStrategy = structuredClone(step.updateStrategy) as NonNullable<typeof ds.spec>['updateStrategy'];
        break;
      case 'minReadySeconds':
        ds.spec!.minReadySeconds = step.value as number;
        break;
      case 'addNode':
        nodes.push(structuredClone(step.node) as NodeInput);
        break;
      case 'removeNode':
        nodes = nodes.filter((n) => n.name !== step.name);
        break;
      case 'nodeReady': {
        const node = nodes.find((n) => n.name === step.name);
        assert.ok(node, `${where}: no node ${String(step.name)}`);
        node.ready = step.ready as boolean;
        break;
      }
      default:
        assert.fail(`${where}: unknown step "${step.do}"`);
    }
  });
}

function checkExpect(expect: Record<string, unknown>, result: PlanResult, where: string, pods: () => PodInput[]): void {
  assert.ok(expect && typeof expect === 'object', `${where}: sync without expect`);
  for (const key of Object.keys(expect)) assert.ok(EXPECT_KEYS.has(key), `${where}: unknown expectation key "${key}"`);
  const detail = `\n  plan: ${JSON.stringify({ create: result.create, delete: result.delete, status: result.status })}`;

  if (expect.create !== undefined) {
    const nodes = result.create.map((c) => c.node);
    if (typeof expect.create === 'number') assert.equal(nodes.length, expect.create, `${where}: creates${detail}`);
    else sameMembers(nodes, expect.create as string[], `${where}: create nodes${detail}`);
  }
  if (expect.delete !== undefined) {
    const nodes = result.delete.map((d) => d.node);
    if (typeof expect.delete === 'number') assert.equal(nodes.length, expect.delete, `${where}: deletes${detail}`);
    else sameMembers(nodes, expect.delete as string[], `${where}: delete nodes${detail}`);
  }
  if (expect.deletePods !== undefined) {
    const known = new Set(pods().map((p) => p.name));
    for (const name of expect.deletePods as string[]) assert.ok(known.has(name), `${where}: no pod named ${name}`);
    sameMembers(
      result.delete.map((d) => d.pod),
      expect.deletePods as string[],
      `${where}: deleted pods${detail}`,
    );
  }
  if (expect.status !== undefined) {
    const want = expect.status as Record<string, number>;
    const got: Record<string, number> = {};
    for (const key of Object.keys(want)) got[key] = (result.status as unknown as Record<string, number>)[key]!;
    assert.deepEqual(got, want, `${where}: status${detail}`);
  }
  if (expect.requeueAfterMs !== undefined) {
    if (expect.requeueAfterMs === 'positive') {
      assert.ok(
        typeof result.requeueAfterMs === 'number' && result.requeueAfterMs > 0,
        `${where}: requeueAfterMs ${result.requeueAfterMs} is not positive`,
      );
    } else {
      assert.equal(result.requeueAfterMs, expect.requeueAfterMs, `${where}: requeueAfterMs${detail}`);
    }
  }
}
