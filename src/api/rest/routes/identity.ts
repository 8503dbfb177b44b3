import { Readable } from 'node:stream';
import type { Route } from '../route.ts';
import { requireOperator, requireProject, type IdentityService } from '../../../identity/index.ts';
import type { AuditLog } from '../../../audit/index.ts';
import { pageLimitOf } from '../../../core/index.ts';
import {
  createOperatorToken,
  createProject,
  createToken,
  exportAuditLog,
  verifyAuditLog,
  getOperatorProject,
  getProject,
  listAuditLog,
  listProjects,
  listOperatorTokens,
  listTokens,
  revokeOperatorToken,
  revokeToken,
  setProjectQuotas,
} from '../../../contract/index.ts';

export function registerIdentityRoutes(
  route: Route,
  deps: { identity: IdentityService; audit: AuditLog; sealAuditLog: () => Promise<number> },
) {
  const { identity } = deps;

  route(getProject, async ({ principal }) => ({ project: await identity.getProject(principal) }));

  route(createToken, ({ principal, body }) =>
    identity.createToken(principal, { name: body.name, role: body.role, expiresInDays: body.expires_in_days }),
  );
  route(listTokens, async ({ principal }) => ({ tokens: await identity.listTokens(principal) }));
  route(revokeToken, ({ principal, params }) => identity.revokeToken(principal, params.id));

  route(createOperatorToken, ({ principal, body }) =>
    identity.createOperatorToken(principal, { name: body.name, expiresInDays: body.expires_in_days }),
  );
  route(listOperatorTokens, async ({ principal }) => ({ tokens: await identity.listOperatorTokens(principal) }));
  route(revokeOperatorToken, ({ principal, params }) => identity.revokeOperatorToken(principal, params.id));

  route(createProject, ({ body }) =>
    identity.createProject({ name: body.name, ownerEmail: body.owner_email, quotas: body.quotas }),
  );
  route(listProjects, ({ principal, query }) => identity.listProjects(principal, query));
  route(getOperatorProject, async ({ principal, params }) => ({
    project: await identity.getOperatorProject(principal, params.id),
  }));
  route(setProjectQuotas, async ({ params, body }) => ({ quotas: await identity.setQuotas(params.id, body) }));

  route(listAuditLog, async ({ principal, query }) => {
    const projectId =
      principal.kind === 'project' ? requireProject(principal, 'owner').projectId : (requireOperator(principal), null);
    const limit = pageLimitOf(query.limit);
    const { entries, nextCursor } = await deps.audit.list({ projectId, limit, cursor: query.cursor ?? null });
    return { entries, next_cursor: nextCursor };
  });

  route(verifyAuditLog, async () => {
    await deps.sealAuditLog();
    const result = await deps.audit.verify();
    return { ok: result.ok, checked: result.checked, unsealed: result.unsealed, first_bad: result.firstBad ?? null };
  });

  route(exportAuditLog, async ({ query, reply }) => {
    const lines = deps.audit.exportJsonLines({ since: query.since });
    async function* body() {
      for await (const line of lines) yield line.endsWith('\n') ? line : `${line}\n`;
    }
    return reply.code(200).type('application/x-ndjson').send(Readable.from(body()));
  });
}
