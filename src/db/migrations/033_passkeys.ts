import type { Kysely, Migration } from 'kysely';

/**
 * Passkeys (WebAuthn) for console sign-in (docs/adr/0013-passkeys.md), owned by identity:
 * - `user_passkeys`: one row per registered credential — its id (base64url, as the browser names it), COSE
 *   public key (base64url), signature counter, transports (JSON), the name its user gave it, when it was
 *   registered and last used.
 * - `passkey_challenges`: the challenges handed out for a registration or a sign-in, stored so that any
 *   replica can check them; each is deleted when used (single use) and refused past `expires_at`.
 */
export function passkeysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('user_passkeys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('backed_up', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('user_passkeys_user').on('user_passkeys').column('user_id').execute();
      await db.schema
        .createTable('passkey_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('passkey_challenges_expiry').on('passkey_challenges').column('expires_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('passkey_challenges').execute();
      await db.schema.dropTable('user_passkeys').execute();
    },
  };
}
