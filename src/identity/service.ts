/**
 * Identity: projects and their quotas, users, and every kind of token — project tokens with a role,
 * operator tokens, host tokens — with expiry, revocation and rotation. Secrets are shown once and stored
 * only as a SHA-256. Quota accounting lives here, in one place: a reservation is checked and counted under
 * the project's row lock in the caller's transaction, and given back in the transaction that frees it.
 */
import type { Db, DialectName, Notifier, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import {
  conflict,
  decodeIdCursor,
  encodeIdCursor,
  filteredKeysetPage,
  forbidden,
  invalid,
  newId,
  notFound,
  pageLimitOf,
  VmcError,
  type Clock,
} from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type {
  ListProjectsQuery,
  OperatorProject,
  OperatorProjectList,
  ProjectCounts,
  Project,
  Token,
  TokenCreated,
  TokenKind,
} from '../contract/index.ts';
import { generateTokenSecret, hashToken, isWellFormedToken, displayPrefix } from './token-format.ts';
import { isProjectRole, projectRoles, roleAllows, type Principal, type ProjectRole } from './roles.ts';
import { createIdentityStore, tokenView, type ProjectRecord, type TokenRecord } from './store.ts';

export const defaultQuotas: ProjectCounts = {
  servers: 50,
  vcpus: 200,
  gpus: 4,
  volumes: 100,
  volume_gib: 10_240,
  custom_images: 20,
};

/** What a reservation or a release counts: any subset of the project's counts. */
export type QuotaDelta = Partial<ProjectCounts>;
/** Live tokens a project may hold: enough for every CI job, few enough that a leak is countable. */
export const maxTokensPerProject = 100;

/** How often a token's last use is written: at most once a minute per token, not on every request. */
const lastUseWriteIntervalMs = 60_000;
/**
 * How long a process trusts a token it has checked. Revoking in this process takes effect at once; other
 * replicas hear of it at its commit (a change notice, src/db/notify.ts) and forget it then. This time to
 * live is the bound only while a replica's notice listener is disconnected (it drops every cached token
 * when it reconnects).
 */
export const tokenCacheTtlMs = 10_000;

const fullDelta = (delta: QuotaDelta): ProjectCounts => ({
  servers: delta.servers ?? 0,
  vcpus: delta.vcpus ?? 0,
  gpus: delta.gpus ?? 0,
  volumes: delta.volumes ?? 0,
  volume_gib: delta.volume_gib ?? 0,
  custom_images: delta.custom_images ?? 0,
});

export function requireProject(principal: Principal, role: ProjectRole): Extract<Principal, { kind: 'project' }> {
  if (principal.kind !== 'project') throw forbidden('this route needs a project token');
  if (!roleAllows(principal.role, role))
    throw forbidden(`this needs the ${role} role; the token has ${principal.role}`);
  return principal;
}

export function requireOperator(principal: Principal): Extract<Principal, { kind: 'operator' }> {
  if (principal.kind !== 'operator') throw forbidden('this route needs an operator token');
  return principal;
}

const expiryOf = (nowMs: number, days: number | undefined) =>
  days === undefined ? null : new Date(nowMs + days * 86_400_000).toISOString();

function validateName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
    throw invalid(`${field} must be 1 to 100 characters`, {
      fields: [{ field, message: 'must be 1 to 100 characters' }],
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(name))
    throw invalid(`${field} must not contain control characters`, {
      fields: [{ field, message: 'must not contain control characters' }],
    });
  return name.trim();
}

/** Change notices between replicas: which token changed (revoked, consumed, bound). */
const tokensChannel = 'tokens';

export function createIdentityService(deps: {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  /** Tells the other replicas (PostgreSQL) which tokens to forget; absent: one process. */
  notifier?: Pick<Notifier, 'publishInTx' | 'subscribe' | 'onResync'>;
}) {
  const { db, clock } = deps;
  const store = createIdentityStore(db, deps.dialect);
  const lastUseWrittenAtMs = new Map<string, number>();
  const tokenCache = new Map<string, { token: TokenRecord; at: number }>();
  /** Bumped whenever tokens are forgotten: a read that started before must not refill the cache. */
  let cacheEpoch = 0;

  const forgetCached = (tokenId: string) => {
    cacheEpoch++;
    for (const [hash, entry] of tokenCache) if (entry.token.id === tokenId) tokenCache.delete(hash);
  };
  deps.notifier?.subscribe(tokensChannel, forgetCached);
  deps.notifier?.onResync(() => {
    cacheEpoch++;
    tokenCache.clear();
  });
  /** In the changing transaction: this replica forgets the token after commit, the others at commit. */
  const forgetEverywhere = async (tx: Tx, hooks: TxHooks, tokenId: string) => {
    hooks.afterCommit(() => forgetCached(tokenId));
    await deps.notifier?.publishInTx(tx, tokensChannel, tokenId);
  };

  async function operatorProjectViews(projects: readonly ProjectRecord[]): Promise<OperatorProject[]> {
    const summaries = await store.memberSummaries(projects.map((p) => p.id));
    return projects.map((p) => {
      const summary = summaries.get(p.id)!;
      return {
        id: p.id,
        name: p.name,
        owners: summary.owners.map((o) => ({ user_id: o.userId, email: o.email })),
        members: summary.members,
        quotas: p.quotas,
        usage: p.usage,
        created_at: p.createdAt,
      };
    });
  }

  async function insertToken(
    tx: Tx,
    hooks: TxHooks,
    input: {
      kind: TokenKind;
      projectId: string | null;
      userId: string | null;
      hostId?: string | null;
      role: string;
      name: string;
      expiresAt: string | null;
    },
  ): Promise<TokenCreated> {
    const secret = generateTokenSecret();
    const token: TokenRecord = {
      id: newId('token', clock.nowMs()),
      kind: input.kind,
      projectId: input.projectId,
      userId: input.userId,
      hostId: input.hostId ?? null,
      role: input.role,
      name: input.name,
      displayPrefix: displayPrefix(secret),
      expiresAt: input.expiresAt,
      lastUsedAt: null,
      revokedAt: null,
      createdAt: clock.nowIso(),
    };
    await store.insertToken(tx, { ...token, hash: hashToken(secret) });
    await deps.events.record(tx, hooks, {
      type: 'token.created',
      projectId: input.projectId,
      resourceType: 'token',
      resourceId: token.id,
      data: { kind: input.kind, role: input.role, name: input.name },
    });
    return { token: tokenView(token), secret };
  }

  async function revoke(
    filter: { id: string; kind: TokenKind; projectId?: string },
    options: {
      /** Runs first, in the revocation's transaction (the last-operator-token check). */
      guard?: (tx: Tx) => Promise<void>;
      /** Runs once the token is revoked, in the same transaction (a host token: its certificates). */
      inRevocation?: (tx: Tx, token: TokenRecord) => Promise<void>;
    } = {},
  ): Promise<TokenRecord> {
    return inTransaction(db, async (tx, hooks) => {
      await options.guard?.(tx);
      const token = await store.tokenById(tx, filter.id);
      if (
        !token ||
        token.kind !== filter.kind ||
        (filter.projectId !== undefined && token.projectId !== filter.projectId)
      )
        throw notFound('token', filter.id);
      if (!(await store.revokeToken(tx, filter, clock.nowIso()))) throw notFound('token', filter.id);
      await options.inRevocation?.(tx, token);
      await forgetEverywhere(tx, hooks, filter.id);
      await deps.events.record(tx, hooks, {
        type: 'token.revoked',
        projectId: token.projectId,
        resourceType: 'token',
        resourceId: filter.id,
        data: { kind: token.kind },
      });
      return token;
    });
  }

  return {
    async authenticate(secret: string): Promise<Principal> {
      if (!isWellFormedToken(secret))
        throw new VmcError('unauthenticated', 'the token is malformed: expected vmc_ followed by 36 characters');
      const hash = hashToken(secret);
      const nowMs = clock.nowMs();
      let token = tokenCache.get(hash);
      if (!token || nowMs - token.at >= tokenCacheTtlMs) {
        const epoch = cacheEpoch;
        const found = await store.tokenByHash(hash);
        if (found && !found.revokedAt) {
          if (tokenCache.size >= 10_000) tokenCache.clear();
          token = { token: found, at: nowMs };
          // A token forgotten while this read ran may have been read before its change: use it, don't keep it.
          if (epoch === cacheEpoch) tokenCache.set(hash, token);
        } else {
          tokenCache.delete(hash);
          token = undefined;
        }
      }
      const row = token?.token;
      if (!row || row.revokedAt) throw new VmcError('unauthenticated', 'the token is unknown or revoked');
      if (row.expiresAt && row.expiresAt <= clock.nowIso())
        throw new VmcError('unauthenticated', `the token expired at ${row.expiresAt}`);
      if (nowMs - (lastUseWrittenAtMs.get(row.id) ?? 0) >= lastUseWriteIntervalMs) {
        lastUseWrittenAtMs.set(row.id, nowMs);
        await store.touchToken(row.id, clock.nowIso());
      }
      if (row.kind === 'operator') return { kind: 'operator', tokenId: row.id, userId: row.userId };
      if (row.kind === 'host') return { kind: 'host', tokenId: row.id, hostId: row.hostId };
      if (!row.projectId || !isProjectRole(row.role)) throw new VmcError('unauthenticated', 'the token has no project');
      return { kind: 'project', tokenId: row.id, userId: row.userId, projectId: row.projectId, role: row.role };
    },

    /** Whether this process checked the token recently and found it valid (no database read). */
    isRecentlyAuthenticated(secret: string): boolean {
      if (!isWellFormedToken(secret)) return false;
      const entry = tokenCache.get(hashToken(secret));
      return entry !== undefined && clock.nowMs() - entry.at < tokenCacheTtlMs && !entry.token.revokedAt;
    },

    /** Throws `unauthenticated` when a token checked earlier was revoked or expired since (console tickets). */
    async recheckToken(tokenId: string): Promise<void> {
      const token = await store.tokenById(db, tokenId);
      if (!token || token.revokedAt) throw new VmcError('unauthenticated', 'the token is unknown or revoked');
      if (token.expiresAt && token.expiresAt <= clock.nowIso())
        throw new VmcError('unauthenticated', `the token expired at ${token.expiresAt}`);
    },

    async createProject(input: { name: string; ownerEmail: string; quotas?: Partial<ProjectCounts> }) {
      const name = validateName(input.name);
      const quotas = { ...defaultQuotas, ...input.quotas };
      return inTransaction(db, async (tx, hooks) => {
        const projectId = newId('project', clock.nowMs());
        const nowIso = clock.nowIso();
        await store.insertProject(tx, { id: projectId, name, quotas, nowIso });
        const userId = await store.ensureUser(tx, {
          id: newId('user', clock.nowMs()),
          email: input.ownerEmail,
          name: input.ownerEmail,
          isOperator: false,
          nowIso,
        });
        await store.insertMembership(tx, { projectId, userId, role: 'owner', nowIso });
        await deps.events.record(tx, hooks, {
          type: 'project.created',
          projectId,
          resourceType: 'project',
          resourceId: projectId,
          data: { name, owner_email: input.ownerEmail },
        });
        const created = await insertToken(tx, hooks, {
          kind: 'project',
          projectId,
          userId,
          role: 'owner',
          name: 'owner',
          expiresAt: null,
        });
        return { project_id: projectId, ...created };
      });
    },

    async createOperator(input: { email: string; name: string }) {
      return inTransaction(db, async (tx, hooks) => {
        const userId = await store.ensureUser(tx, {
          id: newId('user', clock.nowMs()),
          email: input.email,
          name: input.name,
          isOperator: true,
          nowIso: clock.nowIso(),
        });
        return insertToken(tx, hooks, {
          kind: 'operator',
          projectId: null,
          userId,
          role: 'operator',
          name: 'operator',
          expiresAt: null,
        });
      });
    },

    // ---- project tokens --------------------------------------------------------------------------------

    async createToken(principal: Principal, input: { name: string; role: string; expiresInDays?: number }) {
      const owner = requireProject(principal, 'owner');
      const name = validateName(input.name);
      if (!isProjectRole(input.role)) {
        throw invalid('role must be owner, member or viewer', {
          fields: [{ field: 'role', message: 'must be owner, member or viewer' }],
        });
      }
      const role = input.role;
      return inTransaction(db, async (tx, hooks) => {
        await store.project(tx, owner.projectId, { lock: true });
        const live = await store.liveTokens(tx, {
          kind: 'project',
          projectId: owner.projectId,
          nowIso: clock.nowIso(),
        });
        if (live.length >= maxTokensPerProject) {
          throw conflict(`the project has ${live.length} live tokens, the most allowed; revoke unused ones first`, {
            reason: 'token_limit',
          });
        }
        return insertToken(tx, hooks, {
          kind: 'project',
          projectId: owner.projectId,
          userId: owner.userId,
          role,
          name,
          expiresAt: expiryOf(clock.nowMs(), input.expiresInDays),
        });
      });
    },

    async listTokens(principal: Principal): Promise<Token[]> {
      const owner = requireProject(principal, 'owner');
      return (await store.liveTokens(db, { kind: 'project', projectId: owner.projectId, nowIso: clock.nowIso() })).map(
        tokenView,
      );
    },

    async revokeToken(principal: Principal, tokenId: string): Promise<void> {
      const owner = requireProject(principal, 'owner');
      await revoke({ id: tokenId, kind: 'project', projectId: owner.projectId });
    },

    /**
     * Members (src/identity/people.ts): the project row locked in `tx` (PostgreSQL), so that two owners
     * demoting or removing each other at once are serialized and cannot both pass the last-owner check.
     */
    async lockProject(tx: Tx, projectId: string): Promise<void> {
      if (!(await store.project(tx, projectId, { lock: true }))) throw notFound('project', projectId);
    },

    /**
     * A member removed (every project token they made in the project) or demoted (`aboveRole`: those with a
     * role above the new one): revoked in `tx`, forgotten by every replica, one `token.revoked` event each.
     */
    async revokeTokensOfMember(
      tx: Tx,
      hooks: TxHooks,
      input: { projectId: string; userId: string; aboveRole?: ProjectRole },
    ): Promise<string[]> {
      const roles =
        input.aboveRole === undefined ? undefined : projectRoles.filter((r) => !roleAllows(input.aboveRole!, r));
      const ids = await store.revokeTokensOfMember(
        tx,
        { projectId: input.projectId, userId: input.userId, roles },
        clock.nowIso(),
      );
      for (const id of ids) {
        await forgetEverywhere(tx, hooks, id);
        await deps.events.record(tx, hooks, {
          type: 'token.revoked',
          projectId: input.projectId,
          resourceType: 'token',
          resourceId: id,
          data: { kind: 'project' },
        });
      }
      return ids;
    },

    // ---- operator tokens -------------------------------------------------------------------------------

    async createOperatorToken(principal: Principal, input: { name: string; expiresInDays?: number }) {
      const operator = requireOperator(principal);
      const name = validateName(input.name);
      return inTransaction(db, (tx, hooks) =>
        insertToken(tx, hooks, {
          kind: 'operator',
          projectId: null,
          userId: operator.userId,
          role: 'operator',
          name,
          expiresAt: expiryOf(clock.nowMs(), input.expiresInDays),
        }),
      );
    },

    async listOperatorTokens(principal: Principal): Promise<Token[]> {
      requireOperator(principal);
      return (await store.liveTokens(db, { kind: 'operator', nowIso: clock.nowIso() })).map(tokenView);
    },

    /** The last live operator token cannot be revoked: nobody could administer the cloud any more. */
    async revokeOperatorToken(principal: Principal, tokenId: string): Promise<void> {
      requireOperator(principal);
      // Checked in the revocation's transaction with the live operator tokens locked: two operators
      // revoking each other at once cannot both pass the check.
      await revoke(
        { id: tokenId, kind: 'operator' },
        {
          guard: async (tx) => {
            const live = await store.liveTokens(tx, { kind: 'operator', nowIso: clock.nowIso(), lock: true });
            if (live.length <= 1 && live.some((t) => t.id === tokenId)) {
              throw conflict('this is the last operator token; create another one before revoking it', {
                reason: 'last_operator_token',
              });
            }
          },
        },
      );
    },

    // ---- host tokens -----------------------------------------------------------------------------------

    /** A new host token; `hostId` binds it to an existing host at once (rotation). */
    async createHostToken(input: { name: string; expiresInDays?: number; hostId?: string | null }) {
      const name = validateName(input.name);
      return inTransaction(db, (tx, hooks) =>
        insertToken(tx, hooks, {
          kind: 'host',
          projectId: null,
          userId: null,
          hostId: input.hostId ?? null,
          role: 'host',
          name,
          expiresAt: expiryOf(clock.nowMs(), input.expiresInDays),
        }),
      );
    },

    async listHostTokens(): Promise<Token[]> {
      return (await store.liveTokens(db, { kind: 'host', nowIso: clock.nowIso() })).map(tokenView);
    },

    /**
     * Revokes a host token; returns the host it was bound to (its caller takes that host down).
     * `inRevocation` runs in the same transaction with that host (its certificates are revoked with the token).
     */
    async revokeHostToken(
      tokenId: string,
      inRevocation?: (tx: Tx, hostId: string) => Promise<void>,
    ): Promise<{ hostId: string | null }> {
      const token = await revoke(
        { id: tokenId, kind: 'host' },
        {
          inRevocation: async (tx, revoked) => {
            if (revoked.hostId && inRevocation) await inRevocation(tx, revoked.hostId);
          },
        },
      );
      return { hostId: token.hostId };
    },

    /** Revokes every token bound to a host, inside the caller's transaction (a forgotten host). */
    async revokeHostTokens(tx: Tx, hooks: TxHooks, hostId: string): Promise<void> {
      for (const id of await store.revokeTokensOfHost(tx, hostId, clock.nowIso())) {
        await forgetEverywhere(tx, hooks, id);
        await deps.events.record(tx, hooks, {
          type: 'token.revoked',
          projectId: null,
          resourceType: 'token',
          resourceId: id,
          data: { kind: 'host' },
        });
      }
    },

    /**
     * A join token works once: in the join's transaction, the secret presented stops authenticating (the row
     * stays, bound to its host: revoking it later revokes the host). Throws `unauthenticated` when the token
     * was used or revoked meanwhile (another join won), which rolls the join back.
     */
    async consumeJoinToken(tx: Tx, hooks: TxHooks, tokenId: string, secret: string): Promise<void> {
      const consumed = await store.consumeHostToken(tx, tokenId, hashToken(secret), hashToken(generateTokenSecret()));
      if (!consumed) throw new VmcError('unauthenticated', 'the join token was used already or revoked');
      await forgetEverywhere(tx, hooks, tokenId);
    },

    /** Ties a host token to the host it registered, inside the registration's transaction. */
    async bindHostToken(tx: Tx, hooks: TxHooks, tokenId: string, hostId: string): Promise<boolean> {
      if (!(await store.bindHostToken(tx, tokenId, hostId))) return false;
      await forgetEverywhere(tx, hooks, tokenId);
      return true;
    },

    // ---- projects and quotas ---------------------------------------------------------------------------

    async getProject(principal: Principal): Promise<Project> {
      const caller = requireProject(principal, 'viewer');
      const project = await store.project(db, caller.projectId);
      if (!project) throw notFound('project', caller.projectId);
      return {
        id: project.id,
        name: project.name,
        role: caller.role,
        quotas: project.quotas,
        usage: project.usage,
        created_at: project.createdAt,
      };
    },

    async setQuotas(projectId: string, quotas: Partial<ProjectCounts>): Promise<ProjectCounts> {
      const changed = Object.keys(quotas).filter((k) => quotas[k as keyof ProjectCounts] !== undefined);
      return inTransaction(db, async (tx, hooks) => {
        if (changed.length > 0 && !(await store.setQuotas(tx, projectId, quotas))) throw notFound('project', projectId);
        const project = await store.project(tx, projectId);
        if (!project) throw notFound('project', projectId);
        if (changed.length > 0)
          await deps.events.record(tx, hooks, {
            type: 'project.quotas_changed',
            projectId,
            resourceType: 'project',
            resourceId: projectId,
            data: { quotas: { ...project.quotas }, changed },
          });
        return project.quotas;
      });
    },

    /** Every project, oldest first, with its owners and member count (operators). */
    async listProjects(principal: Principal, query: ListProjectsQuery): Promise<OperatorProjectList> {
      requireOperator(principal);
      const { page, nextAfterId } = await filteredKeysetPage({
        limit: pageLimitOf(query.limit),
        afterId: query.cursor ? decodeIdCursor(query.cursor, 'project') : null,
        read: (afterId, batch) => store.projects({ afterId, limit: batch, nameContains: query.name }),
      });
      return {
        projects: await operatorProjectViews(page),
        next_cursor: nextAfterId ? encodeIdCursor(nextAfterId) : null,
      };
    },

    async getOperatorProject(principal: Principal, projectId: string): Promise<OperatorProject> {
      requireOperator(principal);
      const project = await store.project(db, projectId);
      if (!project) throw notFound('project', projectId);
      return (await operatorProjectViews([project]))[0];
    },

    /**
     * Counts `delta` against the project's quotas inside `tx` (the project row locked on PostgreSQL), or
     * refuses with `quota_exceeded` and changes nothing.
     */
    async reserveQuota(tx: Tx, projectId: string, partial: QuotaDelta): Promise<void> {
      const delta = fullDelta(partial);
      if (await store.reserve(tx, projectId, delta)) return;
      // Refused: read the project to say which quota (or that it does not exist).
      const project = await store.project(tx, projectId);
      if (!project) throw notFound('project', projectId);
      const { quotas, usage } = project;
      const over: string[] = [];
      if (usage.servers + delta.servers > quotas.servers) over.push(`servers ${usage.servers}/${quotas.servers}`);
      if (usage.vcpus + delta.vcpus > quotas.vcpus) over.push(`vCPUs ${usage.vcpus}+${delta.vcpus}/${quotas.vcpus}`);
      if (delta.gpus > 0 && usage.gpus + delta.gpus > quotas.gpus)
        over.push(`GPUs ${usage.gpus}+${delta.gpus}/${quotas.gpus}`);
      if (delta.volumes > 0 && usage.volumes + delta.volumes > quotas.volumes)
        over.push(`volumes ${usage.volumes}/${quotas.volumes}`);
      if (delta.volume_gib > 0 && usage.volume_gib + delta.volume_gib > quotas.volume_gib)
        over.push(`volume GiB ${usage.volume_gib}+${delta.volume_gib}/${quotas.volume_gib}`);
      if (delta.custom_images > 0 && usage.custom_images + delta.custom_images > quotas.custom_images)
        over.push(`custom images ${usage.custom_images}/${quotas.custom_images}`);
      throw new VmcError(
        'forbidden',
        `project quota exceeded: ${over.join(', ') || 'see quotas'}; ask support to raise it`,
        {
          reason: 'quota_exceeded',
          details: { quotas, usage },
        },
      );
    },

    /** Gives back what a deleted resource held, in the transaction that deletes it. */
    async releaseQuota(tx: Tx, projectId: string, partial: QuotaDelta): Promise<void> {
      const delta = fullDelta(partial);
      await store.addUsage(tx, projectId, {
        servers: -delta.servers,
        vcpus: -delta.vcpus,
        gpus: -delta.gpus,
        volumes: -delta.volumes,
        volume_gib: -delta.volume_gib,
        custom_images: -delta.custom_images,
      });
    },

    countOperators: () => store.countOperators(),
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
