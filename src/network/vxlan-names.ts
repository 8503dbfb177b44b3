/**
 * Names of the private-network data plane on a host (≤ 15 characters, IFNAMSIZ): per network a bridge
 * `vmn<vni>` and its VXLAN device `vmx<vni>`; per attachment a tap `vmp` + 12 hex characters, and a
 * locally administered MAC (02:…) derived from the server and the network.
 */
import { createHash } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

export const segmentBridgeName = (vni: number) => `vmn${vni}`;
export const vxlanDeviceName = (vni: number) => `vmx${vni}`;

export function privateTapName(serverId: string, networkId: string): string {
  return `vmp${digest(`${serverId}/${networkId}`).subarray(0, 6).toString('hex')}`;
}

export function privateMac(serverId: string, networkId: string): string {
  const bytes = digest(`mac/${serverId}/${networkId}`).subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}
