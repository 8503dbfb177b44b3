/**
 * The only code that names the tables of people (migration 020): `user_credentials`, `user_recovery_codes`,
 * `sessions`, `user_links` — and reads `users`, `memberships`, `projects` for sign-in.
 */
import type { Db, Tx } from '../db/index.ts';
import type { ProjectRole } from './roles.ts';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  isOperator: boolean;
}

export interface CredentialsRow {
  passwordHash: string | null;
  totpSecretId: string | null;
  totpPendingSecretId: string | null;
  totpLastStep: number | null;
}

export interface SessionRecord {
  id: string;
  /** A project session (the console) or an operator session (the operator area; projectId ''). */
  kind: 'project' | 'operator';
  userId: string;
  projectId: string;
  csrfHash: string;
  secondFactor: string;
  sourceIp: string | null;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface MembershipRow {
  projectId: string;
  name: string;
  role: ProjectRole;
}

const sessionOf = (row: {
  id: string;
  kind: string;
  user_id: string;
  project_id: string;
  csrf_hash: string;
  second_factor: string;
  source_ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
}): SessionRecord => ({
  id: row.id,
  kind: row.kind === 'operator' ? 'operator' : 'project',
  userId: row.user_id,
  projectId: row.project_id,
  csrfHash: row.csrf_hash,
  secondFactor: row.second_factor,
  sourceIp: row.source_ip,
  userAgent: row.user_agent,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
});

const sessionColumns = [
  'id',
  'kind',
  'user_id',
  'project_id',
  'csrf_hash',
  'second_factor',
  'source_ip',
  'user_agent',
  'created_at',
  'last_seen_at',
  'expires_at',
  'revoked_at',
] as const;

export function createPeopleStore(db: Db) {
  return {
    async userByEmail(q: Db | Tx, email: string): Promise<UserRow | null> {
      const row = await q
        .selectFrom('users')
        .select(['id', 'email', 'name', 'is_operator'])
        .where('email', '=', email)
        .executeTakeFirst();
      return row ? { id: row.id, email: row.email, name: row.name, isOperator: row.is_operator === 1 } : null;
    },

    async userById(q: Db | Tx, id: string): Promise<UserRow | null> {
      const row = await q
        .selectFrom('users')
        .select(['id', 'email', 'name', 'is_operator'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? { id: row.id, email: row.email, name: row.name, isOperator: row.is_operator === 1 } : null;
    },

    async insertUser(tx: Tx, user: UserRow & { nowIso: string }): Promise<void> {
      await tx
        .insertInto('users')
        .values({
          id: user.id,
          email: user.email,
          name: user.name,
          is_operator: user.isOperator ? 1 : 0,
          created_at: user.nowIso,
        })
        .execute();
    },

    async projectExists(q: Db | Tx, projectId: string): Promise<boolean> {
      return (await q.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst()) !== undefined;
    },

    async upsertMembership(tx: Tx, m: { projectId: string; userId: string; role: string; nowIso: string }) {
      const updated = await tx
        .updateTable('memberships')
        .set({ role: m.role })
        .where('project_id', '=', m.projectId)
        .where('user_id', '=', m.userId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) return;
      await tx
        .insertInto('memberships')
        .values({ project_id: m.projectId, user_id: m.userId, role: m.role, created_at: m.nowIso })
        .execute();
    },

    async setMembershipRole(tx: Tx, m: { projectId: string; userId: string; role: string }): Promise<boolean> {
      const updated = await tx
        .updateTable('memberships')
        .set({ role: m.role })
        .where('project_id', '=', m.projectId)
        .where('user_id', '=', m.userId)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    },

    async deleteMembership(tx: Tx, m: { projectId: string; userId: string }): Promise<boolean> {
      const deleted = await tx
        .deleteFrom('memberships')
        .where('project_id', '=', m.projectId)
        .where('user_id', '=', m.userId)
        .executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    },

    async ownerCount(q: Db | Tx, projectId: string): Promise<number> {
      const row = await q
        .selectFrom('memberships')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .where('role', '=', 'owner')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** The user's projects, oldest membership first. */
    async memberships(q: Db | Tx, userId: string): Promise<MembershipRow[]> {
      const rows = await q
        .selectFrom('memberships')
        .innerJoin('projects', 'projects.id', 'memberships.project_id')
        .select(['memberships.project_id', 'projects.name', 'memberships.role'])
        .where('memberships.user_id', '=', userId)
        .orderBy('memberships.created_at')
        .orderBy('memberships.project_id')
        .execute();
      return rows.map((r) => ({ projectId: r.project_id, name: r.name, role: r.role as ProjectRole }));
    },

    async credentials(q: Db | Tx, userId: string): Promise<CredentialsRow | null> {
      const row = await q.selectFrom('user_credentials').selectAll().where('user_id', '=', userId).executeTakeFirst();
      return row
        ? {
            passwordHash: row.password_hash,
            totpSecretId: row.totp_secret_id,
            totpPendingSecretId: row.totp_pending_secret_id,
            totpLastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
          }
        : null;
    },

    /** Creates the user's credentials row when missing (every change goes through an UPDATE of it). */
    async ensureCredentials(tx: Tx, userId: string, nowIso: string): Promise<void> {
      const existing = await tx
        .selectFrom('user_credentials')
        .select('user_id')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!existing)
        await tx
          .insertInto('user_credentials')
          .values({
            user_id: userId,
            password_hash: null,
            password_changed_at: null,
            totp_secret_id: null,
            totp_pending_secret_id: null,
            totp_last_step: null,
            totp_enabled_at: null,
            updated_at: nowIso,
          })
          .execute();
    },

    async setPassword(q: Db | Tx, userId: string, hash: string, nowIso: string): Promise<void> {
      await q
        .updateTable('user_credentials')
        .set({ password_hash: hash, password_changed_at: nowIso, updated_at: nowIso })
        .where('user_id', '=', userId)
        .execute();
    },

    async setTotp(
      tx: Tx,
      userId: string,
      values: { secretId?: string | null; pendingSecretId?: string | null; enabledAt?: string | null },
      nowIso: string,
    ): Promise<void> {
      await tx
        .updateTable('user_credentials')
        .set({
          ...(values.secretId !== undefined && { totp_secret_id: values.secretId, totp_last_step: null }),
          ...(values.pendingSecretId !== undefined && { totp_pending_secret_id: values.pendingSecretId }),
          ...(values.enabledAt !== undefined && { totp_enabled_at: values.enabledAt }),
          updated_at: nowIso,
        })
        .where('user_id', '=', userId)
        .execute();
    },

    /** Accepts TOTP step `step` once: false when it (or a later step) was used already (a replay). */
    async claimTotpStep(q: Db | Tx, userId: string, step: number): Promise<boolean> {
      const result = await q
        .updateTable('user_credentials')
        .set({ totp_last_step: step })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async replaceRecoveryCodes(tx: Tx, userId: string, hashes: string[], nowIso: string): Promise<void> {
      await tx.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
      if (hashes.length > 0)
        await tx
          .insertInto('user_recovery_codes')
          .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null, created_at: nowIso })))
          .execute();
    },

    /** Uses a recovery code once: false when it is unknown or used. */
    async useRecoveryCode(q: Db | Tx, userId: string, hash: string, nowIso: string): Promise<boolean> {
      const result = await q
        .updateTable('user_recovery_codes')
        .set({ used_at: nowIso })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async recoveryCodesLeft(q: Db | Tx, userId: string): Promise<number> {
      const row = await q
        .selectFrom('user_recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async insertSession(tx: Tx, s: SessionRecord & { secretHash: string }): Promise<void> {
      await tx
        .insertInto('sessions')
        .values({
          id: s.id,
          kind: s.kind,
          user_id: s.userId,
          project_id: s.projectId,
          secret_hash: s.secretHash,
          csrf_hash: s.csrfHash,
          second_factor: s.secondFactor,
          source_ip: s.sourceIp,
          user_agent: s.userAgent,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          revoked_at: null,
        })
        .execute();
    },

    /**
     * A session by its cookie's hash, with the member's role in its project now (null: no longer a member)
     * and whether its user is an operator now.
     */
    async sessionByHash(hash: string): Promise<(SessionRecord & { role: string | null; isOperator: boolean }) | null> {
      const row = await db
        .selectFrom('sessions')
        .leftJoin('memberships', (join) =>
          join
            .onRef('memberships.project_id', '=', 'sessions.project_id')
            .onRef('memberships.user_id', '=', 'sessions.user_id'),
        )
        .leftJoin('users', 'users.id', 'sessions.user_id')
        .select(sessionColumns.map((c) => `sessions.${c}` as const))
        .select(['memberships.role', 'users.is_operator'])
        .where('sessions.secret_hash', '=', hash)
        .executeTakeFirst();
      return row ? { ...sessionOf(row), role: row.role, isOperator: Number(row.is_operator) === 1 } : null;
    },

    /** Marks a user as an operator or not; false when the flag was so already. */
    async setOperator(tx: Tx, userId: string, operator: boolean): Promise<boolean> {
      const result = await tx
        .updateTable('users')
        .set({ is_operator: operator ? 1 : 0 })
        .where('id', '=', userId)
        .where('is_operator', '=', operator ? 0 : 1)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The users marked as operators, by email, with whether they have TOTP. */
    async operators(q: Db | Tx): Promise<Array<UserRow & { totpEnabled: boolean }>> {
      const rows = await q
        .selectFrom('users')
        .leftJoin('user_credentials', 'user_credentials.user_id', 'users.id')
        .select(['users.id', 'users.email', 'users.name', 'user_credentials.totp_secret_id'])
        .where('users.is_operator', '=', 1)
        .orderBy('users.email')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        email: r.email,
        name: r.name,
        isOperator: true,
        totpEnabled: r.totp_secret_id !== null,
      }));
    },

    async sessionById(q: Db | Tx, id: string): Promise<SessionRecord | null> {
      const row = await q.selectFrom('sessions').select(sessionColumns).where('id', '=', id).executeTakeFirst();
      return row ? sessionOf(row) : null;
    },

    async liveSessions(userId: string, nowIso: string, kind: SessionRecord['kind']): Promise<SessionRecord[]> {
      const rows = await db
        .selectFrom('sessions')
        .select(sessionColumns)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowIso)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(sessionOf);
    },

    async touchSession(id: string, nowIso: string): Promise<void> {
      await db.updateTable('sessions').set({ last_seen_at: nowIso }).where('id', '=', id).execute();
    },

    /** Revokes live sessions of a user (one, all but `except`, those in a project, of a kind); their ids. */
    async revokeSessions(
      tx: Tx,
      filter: { userId: string; id?: string; except?: string; projectId?: string; kind?: SessionRecord['kind'] },
      nowIso: string,
    ): Promise<string[]> {
      let query = tx
        .selectFrom('sessions')
        .select('id')
        .where('user_id', '=', filter.userId)
        .where('revoked_at', 'is', null);
      if (filter.id !== undefined) query = query.where('id', '=', filter.id);
      if (filter.except !== undefined) query = query.where('id', '!=', filter.except);
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
      const ids = (await query.execute()).map((r) => r.id);
      if (ids.length > 0) await tx.updateTable('sessions').set({ revoked_at: nowIso }).where('id', 'in', ids).execute();
      return ids;
    },

    /** Moves a live session to another project (the caller checked the membership). */
    async setSessionProject(tx: Tx, id: string, projectId: string): Promise<boolean> {
      const result = await tx
        .updateTable('sessions')
        .set({ project_id: projectId })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async deleteSessionsBefore(nowIso: string): Promise<number> {
      const result = await db.deleteFrom('sessions').where('expires_at', '<', nowIso).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async insertLink(
      tx: Tx,
      link: {
        id: string;
        userId: string;
        purpose: string;
        secretHash: string;
        createdBy: string | null;
        createdAt: string;
        expiresAt: string;
      },
    ): Promise<void> {
      // Earlier unused links of the user stop working: one live link at a time.
      await tx
        .updateTable('user_links')
        .set({ used_at: link.createdAt })
        .where('user_id', '=', link.userId)
        .where('used_at', 'is', null)
        .execute();
      await tx
        .insertInto('user_links')
        .values({
          id: link.id,
          user_id: link.userId,
          purpose: link.purpose,
          secret_hash: link.secretHash,
          created_by: link.createdBy,
          created_at: link.createdAt,
          expires_at: link.expiresAt,
          used_at: null,
        })
        .execute();
    },

    async linkByHash(q: Db | Tx, hash: string) {
      const row = await q.selectFrom('user_links').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
      return row
        ? { id: row.id, userId: row.user_id, purpose: row.purpose, expiresAt: row.expires_at, usedAt: row.used_at }
        : null;
    },

    /** Uses a link once: false when it was used (or replaced) meanwhile. */
    async useLink(tx: Tx, id: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('user_links')
        .set({ used_at: nowIso })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async deleteLinksBefore(nowIso: string): Promise<void> {
      await db.deleteFrom('user_links').where('expires_at', '<', nowIso).execute();
    },
  };
}

export type PeopleStore = ReturnType<typeof createPeopleStore>;
