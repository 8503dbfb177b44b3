/**
 * NoCloud `network-config` (version 2) for a server with private-network NICs, pure: the public NIC as
 * before (its address and gateway), and one static entry per private NIC matched by MAC — its address in
 * the network's prefix, the network's MTU, and the network's static routes. No DHCP anywhere.
 */
import { stringify as stringifyYaml } from 'yaml';

export interface PrivateNicConfig {
  mac: string;
  /** `10.20.0.2/24` (the network's prefix). */
  address: string;
  mtu: number;
  routes: { destination: string; gateway: string }[];
}

export interface PublicNicConfig {
  /** null: no MAC known (no `match`): the config applies to the interface named eth0. */
  mac: string | null;
  /** `10.12.0.7/16` */
  address: string;
  gateway: string | null;
  /** The server's IPv6 address in its /64 (`2001:db8:2:5::1/64`), routed via the host's fe80::1. */
  ipv6?: string | null;
}

export function renderNetworkConfig(publicNic: PublicNicConfig | null, privateNics: PrivateNicConfig[]): string {
  const ethernets: Record<string, unknown> = {};
  if (publicNic) {
    const routes = [
      ...(publicNic.gateway ? [{ to: '0.0.0.0/0', via: publicNic.gateway }] : []),
      ...(publicNic.ipv6 ? [{ to: '::/0', via: 'fe80::1' }] : []),
    ];
    ethernets.eth0 = {
      ...(publicNic.mac ? { match: { macaddress: publicNic.mac }, 'set-name': 'eth0' } : {}),
      addresses: [publicNic.address, ...(publicNic.ipv6 ? [publicNic.ipv6] : [])],
      ...(routes.length > 0 ? { routes } : {}),
    };
  }
  privateNics.forEach((nic, i) => {
    ethernets[`eth${i + 1}`] = {
      match: { macaddress: nic.mac },
      'set-name': `eth${i + 1}`,
      mtu: nic.mtu,
      addresses: [nic.address],
      ...(nic.routes.length > 0 ? { routes: nic.routes.map((r) => ({ to: r.destination, via: r.gateway })) } : {}),
    };
  });
  // Strings double-quoted: a MAC of digits only would read as a base-60 number in YAML 1.1 (PyYAML).
  return stringifyYaml(
    { version: 2, ethernets },
    { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 },
  );
}
