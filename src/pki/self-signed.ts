/**
 * A self-signed server certificate for `vmcloud serve --tls auto`: ECDSA P-256, SANs for the given DNS
 * names and IP addresses, serverAuth, one year by default. Clients pin it by its SHA-256 fingerprint.
 */
import { invalid } from '../core/errors.ts';
import { clockSkewAllowanceMs } from './authority.ts';
import { fingerprintSha256 } from './fingerprint.ts';
import { serverNames } from './issue.ts';
import { ecdsaSha256, exportPkcs8, generateP256KeyPair, pkcs8ToPem } from './keys.ts';
import { newSerial } from './serial.ts';
import { x509 } from './x509.ts';

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
  /** `AB:CD:…`, as `openssl x509 -noout -fingerprint -sha256` prints it. */
  fingerprintSha256: string;
  notAfter: string;
}

export const defaultSelfSignedValidityMs = 365 * 24 * 3600_000;

export async function selfSignedServerCertificate(options: {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  nowMs: number;
  validityMs?: number;
}): Promise<SelfSignedCertificate> {
  const names = serverNames(options.dnsNames, options.ipAddresses);
  const validityMs = options.validityMs ?? defaultSelfSignedValidityMs;
  if (!Number.isInteger(validityMs) || validityMs < 60_000) throw invalid('validityMs must be at least one minute');
  const keys = await generateP256KeyPair();
  const notAfter = new Date(options.nowMs + validityMs);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: [{ CN: ['vmcloud self-signed'] }],
    notBefore: new Date(options.nowMs - clockSkewAllowanceMs),
    notAfter,
    signingAlgorithm: ecdsaSha256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = certificate.toString('pem');
  return {
    certPem,
    keyPem: pkcs8ToPem(await exportPkcs8(keys.privateKey)),
    fingerprintSha256: fingerprintSha256(certPem),
    notAfter: notAfter.toISOString(),
  };
}
