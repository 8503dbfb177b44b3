/**
 * The control plane's own certificate, kept in memory by each replica (never stored): it presents it to
 * host APIs (client) and serves the agent listener with it (server). Issued at start, renewed once two
 * thirds of its lifetime have passed; listeners hear of each renewal (the agent listener swaps its
 * TLS context, so connections made afterwards get the new certificate).
 */
import type { Clock } from '../core/clock.ts';
import type { CertificateAuthority } from './authority.ts';
import { issueControlPlaneCertificate, type IssuedKeyAndCertificate } from './issue.ts';
import { needsRenewal } from './renewal.ts';

export interface ControlPlaneCredentials {
  /** The certificate in use: certPem, keyPem, serial, notAfter… */
  current(): IssuedKeyAndCertificate;
  /** Issues a new certificate if the current one is due; true when it did. */
  renewIfDue(): Promise<boolean>;
  /** Issues a new certificate now. */
  renew(): Promise<IssuedKeyAndCertificate>;
  /** Called after every renewal, with the new certificate. */
  onRenewed(listener: (issued: IssuedKeyAndCertificate) => void): void;
}

export async function createControlPlaneCredentials(deps: {
  ca: CertificateAuthority;
  clock: Clock;
  validityMs?: number;
}): Promise<ControlPlaneCredentials> {
  const issue = () =>
    issueControlPlaneCertificate(deps.ca, { nowMs: deps.clock.nowMs(), validityMs: deps.validityMs, serverAuth: true });
  let current = await issue();
  const listeners: Array<(issued: IssuedKeyAndCertificate) => void> = [];

  async function renew(): Promise<IssuedKeyAndCertificate> {
    current = await issue();
    for (const listener of listeners) listener(current);
    return current;
  }

  return {
    current: () => current,
    async renewIfDue() {
      if (!needsRenewal(current.certPem, deps.clock.nowMs())) return false;
      await renew();
      return true;
    },
    renew,
    onRenewed(listener) {
      listeners.push(listener);
    },
  };
}
