/**
 * The engine's liveness check, `GET /_ping` over its Unix socket, with node:http alone: the
 * readiness probe asks it every few seconds, and answering it must not load the Docker client
 * library (docker.ts loads dockerode on the first real engine call). Failures carry the shapes
 * engine-errors.ts reads from dockerode's errors: a socket error keeps its `code` (ENOENT,
 * ECONNREFUSED, …); an answer other than 200 carries `statusCode` and the engine's message.
 */
// Not `import … from 'node:http'`: an ES import of node:http builds its whole namespace, whose
// lazy getters (WebSocket, …) load Node's bundled undici — ~15 MiB resident for nothing. The
// CommonJS view of the module, which fastify already loaded, costs nothing more.
const { request } = process.getBuiltinModule('node:http');

/** The most of a failed ping's answer that is kept for its message. */
const BODY_LIMIT = 4096;

/** The engine's `{"message": …}`, or the answer's text; undefined when empty. */
function answerMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown } | null)?.message;
    if (typeof m === 'string' && m !== '') return m;
  } catch {
    // not JSON: the text itself
  }
  const text = body.trim();
  return text === '' ? undefined : text;
}

/** Resolve when the engine at `socketPath` answers its ping with 200; reject otherwise. */
export function pingEngine(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET' }, (res) => {
      if (res.statusCode === 200) {
        res.resume();
        res.once('end', () => resolve());
        res.once('error', reject);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length);
      });
      res.once('error', reject);
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        const message = answerMessage(body) ?? `HTTP ${status}`;
        reject(Object.assign(new Error(message), { statusCode: status, json: { message } }));
      });
    });
    req.once('error', reject);
    req.end();
  });
}
