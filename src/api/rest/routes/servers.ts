import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { ComputeService } from '../../../compute/index.ts';
import { principalOf } from '../context.ts';
import { Server, Action, CreateServerBody, UpdateServerBody, StopBody, ListServersQuery, IdParams, errorResponses } from '../schemas.ts';

export function registerServerRoutes(app: Api, deps: { compute: ComputeService }) {
  const { compute } = deps;
  const accepted = { 202: Type.Object({ action: Action }), ...errorResponses };

  app.post(
    '/v1/servers',
    {
      schema: {
        tags: ['servers'],
        summary: 'Create a server',
        description: 'Places the server on a host of the region (exact pinned threads, NUMA node, GPUs) and boots it. Returns the action to wait on.',
        body: CreateServerBody,
        response: { 202: Type.Object({ server: Server, action: Action }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await compute.createServer(principalOf(request.principal), request.body as Record<string, unknown>);
      request.auditResource = { type: 'server', id: result.server.id };
      return reply.code(202).send(result);
    },
  );

  app.get(
    '/v1/servers',
    { schema: { tags: ['servers'], summary: 'List servers', querystring: ListServersQuery, response: { 200: Type.Object({ servers: Type.Array(Server), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses } } },
    async (request) => {
      const q = request.query;
      const { servers, nextCursor } = await compute.listServers(principalOf(request.principal), {
        limit: q.limit === undefined ? undefined : Number(q.limit),
        cursor: q.cursor ?? null,
        labelSelector: q.label_selector ?? null,
        name: q.name ?? null,
        region: q.region ?? null,
        status: q.status ?? null,
      });
      return { servers, next_cursor: nextCursor };
    },
  );

  app.get('/v1/servers/:id', { schema: { tags: ['servers'], summary: 'Show a server', params: IdParams, response: { 200: Type.Object({ server: Server }), ...errorResponses } } }, async (request, reply) => {
    const server = await compute.getServer(principalOf(request.principal), request.params.id);
    reply.header('ETag', `"v${server.version}"`);
    return { server: server.view };
  });

  app.patch(
    '/v1/servers/:id',
    {
      schema: {
        tags: ['servers'],
        summary: 'Rename a server or replace its labels',
        description: 'Send the ETag of a GET as If-Match to refuse the change when the server changed in between (412).',
        params: IdParams,
        body: UpdateServerBody,
        response: { 200: Type.Object({ server: Server }), 412: errorResponses[409], ...errorResponses },
      },
    },
    async (request, reply) => {
      // Strong comparison (RFC 9110): a weak ETag (W/"v3") never matches.
      const ifMatch = request.headers['if-match'];
      const expectedVersion = ifMatch === undefined ? null : Number(/^"?v(\d{1,15})"?$/.exec(String(ifMatch))?.[1] ?? NaN);
      const server = await compute.updateServer(principalOf(request.principal), request.params.id, request.body, expectedVersion);
      reply.header('ETag', `"v${server.version}"`);
      return { server: server.view };
    },
  );

  for (const command of ['start', 'reboot'] as const) {
    app.post(`/v1/servers/:id/actions/${command}`, { schema: { tags: ['servers'], summary: `${command[0].toUpperCase()}${command.slice(1)} a server`, params: IdParams, response: accepted } }, async (request, reply) => {
      const action = await compute[command](principalOf(request.principal), request.params.id);
      return reply.code(202).send({ action });
    });
  }

  app.post(
    '/v1/servers/:id/actions/stop',
    { schema: { tags: ['servers'], summary: 'Stop a server', description: 'ACPI shutdown, forced off after 30 s; `force: true` powers off at once.', params: IdParams, body: Type.Optional(StopBody), response: accepted } },
    async (request, reply) => {
      const body = request.body as { force?: boolean } | null | undefined;
      const action = await compute.stop(principalOf(request.principal), request.params.id, { force: body?.force === true });
      return reply.code(202).send({ action });
    },
  );

  app.delete('/v1/servers/:id', { schema: { tags: ['servers'], summary: 'Delete a server', params: IdParams, response: accepted } }, async (request, reply) => {
    const action = await compute.delete(principalOf(request.principal), request.params.id);
    return reply.code(202).send({ action });
  });

  app.get('/v1/actions/:id', { schema: { tags: ['actions'], summary: 'Show an action', params: IdParams, response: { 200: Type.Object({ action: Action }), ...errorResponses } } }, async (request) => ({
    action: await compute.getAction(principalOf(request.principal), request.params.id),
  }));
}
