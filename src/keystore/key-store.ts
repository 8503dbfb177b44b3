/**
 * Sealed secrets: small secrets (the host CA key, webhook secrets, disk encryption keys) kept in the
 * `sealed_secrets` table, encrypted under a KEK of the provider. Each row names its KEK version, and its
 * ciphertext is bound to its id and purpose. Rotation creates a new KEK and re-wraps rows in batches with
 * compare-and-swap updates, while readers keep opening rows under whichever KEK they name.
 */
import type { Clock } from '../core/clock.ts';
import { invalid, isVmcError, notFound, VmcError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { KekProvider } from './kek-provider.ts';
import { sealedSecretAad } from './secret-aad.ts';
import { keystoreView, type AnyKysely, type SealedSecretsTable } from './tables.ts';

export interface KeyStoreDeps {
  /** The database; the store reads and writes only `sealed_secrets`. */
  db: AnyKysely;
  provider: KekProvider;
  clock: Clock;
}

export interface RewrapResult {
  /** The KEK every row is under once the call returns. */
  keyId: string;
  /** Rows this call re-encrypted. */
  rewrapped: number;
}

export interface KekUsage {
  kekId: string;
  secrets: number;
}

export interface KeyStore {
  /** Encrypts and stores a secret; `q` lets a caller seal inside its own transaction. Returns `sec_…`. */
  seal(purpose: string, plaintext: Buffer, q?: AnyKysely): Promise<string>;
  /** The plaintext; with `purpose`, a row sealed for another purpose is refused (VmcError invalid). */
  open(id: string, options?: { purpose?: string; q?: AnyKysely }): Promise<Buffer>;
  /** New plaintext for an existing secret, under the current KEK. */
  replace(id: string, plaintext: Buffer, q?: AnyKysely): Promise<void>;
  /** Deletes a secret; removing one that is gone already is not an error. */
  remove(id: string, q?: AnyKysely): Promise<void>;
  /** Creates a new KEK and re-wraps every row under it. */
  rotate(options?: { batchSize?: number }): Promise<RewrapResult>;
  /** Re-wraps rows under older KEKs to the current one (finishes an interrupted rotation). */
  rewrap(options?: { batchSize?: number }): Promise<RewrapResult>;
  /** How many secrets each KEK version still protects: a version with none may be destroyed. */
  kekUsage(): Promise<KekUsage[]>;
}

const purposePattern = /^[a-z0-9][a-z0-9._:-]{0,99}$/;
export const maxSecretBytes = 64 * 1024;
const defaultBatchSize = 100;

function checkPlaintext(plaintext: Buffer): void {
  if (!Buffer.isBuffer(plaintext)) throw invalid('a secret is a Buffer');
  if (plaintext.length > maxSecretBytes) throw invalid(`a sealed secret holds at most ${maxSecretBytes} bytes`);
}

export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  const { provider, clock } = deps;
  const db = keystoreView(deps.db);

  async function decryptRow(row: Pick<SealedSecretsTable, 'id' | 'purpose' | 'kek_id' | 'ciphertext'>) {
    try {
      return await provider.decrypt(
        row.kek_id,
        Buffer.from(row.ciphertext, 'base64'),
        sealedSecretAad(row.id, row.purpose),
      );
    } catch (error) {
      if (isVmcError(error) && error.reason === 'decrypt_failed') {
        throw new VmcError('internal', `sealed secret ${row.id} does not decrypt under key ${row.kek_id}`, {
          reason: 'decrypt_failed',
          details: { id: row.id, kekId: row.kek_id },
          cause: error,
        });
      }
      throw error;
    }
  }

  async function encryptFor(id: string, purpose: string, keyId: string, plaintext: Buffer): Promise<string> {
    return (await provider.encrypt(keyId, plaintext, sealedSecretAad(id, purpose))).toString('base64');
  }

  async function rewrapTo(keyId: string, batchSize: number): Promise<RewrapResult> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid('batchSize is a positive integer');
    let rewrapped = 0;
    // Passes repeat until one finds nothing: a replica that read the old current key just before the
    // rotation may still seal a row under it. Only older KEKs (smaller ids) are moved, never newer ones,
    // so two overlapping rotations cannot undo each other.
    for (let selected = -1; selected !== 0;) {
      selected = 0;
      let after = '';
      for (;;) {
        const rows = await db
          .selectFrom('sealed_secrets')
          .select(['id', 'purpose', 'kek_id', 'ciphertext'])
          .where('kek_id', '<', keyId)
          .where('id', '>', after)
          .orderBy('id')
          .limit(batchSize)
          .execute();
        if (rows.length === 0) break;
        selected += rows.length;
        for (const row of rows) {
          const ciphertext = await encryptFor(row.id, row.purpose, keyId, await decryptRow(row));
          const result = await db
            .updateTable('sealed_secrets')
            .set({ kek_id: keyId, ciphertext })
            .where('id', '=', row.id)
            .where('kek_id', '=', row.kek_id)
            .where('ciphertext', '=', row.ciphertext)
            .executeTakeFirst();
          rewrapped += Number(result.numUpdatedRows);
        }
        after = rows[rows.length - 1].id;
      }
    }
    return { keyId, rewrapped };
  }

  return {
    async seal(purpose, plaintext, q) {
      if (!purposePattern.test(purpose)) {
        throw invalid(`purpose "${purpose}" must match ${purposePattern}`, {
          fields: [{ field: 'purpose', message: 'bad format' }],
        });
      }
      checkPlaintext(plaintext);
      const id = newId('sealedSecret', clock.nowMs());
      const keyId = await provider.currentKeyId();
      const now = clock.nowIso();
      await keystoreView(q ?? db)
        .insertInto('sealed_secrets')
        .values({
          id,
          purpose,
          kek_id: keyId,
          ciphertext: await encryptFor(id, purpose, keyId, plaintext),
          created_at: now,
          updated_at: now,
        })
        .execute();
      return id;
    },

    async open(id, options = {}) {
      const row = await keystoreView(options.q ?? db)
        .selectFrom('sealed_secrets')
        .select(['id', 'purpose', 'kek_id', 'ciphertext'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('sealed secret', id);
      if (options.purpose !== undefined && row.purpose !== options.purpose) {
        throw invalid(`sealed secret ${id} was sealed for "${row.purpose}", not "${options.purpose}"`, {
          reason: 'purpose_mismatch',
        });
      }
      return decryptRow(row);
    },

    async replace(id, plaintext, q) {
      checkPlaintext(plaintext);
      const view = keystoreView(q ?? db);
      const row = await view.selectFrom('sealed_secrets').select(['purpose']).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('sealed secret', id);
      const keyId = await provider.currentKeyId();
      const result = await view
        .updateTable('sealed_secrets')
        .set({
          kek_id: keyId,
          ciphertext: await encryptFor(id, row.purpose, keyId, plaintext),
          updated_at: clock.nowIso(),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('sealed secret', id);
    },

    async remove(id, q) {
      await keystoreView(q ?? db)
        .deleteFrom('sealed_secrets')
        .where('id', '=', id)
        .execute();
    },

    async rotate(options = {}) {
      const keyId = await provider.createKey();
      return rewrapTo(keyId, options.batchSize ?? defaultBatchSize);
    },

    async rewrap(options = {}) {
      return rewrapTo(await provider.currentKeyId(), options.batchSize ?? defaultBatchSize);
    },

    async kekUsage() {
      const rows = await db
        .selectFrom('sealed_secrets')
        .select((eb) => ['kek_id', eb.fn.countAll().as('secrets')])
        .groupBy('kek_id')
        .orderBy('kek_id')
        .execute();
      return rows.map((r) => ({ kekId: r.kek_id, secrets: Number(r.secrets) }));
    },
  };
}
