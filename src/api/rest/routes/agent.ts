import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { InventoryService, HostTopology } from '../../../inventory/index.ts';
import type { HostSync, ObservedInstance } from '../../../compute/index.ts';
import { forbidden } from '../../../core/index.ts';
import type { IdentityService, Principal } from '../../../identity/index.ts';
import { principalOf } from '../context.ts';
import { IdParams, errorResponses } from '../schemas.ts';

const Observed = Type.Object(
  {
    serverId: Type.String({ maxLength: 100 }),
    power: Type.Union([Type.Literal('starting'), Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped'), Type.Literal('crashed')]),
    rebootGeneration: Type.Integer({ minimum: 0 }),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

function requireHost(principal: Principal, hostId: string) {
  if (principal.kind !== 'host') throw forbidden('agent routes need a host token');
  if (principal.hostId !== hostId) throw forbidden(`this token does not belong to host ${hostId}`);
}

/** The agent protocol over HTTP, for real hosts running `vmcloud agent`. Host tokens only. */
export function registerAgentRoutes(app: Api, deps: { inventory: InventoryService; hostSync: HostSync; identity: IdentityService }) {
  const hidden = { tags: ['agents'] };

  app.post(
    '/v1/agent/register',
    {
      schema: {
        ...hidden,
        summary: 'Register or re-register a host (host token)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]*$' }), region: Type.String({ maxLength: 16 }), driver: Type.String({ maxLength: 16 }), cpu_model: Type.String({ maxLength: 200 }), topology: Type.Any(), agent_version: Type.String({ maxLength: 50 }), address: Type.Union([Type.String({ maxLength: 200, pattern: '^https?://' }), Type.Null()]), agent_key: Type.Optional(Type.String({ minLength: 32, maxLength: 128 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ host_id: Type.String(), created: Type.Boolean(), ipv4_pool: Type.String() }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      if (principal.kind !== 'host') throw forbidden('agent routes need a host token');
      const body = request.body;
      const { hostId, created, ipv4Pool } = await deps.inventory.registerHost({ name: body.name, region: body.region, driver: body.driver, cpuModel: body.cpu_model, topology: body.topology as HostTopology, agentVersion: body.agent_version, address: body.address, agentKey: body.agent_key ?? null });
      await deps.identity.bindHostToken(principal, hostId);
      request.auditResource = { type: 'host', id: hostId };
      return { host_id: hostId, created, ipv4_pool: ipv4Pool };
    },
  );

  app.post('/v1/agent/hosts/:id/heartbeat', { schema: { ...hidden, summary: 'Heartbeat', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    requireHost(principalOf(request.principal), request.params.id);
    await deps.inventory.heartbeat(request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/v1/agent/hosts/:id/desired', { schema: { ...hidden, summary: 'Desired state of the host servers', params: IdParams, response: { 200: Type.Object({ instances: Type.Array(Type.Any()) }), ...errorResponses } } }, async (request) => {
    requireHost(principalOf(request.principal), request.params.id);
    return { instances: await deps.hostSync.desiredFor(request.params.id) };
  });

  app.post(
    '/v1/agent/hosts/:id/report',
    { schema: { ...hidden, summary: 'Report observed instances', params: IdParams, body: Type.Object({ observed: Type.Array(Observed, { maxItems: 10000 }), full: Type.Boolean() }, { additionalProperties: false }), response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      requireHost(principalOf(request.principal), request.params.id);
      // A report is proof of life too: a host that reports is up.
      await deps.inventory.heartbeat(request.params.id);
      await deps.hostSync.applyReport(request.params.id, request.body.observed as ObservedInstance[], { full: request.body.full });
      return reply.code(204).send(null);
    },
  );
}
