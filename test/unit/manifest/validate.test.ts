import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonSet } from '../../../src/domain/kubernetes.js';
import { validateDaemonSet } from '../../../src/manifest/validate.js';
import { daemonSet, daemonSetWith } from './builders.js';

const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const container = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'filebeat',
  image: 'ikubernetes/filebeat:5.6.5-alpine',
  ...extra,
});
const ru = 'spec.updateStrategy.rollingUpdate';

/** Each case breaks one rule; `message` is the exact line expected for `field`. */
const cases: { name: string; set: Record<string, unknown>; field: string; message: string }[] = [
  // metadata
  {
    name: 'name is required',
    set: { 'metadata.name': undefined },
    field: 'metadata.name',
    message: 'metadata.name: Required value: name or generateName is required',
  },
  {
    name: 'name must be a DNS-1123 subdomain',
    set: { 'metadata.name': 'FileBeat' },
    field: 'metadata.name',
    message: `metadata.name: Invalid value: "FileBeat": ${SUBDOMAIN_MSG}`,
  },
  {
    name: 'name is at most 253 characters',
    set: { 'metadata.name': 'a'.repeat(254) },
    field: 'metadata.name',
    message: `metadata.name: Invalid value: ${JSON.stringify('a'.repeat(254)).slice(0, 200)}...: must be no more than 253 characters`,
  },
  {
    name: 'name must be a string',
    set: { 'metadata.name': 42 },
    field: 'metadata.name',
    message: 'metadata.name: Invalid value: 42: must be a string; quote it',
  },
  {
    name: 'namespace must be a DNS-1123 label (no dots)',
    set: { 'metadata.namespace': 'kube.system' },
    field: 'metadata.namespace',
    message: 'metadata.namespace: Invalid value: "kube.system": must not contain dots',
  },
  {
    name: 'namespace must be lowercase',
    set: { 'metadata.namespace': 'Kube' },
    field: 'metadata.namespace',
    message: `metadata.namespace: Invalid value: "Kube": ${LABEL_MSG}`,
  },
  {
    name: 'label keys are qualified names',
    set: { 'metadata.labels': { '-app': 'x' } },
    field: 'metadata.labels',
    message: `metadata.labels: Invalid value: "-app": ${NAME_PART_MSG}`,
  },
  {
    name: 'label key prefixes are DNS subdomains',
    set: { 'metadata.labels': { 'Example.com/app': 'x' } },
    field: 'metadata.labels',
    message: `metadata.labels: Invalid value: "Example.com/app": prefix part ${SUBDOMAIN_MSG}`,
  },
  {
    name: 'label values follow the label value syntax',
    set: { 'metadata.labels': { app: 'file beat' } },
    field: 'metadata.labels',
    message: `metadata.labels: Invalid value: "file beat": ${LABEL_VALUE_MSG}`,
  },
  {
    name: 'label values are at most 63 characters',
    set: { 'metadata.labels': { app: 'a'.repeat(64) } },
    field: 'metadata.labels',
    message: `metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
  },
  {
    name: 'label values must be strings (YAML 1.1 `yes`)',
    set: { 'metadata.labels': { enabled: true } },
    field: 'metadata.labels[enabled]',
    message: 'metadata.labels[enabled]: Invalid value: true: must be a string; quote it',
  },
  {
    name: 'annotation keys are qualified names',
    set: { 'metadata.annotations': { 'a b': 'x' } },
    field: 'metadata.annotations',
    message: `metadata.annotations: Invalid value: "a b": ${NAME_PART_MSG}`,
  },
  {
    name: 'annotations are at most 256 KiB in total',
    set: { 'metadata.annotations': { big: 'x'.repeat(256 * 1024) } },
    field: 'metadata.annotations',
    message: 'metadata.annotations: Too long: must have at most 262144 bytes',
  },
  {
    name: 'annotation values must be strings',
    set: { 'metadata.annotations': { 'example.com/replicas': 3 } },
    field: 'metadata.annotations[example.com/replicas]',
    message: 'metadata.annotations[example.com/replicas]: Invalid value: 3: must be a string; quote it',
  },
  // selector
  {
    name: 'selector is required',
    set: { 'spec.selector': undefined },
    field: 'spec.selector',
    message: 'spec.selector: Required value',
  },
  {
    name: 'selector may not be empty',
    set: { 'spec.selector': {} },
    field: 'spec.selector',
    message: 'spec.selector: Invalid value: {}: empty selector is invalid for daemonset',
  },
  {
    name: 'selector must match the template labels',
    set: { 'spec.template.metadata.labels': { app: 'filebeat' } },
    field: 'spec.template.metadata.labels',
    message:
      'spec.template.metadata.labels: Invalid value: {"app":"filebeat"}: `selector` does not match template `labels`',
  },
  {
    name: 'selector operators are In, NotIn, Exists, DoesNotExist',
    set: { 'spec.selector.matchExpressions': [{ key: 'app', operator: 'Equals', values: ['filebeat'] }] },
    field: 'spec.selector.matchExpressions[0].operator',
    message: 'spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator',
  },
  {
    name: 'In needs values',
    set: { 'spec.selector.matchExpressions': [{ key: 'app', operator: 'In' }] },
    field: 'spec.selector.matchExpressions[0].values',
    message:
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  },
  {
    name: 'Exists takes no values',
    set: { 'spec.selector.matchExpressions': [{ key: 'app', operator: 'Exists', values: ['x'] }] },
    field: 'spec.selector.matchExpressions[0].values',
    message:
      "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  },
  {
    name: 'selector values are label values',
    set: { 'spec.selector.matchExpressions': [{ key: 'app', operator: 'In', values: ['bad value'] }] },
    field: 'spec.selector.matchExpressions[0].values[0]',
    message: `spec.selector.matchExpressions[0].values[0]: Invalid value: "bad value": ${LABEL_VALUE_MSG}`,
  },
  {
    name: 'selector keys are qualified names',
    set: { 'spec.selector.matchExpressions': [{ key: 'a/b/c', operator: 'Exists' }] },
    field: 'spec.selector.matchExpressions[0].key',
    message:
      "spec.selector.matchExpressions[0].key: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
  },
  // template
  {
    name: 'template is required',
    set: { 'spec.template': undefined },
    field: 'spec.template',
    message: 'spec.template: Required value',
  },
  {
    name: 'at least one container',
    set: { 'spec.template.spec.containers': [] },
    field: 'spec.template.spec.containers',
    message: 'spec.template.spec.containers: Required value',
  },
  {
    name: 'container name is required',
    set: { 'spec.template.spec.containers': [{ image: 'x' }] },
    field: 'spec.template.spec.containers[0].name',
    message: 'spec.template.spec.containers[0].name: Required value',
  },
  {
    name: 'container name is a DNS-1123 label',
    set: { 'spec.template.spec.containers': [container({ name: 'File_Beat' })] },
    field: 'spec.template.spec.containers[0].name',
    message: `spec.template.spec.containers[0].name: Invalid value: "File_Beat": ${LABEL_MSG}`,
  },
  {
    name: 'container names are unique',
    set: { 'spec.template.spec.containers': [container(), container({ image: 'other' })] },
    field: 'spec.template.spec.containers[1].name',
    message: 'spec.template.spec.containers[1].name: Duplicate value: "filebeat"',
  },
  {
    name: 'init container names do not repeat container names',
    set: { 'spec.template.spec.initContainers': [container()] },
    field: 'spec.template.spec.initContainers[0].name',
    message: 'spec.template.spec.initContainers[0].name: Duplicate value: "filebeat"',
  },
  {
    name: 'image is required',
    set: { 'spec.template.spec.containers': [{ name: 'filebeat' }] },
    field: 'spec.template.spec.containers[0].image',
    message: 'spec.template.spec.containers[0].image: Required value',
  },
  {
    name: 'image has no surrounding whitespace',
    set: { 'spec.template.spec.containers': [container({ image: ' nginx' })] },
    field: 'spec.template.spec.containers[0].image',
    message:
      'spec.template.spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
  },
  {
    name: 'env values must be strings',
    set: { 'spec.template.spec.containers': [container({ env: [{ name: 'PORT', value: 8080 }] })] },
    field: 'spec.template.spec.containers[0].env[0].value',
    message: 'spec.template.spec.containers[0].env[0].value: Invalid value: 8080: must be a string; quote it',
  },
  {
    name: 'env names are required',
    set: { 'spec.template.spec.containers': [container({ env: [{ value: 'x' }] })] },
    field: 'spec.template.spec.containers[0].env[0].name',
    message: 'spec.template.spec.containers[0].env[0].name: Required value',
  },
  {
    name: 'args are strings',
    set: { 'spec.template.spec.containers': [container({ args: ['--port', 8080] })] },
    field: 'spec.template.spec.containers[0].args[1]',
    message: 'spec.template.spec.containers[0].args[1]: Invalid value: 8080: must be a string; quote it',
  },
  {
    name: 'restartPolicy, if set, is Always',
    set: { 'spec.template.spec.restartPolicy': 'OnFailure' },
    field: 'spec.template.spec.restartPolicy',
    message: 'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
  },
  {
    name: 'activeDeadlineSeconds is forbidden',
    set: { 'spec.template.spec.activeDeadlineSeconds': 60 },
    field: 'spec.template.spec.activeDeadlineSeconds',
    message:
      'spec.template.spec.activeDeadlineSeconds: Invalid value: 60: activeDeadlineSeconds in DaemonSet is not Supported',
  },
  {
    name: 'nodeSelector values are strings',
    set: { 'spec.template.spec.nodeSelector': { ssd: true } },
    field: 'spec.template.spec.nodeSelector[ssd]',
    message: 'spec.template.spec.nodeSelector[ssd]: Invalid value: true: must be a string; quote it',
  },
  {
    name: 'nodeSelector values are label values',
    set: { 'spec.template.spec.nodeSelector': { zone: 'eu west' } },
    field: 'spec.template.spec.nodeSelector',
    message: `spec.template.spec.nodeSelector: Invalid value: "eu west": ${LABEL_VALUE_MSG}`,
  },
  {
    name: 'hostNetwork is a boolean',
    set: { 'spec.template.spec.hostNetwork': 'true' },
    field: 'spec.template.spec.hostNetwork',
    message: 'spec.template.spec.hostNetwork: Invalid value: "true": must be a boolean',
  },
  // tolerations
  {
    name: 'toleration operator is Exists or Equal',
    set: { 'spec.template.spec.tolerations': [{ key: 'a', operator: 'In', value: 'b' }] },
    field: 'spec.template.spec.tolerations[0].operator',
    message: 'spec.template.spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"',
  },
  {
    name: 'an empty toleration key needs Exists',
    set: { 'spec.template.spec.tolerations': [{ operator: 'Equal', value: 'x' }] },
    field: 'spec.template.spec.tolerations[0].operator',
    message:
      'spec.template.spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
  },
  {
    name: 'an empty toleration key with no operator (Equal) is refused too',
    set: { 'spec.template.spec.tolerations': [{ effect: 'NoSchedule' }] },
    field: 'spec.template.spec.tolerations[0].operator',
    message:
      'spec.template.spec.tolerations[0].operator: Invalid value: "": operator must be Exists when `key` is empty, which means "match all values and all keys"',
  },
  {
    name: 'Exists takes no value',
    set: { 'spec.template.spec.tolerations': [{ key: 'a', operator: 'Exists', value: 'b' }] },
    field: 'spec.template.spec.tolerations[0].operator',
    message:
      'spec.template.spec.tolerations[0].operator: Invalid value: {"key":"a","operator":"Exists","value":"b"}: value must be empty when `operator` is \'Exists\'',
  },
  {
    name: 'toleration effect is NoSchedule, PreferNoSchedule, NoExecute or empty',
    set: { 'spec.template.spec.tolerations': [{ key: 'a', operator: 'Exists', effect: 'NoRun' }] },
    field: 'spec.template.spec.tolerations[0].effect',
    message:
      'spec.template.spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  },
  {
    name: 'tolerationSeconds needs NoExecute',
    set: { 'spec.template.spec.tolerations': [{ key: 'a', operator: 'Exists', tolerationSeconds: 5 }] },
    field: 'spec.template.spec.tolerations[0].effect',
    message:
      'spec.template.spec.tolerations[0].effect: Invalid value: "": effect must be \'NoExecute\' when `tolerationSeconds` is set',
  },
  {
    name: 'toleration keys are qualified names',
    set: { 'spec.template.spec.tolerations': [{ key: 'bad key', operator: 'Exists' }] },
    field: 'spec.template.spec.tolerations[0].key',
    message: `spec.template.spec.tolerations[0].key: Invalid value: "bad key": ${NAME_PART_MSG}`,
  },
  // strategy
  {
    name: 'strategy type is RollingUpdate or OnDelete',
    set: { 'spec.updateStrategy': { type: 'Foo' } },
    field: 'spec.updateStrategy.type',
    message: 'spec.updateStrategy.type: Unsupported value: "Foo": supported values: "OnDelete", "RollingUpdate"',
  },
  {
    name: 'maxSurge with the default maxUnavailable is both non-zero',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1 } } },
    field: `${ru}.maxSurge`,
    message: `${ru}.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero`,
  },
  {
    name: 'both percentages non-zero',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxSurge: '10%', maxUnavailable: '10%' } } },
    field: `${ru}.maxSurge`,
    message: `${ru}.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero`,
  },
  {
    name: 'both zero',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: 0 } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Required value: cannot be 0 when maxSurge is 0`,
  },
  {
    name: 'both zero, written as 0%',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '0%', maxSurge: '0%' } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Required value: cannot be 0 when maxSurge is 0`,
  },
  {
    name: 'a plain numeric string is not a percentage',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '50' } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: "50": ${PERCENT_MSG}`,
  },
  {
    name: 'percentages are whole numbers',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '5.5%' } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: "5.5%": ${PERCENT_MSG}`,
  },
  {
    name: 'negative percentages are invalid',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '-5%' } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: "-5%": ${PERCENT_MSG}`,
  },
  {
    name: 'percentages are at most 100%',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '101%' } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: "101%": must not be greater than 100%`,
  },
  {
    name: 'negative integers are invalid',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: -1 } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: -1: must be greater than or equal to 0`,
  },
  {
    name: 'int-or-percent may not be a boolean',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: true } } },
    field: `${ru}.maxUnavailable`,
    message: `${ru}.maxUnavailable: Invalid value: true: must be an integer or percentage (e.g '5%')`,
  },
  {
    name: 'unknown fields under rollingUpdate are reported with a suggestion',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxunavailable: 2 } } },
    field: `${ru}.maxunavailable`,
    message: `${ru}.maxunavailable: Unknown field: field not declared in schema; did you mean "maxUnavailable"?`,
  },
  // numbers
  {
    name: 'minReadySeconds is not negative',
    set: { 'spec.minReadySeconds': -1 },
    field: 'spec.minReadySeconds',
    message: 'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
  },
  {
    name: 'minReadySeconds is an integer',
    set: { 'spec.minReadySeconds': 1.5 },
    field: 'spec.minReadySeconds',
    message: 'spec.minReadySeconds: Invalid value: 1.5: must be an integer',
  },
  {
    name: 'revisionHistoryLimit is not negative',
    set: { 'spec.revisionHistoryLimit': -3 },
    field: 'spec.revisionHistoryLimit',
    message: 'spec.revisionHistoryLimit: Invalid value: -3: must be greater than or equal to 0',
  },
  {
    name: 'revisionHistoryLimit is a number, not a string',
    set: { 'spec.revisionHistoryLimit': '10' },
    field: 'spec.revisionHistoryLimit',
    message: 'spec.revisionHistoryLimit: Invalid value: "10": must be an integer',
  },
  // object
  {
    name: 'apiVersion is apps/v1',
    set: { apiVersion: 'extensions/v1beta1' },
    field: 'apiVersion',
    message:
      'apiVersion: Unsupported value: "extensions/v1beta1": supported values: "apps/v1"; DaemonSets are served only as apps/v1 since Kubernetes 1.16 (extensions/v1beta1 and apps/v1beta2 were removed), so write apiVersion: apps/v1',
  },
  {
    name: 'kind is DaemonSet',
    set: { kind: 'Deployment' },
    field: 'kind',
    message: 'kind: Unsupported value: "Deployment": supported values: "DaemonSet"',
  },
  {
    name: 'spec must be an object',
    set: { spec: 'rolling' },
    field: 'spec',
    message: 'spec: Invalid value: "rolling": must be an object',
  },
];

test('validate: the seed DaemonSet is valid', () => {
  assert.deepEqual(validateDaemonSet(daemonSet()), []);
});

for (const c of cases) {
  test(`validate: ${c.name}`, () => {
    const errors = validateDaemonSet(daemonSetWith(c.set));
    const forField = errors.filter((e) => e.field === c.field);
    assert.deepEqual(
      forField.map((e) => e.message),
      [c.message],
      `all errors: ${JSON.stringify(errors, null, 2)}`,
    );
  });
}

const valid: { name: string; set: Record<string, unknown> }[] = [
  {
    name: 'OnDelete ignores rollingUpdate entirely',
    set: { 'spec.updateStrategy': { type: 'OnDelete', rollingUpdate: { maxSurge: '500%' } } },
  },
  {
    name: 'surge with maxUnavailable 0',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } },
  },
  {
    name: 'surge with 0%',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '0%', maxSurge: '20%' } } },
  },
  { name: 'maxUnavailable 100%', set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: '100%' } } } },
  {
    name: 'a large integer maxUnavailable',
    set: { 'spec.updateStrategy': { rollingUpdate: { maxUnavailable: 1000 } } },
  },
  { name: 'revisionHistoryLimit 0', set: { 'spec.revisionHistoryLimit': 0 } },
  { name: 'restartPolicy Always', set: { 'spec.template.spec.restartPolicy': 'Always' } },
  {
    name: 'matchExpressions that the labels satisfy',
    set: {
      'spec.selector': {
        matchExpressions: [
          { key: 'app', operator: 'In', values: ['filebeat', 'other'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'release', operator: 'NotIn', values: ['beta'] },
          { key: 'release', operator: 'Exists' },
        ],
      },
    },
  },
  {
    name: 'tolerations of all accepted shapes',
    set: {
      'spec.template.spec.tolerations': [
        { operator: 'Exists' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'dedicated', value: 'logs', effect: 'NoSchedule' },
        { key: 'example.com/x', operator: 'Equal', value: '', effect: '' },
      ],
    },
  },
  { name: 'a namespace of 63 characters', set: { 'metadata.namespace': 'a'.repeat(63) } },
  { name: 'a dotted name', set: { 'metadata.name': 'filebeat.logging' } },
  {
    name: 'an env var without value',
    set: { 'spec.template.spec.containers': [container({ env: [{ name: 'EMPTY' }] })] },
  },
];
for (const c of valid) {
  test(`validate: valid: ${c.name}`, () => {
    assert.deepEqual(validateDaemonSet(daemonSetWith(c.set)), []);
  });
}

test('validate: all errors of a DaemonSet are collected, not only the first', () => {
  const errors = validateDaemonSet(
    daemonSetWith({
      'metadata.name': 'Bad_Name',
      'spec.minReadySeconds': -1,
      'spec.template.spec.restartPolicy': 'Never',
      'spec.updateStrategy': { type: 'Foo' },
    }),
  );
  assert.deepEqual(
    errors.map((e) => e.field),
    ['metadata.name', 'spec.template.spec.restartPolicy', 'spec.minReadySeconds', 'spec.updateStrategy.type'],
  );
});

test('validate: a missing selector also reports the template labels, as the API server does', () => {
  const errors = validateDaemonSet(daemonSetWith({ 'spec.selector': undefined }));
  assert.deepEqual(
    errors.map((e) => e.field),
    ['spec.selector', 'spec.template.metadata.labels'],
  );
});

test('validate: the same answer for an object and its defaulted form', () => {
  const ds = daemonSetWith({ 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1 } } });
  assert.deepEqual(validateDaemonSet(ds), validateDaemonSet({ ...ds }));
});

const cyclic: Record<string, unknown> = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
cyclic.spec = { template: cyclic };
const junk: { name: string; value: unknown }[] = [
  { name: 'null', value: null },
  { name: 'a number', value: 7 },
  { name: 'a list', value: [daemonSet()] },
  { name: 'an empty object', value: {} },
  {
    name: 'every field of the wrong type',
    value: { metadata: 1, spec: { selector: 'x', template: [], updateStrategy: 'y' } },
  },
  {
    name: 'wrong types deeper down',
    value: {
      metadata: { name: 'x', labels: [1], annotations: 'a' },
      spec: {
        selector: { matchLabels: 'x', matchExpressions: {} },
        template: { metadata: 'x', spec: { containers: 'x', tolerations: [1, null], nodeSelector: [] } },
        updateStrategy: { type: 5, rollingUpdate: [] },
        minReadySeconds: {},
        revisionHistoryLimit: [],
      },
    },
  },
  { name: 'a cyclic object', value: cyclic },
  { name: 'prototype keys', value: JSON.parse('{"__proto__": {"x": 1}, "metadata": {"labels": {"__proto__": "x"}}}') },
  {
    name: 'a throwing getter',
    value: {
      apiVersion: 'apps/v1',
      get metadata(): never {
        throw new Error('boom');
      },
    },
  },
];
for (const c of junk) {
  test(`validate: never throws on ${c.name}, and reports errors`, () => {
    let errors: ReturnType<typeof validateDaemonSet> = [];
    assert.doesNotThrow(() => {
      errors = validateDaemonSet(c.value as DaemonSet);
    });
    assert.ok(errors.length > 0);
    for (const e of errors) assert.ok(typeof e.message === 'string' && e.message.length > 0);
  });
}
