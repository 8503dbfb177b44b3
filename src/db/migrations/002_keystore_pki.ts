import type { Kysely, Migration } from 'kysely';

/** The key store's sealed secrets and the PKI's certificate authority and issued host certificates. */
export function keystorePkiMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;

      await db.schema
        .createTable('sealed_secrets')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('purpose', text, (c) => c.notNull())
        .addColumn('kek_id', text, (c) => c.notNull())
        .addColumn('ciphertext', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sealed_secrets_kek').on('sealed_secrets').columns(['kek_id', 'id']).execute();

      await db.schema
        .createTable('pki_authorities')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('cert_pem', text, (c) => c.notNull())
        .addColumn('sealed_key_id', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('host_certificates')
        .addColumn('serial', text, (c) => c.primaryKey())
        .addColumn('host_id', text, (c) => c.notNull())
        .addColumn('fingerprint_sha256', text, (c) => c.notNull())
        .addColumn('not_before', text, (c) => c.notNull())
        .addColumn('not_after', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('host_certificates_host').on('host_certificates').column('host_id').execute();
    },
  };
}
