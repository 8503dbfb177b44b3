/** The SHA-256 fingerprint of a certificate in the form `openssl x509 -fingerprint -sha256` prints. */
import { X509Certificate } from 'node:crypto';
import { invalid } from '../core/errors.ts';

/** `AB:CD:…`, upper-case hex pairs joined by colons, over the DER of the certificate. */
export function fingerprintSha256(certPem: string): string {
  return parseCertificate(certPem).fingerprint256;
}

export function parseCertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (error) {
    throw invalid('not a PEM X.509 certificate', { reason: 'certificate_unreadable', cause: error });
  }
}
