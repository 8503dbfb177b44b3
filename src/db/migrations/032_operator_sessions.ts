import type { Kysely, Migration } from 'kysely';

/**
 * Operator sessions for people (issue #16, docs/console.md): a session is either a project session (the
 * console's, acting in one project with the member's role) or an operator session (the operator area's,
 * opened with password + TOTP by a user whose `users.is_operator` is set). An operator session has no
 * project: its `project_id` is the empty string.
 */
export function operatorSessionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('sessions')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('project'))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').dropColumn('kind').execute();
    },
  };
}
