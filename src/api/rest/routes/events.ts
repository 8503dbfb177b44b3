import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { Db } from '../../../db/index.ts';
import { listEvents } from '../../../events/index.ts';
import { requireProject } from '../../../identity/index.ts';
import { principalOf } from '../context.ts';
import { errorResponses } from '../schemas.ts';

export function registerEventRoutes(app: Api, deps: { db: Db }) {
  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'The event stream: every state change, in order',
        description: 'Poll with `after` = the `last` of the previous answer. Project tokens see their project, operators everything.',
        querystring: Type.Object(
          { after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), type: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ events: Type.Array(Type.Any()), last: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
      return listEvents(deps.db, {
        projectId,
        after: Number(request.query.after ?? 0),
        limit: Number(request.query.limit ?? 100),
        types: request.query.type ? request.query.type.split(',').map((t) => t.trim()) : undefined,
      });
    },
  );
}
