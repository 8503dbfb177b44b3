/**
 * The register of host certificates the CA issued: which host each serial belongs to, when it expires,
 * whether it was revoked. A TLS endpoint accepts a host certificate only when its serial is registered
 * for the host it names and not revoked (statusOf), since a chain check alone cannot see revocation.
 */
import type { Clock } from '../core/clock.ts';
import type { IssuedCertificate } from './issue.ts';
import { normalizeSerial } from './serial.ts';
import { pkiView, type AnyKysely } from './tables.ts';

export interface HostCertificateRecord {
  serial: string;
  hostId: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  revokedAt: string | null;
}

export interface HostCertificateStore {
  /** Registers a certificate just issued for `hostId` (in the caller's transaction when given). */
  record(hostId: string, issued: IssuedCertificate, q?: AnyKysely): Promise<void>;
  /** The register entry of a serial (any case, leading zeros or not), or null when never issued here. */
  statusOf(serial: string): Promise<HostCertificateRecord | null>;
  /** True only for a registered serial that was revoked. Use statusOf to also refuse unknown serials. */
  isRevoked(serial: string): Promise<boolean>;
  /** Revokes one certificate; false when the serial is unknown or revoked already. */
  revokeSerial(serial: string, q?: AnyKysely): Promise<boolean>;
  /**
   * Revokes every unrevoked certificate of a host (host deleted, or re-joined), in the caller's transaction
   * when given; `exceptSerial` keeps one (the certificate just issued at a re-join). Returns how many.
   */
  revokeHost(hostId: string, options?: { q?: AnyKysely; exceptSerial?: string }): Promise<number>;
  listForHost(hostId: string): Promise<HostCertificateRecord[]>;
  /** Forgets certificates that expired before `beforeIso`: they are refused by TLS anyway. */
  deleteExpired(beforeIso: string): Promise<number>;
}

export function createHostCertificateStore(deps: { db: AnyKysely; clock: Clock }): HostCertificateStore {
  const db = pkiView(deps.db);
  const toRecord = (row: {
    serial: string;
    host_id: string;
    fingerprint_sha256: string;
    not_before: string;
    not_after: string;
    revoked_at: string | null;
  }): HostCertificateRecord => ({
    serial: row.serial,
    hostId: row.host_id,
    fingerprintSha256: row.fingerprint_sha256,
    notBefore: row.not_before,
    notAfter: row.not_after,
    revokedAt: row.revoked_at,
  });

  return {
    async record(hostId, issued, q) {
      await pkiView(q ?? db)
        .insertInto('host_certificates')
        .values({
          serial: normalizeSerial(issued.serial),
          host_id: hostId,
          fingerprint_sha256: issued.fingerprintSha256,
          not_before: issued.notBefore,
          not_after: issued.notAfter,
          revoked_at: null,
          created_at: deps.clock.nowIso(),
        })
        .execute();
    },
    async statusOf(serial) {
      const row = await db
        .selectFrom('host_certificates')
        .selectAll()
        .where('serial', '=', normalizeSerial(serial))
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },
    async isRevoked(serial) {
      const row = await db
        .selectFrom('host_certificates')
        .select('revoked_at')
        .where('serial', '=', normalizeSerial(serial))
        .executeTakeFirst();
      return row?.revoked_at != null;
    },
    async revokeSerial(serial, q) {
      const result = await pkiView(q ?? db)
        .updateTable('host_certificates')
        .set({ revoked_at: deps.clock.nowIso() })
        .where('serial', '=', normalizeSerial(serial))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async revokeHost(hostId, options = {}) {
      let query = pkiView(options.q ?? db)
        .updateTable('host_certificates')
        .set({ revoked_at: deps.clock.nowIso() })
        .where('host_id', '=', hostId)
        .where('revoked_at', 'is', null);
      if (options.exceptSerial !== undefined)
        query = query.where('serial', '!=', normalizeSerial(options.exceptSerial));
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async listForHost(hostId) {
      const rows = await db
        .selectFrom('host_certificates')
        .selectAll()
        .where('host_id', '=', hostId)
        .orderBy('not_before')
        .orderBy('serial')
        .execute();
      return rows.map(toRecord);
    },
    async deleteExpired(beforeIso) {
      const result = await db.deleteFrom('host_certificates').where('not_after', '<', beforeIso).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
