/**
 * Where the control plane may connect to reach a host's API. A host chooses its address at registration;
 * pointing it at loopback, link-local, cloud metadata or unspecified addresses would make the control
 * plane call itself or its provider's metadata service (SSRF). Those are refused unless the operator runs
 * a one-machine install (`serve --allow-loopback-hosts`), and then only loopback is allowed. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type HostAddressPolicy = 'routable-only' | 'allow-loopback';

/** Why an address is refused, or null when it may be used. */
export function hostAddressProblem(address: string, policy: HostAddressPolicy): string | null {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.pathname !== '/' || url.search || url.hash) return 'must be scheme://host:port only';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const loopback = host === 'localhost' || host.endsWith('.localhost') || isLoopback(host);
  if (loopback) return policy === 'allow-loopback' ? null : 'is a loopback address';
  if (isIPv4(host) || isIPv6(host)) {
    const kind = forbiddenKind(host);
    if (kind) return `is a ${kind} address`;
  }
  return null;
}

function isLoopback(ip: string): boolean {
  if (isIPv4(ip)) return ip.startsWith('127.');
  if (isIPv6(ip)) return ip === '::1' || /^::ffff:127\./.test(ip);
  return false;
}

function forbiddenKind(ip: string): string | null {
  if (isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number);
    if (a === 0) return 'unspecified';
    if (a === 169 && b === 254) return 'link-local (metadata)';
    if (a >= 224) return 'multicast or reserved';
    return null;
  }
  const lower = ip.toLowerCase();
  if (lower === '::') return 'unspecified';
  if (/^fe[89ab]/.test(lower)) return 'link-local';
  if (lower.startsWith('ff')) return 'multicast';
  if (lower === 'fd00:ec2::254') return 'metadata';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return forbiddenKind(mapped[1]) ?? (isLoopback(mapped[1]) ? 'loopback' : null);
  return null;
}
