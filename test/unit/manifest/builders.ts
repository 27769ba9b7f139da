/**
 * Builders for manifest tests: a valid DaemonSet object and its YAML, each case changing one thing.
 */
import type { DaemonSet } from '../../../src/domain/kubernetes.js';

/** A valid, undefaulted apps/v1 DaemonSet (the seed's filebeat-ds). */
export function daemonSet(): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'filebeat-ds', labels: { app: 'filebeat' } },
    spec: {
      selector: { matchLabels: { app: 'filebeat', release: 'stable' } },
      template: {
        metadata: { labels: { app: 'filebeat', release: 'stable' } },
        spec: {
          containers: [
            {
              name: 'filebeat',
              image: 'ikubernetes/filebeat:5.6.5-alpine',
              env: [
                { name: 'REDIS_HOST', value: 'db.ilinux.io:6379' },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
            },
          ],
        },
      },
    },
  };
}

/**
 * A copy of {@link daemonSet} with fields replaced: keys are dotted paths (`spec.template.spec.containers.0.name`),
 * missing objects on the way are created, and `undefined` deletes the field. Values may be of any type, so
 * cases can write what a broken manifest would hold.
 */
export function daemonSetWith(changes: Record<string, unknown>): DaemonSet {
  const ds = structuredClone(daemonSet()) as unknown as Record<string, unknown>;
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let node: Record<string, unknown> = ds;
    for (const key of keys) {
      const next = node[key];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[key] = {};
    }
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return ds as DaemonSet;
}

/** The YAML of a DaemonSet whose `spec` lines are given (indented by two spaces already). */
export function daemonSetYaml(opts: { name?: string; namespace?: string; specLines?: string[] } = {}): string {
  const lines = [
    'apiVersion: apps/v1',
    'kind: DaemonSet',
    'metadata:',
    `  name: ${opts.name ?? 'filebeat-ds'}`,
    ...(opts.namespace === undefined ? [] : [`  namespace: ${opts.namespace}`]),
    'spec:',
    '  selector:',
    '    matchLabels:',
    '      app: filebeat',
    ...(opts.specLines ?? []),
    '  template:',
    '    metadata:',
    '      labels:',
    '        app: filebeat',
    '    spec:',
    '      containers:',
    '        - name: filebeat',
    '          image: ikubernetes/filebeat:5.6.5-alpine',
  ];
  return `${lines.join('\n')}\n`;
}
