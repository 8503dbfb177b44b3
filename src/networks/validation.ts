/**
 * Checks of a network's ranges, subnets and routes that the schema cannot express, pure: each failure is
 * an `invalid` error with a stable reason and the field it is about (nothing is written before they pass).
 */
import { invalid } from '../core/index.ts';
import { containsRange, isAssignable, isPrivateRange, overlaps, parseRange, rangeText, type Range } from './cidr.ts';

export const networkPrefixBounds = { minPrefix: 8, maxPrefix: 28 };
/** A subnet keeps at least two addresses for servers beside its network, gateway and broadcast addresses. */
export const subnetPrefixBounds = { minPrefix: 8, maxPrefix: 29 };

export function parseNetworkRange(cidr: string, field = 'ip_range'): Range {
  const parsed = parseRange(cidr, networkPrefixBounds);
  if (parsed === 'malformed')
    throw invalid(`${cidr} is not an IPv4 CIDR`, {
      reason: 'ip_range_invalid',
      fields: [{ field, message: 'not an IPv4 CIDR' }],
    });
  if (parsed === 'not_aligned')
    throw invalid(`${cidr} has host bits set: give the network address`, {
      reason: 'ip_range_invalid',
      fields: [{ field, message: 'host bits set' }],
    });
  if (parsed === 'prefix')
    throw invalid(`${cidr}: a network is /8 to /28`, {
      reason: 'ip_range_prefix',
      fields: [{ field, message: 'prefix must be 8 to 28' }],
    });
  if (!isPrivateRange(parsed))
    throw invalid(`${cidr} is not inside an RFC 1918 block (10/8, 172.16/12, 192.168/16)`, {
      reason: 'ip_range_not_private',
      fields: [{ field, message: 'not RFC 1918' }],
    });
  return parsed;
}

/** A subnet of `network`: aligned, /8–/29, inside the network and overlapping none of `existing`. */
export function parseSubnet(cidr: string, network: Range, existing: Range[], field: string): Range {
  const parsed = parseRange(cidr, subnetPrefixBounds);
  if (typeof parsed === 'string')
    throw invalid(`subnet ${cidr} is not an aligned IPv4 CIDR of /8 to /29`, {
      reason: 'ip_range_invalid',
      fields: [{ field, message: 'not an aligned IPv4 CIDR of /8 to /29' }],
    });
  if (!containsRange(network, parsed))
    throw invalid(`subnet ${cidr} is outside the network range ${rangeText(network)}`, {
      reason: 'subnet_outside_range',
      fields: [{ field, message: `outside ${rangeText(network)}` }],
    });
  const clash = existing.find((other) => overlaps(other, parsed));
  if (clash)
    throw invalid(`subnet ${cidr} overlaps subnet ${rangeText(clash)}`, {
      reason: 'subnet_overlap',
      fields: [{ field, message: `overlaps ${rangeText(clash)}` }],
    });
  return parsed;
}

/** A static route: an aligned destination, and a gateway that is a server address of one of the subnets. */
export function checkRoute(
  route: { destination: string; gateway: string },
  subnets: Range[],
  field: string,
): { destination: string; gateway: string } {
  const destination = parseRange(route.destination);
  if (typeof destination === 'string')
    throw invalid(`route destination ${route.destination} is not an aligned IPv4 CIDR`, {
      reason: 'route_invalid',
      fields: [{ field: `${field}.destination`, message: 'not an aligned IPv4 CIDR' }],
    });
  if (!subnets.some((subnet) => isAssignable(subnet, route.gateway)))
    throw invalid(`route gateway ${route.gateway} is not a server address inside a subnet of the network`, {
      reason: 'ip_outside_subnet',
      fields: [{ field: `${field}.gateway`, message: 'not a server address of a subnet' }],
    });
  return { destination: rangeText(destination), gateway: route.gateway };
}
