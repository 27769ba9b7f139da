/**
 * The `Pod Template:` section of `kubectl describe` (kubectl's `DescribePodTemplate`), shared by
 * `rollout history --revision N` (raw tabs, as kubectl prints it there) and `describe ds` (aligned
 * by {@link alignTabbed}). Lines carry `\t` after each `Key:` like kubectl's PrefixWriter output.
 *
 * The template is shown as written in Git (no API defaulting) except where kubectl's output needs
 * a value: port protocol `TCP`, probe timings (1s timeout, 10s period, 1/3 thresholds).
 */
import type { Container, PodTemplateSpec, Toleration } from '../../domain/kubernetes.js';
import { alignTabbed } from './tab-writer.js';

const L1 = '  ';
const L2 = '    ';
const L3 = '      ';

/** Lines of the pod template in describe format, with raw tabs (kubectl PrefixWriter output). */
export function describePodTemplateLines(template: PodTemplateSpec | undefined): string[] {
  const out: string[] = ['Pod Template:'];
  if (!template) {
    out.push(`${L1}<unset>`);
    return out;
  }
  const meta = template.metadata ?? {};
  const spec = template.spec ?? {};
  out.push(
    ...multiline(
      '  Labels',
      sortedPairs(meta.labels).map(([k, v]) => `${k}=${v}`),
    ),
  );
  if (meta.annotations && Object.keys(meta.annotations).length > 0) {
    out.push(
      ...multiline(
        '  Annotations',
        sortedPairs(meta.annotations).map(([k, v]) => `${k}: ${v}`),
      ),
    );
  }
  const serviceAccount = str(spec['serviceAccountName']);
  if (serviceAccount) out.push(`${L1}Service Account:\t${serviceAccount}`);
  if (spec.initContainers && spec.initContainers.length > 0) {
    out.push(...describeContainers('Init Containers', spec.initContainers));
  }
  out.push(...describeContainers('Containers', spec.containers ?? []));
  out.push(...describeVolumes(asArray(spec['volumes'])));
  const priorityClass = str(spec['priorityClassName']);
  if (priorityClass) out.push(`${L1}Priority Class Name:\t${priorityClass}`);
  out.push(
    ...multiline(
      '  Node-Selectors',
      sortedPairs(spec.nodeSelector).map(([k, v]) => `${k}=${v}`),
    ),
  );
  out.push(...multiline('  Tolerations', tolerationLines(spec.tolerations ?? [])));
  return out;
}

/**
 * The pod template as text. `align: false` keeps kubectl's raw tabs (`rollout history --revision`);
 * `align: true` pads like kubectl's tab writer (`describe`). Ends with a newline.
 */
export function formatPodTemplate(template: PodTemplateSpec | undefined, options: { align?: boolean } = {}): string {
  const lines = describePodTemplateLines(template);
  return `${(options.align ? alignTabbed(lines) : lines).join('\n')}\n`;
}

/** `Title:\tfirst` then `\tnext` per further value, `<none>` when empty (printLabelsMultiline). */
function multiline(title: string, values: readonly string[]): string[] {
  if (values.length === 0) return [`${title}:\t<none>`];
  return values.map((v, i) => (i === 0 ? `${title}:\t${v}` : `\t${v}`));
}

function describeContainers(label: string, containers: readonly Container[]): string[] {
  const out = [`${L1}${label}:`];
  for (const c of containers) {
    out.push(`${L1} ${str(c.name) ?? ''}:`);
    out.push(`${L2}Image:\t${str(c.image) ?? ''}`);
    const ports = asArray(c['ports']);
    const portText = ports.map((p) => `${num(p['containerPort'])}/${str(p['protocol']) ?? 'TCP'}`).join(', ');
    const hostText = ports.map((p) => `${num(p['hostPort'])}/${str(p['protocol']) ?? 'TCP'}`).join(', ');
    out.push(ports.length > 1 ? `${L2}Ports:\t${portText}` : `${L2}Port:\t${portText || '<none>'}`);
    out.push(ports.length > 1 ? `${L2}Host Ports:\t${hostText}` : `${L2}Host Port:\t${hostText || '<none>'}`);
    for (const [key, title] of [
      ['command', 'Command'],
      ['args', 'Args'],
    ] as const) {
      const items = Array.isArray(c[key]) ? (c[key] as unknown[]).map(String) : [];
      if (items.length === 0) continue;
      out.push(`${L2}${title}:`);
      for (const item of items) for (const part of item.split('\n')) out.push(`${L3}${part}`);
    }
    const resources = asObject(c['resources']);
    for (const [key, title] of [
      ['limits', 'Limits'],
      ['requests', 'Requests'],
    ] as const) {
      const pairs = sortedPairs(asObject(resources[key]) as Record<string, unknown>);
      if (pairs.length === 0) continue;
      out.push(`${L2}${title}:`);
      for (const [name, quantity] of pairs) out.push(`${L3}${name}:\t${String(quantity)}`);
    }
    for (const [key, title] of [
      ['livenessProbe', 'Liveness'],
      ['readinessProbe', 'Readiness'],
      ['startupProbe', 'Startup'],
    ] as const) {
      if (c[key] && typeof c[key] === 'object') out.push(`${L2}${title}:\t${describeProbe(asObject(c[key]))}`);
    }
    const envFrom = asArray(c['envFrom']);
    if (envFrom.length > 0) {
      out.push(`${L2}Environment Variables from:`);
      for (const e of envFrom) {
        const prefix = str(e['prefix']);
        const [kind, ref] = e['configMapRef']
          ? ['ConfigMap', asObject(e['configMapRef'])]
          : ['Secret', asObject(e['secretRef'])];
        const optional = ref['optional'] === true;
        out.push(
          `${L3}${str(ref['name']) ?? ''}\t${kind}${prefix ? ` with prefix '${prefix}'` : ''}\tOptional: ${optional}`,
        );
      }
    }
    const env = asArray(c['env']);
    out.push(env.length === 0 ? `${L2}Environment:\t<none>` : `${L2}Environment:`);
    for (const e of env) out.push(...describeEnv(e));
    const mounts = asArray(c['volumeMounts']).sort((a, b) =>
      (str(a['mountPath']) ?? '').localeCompare(str(b['mountPath']) ?? ''),
    );
    out.push(mounts.length === 0 ? `${L2}Mounts:\t<none>` : `${L2}Mounts:`);
    for (const m of mounts) {
      const flags = [m['readOnly'] === true ? 'ro' : 'rw'];
      const subPath = str(m['subPath']);
      if (subPath) flags.push(`path=${JSON.stringify(subPath)}`);
      out.push(`${L3}${str(m['mountPath']) ?? ''} from ${str(m['name']) ?? ''} (${flags.join(',')})`);
    }
  }
  return out;
}

function describeEnv(e: Record<string, unknown>): string[] {
  const name = str(e['name']) ?? '';
  const from = asObject(e['valueFrom']);
  if (Object.keys(from).length === 0) {
    const value = str(e['value']) ?? '';
    return value.split('\n').map((part, i) => (i === 0 ? `${L3}${name}:\t${part}` : `${L3}\t${part}`));
  }
  if (from['fieldRef']) {
    const ref = asObject(from['fieldRef']);
    return [`${L3}${name}:\t (${str(ref['apiVersion']) ?? 'v1'}:${str(ref['fieldPath']) ?? ''})`];
  }
  if (from['resourceFieldRef']) {
    const ref = asObject(from['resourceFieldRef']);
    return [`${L3}${name}:\t (${str(ref['resource']) ?? ''})`];
  }
  if (from['secretKeyRef']) {
    const ref = asObject(from['secretKeyRef']);
    return [
      `${L3}${name}:\t<set to the key '${str(ref['key']) ?? ''}' in secret '${str(ref['name']) ?? ''}'>\tOptional: ${ref['optional'] === true}`,
    ];
  }
  if (from['configMapKeyRef']) {
    const ref = asObject(from['configMapKeyRef']);
    return [
      `${L3}${name}:\t<set to the key '${str(ref['key']) ?? ''}' of config map '${str(ref['name']) ?? ''}'>\tOptional: ${ref['optional'] === true}`,
    ];
  }
  return [`${L3}${name}:\t<unknown source>`];
}

/** kubectl's DescribeProbe, with API defaults for unset timings. */
function describeProbe(p: Record<string, unknown>): string {
  const attrs =
    `delay=${num(p['initialDelaySeconds'])}s timeout=${num(p['timeoutSeconds'], 1)}s ` +
    `period=${num(p['periodSeconds'], 10)}s #success=${num(p['successThreshold'], 1)} ` +
    `#failure=${num(p['failureThreshold'], 3)}`;
  if (p['exec']) {
    const command = asObject(p['exec'])['command'];
    return `exec [${Array.isArray(command) ? command.map(String).join(' ') : ''}] ${attrs}`;
  }
  if (p['httpGet']) {
    const h = asObject(p['httpGet']);
    const scheme = (str(h['scheme']) ?? 'HTTP').toLowerCase();
    const host = str(h['host']) ?? '';
    const port = h['port'] === undefined ? '' : String(h['port']);
    const hostPort = port ? `${host.includes(':') ? `[${host}]` : host}:${port}` : host;
    return `http-get ${scheme}://${hostPort}${str(h['path']) ?? ''} ${attrs}`;
  }
  if (p['tcpSocket']) {
    const t = asObject(p['tcpSocket']);
    return `tcp-socket ${str(t['host']) ?? ''}:${t['port'] === undefined ? '' : String(t['port'])} ${attrs}`;
  }
  if (p['grpc']) {
    const g = asObject(p['grpc']);
    return `grpc <pod>:${num(g['port'])} ${str(g['service']) ?? ''} ${attrs}`;
  }
  return `unknown ${attrs}`;
}

function describeVolumes(volumes: readonly Record<string, unknown>[]): string[] {
  if (volumes.length === 0) return [`${L1}Volumes:\t<none>`];
  const out = [`${L1}Volumes:`];
  for (const v of volumes) {
    out.push(`${L1} ${str(v['name']) ?? ''}:`);
    if (v['hostPath']) {
      const h = asObject(v['hostPath']);
      out.push(
        `${L2}Type:\tHostPath (bare host directory volume)`,
        `${L2}Path:\t${str(h['path']) ?? ''}`,
        `${L2}HostPathType:\t${h['type'] === undefined ? '<none>' : (str(h['type']) ?? '')}`,
      );
    } else if (v['emptyDir'] !== undefined) {
      const e = asObject(v['emptyDir']);
      out.push(
        `${L2}Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)`,
        `${L2}Medium:\t${str(e['medium']) ?? ''}`,
        `${L2}SizeLimit:\t${e['sizeLimit'] === undefined ? '<unset>' : String(e['sizeLimit'])}`,
      );
    } else if (v['configMap']) {
      const c = asObject(v['configMap']);
      out.push(
        `${L2}Type:\tConfigMap (a volume populated by a ConfigMap)`,
        `${L2}Name:\t${str(c['name']) ?? ''}`,
        `${L2}Optional:\t${c['optional'] === true}`,
      );
    } else if (v['secret']) {
      const s = asObject(v['secret']);
      out.push(
        `${L2}Type:\tSecret (a volume populated by a Secret)`,
        `${L2}SecretName:\t${str(s['secretName']) ?? ''}`,
        `${L2}Optional:\t${s['optional'] === true}`,
      );
    } else {
      const kind = Object.keys(v).find((k) => k !== 'name');
      out.push(`${L2}Type:\t${kind ?? '<unknown>'}`);
    }
  }
  return out;
}

/** kubectl's printTolerationsMultiline: sorted by key, `key=value:effect op=Exists for Ns`. */
function tolerationLines(tolerations: readonly Toleration[]): string[] {
  return [...tolerations]
    .sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''))
    .map((t) => {
      let s = t.key ?? '';
      if (t.value) s += `=${t.value}`;
      if (t.effect) s += `:${t.effect}`;
      if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
      if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
      return s;
    });
}

function sortedPairs(map: Record<string, unknown> | undefined): [string, unknown][] {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function asArray(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v) => v && typeof v === 'object') : [];
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

function num(value: unknown, fallback = 0): number | string {
  return value === undefined || value === null ? fallback : (value as number | string);
}
