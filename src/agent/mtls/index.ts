/** The agent's side of mutual TLS: joining, its stored identity, renewal, and the agent protocol over HTTPS. */
export {
  createMtlsLink,
  fetchTrustedCa,
  joinControlPlane,
  normalizeFingerprint,
  type HostCredentials,
  type Joined,
  type MtlsLink,
} from './control-plane-client.ts';
export { credentialPaths, readStoredCredentials, storeCredentials } from './credential-files.ts';
export {
  createHostIdentity,
  establishHostIdentity,
  type EstablishOptions,
  type Established,
  type HostIdentity,
} from './host-identity.ts';
export { httpsRequest, readText, headerOf, type HttpsRequestOptions } from './https-request.ts';
