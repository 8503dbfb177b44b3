/**
 * node:tls options for every TLS endpoint of VMCloud: TLS 1.3 only. A server that asks for client
 * certificates refuses any not chained to the given CA; a client pins the CA, and may require the server
 * to be a given host (its certificate's SAN URI) instead of matching a DNS name.
 */
import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { invalid } from '../core/errors.ts';
import { hostIdOfCertificate, isControlPlaneCertificate } from './identity.ts';

export function tlsServerOptions(options: {
  certPem: string;
  keyPem: string;
  /** The CA client certificates must chain to; required when requesting client certificates. */
  caPem?: string;
  requestClientCertificate: boolean;
  /**
   * Accept clients without a (valid) certificate at the handshake, leaving the decision to each request
   * (`socket.authorized` and the peer certificate): the agent listener, whose join endpoint is called
   * before the agent has a certificate. Default false: a client without a certificate of the CA is refused.
   */
  clientCertificateOptional?: boolean;
}): TlsOptions {
  if (options.requestClientCertificate && !options.caPem) {
    throw invalid('a server that requests client certificates needs the CA to check them against');
  }
  return {
    cert: options.certPem,
    key: options.keyPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ...(options.caPem ? { ca: options.caPem } : {}),
    requestCert: options.requestClientCertificate,
    rejectUnauthorized: options.requestClientCertificate && !options.clientCertificateOptional,
  };
}

export function tlsClientOptions(options: {
  /** The only CA the server's certificate may chain to (the control plane's CA, or a self-signed cert). */
  caPem: string;
  /** Client certificate and key, for mutual TLS. */
  certPem?: string;
  keyPem?: string;
  /** Accept the server only if its certificate names this host (host APIs have no DNS names). */
  expectedHostId?: string;
  /**
   * Accept the server only if its certificate names the control plane (SAN URI urn:vmcloud:control-plane):
   * agents reach the control plane at any address, so they check this name instead of a DNS name.
   */
  expectControlPlane?: boolean;
}): ConnectionOptions {
  if (Boolean(options.certPem) !== Boolean(options.keyPem)) throw invalid('a client certificate needs its key');
  if (options.expectedHostId && options.expectControlPlane)
    throw invalid('a server is either a host or the control plane');
  const { expectedHostId } = options;
  const identityCheck = expectedHostId
    ? (_hostname: string, cert: PeerCertificate) => {
        const named = hostIdOfCertificate(cert);
        return named === expectedHostId
          ? undefined
          : peerIdentityError(`the server's certificate names host ${named ?? '(none)'}, not ${expectedHostId}`);
      }
    : options.expectControlPlane
      ? (_hostname: string, cert: PeerCertificate) =>
          isControlPlaneCertificate(cert)
            ? undefined
            : peerIdentityError(`the server's certificate does not name the VMCloud control plane`)
      : undefined;
  return {
    ca: options.caPem,
    ...(options.certPem ? { cert: options.certPem, key: options.keyPem } : {}),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    rejectUnauthorized: true,
    ...(identityCheck ? { checkServerIdentity: identityCheck } : {}),
  };
}

/** The code of the error a client sees when the server's certificate chains to the CA but names another peer. */
export const peerIdentityErrorCode = 'ERR_VMCLOUD_PEER_IDENTITY';

function peerIdentityError(message: string): Error {
  return Object.assign(new Error(message), { code: peerIdentityErrorCode });
}

/** Whether a socket error says the peer's certificate was not trusted (chain, expiry, name): not a network fault. */
export function isCertificateTrustError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === peerIdentityErrorCode ||
    /^(ERR_TLS_CERT|CERT_|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|ERR_SSL_.*(CERTIFICATE|UNKNOWN_CA))/.test(
      code,
    )
  );
}
