/**
 * The ContainerRunner over dockerode — the only module that talks to the Docker engine. Each
 * command runs in its own short-lived container (never an image build), the commit's files are
 * bind-mounted at /git, secrets travel only in the container create call, and every container
 * is removed in every outcome.
 *
 * dockerode (with docker-modem: ~7 MiB resident; its SSH and BuildKit transports, which we never
 * use, are not loaded: unused-transports.ts) is loaded on the first image check, run or sweep,
 * not at start-up: an idle service, and one whose readiness probe only pings the engine, never
 * needs it. The ping is one `GET /_ping` over the socket with node:http (engine-ping.ts). Only
 * types are imported statically.
 */
import { isAbsolute } from 'node:path';
import type Docker from 'dockerode';
import { isEnvVarName } from '../config/rules/env-name.js';
import { AppError, invalidField } from '../errors.js';
import type { Logger } from '../logging.js';
import { runContainerStep, type StepContext } from './container-step.js';
import { engineError, engineMessage, engineStatus } from './engine-errors.js';
import { pingEngine } from './engine-ping.js';
import { skipUnusedTransports } from './unused-transports.js';
import { CAPABILITY_NAMES } from '../config/rules/capabilities.js';
import { parseImageRef, repoDigestsMatch, type ImageRef } from './image-ref.js';
import { sweepSets, type ContainerRunner, type RunResult, type RunSpec } from './types.js';

/** Label set on every container we create; `sweep` never touches a container without it. */
export const MANAGED_LABEL = 'flant-gitops.managed';

/** The engine's default socket on Linux. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** How to reach the engine. */
export interface DockerRunnerOptions {
  readonly logger: Logger;
  /** Unix socket of the engine (default /var/run/docker.sock); DOCKER_HOST is not consulted. */
  readonly socketPath?: string;
}

/** The engine client over `socketPath`, loading dockerode; a failed load says so (not cached). */
async function loadClient(socketPath: string): Promise<Docker> {
  let DockerClient: typeof Docker;
  try {
    skipUnusedTransports();
    DockerClient = (await import('dockerode')).default;
  } catch (e) {
    throw new AppError(
      'RUNNER_FAILED',
      `the Docker engine client (dockerode) could not be loaded: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return new DockerClient({ socketPath });
}

/** Build the runner. Nothing is contacted, and dockerode not loaded, until a method is called. */
export function createDockerRunner(opts: DockerRunnerOptions): ContainerRunner {
  const socketPath = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
  const logger = opts.logger.child({ component: 'runner' });
  let client: Promise<Docker> | undefined;
  const engine = (): Promise<Docker> =>
    (client ??= loadClient(socketPath).catch((e: unknown) => {
      client = undefined;
      throw e;
    }));

  async function isPresent(ref: ImageRef): Promise<boolean> {
    const name = ref.kind === 'id' ? ref.id : `${ref.repository}@${ref.digest}`;
    const docker = await engine();
    try {
      const info = await docker.getImage(name).inspect();
      return ref.kind === 'id' ? info.Id === ref.id : repoDigestsMatch(ref, info.RepoDigests);
    } catch (e) {
      if (engineStatus(e) === 404) return false;
      throw engineError(e, `inspect image ${name}`, socketPath);
    }
  }

  async function pull(ref: Extract<ImageRef, { kind: 'digest' }>): Promise<void> {
    const docker = await engine();
    const stream = await docker.createImage({ fromImage: ref.repository, tag: ref.digest });
    const events = await new Promise<readonly unknown[]>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) =>
        err ? reject(err) : resolve(out),
      );
    });
    for (const ev of events) {
      const error = (ev as { error?: unknown } | null)?.error;
      if (typeof error === 'string') throw new Error(error);
    }
  }

  return {
    async ping(): Promise<void> {
      try {
        await pingEngine(socketPath);
      } catch (e) {
        throw engineError(e, 'answer a ping', socketPath);
      }
    },

    async ensureImage(image: string): Promise<void> {
      const ref = parseImageRef(image);
      if (await isPresent(ref)) return;
      const notPulled = (why: string, cause?: unknown): AppError =>
        new AppError(
          'RUNNER_FAILED',
          `image ${image} is not present and could not be pulled: ${why}`,
          {
            cause,
            details: { image },
          },
        );
      if (ref.kind === 'id') {
        throw notPulled('a local image id (sha256:…) names no registry to pull from');
      }
      logger.info({ image }, 'pulling image by digest');
      try {
        await pull(ref);
      } catch (e) {
        throw notPulled(engineMessage(e), e);
      }
      if (!(await isPresent(ref)))
        throw notPulled('the pull finished but the digest is not present');
    },

    async run(spec: RunSpec): Promise<RunResult> {
      validateSpec(spec);
      const ctx: StepContext = {
        docker: await engine(),
        endpoint: socketPath,
        logger,
        deadline: Date.now() + spec.timeoutMs,
        signal: spec.signal,
        onOutput: spec.onOutput,
      };
      for (const [commandIndex, command] of spec.commands.entries()) {
        logger.info({ commandIndex }, 'running command');
        const outcome = await runContainerStep(ctx, createOptions(spec, command));
        if (outcome.kind === 'timeout' || outcome.kind === 'canceled') {
          logger.info({ commandIndex, outcome: outcome.kind }, 'run stopped');
          return { outcome: outcome.kind, commandIndex };
        }
        if (outcome.exitCode !== 0) {
          logger.info({ commandIndex, exitCode: outcome.exitCode }, 'command failed');
          return { outcome: 'failed', commandIndex, exitCode: outcome.exitCode };
        }
      }
      return { outcome: 'succeeded' };
    },

    async sweep(labels): Promise<number> {
      const sets = sweepSets(labels);
      const first = sets[0];
      if (first === undefined) return 0;
      // One listing for every set (a start-up sweep of 1,000 mounts is one engine call, not
      // 1,000): filtered by the labels all sets share, each container then matched to a set.
      const shared = Object.entries(first).filter(([k, v]) => sets.every((s) => s[k] === v));
      const filter = [...shared, [MANAGED_LABEL, 'true']].map(([k, v]) => `${k}=${v}`);
      const docker = await engine();
      let listed: Docker.ContainerInfo[];
      try {
        listed = await docker.listContainers({ all: true, filters: { label: filter } });
      } catch (e) {
        throw engineError(e, 'list containers', socketPath);
      }
      const found = listed.filter((c) =>
        sets.some((s) => Object.entries(s).every(([k, v]) => c.Labels?.[k] === v)),
      );
      let removed = 0;
      for (const c of found) {
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
          removed += 1;
        } catch (e) {
          if (engineStatus(e) !== 404)
            throw engineError(e, 'remove a leftover container', socketPath);
        }
      }
      if (removed > 0) logger.info({ removed }, 'removed leftover containers');
      return removed;
    },
  };
}

/** Refuse specs that would silently do something else than asked (messages carry no values). */
function validateSpec(spec: RunSpec): void {
  parseImageRef(spec.image);
  if (!isAbsolute(spec.worktree)) throw invalidField('worktree', 'must be an absolute host path');
  for (const name of Object.keys(spec.env)) {
    if (!isEnvVarName(name)) throw invalidField(`env ${name}`, 'is not a valid variable name');
  }
  for (const [target, source] of Object.entries(spec.files ?? {})) {
    if (!isAbsolute(target) || !isAbsolute(source)) {
      throw invalidField(`files ${target}`, 'container and host paths must be absolute');
    }
  }
  if (!(spec.timeoutMs > 0)) throw invalidField('timeoutMs', 'must be positive');
  for (const cap of spec.capAdd ?? []) {
    if (!CAPABILITY_NAMES.includes(cap)) throw invalidField(`capAdd ${cap}`, 'is not a capability');
  }
  for (const [name, n] of [
    ['pidsLimit', spec.pidsLimit],
    ['tmpBytes', spec.tmpBytes],
  ] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n > 0)) {
      throw invalidField(name, 'must be a positive integer');
    }
  }
}

/** Default size of the writable /tmp of a command container. */
export const DEFAULT_TMP_BYTES = 64 * 1024 * 1024;

/** The create call for one command: the only place the environment (secrets) goes. */
function createOptions(spec: RunSpec, command: string): Docker.ContainerCreateOptions {
  const mounts: Docker.MountSettings[] = [
    { Type: 'bind', Source: spec.worktree, Target: '/git', ReadOnly: false },
    ...Object.entries(spec.files ?? {}).map(([target, source]): Docker.MountSettings => ({
      Type: 'bind',
      Source: source,
      Target: target,
      ReadOnly: true,
    })),
  ];
  return {
    Image: spec.image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [command],
    WorkingDir: '/git',
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels, [MANAGED_LABEL]: 'true' },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    ...(spec.user === undefined ? {} : { User: spec.user }),
    HostConfig: {
      AutoRemove: false,
      Privileged: false,
      // Locked down whatever the mount asks: no capability but those given back, and no way
      // to gain privileges (setuid binaries, file capabilities) inside the container.
      CapDrop: ['ALL'],
      ...(spec.capAdd === undefined || spec.capAdd.length === 0
        ? {}
        : { CapAdd: [...spec.capAdd] }),
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: spec.networkMode,
      Mounts: mounts,
      ReadonlyRootfs: spec.readOnlyRootFs === true,
      // A writable /tmp that lives in memory (counted in the memory limit), never on the host.
      Tmpfs: { '/tmp': `rw,exec,nosuid,nodev,size=${spec.tmpBytes ?? DEFAULT_TMP_BYTES}` },
      ...(spec.memoryBytes === undefined ? {} : { Memory: spec.memoryBytes }),
      ...(spec.nanoCpus === undefined ? {} : { NanoCpus: spec.nanoCpus }),
      ...(spec.pidsLimit === undefined ? {} : { PidsLimit: spec.pidsLimit }),
    },
  };
}
