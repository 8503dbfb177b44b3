import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { InventoryService } from '../../../inventory/index.ts';
import { requireOperator } from '../../../identity/index.ts';
import { principalOf } from '../context.ts';
import { IdParams, errorResponses } from '../schemas.ts';
import { snakeCaseKeys } from '../snake-case.ts';

export function registerHostRoutes(app: Api, deps: { inventory: InventoryService; onStateChanged?: (hostId: string, state: string) => Promise<unknown> }) {
  app.get(
    '/v1/hosts',
    { schema: { tags: ['operators'], summary: 'List hosts with topology and usage (operators)', querystring: Type.Object({ region: Type.Optional(Type.String({ maxLength: 16 })) }, { additionalProperties: false }), response: { 200: Type.Object({ hosts: Type.Array(Type.Any()) }), ...errorResponses } } },
    async (request) => {
      requireOperator(principalOf(request.principal));
      return { hosts: snakeCaseKeys(await deps.inventory.listHosts({ region: request.query.region })) as unknown[] };
    },
  );

  app.get('/v1/hosts/:id', { schema: { tags: ['operators'], summary: 'Show a host (operators)', params: IdParams, response: { 200: Type.Object({ host: Type.Any() }), ...errorResponses } } }, async (request) => {
    requireOperator(principalOf(request.principal));
    return { host: snakeCaseKeys(await deps.inventory.getHost(request.params.id)) };
  });

  app.patch(
    '/v1/hosts/:id',
    {
      schema: {
        tags: ['operators'],
        summary: 'Set a host to active, maintenance or draining (operators)',
        description: 'Maintenance and draining take no new servers; draining also moves the host servers elsewhere.',
        params: IdParams,
        body: Type.Object({ state: Type.String() }, { additionalProperties: false }),
        response: { 200: Type.Object({ host: Type.Any(), drain: Type.Optional(Type.Any()) }), ...errorResponses },
      },
    },
    async (request) => {
      requireOperator(principalOf(request.principal));
      request.auditResource = { type: 'host', id: request.params.id };
      const host = await deps.inventory.setHostState(request.params.id, request.body.state);
      const drain = deps.onStateChanged ? await deps.onStateChanged(host.id, host.state) : undefined;
      return drain === undefined ? { host: snakeCaseKeys(host) } : { host: snakeCaseKeys(await deps.inventory.getHost(host.id)), drain: snakeCaseKeys(drain) };
    },
  );
}
