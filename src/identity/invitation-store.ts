/**
 * The only code that names `project_invitations` (migration 029); it also reads `memberships` and `users`
 * for the list of members.
 */
import type { Db, Tx } from '../db/index.ts';
import type { ProjectRole } from './roles.ts';

export interface InvitationRecord {
  id: string;
  projectId: string;
  email: string;
  role: ProjectRole;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

const columns = [
  'id',
  'project_id',
  'email',
  'role',
  'invited_by',
  'created_at',
  'expires_at',
  'accepted_at',
  'revoked_at',
] as const;

const recordOf = (row: {
  id: string;
  project_id: string;
  email: string;
  role: string;
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}): InvitationRecord => ({
  id: row.id,
  projectId: row.project_id,
  email: row.email,
  role: row.role as ProjectRole,
  invitedBy: row.invited_by,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  acceptedAt: row.accepted_at,
  revokedAt: row.revoked_at,
});

export function createInvitationStore() {
  return {
    async insert(tx: Tx, invitation: InvitationRecord & { secretHash: string }): Promise<void> {
      await tx
        .insertInto('project_invitations')
        .values({
          id: invitation.id,
          project_id: invitation.projectId,
          email: invitation.email,
          role: invitation.role,
          secret_hash: invitation.secretHash,
          invited_by: invitation.invitedBy,
          created_at: invitation.createdAt,
          expires_at: invitation.expiresAt,
          accepted_at: null,
          accepted_by: null,
          revoked_at: null,
        })
        .execute();
    },

    async byHash(q: Db | Tx, hash: string): Promise<InvitationRecord | null> {
      const row = await q
        .selectFrom('project_invitations')
        .select(columns)
        .where('secret_hash', '=', hash)
        .executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    async byId(q: Db | Tx, projectId: string, id: string): Promise<InvitationRecord | null> {
      const row = await q
        .selectFrom('project_invitations')
        .select(columns)
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    /** Invitations neither accepted, revoked nor expired; oldest first. `email` narrows to one address. */
    async pending(q: Db | Tx, projectId: string, nowIso: string, email?: string): Promise<InvitationRecord[]> {
      let query = q
        .selectFrom('project_invitations')
        .select(columns)
        .where('project_id', '=', projectId)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowIso);
      if (email !== undefined) query = query.where('email', '=', email);
      return (await query.orderBy('created_at').orderBy('id').execute()).map(recordOf);
    },

    /** Marks a pending invitation accepted: false when it was accepted or revoked meanwhile. */
    async markAccepted(tx: Tx, id: string, userId: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('project_invitations')
        .set({ accepted_at: nowIso, accepted_by: userId })
        .where('id', '=', id)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Revokes a pending invitation: false when it was accepted or revoked already. */
    async revoke(tx: Tx, projectId: string, id: string, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('project_invitations')
        .set({ revoked_at: nowIso })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The project's members with their e-mail, oldest membership first. */
    async members(
      q: Db | Tx,
      projectId: string,
    ): Promise<Array<{ userId: string; email: string; name: string; role: ProjectRole; joinedAt: string }>> {
      const rows = await q
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'users.email', 'users.name', 'memberships.role', 'memberships.created_at'])
        .where('memberships.project_id', '=', projectId)
        .orderBy('memberships.created_at')
        .orderBy('users.id')
        .execute();
      return rows.map((r) => ({
        userId: r.id,
        email: r.email,
        name: r.name,
        role: r.role as ProjectRole,
        joinedAt: r.created_at,
      }));
    },

    /** One member of the project with their e-mail, or null. */
    async member(
      q: Db | Tx,
      projectId: string,
      userId: string,
    ): Promise<{ userId: string; email: string; name: string; role: ProjectRole; joinedAt: string } | null> {
      const r = await q
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'users.email', 'users.name', 'memberships.role', 'memberships.created_at'])
        .where('memberships.project_id', '=', projectId)
        .where('memberships.user_id', '=', userId)
        .executeTakeFirst();
      return r
        ? { userId: r.id, email: r.email, name: r.name, role: r.role as ProjectRole, joinedAt: r.created_at }
        : null;
    },

    async memberRole(q: Db | Tx, projectId: string, userId: string): Promise<string | null> {
      const row = await q
        .selectFrom('memberships')
        .select('role')
        .where('project_id', '=', projectId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row?.role ?? null;
    },
  };
}

export type InvitationStore = ReturnType<typeof createInvitationStore>;
