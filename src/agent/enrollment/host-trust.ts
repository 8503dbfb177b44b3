/**
 * The control plane's side of host trust: the hosts' CA (its key sealed by the key store, shared by every
 * replica through the database), the register of host certificates, and this replica's own certificate
 * (in memory, renewed on a timer). Everything that issues or checks a host certificate goes through here.
 */
import type { Clock, Logger } from '../../core/index.ts';
import {
  createControlPlaneCredentials,
  createHostCertificateStore,
  createKeyAndCsr,
  fingerprintSha256,
  issueHostCertificate,
  loadOrCreateCertificateAuthority,
  type CertificateAuthority,
  type ControlPlaneCredentials,
  type HostCertificateStore,
  type IssuedCertificate,
  type SecretSealer,
  type AnyKysely,
} from '../../pki/index.ts';

/** What a TLS endpoint of the control plane needs: the CA to check peers against, its certificate and key. */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface HostTrustDeps {
  db: AnyKysely;
  /** Certificates are checked by TLS against the wall clock: issue them against it too. */
  clock: Clock;
  log: Logger;
  keyStore: SecretSealer;
  /** Lifetime of host certificates (default 24 h). */
  hostCertificateValidityMs?: number;
  /** Lifetime of this replica's certificate (default 24 h). */
  controlPlaneCertificateValidityMs?: number;
  /** How often this replica checks whether its certificate is due for renewal (default 10 min). */
  renewalCheckIntervalMs?: number;
}

export interface HostTrust {
  readonly authority: CertificateAuthority;
  readonly caPem: string;
  /** `AB:CD:…`: what an operator gives an agent (`--ca-sha256`) with its join token. */
  readonly caFingerprintSha256: string;
  readonly certificates: HostCertificateStore;
  readonly controlPlane: ControlPlaneCredentials;
  /** The CA and this replica's current certificate: client of host APIs, server of the agent listener. */
  controlPlaneTls(): TlsMaterial;
  /** Signs a host's CSR and records the certificate (in the caller's transaction when given). */
  issueHostCertificate(hostId: string, csrPem: string, q?: AnyKysely): Promise<IssuedCertificate>;
  /** A key and certificate made here for a host of this process (`serve --local-host`), recorded. */
  issueLocalHostCredentials(hostId: string): Promise<TlsMaterial>;
  /** Renews this replica's certificate when due, on a timer. */
  start(): void;
  stop(): void;
}

export async function createHostTrust(deps: HostTrustDeps): Promise<HostTrust> {
  const { clock, log } = deps;
  const authority = await loadOrCreateCertificateAuthority({ db: deps.db, keyStore: deps.keyStore, clock });
  const certificates = createHostCertificateStore({ db: deps.db, clock });
  const controlPlane = await createControlPlaneCredentials({
    ca: authority,
    clock,
    validityMs: deps.controlPlaneCertificateValidityMs,
  });
  let timer: NodeJS.Timeout | null = null;

  async function issueFor(hostId: string, csrPem: string, q?: AnyKysely): Promise<IssuedCertificate> {
    const issued = await issueHostCertificate(authority, csrPem, {
      hostId,
      nowMs: clock.nowMs(),
      validityMs: deps.hostCertificateValidityMs,
    });
    await certificates.record(hostId, issued, q);
    return issued;
  }

  return {
    authority,
    caPem: authority.certPem,
    caFingerprintSha256: fingerprintSha256(authority.certPem),
    certificates,
    controlPlane,
    controlPlaneTls() {
      const current = controlPlane.current();
      return { caPem: authority.certPem, certPem: current.certPem, keyPem: current.keyPem };
    },
    issueHostCertificate: issueFor,
    async issueLocalHostCredentials(hostId) {
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: hostId });
      const issued = await issueFor(hostId, csrPem);
      return { caPem: authority.certPem, certPem: issued.certPem, keyPem };
    },
    start() {
      if (timer) return;
      timer = setInterval(
        () => {
          controlPlane
            .renewIfDue()
            .then((renewed) => {
              if (renewed)
                log.info({ not_after: controlPlane.current().notAfter }, 'control-plane certificate renewed');
            })
            .catch((error: unknown) => log.error({ err: error }, 'could not renew the control-plane certificate'));
        },
        deps.renewalCheckIntervalMs ?? 10 * 60_000,
      );
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
