/**
 * Manifests: YAML text → validated, defaulted apps/v1 DaemonSets with file positions. Pure: no
 * I/O, no clock; the shell reads files from Git and hands their text in.
 */
export { parseManifests, DEFAULT_MAX_BYTES } from './parse.js';
export type {
  ManifestError,
  ManifestErrorCode,
  ManifestSource,
  ParseOptions,
  ParseResult,
  SkippedDocument,
} from './types.js';
export {
  applyDaemonSetDefaults,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_NAMESPACE,
  DEFAULT_REVISION_HISTORY_LIMIT,
} from './defaults.js';
export { validateDaemonSet } from './validate.js';
export type { FieldError } from './field-error.js';
export { isIntOrPercent, isZeroIntOrPercent, percentValue, scaledValue } from './int-or-percent.js';
export { labelSelectorMatches } from './label-selector.js';
export { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';
export { MAX_ALIASES_PER_DOCUMENT, MAX_ALIAS_EXPANSION, MAX_DOCUMENTS, MAX_NESTING_DEPTH } from './yaml-stream.js';
