/**
 * The pb.Backend service (and logical.PluginVersion): what OpenBao calls on the plugin.
 * Setup dials the host's brokered Storage and builds the mount's Store and API services, and
 * writes nothing (storage is read-only during a mount's Setup and absent in registration
 * probes). Initialize and Cleanup start and stop the background work (background.ts), and
 * every request goes through request.ts to the shared dispatcher.
 */
import * as grpc from '@grpc/grpc-js';
import { createDispatcher } from '../api/dispatch.js';
import { apiPaths, createPathFinder } from '../api/paths.js';
import type { ApiServices, PathDescriptor } from '../api/types.js';
import { createSettingsEvents } from '../config/settings-events.js';
import { SECRET_SETTING_KEYS } from '../config/mount-settings.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { PipelineControl } from '../pipeline/control.js';
import { openEntryStore } from '../storage/entry-store.js';
import type { Store } from '../storage/store.js';
import type { BackgroundFactory, BackgroundWork } from './background.js';
import type { Broker } from './broker.js';
import {
  ErrType,
  type HandleExistenceCheckReply,
  type HandleRequestArgs,
  type HandleRequestReply,
  type SetupArgs,
  type SpecialPaths,
} from './messages.js';
import { clientFor, type ProtocolServices } from './proto.js';
import { handlePbRequest, mountName } from './request.js';
import { grpcRawStorage } from './storage-client.js';

/** What the backend is built from; the plugin's entry (src/plugin/main.ts) passes the real ones, tests may pass others. */
export interface BackendDeps {
  readonly broker: Broker;
  readonly protocol: ProtocolServices;
  readonly logger: Logger;
  /** Semver with a leading v (e.g. v0.1.0); OpenBao records it at registration. */
  readonly version: string;
  readonly dataDir: string;
  /** API services other than the pipeline (key inspector, Vault access). */
  readonly apiServices: () => Omit<ApiServices, 'pipeline'>;
  readonly background?: BackgroundFactory;
  readonly now?: () => Date;
  /** The path descriptors served (default: apiPaths, the same list the HTTP service serves). */
  readonly paths?: readonly PathDescriptor[];
}

/** The gRPC implementations to register, and a hook to stop background work on shutdown. */
export interface Backend {
  readonly backend: grpc.UntypedServiceImplementation;
  readonly pluginVersion: grpc.UntypedServiceImplementation;
  /** Stop background work if it runs (Shutdown without Cleanup, SIGTERM). */
  stop(): Promise<void>;
}

/** Answers poll and task cancel until the background work provides a pipeline. */
const notRunning = (): AppError =>
  new AppError(
    'NOT_CONFIGURED',
    'the plugin runs no pipeline yet: polls and tasks need its background work',
  );
const pipelineNotRunning: PipelineControl = {
  requestPoll() {
    throw notRunning();
  },
  nextPollAt: () => undefined,
  cancelTask: () => Promise.reject(notRunning()),
};

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/** A unary handler from an async function; an unexpected throw becomes a gRPC error. */
function unary<Req, Res>(
  log: Logger,
  name: string,
  fn: (req: Req) => Promise<Res>,
): Unary<Req, Res> {
  return (call, cb) => {
    fn(call.request).then(
      (res) => cb(null, res),
      (e: unknown) => {
        log.error({ rpc: name, error: e instanceof Error ? e.message : String(e) }, 'rpc failed');
        cb({ code: 13, details: 'internal error' });
      },
    );
  };
}

/** Build the backend service over `deps`. */
export function createBackend(deps: BackendDeps): Backend {
  const log = deps.logger.child({ component: 'backend' });
  const dispatch = createDispatcher(deps.paths ?? apiPaths);
  const find = createPathFinder(deps.paths ?? apiPaths);
  // Settings writes through the API are announced here; the webhook listener's index listens.
  const settingsEvents = createSettingsEvents();
  const now = deps.now ?? (() => new Date());
  let store: Store | undefined;
  let config: Readonly<Record<string, string>> = {};
  let mount = '';
  let services: Omit<ApiServices, 'pipeline'> | undefined;
  let work: BackgroundWork | undefined;

  const currentMount = (): string => mount || config['plugin_name'] || 'flant_gitops';

  async function setup(args: SetupArgs): Promise<{ err: string }> {
    try {
      const channel = await deps.broker.dial(args.broker_id);
      const Storage = clientFor(deps.protocol.storage, 'pb.Storage');
      store = openEntryStore(
        grpcRawStorage(
          new Storage('unused', grpc.credentials.createInsecure(), { channelOverride: channel }),
        ),
      );
      config = { ...args.Config };
      services = deps.apiServices();
      log.info({ brokerId: args.broker_id, version: deps.version }, 'setup done');
      return { err: '' };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log.error({ brokerId: args.broker_id, error: msg }, 'setup failed');
      return { err: `flant_gitops setup: ${msg}` };
    }
  }

  async function handleRequest(args: HandleRequestArgs): Promise<HandleRequestReply> {
    const req = args.request;
    if (!req) return { err: { err_type: ErrType.badRequest, err_msg: 'no request' } };
    if (req.mount_point !== '') mount = mountName(req);
    if (!store || !services) {
      return {
        err: { err_type: ErrType.coded, err_msg: 'the plugin is not set up', err_code: '503' },
      };
    }
    return handlePbRequest(req, {
      dispatch,
      find,
      logger: log,
      context: {
        store,
        services: { ...services, settingsEvents, pipeline: work?.pipeline ?? pipelineNotRunning },
        logger: log,
        now,
      },
      ...(work?.periodic ? { periodic: () => work?.periodic?.() } : {}),
    });
  }

  async function initialize(): Promise<{ err?: { err_type: number; err_msg: string } }> {
    if (!deps.background || work || !store) return {};
    try {
      work = deps.background({
        store,
        mount: currentMount,
        logger: deps.logger,
        dataDir: deps.dataDir,
        config,
        settingsEvents,
      });
      await work.start();
      return {};
    } catch (e) {
      log.error({ error: e instanceof Error ? e.message : String(e) }, 'background start failed');
      // A setting of ours (webhook address, tick) is named; anything else stays generic.
      const why = e instanceof AppError && e.code === 'INVALID_INPUT' ? `: ${e.message}` : '';
      return {
        err: {
          err_type: ErrType.internal,
          err_msg: `flant_gitops: background work failed to start${why}`,
        },
      };
    }
  }

  async function stopWork(): Promise<void> {
    const w = work;
    work = undefined;
    await w?.stop();
  }

  const paths: SpecialPaths = {
    root: [],
    unauthenticated: [],
    local_storage: [],
    seal_wrap_storage: [...SECRET_SETTING_KEYS],
    write_forwarded_storage: [],
  };

  return {
    backend: {
      Setup: unary(log, 'Setup', setup),
      Type: unary(log, 'Type', async () => ({ type: 1 })),
      SpecialPaths: unary(log, 'SpecialPaths', async () => ({ paths })),
      Initialize: unary(log, 'Initialize', initialize),
      HandleExistenceCheck: unary(
        log,
        'HandleExistenceCheck',
        // No path defines an existence check (as in the original): writes stay `update`.
        async (): Promise<HandleExistenceCheckReply> => ({ check_found: false, exists: false }),
      ),
      HandleRequest: unary(log, 'HandleRequest', handleRequest),
      Cleanup: unary(log, 'Cleanup', async () => {
        await stopWork();
        log.info({}, 'cleanup done');
        return {};
      }),
      // On a cluster's standbys OpenBao calls this for every key the active node writes (the
      // lease renewal too, every second). Nothing here needs dropping: the only caches (the
      // settings owner's read cache, the poll-state memory, the webhook index) live in the lease
      // holder, on the active node, which hears of its own writes through the settings events;
      // a standby's process runs no pipeline and reads storage afresh for each request.
      InvalidateKey: unary(log, 'InvalidateKey', async (a: { key: string }) => {
        log.debug({ key: a.key }, 'invalidate key');
        return {};
      }),
    },
    pluginVersion: {
      Version: unary(log, 'Version', async () => ({ plugin_version: deps.version })),
    },
    stop: stopWork,
  };
}
