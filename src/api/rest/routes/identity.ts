import { Type } from 'typebox';
import type { Api } from '../server.ts';
import { requireProject, requireOperator, type IdentityService, type AuditLog } from '../../../identity/index.ts';
import type { ComputeService } from '../../../compute/index.ts';
import { VmcError } from '../../../core/index.ts';
import { principalOf } from '../context.ts';
import { Token, IdParams, errorResponses } from '../schemas.ts';

const Quotas = Type.Object({ servers: Type.Integer(), vcpus: Type.Integer(), gpus: Type.Integer() });

export function registerIdentityRoutes(app: Api, deps: { identity: IdentityService; audit: AuditLog; compute: ComputeService }) {
  const { identity } = deps;

  app.get(
    '/v1/project',
    { schema: { tags: ['identity'], summary: 'The project of this token, its quotas and usage', response: { 200: Type.Object({ project: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), quotas: Quotas, usage: Quotas, created_at: Type.String() }) }), ...errorResponses } } },
    async (request) => {
      const caller = requireProject(principalOf(request.principal), 'viewer');
      const project = await identity.getProject(caller.projectId);
      return { project: { ...project, role: caller.role, usage: await deps.compute.usage(caller.projectId) } };
    },
  );

  app.post(
    '/v1/tokens',
    {
      schema: {
        tags: ['identity'],
        summary: 'Create an API token (owners)',
        description: 'The secret is returned once and stored only as a hash.',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Type.String(), expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ token: Token, secret: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await identity.createToken(principalOf(request.principal), { name: request.body.name, role: request.body.role, expiresInDays: request.body.expires_in_days });
      request.auditResource = { type: 'token', id: result.token.id };
      return reply.code(201).send(result);
    },
  );

  app.get('/v1/tokens', { schema: { tags: ['identity'], summary: 'List the project tokens (owners)', response: { 200: Type.Object({ tokens: Type.Array(Token) }), ...errorResponses } } }, async (request) => ({
    tokens: await identity.listTokens(principalOf(request.principal)),
  }));

  app.delete('/v1/tokens/:id', { schema: { tags: ['identity'], summary: 'Revoke a token (owners)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await identity.revokeToken(principalOf(request.principal), request.params.id);
    return reply.code(204).send(null);
  });

  app.get(
    '/v1/audit-log',
    {
      schema: {
        tags: ['identity'],
        summary: 'Audit log: every mutation, who, what, when, from where',
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), cursor: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ entries: Type.Array(Type.Any()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const projectId = principal.kind === 'project' ? requireProject(principal, 'owner').projectId : (requireOperator(principal), null);
      const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
      if (limit < 1 || limit > 500) throw new VmcError('invalid', 'limit must be 1 to 500', { fields: [{ field: 'limit', message: 'must be 1 to 500' }] });
      const { entries, nextCursor } = await deps.audit.list({ projectId, limit, cursor: request.query.cursor ?? null });
      return { entries, next_cursor: nextCursor };
    },
  );

  app.post(
    '/v1/projects',
    {
      schema: {
        tags: ['operators'],
        summary: 'Create a project with its owner token (operators)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), owner_email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }), quotas: Type.Optional(Type.Partial(Quotas)) }, { additionalProperties: false }),
        response: { 201: Type.Object({ project_id: Type.String(), token: Token, secret: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireOperator(principalOf(request.principal));
      const result = await identity.createProject({ name: request.body.name, ownerEmail: request.body.owner_email, quotas: request.body.quotas });
      request.auditResource = { type: 'project', id: result.projectId };
      return reply.code(201).send({ project_id: result.projectId, token: result.token, secret: result.secret });
    },
  );

  app.patch(
    '/v1/projects/:id/quotas',
    { schema: { tags: ['operators'], summary: 'Set project quotas (operators)', params: IdParams, body: Type.Partial(Quotas, { additionalProperties: false }), response: { 200: Type.Object({ quotas: Quotas }), ...errorResponses } } },
    async (request) => {
      requireOperator(principalOf(request.principal));
      for (const [field, value] of Object.entries(request.body)) {
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1_000_000) throw new VmcError('invalid', `${field} must be 0 to 1000000`, { fields: [{ field, message: 'must be 0 to 1000000' }] });
      }
      await identity.setQuotas(request.params.id, request.body);
      return { quotas: (await identity.getProject(request.params.id)).quotas };
    },
  );

  app.post(
    '/v1/host-tokens',
    { schema: { tags: ['operators'], summary: 'Create a host agent token (operators)', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), response: { 201: Type.Object({ token: Token, secret: Type.String() }), ...errorResponses } } },
    async (request, reply) => {
      requireOperator(principalOf(request.principal));
      return reply.code(201).send(await identity.createHostToken({ name: request.body.name }));
    },
  );
}
