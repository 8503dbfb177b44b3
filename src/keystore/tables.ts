/**
 * Row types of the key store's tables, to merge into the database type (src/db/schema.ts). Until then the
 * store works on a typed view of whatever Kysely handle it is given.
 */
import type { Kysely } from 'kysely';

export interface SealedSecretsTable {
  /** `sec_…`, time-ordered. */
  id: string;
  /** What the secret is for, e.g. `pki.ca-key`, `webhook.signing-secret`; bound into the AAD. */
  purpose: string;
  /** The KEK version the ciphertext is under. */
  kek_id: string;
  /** base64 of iv ‖ ciphertext ‖ tag (AES-256-GCM). */
  ciphertext: string;
  created_at: string;
  updated_at: string;
}

export interface KeystoreTables {
  sealed_secrets: SealedSecretsTable;
}

/**
 * Any Kysely database or transaction, whatever its table types: callers pass their own transaction,
 * typed with the whole database, and this domain reads it through its own typed view.
 */
export type AnyKysely = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function keystoreView(q: AnyKysely): Kysely<KeystoreTables> {
  return q as Kysely<KeystoreTables>;
}
