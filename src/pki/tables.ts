/** Row types of the PKI's tables, to merge into the database type (src/db/schema.ts). */
import type { Kysely } from 'kysely';

export interface PkiAuthoritiesTable {
  /** One row per authority, e.g. `hosts`: the primary key makes concurrent creation end with one CA. */
  id: string;
  cert_pem: string;
  /** The `sec_…` id of the CA's PKCS#8 private key in sealed_secrets. */
  sealed_key_id: string;
  created_at: string;
}

export interface HostCertificatesTable {
  /** Lower-case hex without leading zeros (normalizeSerial). */
  serial: string;
  host_id: string;
  /** `AB:CD:…` */
  fingerprint_sha256: string;
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  created_at: string;
}

export interface PkiTables {
  pki_authorities: PkiAuthoritiesTable;
  host_certificates: HostCertificatesTable;
}

/** Any Kysely database or transaction, whatever its table types. */
export type AnyKysely = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function pkiView(q: AnyKysely): Kysely<PkiTables> {
  return q as Kysely<PkiTables>;
}
