/**
 * The one list of API paths (cf. Vault's `framework.Path` list). Every transport serves exactly
 * these descriptors; new paths (poll, status, task…, configure/webhook…) are added here.
 */
import { configurePath } from './configure.js';
import { configureContainerPath } from './configure-container.js';
import { configureGitCredentialPath } from './configure-git-credential.js';
import { configureGitSshKeyPath } from './configure-git-ssh-key.js';
import { configureTrustedPgpPublicKeyPath } from './configure-trusted-pgp-public-key.js';
import { configureTrustedPgpPublicKeysPath } from './configure-trusted-pgp-public-keys.js';
import {
  configureTrustedSshPublicKeyPath,
  configureTrustedSshPublicKeysPath,
} from './configure-trusted-ssh-public-key.js';
import { configureVaultAccessPath } from './configure-vault-access.js';
import { configureVaultRequestPath } from './configure-vault-request.js';
import { configureVaultRequestsPath } from './configure-vault-requests.js';
import { configureWebhookPath, configureWebhooksPath } from './configure-webhook.js';
import { lastSuccessfulCommitPath } from './last-successful-commit.js';
import { pollPath } from './poll.js';
import { statusPath } from './status.js';
import { taskCancelPath } from './task-cancel.js';
import { taskConfigurePath } from './task-configure.js';
import { taskItemPath } from './task-item.js';
import { taskListPath } from './task.js';
import { taskLogPath } from './task-log.js';
import type { PathDescriptor } from './types.js';

/** Every path of a mount, first match wins. */
export const apiPaths: readonly PathDescriptor[] = [
  configurePath,
  configureVaultRequestsPath,
  configureVaultRequestPath,
  configureVaultAccessPath,
  configureTrustedPgpPublicKeysPath,
  configureTrustedPgpPublicKeyPath,
  configureTrustedSshPublicKeysPath,
  configureTrustedSshPublicKeyPath,
  configureGitCredentialPath,
  configureGitSshKeyPath,
  configureContainerPath,
  configureWebhooksPath,
  configureWebhookPath,
  pollPath,
  statusPath,
  lastSuccessfulCommitPath,
  taskConfigurePath,
  taskListPath,
  taskItemPath,
  taskLogPath,
  taskCancelPath,
];

/** A path matched to its descriptor, with the pattern's named captures. */
export interface PathMatch {
  readonly descriptor: PathDescriptor;
  readonly captures: Readonly<Record<string, string>>;
}

/** Finds the descriptor for a path below a mount; compiled once per list. */
export type PathFinder = (path: string) => PathMatch | undefined;

/** Compile `paths` (anchored, first match wins) into a finder. */
export function createPathFinder(paths: readonly PathDescriptor[] = apiPaths): PathFinder {
  const compiled = paths.map((descriptor) => ({
    descriptor,
    re: new RegExp(`^(?:${descriptor.pattern})$`),
  }));
  return (path) => {
    for (const { descriptor, re } of compiled) {
      const m = re.exec(path);
      if (m) return { descriptor, captures: { ...(m.groups ?? {}) } };
    }
    return undefined;
  };
}

/** Find the descriptor for `path` in `paths` (convenience for one-off lookups). */
export function findPath(
  path: string,
  paths: readonly PathDescriptor[] = apiPaths,
): PathMatch | undefined {
  return createPathFinder(paths)(path);
}
