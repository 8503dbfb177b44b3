/**
 * The addresses domain: public addresses of projects — floating IPs (`floating_ips`) and primary IPs
 * (`primary_ips`, every server's IPv6 /64 among them), allocated through the networks domain's IPAM.
 */
export type { FloatingIpsTable, PrimaryIpsTable } from './tables.ts';
export { createAddressService, type AddressService, type AddressesDeps, type AddressServers } from './service.ts';
export { createAddressSync, type AddressSync } from './sync.ts';
export { defaultAddressPlans, type RegionAddressPlan } from './plan.ts';
