import type { Db, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { newId, invalid, notFound, forbidden, VmcError, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { generateTokenSecret, hashToken, isWellFormedToken, displayPrefix } from './token-format.ts';
import { isProjectRole, roleAllows, type Principal, type ProjectRole } from './roles.ts';

export interface TokenView {
  id: string;
  kind: string;
  name: string;
  role: string;
  project_id: string | null;
  prefix: string;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface ProjectQuotas {
  servers: number;
  vcpus: number;
  gpus: number;
}

export const defaultQuotas: ProjectQuotas = { servers: 50, vcpus: 200, gpus: 4 };

/** How often a token's last use is written: at most once a minute per token, not on every request. */
const lastUseWriteIntervalMs = 60_000;
/**
 * How long a process trusts a token it has checked. Revoking in this process takes effect at once; other
 * replicas of the control plane notice within this time.
 */
export const tokenCacheTtlMs = 10_000;

export interface IdentityService {
  authenticate(secret: string): Promise<Principal>;
  createProject(input: { name: string; ownerEmail: string; quotas?: Partial<ProjectQuotas> }): Promise<{ projectId: string; userId: string; token: TokenView; secret: string }>;
  createOperator(input: { email: string; name: string }): Promise<{ userId: string; token: TokenView; secret: string }>;
  createHostToken(input: { name: string }): Promise<{ token: TokenView; secret: string }>;
  createToken(principal: Principal, input: { name: string; role: string; expiresInDays?: number }): Promise<{ token: TokenView; secret: string }>;
  listTokens(principal: Principal): Promise<TokenView[]>;
  revokeToken(principal: Principal, tokenId: string): Promise<void>;
  getProject(projectId: string): Promise<{ id: string; name: string; quotas: ProjectQuotas; created_at: string }>;
  setQuotas(projectId: string, quotas: Partial<ProjectQuotas>): Promise<void>;
  countOperators(): Promise<number>;
  /** Ties a host token to the host it registered; a host token speaks for one host only. */
  bindHostToken(principal: Principal, hostId: string): Promise<void>;
}

export function requireProject(principal: Principal, role: ProjectRole): Extract<Principal, { kind: 'project' }> {
  if (principal.kind !== 'project') throw forbidden('this route needs a project token');
  if (!roleAllows(principal.role, role)) throw forbidden(`this needs the ${role} role; the token has ${principal.role}`);
  return principal;
}

export function requireOperator(principal: Principal): Extract<Principal, { kind: 'operator' }> {
  if (principal.kind !== 'operator') throw forbidden('this route needs an operator token');
  return principal;
}

function toView(row: { id: string; kind: string; name: string; role: string; project_id: string | null; display_prefix: string; expires_at: string | null; last_used_at: string | null; created_at: string }): TokenView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    role: row.role,
    project_id: row.project_id,
    prefix: row.display_prefix,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    created_at: row.created_at,
  };
}

export function createIdentityService(deps: { db: Db; clock: Clock; events: EventRecorder }): IdentityService {
  const { db, clock } = deps;
  const lastUseWrittenAtMs = new Map<string, number>();
  type TokenRow = Awaited<ReturnType<typeof readToken>>;
  const tokenCache = new Map<string, { row: NonNullable<TokenRow>; at: number }>();
  function readToken(hash: string) {
    return db.selectFrom('tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async function insertToken(
    tx: Tx,
    hooks: TxHooks,
    input: { kind: string; projectId: string | null; userId: string | null; hostId?: string | null; role: string; name: string; expiresAt: string | null },
  ) {
    const secret = generateTokenSecret();
    const row = {
      id: newId('token', clock.nowMs()),
      kind: input.kind,
      project_id: input.projectId,
      user_id: input.userId,
      host_id: input.hostId ?? null,
      role: input.role,
      name: input.name,
      token_hash: hashToken(secret),
      display_prefix: displayPrefix(secret),
      expires_at: input.expiresAt,
      last_used_at: null,
      revoked_at: null,
      created_at: clock.nowIso(),
    };
    await tx.insertInto('tokens').values(row).execute();
    await deps.events.record(tx, hooks, {
      type: 'token.created',
      projectId: input.projectId,
      resourceType: 'token',
      resourceId: row.id,
      data: { kind: input.kind, role: input.role, name: input.name },
    });
    return { token: toView(row), secret };
  }

  async function ensureUser(tx: Tx, email: string, name: string, isOperator: boolean): Promise<string> {
    const existing = await tx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (existing) return existing.id;
    const id = newId('user', clock.nowMs());
    await tx.insertInto('users').values({ id, email, name, is_operator: isOperator ? 1 : 0, created_at: clock.nowIso() }).execute();
    return id;
  }

  function validateName(name: unknown, field = 'name'): string {
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
      throw invalid(`${field} must be 1 to 100 characters`, { fields: [{ field, message: 'must be 1 to 100 characters' }] });
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(`${field} must not contain control characters`, { fields: [{ field, message: 'must not contain control characters' }] });
    return name.trim();
  }

  return {
    async authenticate(secret) {
      if (!isWellFormedToken(secret)) throw new VmcError('unauthenticated', 'the token is malformed: expected vmc_ followed by 36 characters');
      const hash = hashToken(secret);
      let row = tokenCache.get(hash)?.row;
      if (!row || clock.nowMs() - tokenCache.get(hash)!.at >= tokenCacheTtlMs) {
        row = await readToken(hash);
        if (row && !row.revoked_at) {
          if (tokenCache.size >= 10_000) tokenCache.clear();
          tokenCache.set(hash, { row, at: clock.nowMs() });
        } else tokenCache.delete(hash);
      }
      if (!row || row.revoked_at) throw new VmcError('unauthenticated', 'the token is unknown or revoked');
      if (row.expires_at && row.expires_at <= clock.nowIso()) throw new VmcError('unauthenticated', `the token expired at ${row.expires_at}`);
      const nowMs = clock.nowMs();
      if (nowMs - (lastUseWrittenAtMs.get(row.id) ?? 0) >= lastUseWriteIntervalMs) {
        lastUseWrittenAtMs.set(row.id, nowMs);
        await db.updateTable('tokens').set({ last_used_at: clock.nowIso() }).where('id', '=', row.id).execute();
      }
      if (row.kind === 'operator') return { kind: 'operator', tokenId: row.id, userId: row.user_id };
      if (row.kind === 'host') return { kind: 'host', tokenId: row.id, hostId: row.host_id };
      if (!row.project_id || !isProjectRole(row.role)) throw new VmcError('unauthenticated', 'the token has no project');
      return { kind: 'project', tokenId: row.id, userId: row.user_id, projectId: row.project_id, role: row.role };
    },

    async createProject(input) {
      const name = validateName(input.name);
      const quotas = { ...defaultQuotas, ...input.quotas };
      return inTransaction(db, async (tx, hooks) => {
        const projectId = newId('project', clock.nowMs());
        await tx
          .insertInto('projects')
          .values({ id: projectId, name, quota_servers: quotas.servers, quota_vcpus: quotas.vcpus, quota_gpus: quotas.gpus, created_at: clock.nowIso() })
          .execute();
        const userId = await ensureUser(tx, input.ownerEmail, input.ownerEmail, false);
        await tx.insertInto('memberships').values({ project_id: projectId, user_id: userId, role: 'owner', created_at: clock.nowIso() }).execute();
        const { token, secret } = await insertToken(tx, hooks, { kind: 'project', projectId, userId, role: 'owner', name: 'owner', expiresAt: null });
        return { projectId, userId, token, secret };
      });
    },

    async createOperator(input) {
      return inTransaction(db, async (tx, hooks) => {
        const userId = await ensureUser(tx, input.email, input.name, true);
        const { token, secret } = await insertToken(tx, hooks, { kind: 'operator', projectId: null, userId, role: 'operator', name: 'operator', expiresAt: null });
        return { userId, token, secret };
      });
    },

    async createHostToken(input) {
      return inTransaction(db, (tx, hooks) =>
        insertToken(tx, hooks, { kind: 'host', projectId: null, userId: null, role: 'host', name: validateName(input.name), expiresAt: null }),
      );
    },

    async createToken(principal, input) {
      const owner = requireProject(principal, 'owner');
      const name = validateName(input.name);
      if (typeof input.role !== 'string' || !isProjectRole(input.role)) {
        throw invalid('role must be owner, member or viewer', { fields: [{ field: 'role', message: 'must be owner, member or viewer' }] });
      }
      const days = input.expiresInDays;
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
        throw invalid('expires_in_days must be a whole number from 1 to 3650', { fields: [{ field: 'expires_in_days', message: 'must be 1 to 3650' }] });
      }
      const expiresAt = days === undefined ? null : new Date(clock.nowMs() + days * 86_400_000).toISOString();
      const role = input.role;
      return inTransaction(db, (tx, hooks) =>
        insertToken(tx, hooks, { kind: 'project', projectId: owner.projectId, userId: owner.userId, role, name, expiresAt }),
      );
    },

    async listTokens(principal) {
      const owner = requireProject(principal, 'owner');
      const rows = await db
        .selectFrom('tokens')
        .selectAll()
        .where('project_id', '=', owner.projectId)
        .where('revoked_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map(toView);
    },

    async revokeToken(principal, tokenId) {
      const owner = requireProject(principal, 'owner');
      await inTransaction(db, async (tx, hooks) => {
        const result = await tx
          .updateTable('tokens')
          .set({ revoked_at: clock.nowIso() })
          .where('id', '=', tokenId)
          .where('project_id', '=', owner.projectId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) throw notFound('token', tokenId);
        hooks.afterCommit(() => {
          for (const [hash, entry] of tokenCache) if (entry.row.id === tokenId) tokenCache.delete(hash);
        });
        await deps.events.record(tx, hooks, { type: 'token.revoked', projectId: owner.projectId, resourceType: 'token', resourceId: tokenId });
      });
    },

    async getProject(projectId) {
      const row = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
      if (!row) throw notFound('project', projectId);
      return { id: row.id, name: row.name, quotas: { servers: row.quota_servers, vcpus: row.quota_vcpus, gpus: row.quota_gpus }, created_at: row.created_at };
    },

    async setQuotas(projectId, quotas) {
      const result = await db
        .updateTable('projects')
        .set({
          ...(quotas.servers !== undefined && { quota_servers: quotas.servers }),
          ...(quotas.vcpus !== undefined && { quota_vcpus: quotas.vcpus }),
          ...(quotas.gpus !== undefined && { quota_gpus: quotas.gpus }),
        })
        .where('id', '=', projectId)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('project', projectId);
    },

    async bindHostToken(principal, hostId) {
      if (principal.kind !== 'host') throw forbidden('this route needs a host token');
      if (principal.hostId === hostId) return;
      if (principal.hostId !== null) throw forbidden(`this host token belongs to host ${principal.hostId}`);
      await db.updateTable('tokens').set({ host_id: hostId }).where('id', '=', principal.tokenId).where('host_id', 'is', null).execute();
      for (const entry of tokenCache.values()) if (entry.row.id === principal.tokenId) entry.row.host_id = hostId;
      principal.hostId = hostId;
    },

    async countOperators() {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_operator', '=', 1).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
