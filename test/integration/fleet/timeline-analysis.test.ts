// Pure (no Redis); lives here because the fleet tests own this folder. Move to test/unit/fleet/ when convenient.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureNodesDown, type TimelineEntry, type TimelineEvent } from '../../../src/fleet/index.js';

const DS = 'ns/ds';
let seq = 0;

/** One entry: `at(ts, event, node, pod)`; the pod name defaults to `<node>-a`. */
function at(ts: number, event: TimelineEvent, node: string, pod = `${node}-a`, daemonSet = DS): TimelineEntry {
  seq += 1;
  return { id: `${ts}-${seq}`, ts, event, daemonSet, node, pod, revision: 'r' };
}

void test('no entries: nothing was down', () => {
  assert.deepEqual(measureNodesDown([], DS), { max: 0, at: null, nodes: [] });
});

void test('the initial creation of pods on every node does not count as down', () => {
  const entries = [at(1, 'created', 'n1'), at(1, 'created', 'n2'), at(5, 'ready', 'n1'), at(6, 'ready', 'n2')];
  assert.equal(measureNodesDown(entries, DS).max, 0);
});

void test('a node is down from losing its last ready pod until a pod on it is ready again', () => {
  const entries = [
    at(1, 'ready', 'n1'),
    at(1, 'ready', 'n2'),
    at(1, 'ready', 'n3'),
    at(10, 'deleted', 'n1'),
    at(11, 'not-ready', 'n2'),
    at(12, 'created', 'n1', 'n1-b'),
    at(20, 'ready', 'n1', 'n1-b'),
    at(21, 'deleted', 'n3'),
    at(30, 'ready', 'n2'),
  ];
  assert.deepEqual(measureNodesDown(entries, DS), { max: 2, at: 11, nodes: ['n1', 'n2'] });
});

void test('a node with a second ready pod (surge) is not down when the old one goes', () => {
  const entries = [
    at(1, 'ready', 'n1'),
    at(2, 'created', 'n1', 'n1-b'),
    at(4, 'ready', 'n1', 'n1-b'),
    at(5, 'deleted', 'n1'),
  ];
  assert.equal(measureNodesDown(entries, DS).max, 0);
});

void test('entries of other DaemonSets are ignored; a not-ready pod deleted later counts once', () => {
  const entries = [
    at(1, 'ready', 'n1'),
    at(1, 'ready', 'n1', 'x', 'other/ds'),
    at(2, 'deleted', 'n1', 'x', 'other/ds'),
    at(3, 'not-ready', 'n1'),
    at(4, 'deleted', 'n1'),
  ];
  assert.deepEqual(measureNodesDown(entries, DS), { max: 1, at: 3, nodes: ['n1'] });
});
