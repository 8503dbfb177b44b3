/**
 * The agent's TLS identity over its life: joined once (CA fetched and checked against the operator's
 * fingerprint, a CSR sent with the one-time join token, the certificate stored), reused on every restart
 * without a token, renewed with a fresh key once two thirds of the certificate's lifetime have passed.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { VmcError, type Clock, type Logger } from '../../core/index.ts';
import { createKeyAndCsr, fingerprintSha256, hostIdOfCertificate, needsRenewal } from '../../pki/index.ts';
import type { HostRegistration } from '../link.ts';
import {
  fetchTrustedCa,
  joinControlPlane,
  normalizeFingerprint,
  type HostCredentials,
  type Joined,
  type MtlsLink,
} from './control-plane-client.ts';
import { credentialPaths, readStoredCredentials, storeCredentials } from './credential-files.ts';

/** The common name of agents' CSRs: the CA names the certificate after the host id anyway. */
const csrCommonName = 'vmcloud-agent';

export interface EstablishOptions {
  stateDir: string;
  controlPlaneUrl: string;
  /** The CA fingerprint the operator gave (`--ca-sha256`); required to join, checked against a stored CA. */
  caSha256?: string;
  /** A one-time join token (env or file, never a flag); required when there is no usable stored identity. */
  joinToken?: string;
  /** What the join registers (the address comes later, with the re-registration). */
  registration: HostRegistration;
  clock: Clock;
  log: Logger;
}

export interface Established {
  credentials: HostCredentials;
  /** The join's answer when this start joined, null when the stored identity was used. */
  joined: Joined | null;
}

/** Checks what the control plane handed back: our key's certificate, for the host it says, under the pinned CA. */
function checkIssued(certPem: string, keyPem: string, caPem: string, pinnedCaPem: string, hostId?: string): string {
  if (normalizeFingerprint(fingerprintSha256(caPem)) !== normalizeFingerprint(fingerprintSha256(pinnedCaPem)))
    throw new VmcError('unavailable', 'the control plane answered with another CA than the one pinned', {
      reason: 'control_plane_untrusted',
    });
  const certificate = new X509Certificate(certPem);
  if (
    !certificate.checkPrivateKey(createPrivateKey(keyPem)) ||
    !certificate.verify(new X509Certificate(caPem).publicKey)
  )
    throw new VmcError('unavailable', 'the certificate the control plane issued is not for this key or CA', {
      reason: 'control_plane_untrusted',
    });
  const named = hostIdOfCertificate(certificate);
  if (!named || (hostId !== undefined && named !== hostId))
    throw new VmcError('unavailable', `the certificate issued names host ${named ?? '(none)'}, not ${hostId}`, {
      reason: 'control_plane_untrusted',
    });
  return named;
}

async function readStoredOrFail(stateDir: string): Promise<HostCredentials> {
  const stored = await readStoredCredentials(stateDir);
  if (!stored)
    throw new VmcError('internal', `the identity just written to ${credentialPaths(stateDir).directory} is gone`);
  return stored;
}

const rotationHint = (hostId: string) =>
  `ask an operator for a rotation join token (\`vmcloud --profile operator host token create --name NAME --host-id ${hostId}\`) and start the agent with it in VMCLOUD_JOIN_TOKEN`;

/** The stored identity if it is usable, else a join with the token; refuses a control plane it cannot trust. */
export async function establishHostIdentity(options: EstablishOptions): Promise<Established> {
  const stored = await readStoredCredentials(options.stateDir);
  if (stored) {
    const storedCa = fingerprintSha256(stored.caPem);
    if (options.caSha256 && normalizeFingerprint(storedCa) !== normalizeFingerprint(options.caSha256)) {
      throw new VmcError(
        'unavailable',
        `this host joined a control plane whose CA is ${storedCa}, not the ${options.caSha256} given with --ca-sha256; to join another control plane, move ${credentialPaths(options.stateDir).directory} away first`,
        { reason: 'control_plane_untrusted' },
      );
    }
    const expiresAtMs = new X509Certificate(stored.certPem).validToDate.getTime();
    if (expiresAtMs > options.clock.nowMs()) return { credentials: stored, joined: null };
    if (!options.joinToken) {
      throw new VmcError(
        'unauthenticated',
        `the certificate of host ${stored.hostId} expired at ${new Date(expiresAtMs).toISOString()} (the agent was off longer than its lifetime): ${rotationHint(stored.hostId)}`,
        { reason: 'host_certificate_expired' },
      );
    }
    options.log.warn({ host_id: stored.hostId }, 'the stored host certificate expired: joining again with the token');
  }
  if (!options.joinToken) {
    throw new VmcError(
      'unauthenticated',
      `this host has not joined yet (no identity in ${credentialPaths(options.stateDir).directory}): give a join token in VMCLOUD_JOIN_TOKEN or --join-token-file`,
      { reason: 'join_token_required' },
    );
  }
  if (!options.caSha256) {
    throw new VmcError(
      'invalid',
      'joining needs --ca-sha256 FINGERPRINT (printed by `vmcloud host token create`): the agent trusts only that CA',
      { reason: 'ca_fingerprint_required' },
    );
  }
  const pinnedCaPem = await fetchTrustedCa(options.controlPlaneUrl, options.caSha256);
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: csrCommonName });
  const joined = await joinControlPlane({
    controlPlaneUrl: options.controlPlaneUrl,
    caPem: pinnedCaPem,
    joinToken: options.joinToken,
    registration: options.registration,
    csrPem,
  });
  const hostId = checkIssued(joined.certPem, keyPem, joined.caPem, pinnedCaPem, joined.hostId);
  await storeCredentials(options.stateDir, { caPem: pinnedCaPem, certPem: joined.certPem, keyPem });
  options.log.info({ host_id: hostId, created: joined.created }, 'joined the control plane');
  // Used as stored: what a restart will read.
  return { credentials: await readStoredOrFail(options.stateDir), joined };
}

export interface HostIdentity {
  current(): HostCredentials;
  /** Renews when due (2/3 of the lifetime); true when it did. The new pair is stored before it is used. */
  renewIfDue(): Promise<boolean>;
  /** Renews now. */
  renew(): Promise<HostCredentials>;
  /** Told of each renewal (the host API swaps its certificate). */
  onRenewed(listener: (credentials: HostCredentials) => void): void;
  /** Checks for renewal every `intervalMs` (default 10 min). */
  start(intervalMs?: number): void;
  stop(): void;
}

export function createHostIdentity(options: {
  stateDir: string;
  credentials: HostCredentials;
  link: Pick<MtlsLink, 'renew'>;
  clock: Clock;
  log: Logger;
}): HostIdentity {
  let current = options.credentials;
  const listeners: Array<(credentials: HostCredentials) => void> = [];
  let timer: NodeJS.Timeout | null = null;
  let renewing: Promise<HostCredentials> | null = null;

  async function renewOnce(): Promise<HostCredentials> {
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: csrCommonName });
    const issued = await options.link.renew(csrPem);
    checkIssued(issued.certPem, keyPem, issued.caPem, current.caPem, current.hostId);
    await storeCredentials(options.stateDir, { caPem: current.caPem, certPem: issued.certPem, keyPem });
    current = await readStoredOrFail(options.stateDir);
    options.log.info(
      { host_id: current.hostId, not_after: new X509Certificate(issued.certPem).validTo },
      'host certificate renewed',
    );
    for (const listener of listeners) listener(current);
    return current;
  }

  const renew = () => {
    renewing ??= renewOnce().finally(() => {
      renewing = null;
    });
    return renewing;
  };

  return {
    current: () => current,
    async renewIfDue() {
      if (!needsRenewal(current.certPem, options.clock.nowMs())) return false;
      await renew();
      return true;
    },
    renew,
    onRenewed(listener) {
      listeners.push(listener);
    },
    start(intervalMs = 10 * 60_000) {
      if (timer) return;
      timer = setInterval(() => {
        this.renewIfDue().catch((error: unknown) =>
          options.log.warn(
            { host_id: current.hostId, err: (error as Error).message },
            'host certificate renewal failed: will retry',
          ),
        );
      }, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
