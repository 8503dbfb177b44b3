/**
 * The public address plan of each region: an IPv4 pool for floating and primary IPv4 addresses, and the
 * region's IPv6 /48 from which every server gets a /64. The defaults use ranges reserved for
 * documentation and benchmarking (198.18.0.0/15, 2001:db8::/32) so that nothing here is routable; an
 * operator passes the real plan (ControlPlaneConfig `addressPlans`).
 */
export interface RegionAddressPlan {
  /** IPv4 CIDR of the region's public pool (its first and last addresses are never handed out). */
  ipv4: string;
  /** The region's IPv6 /48. */
  ipv6: string;
}

export const defaultAddressPlans: Record<string, RegionAddressPlan> = {
  par1: { ipv4: '198.18.0.0/20', ipv6: '2001:db8:1::/48' },
  fra1: { ipv4: '198.18.16.0/20', ipv6: '2001:db8:2::/48' },
  ams1: { ipv4: '198.18.32.0/20', ipv6: '2001:db8:3::/48' },
  lon1: { ipv4: '198.18.48.0/20', ipv6: '2001:db8:4::/48' },
  mad1: { ipv4: '198.18.64.0/20', ipv6: '2001:db8:5::/48' },
  mil1: { ipv4: '198.18.80.0/20', ipv6: '2001:db8:6::/48' },
};
