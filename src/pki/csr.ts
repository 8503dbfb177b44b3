/**
 * Certificate signing requests. The agent makes its key pair and a CSR (the key never leaves the host);
 * the control plane reads a CSR only after checking its self-signature and key type.
 */
import { invalid } from '../core/errors.ts';
import { ecdsaSha256, exportPkcs8, generateP256KeyPair, pkcs8ToPem } from './keys.ts';
import { x509 } from './x509.ts';

const maxCsrPemChars = 16 * 1024;
const commonNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const acceptedCurves = new Set(['P-256', 'P-384']);

export function checkCommonName(commonName: string): void {
  if (!commonNamePattern.test(commonName)) {
    throw invalid(`common name "${commonName}" must match ${commonNamePattern}`, {
      fields: [{ field: 'commonName', message: 'bad format' }],
    });
  }
}

/** Agent side: a fresh ECDSA P-256 key (PKCS#8 PEM) and a CSR for it. */
export async function createKeyAndCsr(options: { commonName: string }): Promise<{ keyPem: string; csrPem: string }> {
  checkCommonName(options.commonName);
  const keys = await generateP256KeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [options.commonName] }],
    keys,
    signingAlgorithm: ecdsaSha256,
  });
  return { keyPem: pkcs8ToPem(await exportPkcs8(keys.privateKey)), csrPem: csr.toString('pem') };
}

/** Control-plane side: the parsed CSR, or VmcError invalid when unreadable, tampered or of another key type. */
export async function readVerifiedCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string' || csrPem.length > maxCsrPemChars) throw invalid('the CSR is missing or too large');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw invalid('the CSR is not a PEM PKCS#10 request', { reason: 'csr_unreadable', cause: error });
  }
  const algorithm = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (algorithm.name !== 'ECDSA' || !acceptedCurves.has(algorithm.namedCurve ?? '')) {
    throw invalid('the CSR key must be ECDSA P-256 or P-384', { reason: 'csr_key_type' });
  }
  const verified = await csr.verify().catch(() => false);
  if (!verified) throw invalid('the CSR signature does not verify', { reason: 'csr_signature' });
  return csr;
}
