import type { Kysely, Migration } from 'kysely';

/**
 * Invitations to a project (docs/console.md, "Members and invitations"): an owner invites an e-mail with a
 * role; the one-time link's SHA-256 is stored, never the secret. Pending = not accepted, not revoked, not
 * expired; rows are kept as the record of who invited whom.
 */
export function projectInvitationsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('project_invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('invited_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('accepted_at', 'text')
        .addColumn('accepted_by', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createIndex('project_invitations_project_email')
        .on('project_invitations')
        .columns(['project_id', 'email'])
        .execute();
    },
  };
}
