/** Stable per-server names on the host: the tap device (≤ 15 characters, IFNAMSIZ) and the NIC's MAC. */
import { createHash } from 'node:crypto';

const digest = (serverId: string) => createHash('sha256').update(serverId).digest();

/** `vmc` + 12 hex characters of the server id's sha256: 15 characters. */
export function tapName(serverId: string): string {
  return `vmc${digest(serverId).subarray(0, 6).toString('hex')}`;
}

/** A locally administered QEMU-style MAC (52:54:00:…) derived from the server id. */
export function macAddress(serverId: string): string {
  const bytes = digest(serverId).subarray(6, 9);
  return ['52', '54', '00', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}
