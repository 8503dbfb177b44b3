/**
 * The PKI of VMCloud: the control plane's CA (its key sealed in the key store), host certificates from
 * agents' CSRs, the control plane's client and server certificates, the self-signed certificate of
 * `serve --tls auto`, and TLS 1.3 option builders for node:tls / node:https.
 */
export type { CertificateAuthority } from './authority.ts';
export { createCertificateAuthority, loadCertificateAuthority, clockSkewAllowanceMs } from './authority.ts';
export {
  loadOrCreateCertificateAuthority,
  caKeyPurpose,
  hostAuthorityId,
  type SecretSealer,
  type AuthorityStoreDeps,
} from './authority-store.ts';
export { createKeyAndCsr, readVerifiedCsr, checkCommonName } from './csr.ts';
export {
  issueHostCertificate,
  issueControlPlaneCertificate,
  issueServerCertificate,
  defaultHostCertificateValidityMs,
  defaultControlPlaneCertificateValidityMs,
  defaultServerCertificateValidityMs,
  type IssuedCertificate,
  type IssuedKeyAndCertificate,
} from './issue.ts';
export {
  createHostCertificateStore,
  type HostCertificateStore,
  type HostCertificateRecord,
} from './host-certificate-store.ts';
export {
  hostIdOfCertificate,
  isControlPlaneCertificate,
  serialOfCertificate,
  hostUri,
  controlPlaneUri,
} from './identity.ts';
export { selfSignedServerCertificate, defaultSelfSignedValidityMs, type SelfSignedCertificate } from './self-signed.ts';
export { loadOrCreateAutoTlsFiles, type AutoTlsFiles } from './tls-auto-files.ts';
export { fingerprintSha256, parseCertificate } from './fingerprint.ts';
export { needsRenewal, renewalDueMs } from './renewal.ts';
export { normalizeSerial } from './serial.ts';
export { tlsServerOptions, tlsClientOptions, isCertificateTrustError, peerIdentityErrorCode } from './tls-options.ts';
export { createControlPlaneCredentials, type ControlPlaneCredentials } from './control-plane-credentials.ts';
export type { PkiTables, PkiAuthoritiesTable, HostCertificatesTable, AnyKysely } from './tables.ts';
