/**
 * Host enrollment, the control plane's half of the agent protocol's trust: an agent joins once with a
 * one-time join token and a CSR (the host is registered or re-attached, the token consumed and a host
 * certificate issued, all in one transaction), and from then on proves itself with that certificate.
 * A certificate is accepted only if it chains to the CA (checked by TLS), is in the register, is not
 * revoked and names the host it is registered for; a route of another host answers 403.
 */
import type { PeerCertificate } from 'node:tls';
import { VmcError } from '../../core/index.ts';
import { inTransaction, type Db } from '../../db/index.ts';
import type { AuditEntry, AuditLog } from '../../audit/index.ts';
import type { IdentityService } from '../../identity/index.ts';
import type { InventoryService, RegisterHostInput } from '../../inventory/index.ts';
import { hostIdOfCertificate, readVerifiedCsr, serialOfCertificate } from '../../pki/index.ts';
import type { HostTrust } from './host-trust.ts';

/** A host that proved itself with its certificate. */
export interface HostCaller {
  hostId: string;
  /** The certificate's serial, normalized. */
  serial: string;
}

/** What the TLS layer knows of a peer: whether its chain verified against the CA, and its certificate. */
export interface PeerIdentity {
  authorized: boolean;
  authorizationError?: string | null;
  /** Empty or null when the client sent none. */
  certificate: PeerCertificate | null;
}

/** Where a request came from, for the audit log. */
export interface RequestMeta {
  requestId: string | null;
  sourceIp: string | null;
  userAgent: string | null;
}

export interface HostJoinResult {
  hostId: string;
  created: boolean;
  ipv4Pool: string;
  certificatePem: string;
  caPem: string;
}

export interface HostEnrollmentDeps {
  trust: HostTrust;
  inventory: Pick<InventoryService, 'registerHost' | 'heartbeat'>;
  identity: Pick<IdentityService, 'authenticate' | 'consumeJoinToken'>;
  audit: Pick<AuditLog, 'append'>;
  db: Db;
}

export interface HostEnrollment {
  /** The CA agents pin (`GET /v1/agent/ca`). */
  ca(): { caPem: string; caSha256: string };
  /** Joins with a join token: registers or re-attaches the host, consumes the token, issues a certificate. */
  join(joinToken: string, registration: RegisterHostInput, csrPem: string, meta: RequestMeta): Promise<HostJoinResult>;
  /** The host a client certificate proves, or VmcError unauthenticated. */
  authenticate(peer: PeerIdentity): Promise<HostCaller>;
  /** Throws forbidden unless the caller is `hostId`. */
  authorize(caller: HostCaller, hostId: string): void;
  /** Re-registration at an agent's start (topology, address): only its own host. */
  register(
    caller: HostCaller,
    hostId: string,
    registration: RegisterHostInput,
  ): Promise<{ hostId: string; created: boolean; ipv4Pool: string }>;
  /** A new certificate for the caller's host from a new CSR; the old one stays valid until it expires. */
  renew(
    caller: HostCaller,
    hostId: string,
    csrPem: string,
    meta: RequestMeta,
  ): Promise<{ certificatePem: string; caPem: string }>;
}

const certificateNeeded = (why: string) =>
  new VmcError('unauthenticated', `this route needs a valid host certificate: ${why}`, {
    reason: 'host_certificate_required',
  });

export function createHostEnrollment(deps: HostEnrollmentDeps): HostEnrollment {
  const { trust } = deps;

  function auditEntry(
    meta: RequestMeta,
    entry: Pick<AuditEntry, 'action' | 'actorTokenId' | 'resourceId' | 'details'>,
  ): AuditEntry {
    return {
      projectId: null,
      actorUserId: null,
      resourceType: 'host',
      outcome: 'success',
      statusCode: 200,
      requestId: meta.requestId,
      sourceIp: meta.sourceIp,
      userAgent: meta.userAgent,
      ...entry,
    };
  }

  return {
    ca: () => ({ caPem: trust.caPem, caSha256: trust.caFingerprintSha256 }),

    async join(joinToken, registration, csrPem, meta) {
      const principal = await deps.identity.authenticate(joinToken);
      if (principal.kind !== 'host')
        throw new VmcError('forbidden', 'joining needs a host join token', { reason: 'not_a_join_token' });
      // A CSR that does not verify is refused before anything is written.
      await readVerifiedCsr(csrPem);
      let certificatePem = '';
      const registered = await deps.inventory.registerHost(
        { kind: 'token', tokenId: principal.tokenId, boundHostId: principal.hostId },
        registration,
        {
          inTransaction: async (tx, hooks, { hostId, created }) => {
            await deps.identity.consumeJoinToken(tx, hooks, principal.tokenId, joinToken);
            const issued = await trust.issueHostCertificate(hostId, csrPem, tx);
            // A re-join (rotation) replaces the host's identity: certificates issued before are revoked.
            const revoked = created
              ? 0
              : await trust.certificates.revokeHost(hostId, { q: tx, exceptSerial: issued.serial });
            await deps.audit.append(
              tx,
              auditEntry(meta, {
                action: 'POST /v1/agent/join',
                actorTokenId: principal.tokenId,
                resourceId: hostId,
                details: { created, certificate_serial: issued.serial, revoked_certificates: revoked },
              }),
            );
            certificatePem = issued.certPem;
          },
        },
      );
      return { ...registered, certificatePem, caPem: trust.caPem };
    },

    async authenticate(peer) {
      const certificate = peer.certificate && Object.keys(peer.certificate).length > 0 ? peer.certificate : null;
      if (!certificate) throw certificateNeeded('the client sent no certificate');
      if (!peer.authorized)
        throw certificateNeeded(`the certificate was not accepted (${peer.authorizationError ?? 'untrusted'})`);
      const hostId = hostIdOfCertificate(certificate);
      if (!hostId) throw certificateNeeded('the certificate names no host');
      const serial = serialOfCertificate(certificate);
      const status = await trust.certificates.statusOf(serial);
      if (!status) throw certificateNeeded('the certificate is not in the register of this control plane');
      if (status.revokedAt) throw certificateNeeded(`the certificate was revoked at ${status.revokedAt}`);
      if (status.hostId !== hostId)
        throw certificateNeeded('the certificate names another host than it was issued for');
      return { hostId, serial };
    },

    authorize(caller, hostId) {
      if (caller.hostId !== hostId)
        throw new VmcError('forbidden', `this certificate belongs to host ${caller.hostId}, not ${hostId}`, {
          reason: 'host_mismatch',
        });
    },

    async register(caller, hostId, registration) {
      this.authorize(caller, hostId);
      return deps.inventory.registerHost({ kind: 'host', hostId }, registration);
    },

    async renew(caller, hostId, csrPem, meta) {
      this.authorize(caller, hostId);
      await readVerifiedCsr(csrPem);
      const issued = await inTransaction(deps.db, async (tx) => {
        const made = await trust.issueHostCertificate(hostId, csrPem, tx);
        await deps.audit.append(
          tx,
          auditEntry(meta, {
            action: 'POST /v1/agent/hosts/:id/certificate',
            actorTokenId: `cert:${caller.serial}`,
            resourceId: hostId,
            details: { certificate_serial: made.serial, renewed_serial: caller.serial },
          }),
        );
        return made;
      });
      return { certificatePem: issued.certPem, caPem: trust.caPem };
    },
  };
}
