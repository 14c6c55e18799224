/**
 * `configure/vault_request/<name>` — one Vault request made (wrapped) before the commands run;
 * its wrapping token reaches the command as `VAULT_REQUEST_TOKEN_<NAME>`. The fields are the
 * `VaultRequest` schema's (the name comes from the URL).
 */
import { assertName, invalidInput, parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { requestTokenEnvName } from '../config/rules/env-name.js';
import { VaultRequest } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** Field help shared by the item and the list paths. */
export const vaultRequestFields = fieldSpecs(VaultRequest);

/** Capture of the request name in the path. */
const NAME = 'name';

/** The `configure/vault_request/<name>` path. */
export const configureVaultRequestPath: PathDescriptor = {
  pattern: `configure/vault_request/(?<${NAME}>[^/]+)`,
  synopsis: 'One Vault request made in wrapped mode before the commands run.',
  description:
    'Write replaces the request (absent fields take their defaults). A name whose variable ' +
    'VAULT_REQUEST_TOKEN_<NAME> equals that of another request is rejected. Read returns it; delete removes it.',
  fields: vaultRequestFields,
  // The variable-name rule reads the other requests first: two concurrent writes of r-N and r.N
  // must not both pass it.
  serialiseWrites: true,
  operations: {
    async read(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const request = await settingsOf(req, ctx).vaultRequests.get(name);
      if (!request) throw new AppError('NOT_FOUND', 'no such vault request');
      return { data: { ...request } };
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: _ignored, ...body } = req.data;
      const request = parseFields(VaultRequest, { ...body, name });
      const settings = settingsOf(req, ctx);
      const env = requestTokenEnvName(name);
      for (const other of await settings.vaultRequests.names()) {
        if (other !== name && requestTokenEnvName(other) === env) {
          throw invalidInput([
            `name: must not give the same variable ${env} as the existing request ${other}`,
          ]);
        }
      }
      await settings.vaultRequests.put(name, request);
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await settingsOf(req, ctx).vaultRequests.delete(name);
      return undefined;
    },
  },
};
