/**
 * Git source: reading a branch (`SimpleGitSource`) and turning its commits into revision
 * histories, desired DaemonSets and errors (`GitSync`). See git-sync.ts for the contract.
 */
export type { ChangesSince, CommitChanges, CursorCheck, FileChange, GitSource, NotRegularFile } from './git-source.js';
export { SimpleGitSource, repoCacheDir, type SimpleGitSourceOptions } from './simple-git-source.js';
export {
  GitSync,
  type DaemonSetChange,
  type DaemonSetChangeKind,
  type GitSyncOptions,
  type RebuildReason,
  type SourceCondition,
  type SyncResult,
} from './git-sync.js';
export { GitSourceError, InvalidSourceInputError } from './errors.js';
export { redactUrl, sanitizeMessage } from './redact.js';
export { validateBranch, validatePath, validateRepoUrl } from './validate.js';
export { isManifestPath, type ParseManifests } from './manifest-file.js';
