/** The only code that names identity's tables: `projects`, `users`, `memberships`, `tokens`. */
import type { Db, DialectName, Tx, TokensTable, ProjectsTable } from '../db/index.ts';
import { sql, type Selectable } from 'kysely';
import type { ProjectCounts, Token, TokenKind } from '../contract/index.ts';

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  projectId: string | null;
  userId: string | null;
  hostId: string | null;
  role: string;
  name: string;
  displayPrefix: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  quotas: ProjectCounts;
  usage: ProjectCounts;
  createdAt: string;
}

type TokenRow = Pick<Selectable<TokensTable>, (typeof tokenColumns)[number]>;

const projectOf = (row: Selectable<ProjectsTable>): ProjectRecord => ({
  id: row.id,
  name: row.name,
  quotas: {
    servers: row.quota_servers,
    vcpus: row.quota_vcpus,
    gpus: row.quota_gpus,
    volumes: Number(row.quota_volumes),
    volume_gib: Number(row.quota_volume_gib),
    custom_images: Number(row.quota_custom_images),
  },
  usage: {
    servers: row.used_servers,
    vcpus: row.used_vcpus,
    gpus: row.used_gpus,
    volumes: Number(row.used_volumes),
    volume_gib: Number(row.used_volume_gib),
    custom_images: Number(row.used_custom_images),
  },
  createdAt: row.created_at,
});

const tokenOf = (row: TokenRow): TokenRecord => ({
  id: row.id,
  kind: row.kind as TokenKind,
  projectId: row.project_id,
  userId: row.user_id,
  hostId: row.host_id,
  role: row.role,
  name: row.name,
  displayPrefix: row.display_prefix,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
  createdAt: row.created_at,
});

export const tokenView = (t: TokenRecord): Token => ({
  id: t.id,
  kind: t.kind,
  name: t.name,
  role: t.role,
  project_id: t.projectId,
  host_id: t.hostId,
  prefix: t.displayPrefix,
  expires_at: t.expiresAt,
  last_used_at: t.lastUsedAt,
  revoked_at: t.revokedAt,
  created_at: t.createdAt,
});

const tokenColumns = [
  'id',
  'kind',
  'project_id',
  'user_id',
  'host_id',
  'role',
  'name',
  'display_prefix',
  'expires_at',
  'last_used_at',
  'revoked_at',
  'created_at',
] as const;

export function createIdentityStore(db: Db, dialect: DialectName) {
  return {
    async tokenByHash(hash: string): Promise<TokenRecord | null> {
      const row = await db.selectFrom('tokens').select(tokenColumns).where('token_hash', '=', hash).executeTakeFirst();
      return row ? tokenOf(row) : null;
    },

    async insertToken(tx: Tx, token: TokenRecord & { hash: string }): Promise<void> {
      await tx
        .insertInto('tokens')
        .values({
          id: token.id,
          kind: token.kind,
          project_id: token.projectId,
          user_id: token.userId,
          host_id: token.hostId,
          role: token.role,
          name: token.name,
          token_hash: token.hash,
          display_prefix: token.displayPrefix,
          expires_at: token.expiresAt,
          last_used_at: null,
          revoked_at: null,
          created_at: token.createdAt,
        })
        .execute();
    },

    async touchToken(id: string, nowIso: string): Promise<void> {
      await db.updateTable('tokens').set({ last_used_at: nowIso }).where('id', '=', id).execute();
    },

    /** Live (unrevoked, unexpired) tokens of a kind, optionally of one project; `lock`: FOR UPDATE (PostgreSQL). */
    async liveTokens(
      q: Tx | Db,
      filter: { kind: TokenKind; projectId?: string; nowIso: string; lock?: boolean },
    ): Promise<TokenRecord[]> {
      let query = q
        .selectFrom('tokens')
        .select(tokenColumns)
        .where('kind', '=', filter.kind)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', filter.nowIso)]))
        .orderBy('id');
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      if (filter.lock && dialect === 'postgres') query = query.forUpdate();
      return (await query.execute()).map(tokenOf);
    },

    async tokenById(q: Tx | Db, id: string): Promise<TokenRecord | null> {
      const row = await q.selectFrom('tokens').select(tokenColumns).where('id', '=', id).executeTakeFirst();
      return row ? tokenOf(row) : null;
    },

    /** Revokes one live token; false when there was none (unknown, already revoked, other kind or project). */
    async revokeToken(
      tx: Tx,
      filter: { id: string; kind: TokenKind; projectId?: string },
      nowIso: string,
    ): Promise<boolean> {
      let query = tx
        .updateTable('tokens')
        .set({ revoked_at: nowIso })
        .where('id', '=', filter.id)
        .where('kind', '=', filter.kind)
        .where('revoked_at', 'is', null);
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      return Number((await query.executeTakeFirst()).numUpdatedRows) > 0;
    },

    /** Revokes the live project tokens a user made in a project (only those of `roles` when given); their ids. */
    async revokeTokensOfMember(
      tx: Tx,
      filter: { projectId: string; userId: string; roles?: string[] },
      nowIso: string,
    ): Promise<string[]> {
      let query = tx
        .selectFrom('tokens')
        .select('id')
        .where('kind', '=', 'project')
        .where('project_id', '=', filter.projectId)
        .where('user_id', '=', filter.userId)
        .where('revoked_at', 'is', null);
      if (filter.roles !== undefined) {
        if (filter.roles.length === 0) return [];
        query = query.where('role', 'in', filter.roles);
      }
      const ids = (await query.execute()).map((r) => r.id);
      if (ids.length > 0) await tx.updateTable('tokens').set({ revoked_at: nowIso }).where('id', 'in', ids).execute();
      return ids;
    },

    /** Revokes every live token bound to a host; returns their ids. */
    async revokeTokensOfHost(tx: Tx, hostId: string, nowIso: string): Promise<string[]> {
      const rows = await tx
        .selectFrom('tokens')
        .select('id')
        .where('host_id', '=', hostId)
        .where('revoked_at', 'is', null)
        .execute();
      if (rows.length > 0)
        await tx
          .updateTable('tokens')
          .set({ revoked_at: nowIso })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
      return rows.map((r) => r.id);
    },

    /** Binds a host token to the host it registered; false when it is bound already (or not a live host token). */
    async bindHostToken(tx: Tx, tokenId: string, hostId: string): Promise<boolean> {
      const result = await tx
        .updateTable('tokens')
        .set({ host_id: hostId })
        .where('id', '=', tokenId)
        .where('kind', '=', 'host')
        .where('host_id', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * Consumes a join token: replaces its hash (the secret presented) by one nobody knows, so the secret never
     * authenticates again while the row stays as the host's live credential record. Compare-and-swap on the
     * hash: of two joins racing with the same token, one wins. False when it was consumed or revoked already.
     */
    async consumeHostToken(tx: Tx, tokenId: string, presentedHash: string, replacementHash: string): Promise<boolean> {
      const result = await tx
        .updateTable('tokens')
        .set({ token_hash: replacementHash })
        .where('id', '=', tokenId)
        .where('kind', '=', 'host')
        .where('token_hash', '=', presentedHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async ensureUser(tx: Tx, input: { id: string; email: string; name: string; isOperator: boolean; nowIso: string }) {
      const existing = await tx.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst();
      if (existing) return existing.id;
      await tx
        .insertInto('users')
        .values({
          id: input.id,
          email: input.email,
          name: input.name,
          is_operator: input.isOperator ? 1 : 0,
          created_at: input.nowIso,
        })
        .execute();
      return input.id;
    },

    async countOperators(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('is_operator', '=', 1)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async insertProject(tx: Tx, project: { id: string; name: string; quotas: ProjectCounts; nowIso: string }) {
      await tx
        .insertInto('projects')
        .values({
          id: project.id,
          name: project.name,
          quota_servers: project.quotas.servers,
          quota_vcpus: project.quotas.vcpus,
          quota_gpus: project.quotas.gpus,
          quota_volumes: project.quotas.volumes,
          quota_volume_gib: project.quotas.volume_gib,
          quota_custom_images: project.quotas.custom_images,
          created_at: project.nowIso,
        })
        .execute();
    },

    async insertMembership(tx: Tx, m: { projectId: string; userId: string; role: string; nowIso: string }) {
      await tx
        .insertInto('memberships')
        .values({ project_id: m.projectId, user_id: m.userId, role: m.role, created_at: m.nowIso })
        .execute();
    },

    /** The project row, locked for update on PostgreSQL (the quota check and its increment are one step). */
    async project(q: Tx | Db, id: string, options: { lock?: boolean } = {}): Promise<ProjectRecord | null> {
      let query = q.selectFrom('projects').selectAll().where('id', '=', id);
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? projectOf(row) : null;
    },

    /** Projects in id order (oldest first) after `afterId`; `nameContains` matches any case. */
    async projects(filter: { afterId: string | null; limit: number; nameContains?: string }): Promise<ProjectRecord[]> {
      let query = db.selectFrom('projects').selectAll().orderBy('id').limit(filter.limit);
      if (filter.afterId) query = query.where('id', '>', filter.afterId);
      if (filter.nameContains) {
        const pattern = `%${filter.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
      }
      return (await query.execute()).map(projectOf);
    },

    /** Per project: its owners (oldest membership first) and how many members it has. */
    async memberSummaries(
      projectIds: readonly string[],
    ): Promise<Map<string, { owners: Array<{ userId: string; email: string }>; members: number }>> {
      const out = new Map(
        projectIds.map((id) => [id, { owners: [] as Array<{ userId: string; email: string }>, members: 0 }]),
      );
      if (projectIds.length === 0) return out;
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['memberships.project_id', 'memberships.role', 'users.id', 'users.email'])
        .where('memberships.project_id', 'in', [...projectIds])
        .orderBy('memberships.created_at')
        .orderBy('users.id')
        .execute();
      for (const row of rows) {
        const summary = out.get(row.project_id)!;
        summary.members++;
        if (row.role === 'owner') summary.owners.push({ userId: row.id, email: row.email });
      }
      return out;
    },

    /**
     * Counts `delta` against the project's quotas in one statement: the row is updated only when every
     * count stays within its quota (the UPDATE locks the row on PostgreSQL). False when a quota is exceeded
     * or the project does not exist.
     */
    async reserve(tx: Tx, id: string, delta: ProjectCounts): Promise<boolean> {
      const result = await tx
        .updateTable('projects')
        .set((eb) => ({
          used_servers: eb('used_servers', '+', delta.servers),
          used_vcpus: eb('used_vcpus', '+', delta.vcpus),
          used_gpus: eb('used_gpus', '+', delta.gpus),
          used_volumes: eb('used_volumes', '+', delta.volumes),
          used_volume_gib: eb('used_volume_gib', '+', delta.volume_gib),
          used_custom_images: eb('used_custom_images', '+', delta.custom_images),
        }))
        .where('id', '=', id)
        .where((eb) =>
          eb.and([
            eb(eb('used_servers', '+', delta.servers), '<=', eb.ref('quota_servers')),
            eb(eb('used_vcpus', '+', delta.vcpus), '<=', eb.ref('quota_vcpus')),
            delta.gpus > 0 ? eb(eb('used_gpus', '+', delta.gpus), '<=', eb.ref('quota_gpus')) : eb.lit(true),
            delta.volumes > 0
              ? eb(eb('used_volumes', '+', delta.volumes), '<=', eb.ref('quota_volumes'))
              : eb.lit(true),
            delta.volume_gib > 0
              ? eb(eb('used_volume_gib', '+', delta.volume_gib), '<=', eb.ref('quota_volume_gib'))
              : eb.lit(true),
            delta.custom_images > 0
              ? eb(eb('used_custom_images', '+', delta.custom_images), '<=', eb.ref('quota_custom_images'))
              : eb.lit(true),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async addUsage(tx: Tx, id: string, delta: ProjectCounts): Promise<void> {
      await tx
        .updateTable('projects')
        .set((eb) => ({
          used_servers: eb('used_servers', '+', delta.servers),
          used_vcpus: eb('used_vcpus', '+', delta.vcpus),
          used_gpus: eb('used_gpus', '+', delta.gpus),
          used_volumes: eb('used_volumes', '+', delta.volumes),
          used_volume_gib: eb('used_volume_gib', '+', delta.volume_gib),
          used_custom_images: eb('used_custom_images', '+', delta.custom_images),
        }))
        .where('id', '=', id)
        .execute();
    },

    async setQuotas(q: Tx | Db, id: string, quotas: Partial<ProjectCounts>): Promise<boolean> {
      const result = await q
        .updateTable('projects')
        .set({
          ...(quotas.servers !== undefined && { quota_servers: quotas.servers }),
          ...(quotas.vcpus !== undefined && { quota_vcpus: quotas.vcpus }),
          ...(quotas.gpus !== undefined && { quota_gpus: quotas.gpus }),
          ...(quotas.volumes !== undefined && { quota_volumes: quotas.volumes }),
          ...(quotas.volume_gib !== undefined && { quota_volume_gib: quotas.volume_gib }),
          ...(quotas.custom_images !== undefined && { quota_custom_images: quotas.custom_images }),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;
