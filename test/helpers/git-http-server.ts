/**
 * A smart-HTTP git server for tests: a tiny Node http server on 127.0.0.1 that runs the real
 * `git http-backend` as a CGI for every request, behind HTTP basic auth. Also a silent TCP server
 * (accepts, never answers) for timeout tests. Everything started here is stopped by `stop()`.
 */
import { spawn } from 'node:child_process';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { hermeticEnv } from './bench.js';

/** A running smart-HTTP git server. */
export interface GitHttpServer {
  /** e.g. http://127.0.0.1:41234 — append `/<repo>.git` (relative to the project root). */
  readonly baseUrl: string;
  /** REMOTE_USER of every request that passed basic auth (to prove the credentials arrived). */
  readonly authenticatedUsers: readonly string[];
  /** Request URLs as received (to prove no credentials travelled in the URL). */
  readonly requestUrls: readonly string[];
  stop(): Promise<void>;
}

function authorized(req: IncomingMessage, user: string, pass: string): boolean {
  const got = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Split CGI output into status, headers and the start of the body. */
function parseCgiHead(
  buf: Buffer,
): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  let end = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (end < 0) {
    end = buf.indexOf('\n\n');
    sepLen = 2;
  }
  if (end < 0) return undefined;
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  return { status, headers, body: buf.subarray(end + sepLen) };
}

function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  projectRoot: string,
  user: string,
): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env = hermeticEnv({
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
  });
  if (req.headers['content-length'] !== undefined)
    env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding'] !== undefined)
    env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  const proto = req.headers['git-protocol'];
  if (typeof proto === 'string') env.GIT_PROTOCOL = proto;
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  let head: Buffer = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (!parsed) return;
    started = true;
    res.writeHead(parsed.status, parsed.headers);
    res.write(parsed.body);
  });
  child.once('close', () => {
    if (!started) res.writeHead(502);
    res.end();
  });
  res.once('close', () => child.kill('SIGKILL'));
}

/** Serve the bare repositories under `projectRoot` over smart HTTP with basic auth. */
export async function startGitHttpServer(opts: {
  projectRoot: string;
  username: string;
  password: string;
}): Promise<GitHttpServer> {
  const authenticatedUsers: string[] = [];
  const requestUrls: string[] = [];
  const server = createHttpServer((req, res) => {
    requestUrls.push(req.url ?? '');
    if (!authorized(req, opts.username, opts.password)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    authenticatedUsers.push(opts.username);
    runBackend(req, res, opts.projectRoot, opts.username);
  });
  await new Promise<void>((resolveP) => server.listen(0, '127.0.0.1', resolveP));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    authenticatedUsers,
    requestUrls,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolveP) => server.close(() => resolveP()));
    },
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte. */
export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far (to prove the client really connected). */
  readonly accepted: () => number;
  stop(): Promise<void>;
}

/** Start a loopback server that accepts and stays silent (a hung remote). */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolveP) => server.listen(0, '127.0.0.1', resolveP));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    accepted: () => accepted,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolveP) => server.close(() => resolveP()));
    },
  };
}
