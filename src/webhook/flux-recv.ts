/**
 * Migration from flux-recv: its YAML file (`fluxRecvVersion: 1`, `endpoints: [{keyPath, source}]`)
 * becomes endpoints of ours, one per listed mount, with the same `/hook/<sha256 of key file>`
 * paths — so hooks installed at the git host keep working unchanged. Unlike flux-recv, an empty
 * key file is refused (flux-recv silently skipped verification then).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { WebhookEndpointSpec, WebhookSource } from './types.js';

/** flux-recv's source names (case-insensitive here) mapped to ours. */
export const FLUX_RECV_SOURCES: Readonly<Record<string, WebhookSource>> = {
  github: 'github',
  gitlab: 'gitlab',
  bitbucket: 'bitbucket',
  bitbucketserver: 'bitbucket',
  gitea: 'gitea',
  dockerhub: 'dockerhub',
  generic: 'generic',
  cloudevents: 'cloudevents',
};

/** The file, as flux-recv reads it (unknown fields such as `api` are ignored). */
export const FluxRecvConfig = z.looseObject({
  fluxRecvVersion: z.literal(1),
  endpoints: z
    .array(
      z.looseObject({
        keyPath: z.string().min(1),
        source: z.string().min(1),
        registryHost: z.string().optional(),
      }),
    )
    .min(1),
});
/** Type of a parsed flux-recv file. */
export type FluxRecvConfig = z.infer<typeof FluxRecvConfig>;

/**
 * Load a flux-recv file; every endpoint in it triggers each of `mounts`. All problems of the
 * file are reported at once.
 */
export async function loadFluxRecvEndpoints(
  file: string,
  mounts: readonly string[],
): Promise<WebhookEndpointSpec[]> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    throw new AppError('INVALID_INPUT', `flux-recv config ${file} cannot be read as YAML`, {
      cause: e,
    });
  }
  const parsed = FluxRecvConfig.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AppError('INVALID_INPUT', `flux-recv config ${file}: ${issues.join('; ')}`);
  }
  const problems: string[] = [];
  const specs: WebhookEndpointSpec[] = [];
  for (const [i, ep] of parsed.data.endpoints.entries()) {
    const source = FLUX_RECV_SOURCES[ep.source.toLowerCase()];
    if (!source) {
      problems.push(`endpoints.${i}.source: ${ep.source} is not supported`);
      continue;
    }
    if (ep.registryHost) {
      problems.push(`endpoints.${i}.registryHost: not supported`);
      continue;
    }
    let secret: Buffer;
    try {
      secret = await readFile(resolve(dirname(file), ep.keyPath));
    } catch {
      problems.push(`endpoints.${i}.keyPath: ${ep.keyPath} cannot be read`);
      continue;
    }
    if (secret.length === 0) {
      problems.push(`endpoints.${i}.keyPath: ${ep.keyPath} is empty (a secret is required)`);
      continue;
    }
    for (const mount of mounts) {
      specs.push({
        name: `flux-recv:${basename(ep.keyPath)}`,
        mount,
        source,
        secret,
        branch: undefined,
        backends: [],
      });
    }
  }
  if (problems.length > 0) {
    throw new AppError('INVALID_INPUT', `flux-recv config ${file}: ${problems.join('; ')}`);
  }
  return specs;
}
