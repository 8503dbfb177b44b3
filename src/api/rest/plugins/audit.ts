/**
 * The audit log at the REST edge: every mutation by a principal gets one entry — written inside the
 * mutation's own transaction when it changed something (so a crash can never keep the change and lose
 * the entry), or alone after the answer when it was refused. Refused tokens are recorded too, at most
 * `failedAuthEntriesPerMinute` per client address.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../../identity/index.ts';
import { auditActions, type AuditEntry, type AuditLog, type FailedAuthRecorder } from '../../../audit/index.ts';
import type { VmcError } from '../../../core/index.ts';
import { createRateLimiter } from '../rate-limit.ts';
import '../context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    audit: { committed(): boolean } | null;
  }
}

export interface AccessRecord {
  action: string;
  resourceType: string;
  resourceId: string;
  /** Who, when the request itself carries no token (a console opened with a ticket). */
  principal?: Principal;
}

export interface AuditOptions {
  audit: AuditLog;
  failedAuth: FailedAuthRecorder;
  nowMs: () => number;
}

const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Agent reports and heartbeats are telemetry, not changes made by a person. */
const isTelemetry = (request: FastifyRequest) => request.url.startsWith('/v1/agent/hosts/');

/** The id of the resource a mutation acted on: the path's `id`, else the first `{ id }` of its answer. */
export function resourceIdOf(params: unknown, result: unknown): string | null {
  const id = (params as { id?: unknown } | null)?.id;
  if (typeof id === 'string') return id;
  if (result === null || typeof result !== 'object') return null;
  for (const [key, value] of Object.entries(result)) {
    if (key.endsWith('_id') && typeof value === 'string') return value;
    if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
      return (value as { id: string }).id;
    }
  }
  return null;
}

function entryOf(
  request: FastifyRequest,
  statusCode: number,
  resourceId: string | null,
  principal: Principal = request.principal!,
): AuditEntry {
  const operation = request.routeOptions.config?.operation;
  return {
    projectId: principal.kind === 'project' ? principal.projectId : null,
    actorUserId: principal.kind === 'host' ? null : principal.userId,
    actorTokenId: principal.tokenId,
    action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    resourceType: operation?.resource ?? null,
    resourceId,
    outcome: statusCode < 400 ? 'success' : 'failure',
    statusCode,
    requestId: request.id,
    sourceIp: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  };
}

async function audit(app: FastifyInstance, options: AuditOptions) {
  app.decorateRequest('audit', null);

  const appendSafely = async (request: FastifyRequest, entry: AuditEntry) => {
    try {
      await options.audit.append(null, entry);
    } catch (error) {
      // An entry that cannot be written is logged loudly; it never replaces the answer already decided.
      request.log.error({ err: error, audit: entry }, 'audit entry could not be written');
    }
  };

  // preValidation: requests refused by schema validation are recorded too.
  app.addHook('preValidation', async (request) => {
    if (!mutating.has(request.method) || !request.principal || isTelemetry(request)) return;
    const operation = request.routeOptions.config?.operation;
    const participant = options.audit.participant((result) =>
      entryOf(request, operation?.status ?? 200, resourceIdOf(request.params, result)),
    );
    request.transactionParticipants.push(participant);
    request.audit = { committed: participant.committed };
  });

  // Before the answer leaves, so that a client reading the log right after its request finds the entry.
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    if (!request.audit || request.audit.committed() || reply.getHeader('Idempotent-Replayed')) return payload;
    await appendSafely(request, entryOf(request, reply.statusCode, resourceIdOf(request.params, null)));
    return payload;
  });

  // Operators' reads are recorded too (their mutations already are), once a minute per token and route.
  const operatorReads = createRateLimiter({ limitPerWindow: 1, windowMs: 60_000, nowMs: options.nowMs });
  app.addHook('onResponse', async (request, reply) => {
    if (request.principal?.kind !== 'operator' || mutating.has(request.method)) return;
    const route = request.routeOptions.url ?? request.url.split('?')[0];
    if (!operatorReads.take(`${request.principal.tokenId} ${route}`).allowed) return;
    await appendSafely(request, {
      ...entryOf(request, reply.statusCode, resourceIdOf(request.params, null)),
      action: auditActions.operatorTokenUsed,
      details: { route: `${request.method} ${route}` },
    });
  });

  /** Reads worth a record of their own: a console opened, a boot log read, a disk exported. */
  app.decorate('auditAccess', (request: FastifyRequest, access: AccessRecord) =>
    appendSafely(request, {
      ...entryOf(request, 200, access.resourceId, access.principal ?? request.principal!),
      action: access.action,
      resourceType: access.resourceType,
    }),
  );

  /** For the authentication plugin: a refused token, recorded within the per-address limit. */
  app.decorate('auditFailedAuthentication', (request: FastifyRequest, error: VmcError) => {
    const presented = /^Bearer\s+(vmc_\w{0,8})/i.exec(request.headers.authorization ?? '')?.[1] ?? null;
    options.failedAuth
      .record({
        sourceIp: request.ip,
        reason: error.message,
        requestId: request.id,
        userAgent: request.headers['user-agent'] ?? null,
        tokenPrefix: presented,
      })
      .catch((failure: unknown) => request.log.error({ err: failure }, 'failed authentication could not be audited'));
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    auditFailedAuthentication(request: FastifyRequest, error: VmcError): void;
    auditAccess(request: FastifyRequest, access: AccessRecord): Promise<void>;
  }
}

export const auditPlugin = fp(audit, { name: 'vmcloud-audit' });
