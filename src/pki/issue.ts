/**
 * Certificates the control plane's CA issues, all ECDSA P-256, CA:FALSE, random 128-bit serials, starting
 * a few minutes in the past for clock skew:
 * - host certificates from an agent's CSR: SAN URI urn:vmcloud:host:<hostId>, clientAuth + serverAuth
 *   (the agent dials the control plane and serves its host API), 24 h by default;
 * - the control plane's certificate: SAN URI urn:vmcloud:control-plane, clientAuth (it dials host APIs),
 *   and with `serverAuth: true` also serverAuth (the same certificate serves the agent listener: agents
 *   check the SAN URI, not a DNS name, so any address of the control plane works);
 * - server certificates with DNS/IP SANs, serverAuth.
 */
import { isIP } from 'node:net';
import { invalid } from '../core/errors.ts';
import { clockSkewAllowanceMs, type CertificateAuthority } from './authority.ts';
import { checkCommonName, readVerifiedCsr } from './csr.ts';
import { fingerprintSha256 } from './fingerprint.ts';
import { controlPlaneUri, hostIdPattern, hostUri } from './identity.ts';
import { ecdsaSha256, exportPkcs8, generateP256KeyPair, pkcs8ToPem } from './keys.ts';
import { newSerial } from './serial.ts';
import { x509 } from './x509.ts';

export interface IssuedCertificate {
  certPem: string;
  /** Lower-case hex, as normalizeSerial writes it. */
  serial: string;
  fingerprintSha256: string;
  /** ISO-8601 UTC. */
  notBefore: string;
  notAfter: string;
}

export interface IssuedKeyAndCertificate extends IssuedCertificate {
  /** PKCS#8 PEM of the new certificate's private key. */
  keyPem: string;
}

export const defaultHostCertificateValidityMs = 24 * 3600_000;
export const defaultControlPlaneCertificateValidityMs = 24 * 3600_000;
export const defaultServerCertificateValidityMs = 30 * 24 * 3600_000;
const maxLeafValidityMs = 397 * 24 * 3600_000;

const dnsNamePattern = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

interface LeafRequest {
  publicKey: x509.PublicKeyType;
  commonName: string;
  names: x509.JsonGeneralName[];
  extendedKeyUsages: string[];
  nowMs: number;
  validityMs: number;
}

async function signLeaf(ca: CertificateAuthority, request: LeafRequest): Promise<IssuedCertificate> {
  checkCommonName(request.commonName);
  if (!Number.isInteger(request.validityMs) || request.validityMs < 60_000 || request.validityMs > maxLeafValidityMs) {
    throw invalid(`validityMs must be between one minute and ${maxLeafValidityMs} ms`);
  }
  const notBefore = new Date(request.nowMs - clockSkewAllowanceMs);
  const notAfter = new Date(request.nowMs + request.validityMs);
  if (notAfter > ca.certificate.notAfter)
    throw invalid('the certificate would outlive its CA', { reason: 'ca_expiring' });
  const serial = newSerial();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{ CN: [request.commonName] }],
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: ecdsaSha256,
    publicKey: request.publicKey,
    signingKey: ca.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(request.extendedKeyUsages, false),
      new x509.SubjectAlternativeNameExtension(request.names, false),
      await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  const certPem = certificate.toString('pem');
  return {
    certPem,
    serial,
    fingerprintSha256: fingerprintSha256(certPem),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
}

/** Signs an agent's CSR for `hostId`; a CSR that does not verify is refused (VmcError invalid). */
export async function issueHostCertificate(
  ca: CertificateAuthority,
  csrPem: string,
  options: { hostId: string; nowMs: number; validityMs?: number },
): Promise<IssuedCertificate> {
  if (!hostIdPattern.test(options.hostId)) throw invalid(`"${options.hostId}" is not a host id`);
  const csr = await readVerifiedCsr(csrPem);
  return signLeaf(ca, {
    publicKey: csr.publicKey,
    commonName: options.hostId,
    names: [{ type: 'url', value: hostUri(options.hostId) }],
    extendedKeyUsages: [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
    nowMs: options.nowMs,
    validityMs: options.validityMs ?? defaultHostCertificateValidityMs,
  });
}

/**
 * A new key and certificate of the control plane: a client certificate for host APIs and, with
 * `serverAuth`, also the server certificate of the agent listener.
 */
export async function issueControlPlaneCertificate(
  ca: CertificateAuthority,
  options: { nowMs: number; validityMs?: number; serverAuth?: boolean },
): Promise<IssuedKeyAndCertificate> {
  const keys = await generateP256KeyPair();
  const issued = await signLeaf(ca, {
    publicKey: keys.publicKey,
    commonName: 'vmcloud-control-plane',
    names: [{ type: 'url', value: controlPlaneUri }],
    extendedKeyUsages: options.serverAuth
      ? [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]
      : [x509.ExtendedKeyUsage.clientAuth],
    nowMs: options.nowMs,
    validityMs: options.validityMs ?? defaultControlPlaneCertificateValidityMs,
  });
  return { ...issued, keyPem: pkcs8ToPem(await exportPkcs8(keys.privateKey)) };
}

/** Validates DNS names and IP addresses and turns them into SAN entries. */
export function serverNames(dnsNames: readonly string[], ipAddresses: readonly string[]): x509.JsonGeneralName[] {
  if (dnsNames.length + ipAddresses.length === 0)
    throw invalid('a server certificate needs a DNS name or an IP address');
  for (const name of dnsNames) if (!dnsNamePattern.test(name)) throw invalid(`"${name}" is not a DNS name`);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw invalid(`"${ip}" is not an IP address`);
  return [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
}

/** A new key and server certificate for the control plane's agent listener. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  options: { dnsNames: readonly string[]; ipAddresses: readonly string[]; nowMs: number; validityMs?: number },
): Promise<IssuedKeyAndCertificate> {
  const names = serverNames(options.dnsNames, options.ipAddresses);
  const keys = await generateP256KeyPair();
  const issued = await signLeaf(ca, {
    publicKey: keys.publicKey,
    // Clients match the SANs; the subject only says what the certificate is for.
    commonName: 'vmcloud-agent-listener',
    names,
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
    nowMs: options.nowMs,
    validityMs: options.validityMs ?? defaultServerCertificateValidityMs,
  });
  return { ...issued, keyPem: pkcs8ToPem(await exportPkcs8(keys.privateKey)) };
}
