/** The control plane's side of host trust: the hosts' CA, host certificates, joins and renewals. */
export { createHostTrust, type HostTrust, type HostTrustDeps, type TlsMaterial } from './host-trust.ts';
export {
  createHostEnrollment,
  type HostEnrollment,
  type HostEnrollmentDeps,
  type HostCaller,
  type HostJoinResult,
  type PeerIdentity,
  type RequestMeta,
} from './enrollment.ts';
