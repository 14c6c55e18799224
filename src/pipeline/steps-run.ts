/**
 * The acting steps of a run, in this order: make sure the image is present, then mint the wrapped
 * Vault tokens (as late as possible: their TTL starts now), then run the commands on the tip's
 * files, then record the tip as the last successful commit — only after a success.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isAppError, toAppError } from '../errors.js';
import type { ContainerSettings } from '../config/settings-schemas.js';
import type { RunResult, RunSpec } from '../runner/types.js';
import { writeLastCommit } from './poll-state.js';
import { progress, type RunInput, type Step } from './run-context.js';

/** Where the container finds the target Vault's CA (read-only). */
export const VAULT_CA_CONTAINER_PATH = '/run/flant-gitops/vault-ca.pem';

/**
 * Labels that name the service instance, mount and task of a container. The runner sweeps
 * leftovers by instance and mount, so services sharing one Docker engine (replicas, tests) never
 * remove each other's running containers.
 */
export function runLabels(instance: string, mount: string, task?: string): Record<string, string> {
  return {
    'flant-gitops.instance': instance,
    'flant-gitops.mount': mount,
    ...(task === undefined ? {} : { 'flant-gitops.task': task }),
  };
}

/** The configured image must be present before any token is minted. */
export const ensureImage: Step = {
  name: 'ensure-image',
  async run(deps, input) {
    await deps.runner.ensureImage(input.config.docker_image);
    progress(input, `image ${input.config.docker_image} is present`);
    return 'continue';
  },
};

/** Mint one wrapped token per configured request; access is needed only when requests exist. */
export const makeVaultRequests: Step = {
  name: 'vault-requests',
  async run(deps, input, state) {
    const { settings } = deps;
    const access = await settings.vaultAccess.get();
    if (access) state.access = access;
    const requests = await settings.vaultRequests.all();
    if (requests.length === 0) return 'continue';
    if (!access) {
      throw new AppError(
        'NOT_CONFIGURED',
        `${requests.length} vault request(s) are configured but configure_vault_access is not`,
      );
    }
    const client = await deps.vaultAccess.client(
      () => settings.vaultAccess.get(),
      (stored) => settings.vaultAccess.put(stored),
    );
    for (const { name, value: req } of requests) {
      try {
        const wrapped = await client.wrappedRequest({ ...req, name });
        state.env[wrapped.envName] = wrapped.token;
        progress(
          input,
          `vault request ${name}: wrapped token in ${wrapped.envName} (ttl ${wrapped.ttl}s)`,
        );
      } catch (e) {
        const err = toAppError(e, 'VAULT_REQUEST_FAILED');
        throw new AppError(err.code, `vault request ${name} failed: ${err.reason}`, {
          cause: e,
          details: { request: name },
        });
      }
    }
    return 'continue';
  },
};

/** Turn a runner result into nothing (success) or the matching AppError. */
export function checkRunResult(result: RunResult, input: RunInput): void {
  const n = input.config.commands.length;
  switch (result.outcome) {
    case 'succeeded':
      return;
    case 'failed':
      throw new AppError(
        'COMMAND_FAILED',
        `command ${result.commandIndex + 1} of ${n} exited with code ${result.exitCode}`,
        { details: { commandIndex: result.commandIndex, exitCode: result.exitCode } },
      );
    case 'timeout':
      throw new AppError(
        'TASK_TIMEOUT',
        `commands did not finish within ${input.timeoutSeconds}s (stopped in command ${result.commandIndex + 1})`,
        { details: { commandIndex: result.commandIndex, timeoutSeconds: input.timeoutSeconds } },
      );
    case 'canceled':
      throw new AppError('TASK_CANCELED', 'canceled by an operator', {
        details: { commandIndex: result.commandIndex },
      });
  }
}

/**
 * The runner's lockdown fields from a mount's container settings: an empty user is the
 * service's own uid:gid (it owns the exported /git, which no capability lets another uid write),
 * a zero limit is none.
 */
export function containerLimits(
  c: ContainerSettings,
  ownUser: string | undefined = ownUidGid(),
): Pick<
  RunSpec,
  'user' | 'capAdd' | 'readOnlyRootFs' | 'memoryBytes' | 'pidsLimit' | 'nanoCpus' | 'tmpBytes'
> {
  const user = c.user === '' ? ownUser : c.user;
  const nanoCpus = Math.round(Number(c.cpus) * 1e9);
  return {
    ...(user === undefined ? {} : { user }),
    capAdd: c.cap_add,
    readOnlyRootFs: c.read_only_root_fs,
    ...(c.memory_limit > 0 ? { memoryBytes: c.memory_limit } : {}),
    ...(c.pids_limit > 0 ? { pidsLimit: c.pids_limit } : {}),
    ...(nanoCpus > 0 ? { nanoCpus } : {}),
    tmpBytes: c.tmp_size,
  };
}

function ownUidGid(): string | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? undefined : `${uid}:${gid}`;
}

/** Export the tip into a fresh temp dir and run the commands there; the dir never outlives it. */
export const runCommands: Step = {
  name: 'run-commands',
  async run(deps, input, state) {
    const { tip, access } = state;
    if (tip === undefined) throw new AppError('INTERNAL', 'run before the tip is known');
    const dir = await mkdtemp(join(deps.tempRoot, 'flant-gitops-run-'));
    try {
      const worktree = join(dir, 'git');
      await mkdir(worktree);
      await deps.mirror.exportTree(tip, worktree);
      const env: Record<string, string> = {
        ...state.env,
        GIT_COMMIT: tip,
        GIT_BRANCH: input.config.git_branch_name,
      };
      const files: Record<string, string> = {};
      if (access) {
        env['VAULT_ADDR'] = access.vault_addr;
        env['VAULT_TLS_SERVER_NAME'] = access.vault_tls_server_name;
        if (access.vault_cacert) {
          const caFile = join(dir, 'vault-ca.pem');
          await writeFile(caFile, access.vault_cacert, { mode: 0o644 });
          files[VAULT_CA_CONTAINER_PATH] = caFile;
          env['VAULT_CACERT'] = VAULT_CA_CONTAINER_PATH;
        }
      }
      progress(input, `running ${input.config.commands.length} command(s) on ${tip}`);
      const container = containerLimits(await deps.settings.effectiveContainerSettings());
      const result = await deps.runner.run({
        ...container,
        image: input.config.docker_image,
        commands: input.config.commands,
        worktree,
        env,
        files,
        labels: runLabels(deps.instanceId, deps.mount, input.task.uuid),
        networkMode: deps.networkMode,
        timeoutMs: input.timeoutSeconds * 1000,
        signal: input.task.signal,
        onOutput: (chunk) => input.task.log(chunk),
      });
      checkRunResult(result, input);
      return 'continue';
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/**
 * Store the tip as last_successful_commit in one check-and-set write against the version read
 * at the start, so an operator's reset during the run is never silently overwritten.
 */
export const recordSuccess: Step = {
  name: 'record',
  async run(deps, _input, state) {
    const { tip } = state;
    if (tip === undefined) throw new AppError('INTERNAL', 'record before the tip is known');
    try {
      await writeLastCommit(deps.store, tip, deps.now(), state.lastVersion);
    } catch (e) {
      if (!isAppError(e, 'CONFLICT')) throw e;
      throw new AppError(
        'CONFLICT',
        `last_successful_commit was changed during the run; ${tip} was not recorded`,
        { cause: e, details: { tip } },
      );
    }
    return 'continue';
  },
};
