/**
 * Vault's wire habits that clients written for Vault depend on, beyond the envelopes of
 * envelope.ts: `Content-Type: application/json` exactly (hvac decodes the `errors` list only
 * then), a refusal of response wrapping (this standalone server cannot wrap; silently answering
 * unwrapped data to a client that asked for a wrapping token would hand it the secret instead),
 * and `auth/token/lookup-self` / `auth/token/lookup` for the embedded root token (tools such as
 * hvac's `is_authenticated()` check their token there before anything else).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { tokenFromHeaders, type Authorizer } from './auth.js';
import { successEnvelope } from './envelope.js';

/** Exactly what Vault sends: no charset parameter. */
export const VAULT_JSON_TYPE = 'application/json';

/** Why a request asking for a wrapped response is refused (400). */
export const WRAPPING_REFUSED =
  'this standalone flant-gitops server does not wrap responses (X-Vault-Wrap-TTL / -wrap-ttl); ' +
  'repeat the request without it, or serve flant-gitops as an OpenBao plugin to get wrapping';

/**
 * What `lookup-self` tells about a token the authorizer knows. Never the token itself, never a
 * secret id: only what a client needs to see that it is authenticated and with which policies.
 */
export interface TokenDescription {
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly path: string;
  /** Unix seconds. */
  readonly creationTime: number;
}

/** An authorizer that can describe the tokens it accepts (embedded mode). */
export interface DescribingAuthorizer extends Authorizer {
  /** The description of `token`, or undefined when it is not a token this server accepts. */
  describeToken?(token: string): TokenDescription | undefined;
}

/** The `data` of Vault's lookup-self answer for a root-like, never-expiring token. */
export function lookupData(d: TokenDescription): Record<string, unknown> {
  return {
    accessor: '',
    creation_time: d.creationTime,
    creation_ttl: 0,
    display_name: d.displayName,
    entity_id: '',
    expire_time: null,
    explicit_max_ttl: 0,
    meta: null,
    num_uses: 0,
    orphan: true,
    path: d.path,
    policies: [...d.policies],
    renewable: false,
    ttl: 0,
    type: 'service',
  };
}

/** The prefix of the Vault-style API; its routes and these hooks live in one plugin context. */
export const API_PREFIX = '/v1';

const isApi = (url: string): boolean => url.startsWith(`${API_PREFIX}/`);

/**
 * Register the hooks (content type, wrapping refusal) and, when the authorizer can describe
 * tokens, the token lookup routes on `app`: the plugin context of the API, registered with
 * prefix API_PREFIX (src/app.ts), so the hooks never run for the routes outside it (the webhook
 * receiver's above all). The URL check stays: that context's 404 handler also answers `/v1`.
 */
export function registerVaultWire(app: FastifyInstance, authorizer: DescribingAuthorizer): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (isApi(request.url) && request.headers['x-vault-wrap-ttl'] !== undefined) {
      void reply.code(400).send({ errors: [WRAPPING_REFUSED] });
      return;
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (isApi(request.url) && typeof type === 'string' && type.startsWith(VAULT_JSON_TYPE)) {
      void reply.header('content-type', VAULT_JSON_TYPE);
    }
    done(null, payload);
  });

  const describe = authorizer.describeToken?.bind(authorizer);
  if (!describe) return;
  const answer = async (token: string | undefined, reply: FastifyReply): Promise<void> => {
    const d = token === undefined ? undefined : describe(token);
    if (!d) {
      await reply.code(403).send({ errors: ['permission denied'] });
      return;
    }
    await reply.code(200).send(successEnvelope(randomUUID(), lookupData(d)));
  };
  const self = async (request: FastifyRequest, reply: FastifyReply): Promise<void> =>
    answer(tokenFromHeaders(request.headers), reply);
  app.route({ method: ['GET', 'POST'], url: '/auth/token/lookup-self', handler: self });
  app.route({
    method: ['GET', 'POST'],
    url: '/auth/token/lookup',
    handler: async (request, reply) => {
      // Only a caller this server accepts may look up, and only a token this server knows.
      const caller = tokenFromHeaders(request.headers);
      if (caller === undefined || describe(caller) === undefined) {
        await reply.code(403).send({ errors: ['permission denied'] });
        return;
      }
      const body = request.body as { token?: unknown } | undefined;
      const query = request.query as { token?: unknown } | undefined;
      const asked = typeof body?.token === 'string' ? body.token : query?.token;
      if (typeof asked !== 'string' || asked === '') {
        await reply.code(400).send({ errors: ['token: missing token to look up'] });
        return;
      }
      if (describe(asked) === undefined) {
        await reply.code(403).send({ errors: ['bad token'] });
        return;
      }
      await answer(asked, reply);
    },
  });
}
