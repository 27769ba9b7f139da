/** Builds the HTTP server on a {@link FakeControlPlane} with a silent logger and its own metrics registry. */
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { FakeControlPlane, makeDaemonSetView } from '../helpers/fake-control-plane.js';

export interface TestServer {
  app: FastifyInstance;
  cp: FakeControlPlane;
  metrics: Metrics;
}

/** A server with two DaemonSets (`kube-system/fluentd`, `default/node-exporter`), two nodes and three pods. */
export async function testServer(overrides: Partial<ServerOptions> = {}): Promise<TestServer> {
  const cp = new FakeControlPlane();
  cp.daemonSets.push(
    makeDaemonSetView({ name: 'fluentd', namespace: 'kube-system', image: 'fluentd:v1.17' }),
    makeDaemonSetView({ name: 'node-exporter', namespace: 'default', image: 'prom/node-exporter:v1.8.0' }),
  );
  cp.histories.set('kube-system/fluentd', [
    {
      revision: 1,
      hash: 'aaaa',
      commit: 'c1',
      author: 'Ann <ann@example.com>',
      date: '2024-01-01T00:00:00Z',
      subject: 'add fluentd',
      changeCause: '',
      path: 'ds/fluentd.yaml',
    },
  ]);
  cp.eventsByDs.set('kube-system/fluentd', [
    {
      type: 'Normal',
      reason: 'SuccessfulCreate',
      message: 'Created pod: fluentd-abcde',
      from: 'daemonset-controller',
      ts: 1,
    },
  ]);
  cp.nodes.push({ name: 'node-1' }, { name: 'node-2', ready: false });
  const now = Date.now();
  cp.pods.push(
    pod('fluentd-aaaaa', 'node-1', 'kube-system/fluentd', now),
    pod('fluentd-bbbbb', 'node-2', 'kube-system/fluentd', now),
    pod('node-exporter-ccccc', 'node-1', 'default/node-exporter', now),
  );
  cp.timelineEntries.push(
    {
      id: '1-0',
      ts: 100,
      event: 'created',
      daemonSet: 'kube-system/fluentd',
      node: 'node-1',
      pod: 'fluentd-aaaaa',
      revision: 'aaaa',
    },
    {
      id: '2-0',
      ts: 200,
      event: 'ready',
      daemonSet: 'kube-system/fluentd',
      node: 'node-1',
      pod: 'fluentd-aaaaa',
      revision: 'aaaa',
    },
    {
      id: '3-0',
      ts: 300,
      event: 'created',
      daemonSet: 'kube-system/fluentd',
      node: 'node-2',
      pod: 'fluentd-bbbbb',
      revision: 'aaaa',
    },
  );
  const metrics = new Metrics({ collectDefault: false });
  const app = buildServer({
    controlPlane: cp,
    branch: 'main',
    metrics,
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  });
  await app.ready();
  return { app, cp, metrics };
}

export function pod(name: string, node: string, daemonSet: string, createdAt: number) {
  return {
    name,
    node,
    daemonSet,
    revision: 'aaaa',
    images: ['img:1'],
    image: 'img:1',
    createdAt,
    ready: true,
    readySince: createdAt,
    phase: 'Running' as const,
  };
}
