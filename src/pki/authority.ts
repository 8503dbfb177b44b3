/**
 * The control plane's certificate authority as a value: its certificate and a non-extractable signing key.
 * Created once (self-signed ECDSA P-256, CA:TRUE with path length 0, ten years), then loaded from the
 * certificate and its sealed PKCS#8 key; loading checks that the key belongs to the certificate.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { invalid, VmcError } from '../core/errors.ts';
import { ecdsaSha256, exportPkcs8, generateP256KeyPair, importP256SigningKey, type CryptoKey } from './keys.ts';
import { newSerial } from './serial.ts';
import { x509 } from './x509.ts';

export interface CertificateAuthority {
  readonly certPem: string;
  readonly certificate: x509.X509Certificate;
  readonly signingKey: CryptoKey;
}

export const defaultAuthorityValidityMs = 10 * 365 * 24 * 3600_000;
/** Certificates start this long before "now", so a host whose clock lags a little accepts them. */
export const clockSkewAllowanceMs = 5 * 60_000;

export interface NewAuthorityOptions {
  commonName: string;
  nowMs: number;
  validityMs?: number;
}

/** A new CA and its private key as PKCS#8 DER, to be sealed by the caller (and then zeroed). */
export async function createCertificateAuthority(
  options: NewAuthorityOptions,
): Promise<{ authority: CertificateAuthority; keyPkcs8: Buffer }> {
  const keys = await generateP256KeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: [{ CN: [options.commonName] }],
    notBefore: new Date(options.nowMs - clockSkewAllowanceMs),
    notAfter: new Date(options.nowMs + (options.validityMs ?? defaultAuthorityValidityMs)),
    signingAlgorithm: ecdsaSha256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPkcs8 = await exportPkcs8(keys.privateKey);
  return { authority: await loadCertificateAuthority(certificate.toString('pem'), keyPkcs8), keyPkcs8 };
}

export async function loadCertificateAuthority(certPem: string, keyPkcs8: Buffer): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const fromKey = createPublicKey(createPrivateKey({ key: keyPkcs8, format: 'der', type: 'pkcs8' }));
  const fromCert = new X509Certificate(certPem).publicKey;
  if (!fromKey.equals(fromCert)) {
    throw new VmcError('internal', 'the CA private key does not belong to the CA certificate', {
      reason: 'ca_key_mismatch',
    });
  }
  const basic = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw invalid('the certificate is not a CA certificate');
  return { certPem: certificate.toString('pem'), certificate, signingKey: await importP256SigningKey(keyPkcs8) };
}
