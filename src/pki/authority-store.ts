/**
 * The CA every replica shares: its certificate in `pki_authorities`, its private key sealed through the key
 * store. The first start creates it; when two replicas race, the primary key lets one row win, the loser's
 * transaction (sealed key included) rolls back and it loads the winner's CA.
 */
import type { Clock } from '../core/clock.ts';
import { VmcError } from '../core/errors.ts';
import { isUniqueViolation } from '../db/index.ts';
import { createCertificateAuthority, loadCertificateAuthority, type CertificateAuthority } from './authority.ts';
import { pkiView, type AnyKysely } from './tables.ts';

/** What the PKI needs of the key store (src/keystore's KeyStore satisfies it). */
export interface SecretSealer {
  seal(purpose: string, plaintext: Buffer, q?: AnyKysely): Promise<string>;
  open(id: string, options?: { purpose?: string; q?: AnyKysely }): Promise<Buffer>;
}

export const caKeyPurpose = 'pki.ca-key';
export const hostAuthorityId = 'hosts';

export interface AuthorityStoreDeps {
  db: AnyKysely;
  keyStore: SecretSealer;
  clock: Clock;
}

export async function loadOrCreateCertificateAuthority(
  deps: AuthorityStoreDeps,
  options: { authorityId?: string; commonName?: string } = {},
): Promise<CertificateAuthority> {
  const db = pkiView(deps.db);
  const id = options.authorityId ?? hostAuthorityId;

  async function load(): Promise<CertificateAuthority | undefined> {
    const row = await db.selectFrom('pki_authorities').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const key = await deps.keyStore.open(row.sealed_key_id, { purpose: caKeyPurpose });
    try {
      return await loadCertificateAuthority(row.cert_pem, key);
    } finally {
      key.fill(0);
    }
  }

  const existing = await load();
  if (existing) return existing;

  const { authority, keyPkcs8 } = await createCertificateAuthority({
    commonName: options.commonName ?? `VMCloud ${id} CA`,
    nowMs: deps.clock.nowMs(),
  });
  try {
    await db.transaction().execute(async (tx) => {
      const sealedKeyId = await deps.keyStore.seal(caKeyPurpose, keyPkcs8, tx);
      await tx
        .insertInto('pki_authorities')
        .values({ id, cert_pem: authority.certPem, sealed_key_id: sealedKeyId, created_at: deps.clock.nowIso() })
        .execute();
    });
    return authority;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await load();
    if (!winner) throw new VmcError('internal', `CA ${id} was created concurrently but cannot be read`);
    return winner;
  } finally {
    keyPkcs8.fill(0);
  }
}
