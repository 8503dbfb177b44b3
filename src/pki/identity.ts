/**
 * Who a certificate names. Host certificates carry the SAN URI `urn:vmcloud:host:<hostId>`, the control
 * plane's client certificate `urn:vmcloud:control-plane`. These functions only read names: the chain must
 * have been verified already (a TLS server with rejectUnauthorized, or a verified peer).
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { normalizeSerial } from './serial.ts';

export const controlPlaneUri = 'urn:vmcloud:control-plane';
const hostUriPrefix = 'urn:vmcloud:host:';
export const hostIdPattern = /^host_[0-9a-z_-]{1,64}$/;

export function hostUri(hostId: string): string {
  return `${hostUriPrefix}${hostId}`;
}

type CertificateLike = PeerCertificate | X509Certificate | string;

function subjectAltNameOf(cert: CertificateLike): string {
  if (typeof cert === 'string') {
    try {
      return new X509Certificate(cert).subjectAltName ?? '';
    } catch {
      return '';
    }
  }
  if (cert instanceof X509Certificate) return cert.subjectAltName ?? '';
  return cert?.subjectaltname ?? '';
}

/** The URIs of the subject alternative names (Node renders them `URI:…`, comma-separated). */
export function sanUris(cert: CertificateLike): string[] {
  return subjectAltNameOf(cert)
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
}

/** The host id a host certificate names, or null when it names none or more than one. */
export function hostIdOfCertificate(cert: CertificateLike): string | null {
  const ids = sanUris(cert)
    .filter((uri) => uri.startsWith(hostUriPrefix))
    .map((uri) => uri.slice(hostUriPrefix.length));
  return ids.length === 1 && hostIdPattern.test(ids[0]) ? ids[0] : null;
}

export function isControlPlaneCertificate(cert: CertificateLike): boolean {
  const uris = sanUris(cert);
  return uris.includes(controlPlaneUri) && hostIdOfCertificate(cert) === null;
}

/** The serial of a certificate in the normalized form the host_certificates table holds. */
export function serialOfCertificate(cert: CertificateLike): string {
  if (typeof cert === 'string') return normalizeSerial(new X509Certificate(cert).serialNumber);
  return normalizeSerial(cert.serialNumber);
}
