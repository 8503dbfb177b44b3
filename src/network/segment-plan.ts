/**
 * The private-network and public-address data plane of a host as commands, pure: given the desired state
 * (from the control plane) and what the host has (segment-state.ts), the `ip`/`bridge` commands that
 * converge it — removals first (what should not exist: our devices, forwarding and neighbour entries,
 * routes), then creations and corrections (what is missing or wrong, e.g. deleted under the agent).
 *
 * Per network with a server on this host: a bridge `vmn<vni>` holding a VXLAN device `vmx<vni>`
 * (`nolearning`, `proxy`, `df set`, UDP 4789, no multicast group) and the servers' taps; static forwarding
 * entries (remote MAC → the remote host's VTEP) and neighbour entries (remote IP → MAC, so the VXLAN device
 * answers ARP itself) for every port of the network on other hosts. Public addresses: a /32 (IPv4) or /64
 * (IPv6, via the guest's link-local address) route on the public bridge with a permanent neighbour entry
 * for the guest's MAC; IPv4 addresses newly routed here are announced (gratuitous ARP on the uplink).
 */
import type { DesiredHostNetwork, DesiredPublicRoute, DesiredSegment } from '../contract/index.ts';
import { macAddress } from './names.ts';
import { privateTapName, segmentBridgeName, vxlanDeviceName } from './vxlan-names.ts';
import { vmcloudRouteProtocol, type HostDataPlaneState } from './segment-state.ts';

export interface DataPlaneLayout {
  /** The bridge carrying servers' public NICs (`vmcbr0`); null: no public routes on this host. */
  publicBridge: string | null;
  /** The host's uplink towards the provider's router: where new IPv4 addresses are announced. */
  uplink: string | null;
  /** VXLAN UDP port (IANA: 4789). */
  vxlanPort: number;
}

export interface Command {
  tool: 'ip' | 'bridge';
  args: string[];
}

export interface DataPlanePlan {
  commands: Command[];
  /** IPv4 addresses to announce on the uplink once the commands ran (gratuitous ARP). */
  announce: string[];
}

const ip = (...args: string[]): Command => ({ tool: 'ip', args });
const bridgeCmd = (...args: string[]): Command => ({ tool: 'bridge', args });

const ourLink = (name: string) => /^vm[nxp][0-9a-f]+$/.test(name);

/** The guest's IPv6 link-local address (EUI-64 of its MAC), the next hop of its /64. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0] ^= 0x02;
  const groups = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  // Canonical text (as iproute2 prints it): the zero groups after fe80 compressed, with a zero first group.
  const tail = groups[0] === 0 ? groups.slice(1) : groups;
  return `fe80::${tail.map((g) => g.toString(16)).join(':')}`;
}

const routeKey = (route: DesiredPublicRoute) =>
  route.type === 'ipv4' ? route.address.replace(/\/32$/, '') : route.address;

export function planHostNetwork(
  desired: DesiredHostNetwork,
  state: HostDataPlaneState,
  layout: DataPlaneLayout,
): DataPlanePlan {
  const removals: Command[] = [];
  const creations: Command[] = [];
  const segments = desired.segments;
  const wantedLinks = new Set<string>();
  for (const segment of segments) {
    wantedLinks.add(segmentBridgeName(segment.vni));
    if (desired.vtep) wantedLinks.add(vxlanDeviceName(segment.vni));
    for (const port of segment.ports) wantedLinks.add(privateTapName(port.serverId, segment.networkId));
  }
  // Our devices that should not exist: taps first, then VXLAN devices, then bridges.
  const order = (name: string) => (name.startsWith('vmp') ? 0 : name.startsWith('vmx') ? 1 : 2);
  for (const name of [...state.links.keys()]
    .filter((n) => ourLink(n) && !wantedLinks.has(n))
    .sort((a, b) => order(a) - order(b)))
    removals.push(ip('link', 'del', 'dev', name));

  for (const segment of segments) creations.push(...planSegment(segment, desired.vtep, state, layout, removals));

  const announce: string[] = [];
  if (layout.publicBridge) planPublic(desired.publicRoutes, state, layout.publicBridge, removals, creations, announce);
  return { commands: [...removals, ...creations], announce };
}

function planSegment(
  segment: DesiredSegment,
  vtep: string | null,
  state: HostDataPlaneState,
  layout: DataPlaneLayout,
  removals: Command[],
): Command[] {
  const out: Command[] = [];
  const mtu = String(segment.mtu);
  const bridge = segmentBridgeName(segment.vni);
  const vx = vxlanDeviceName(segment.vni);
  const fix = (name: string, master: string | null) => {
    const link = state.links.get(name);
    const changes: string[] = [];
    if (!link || link.mtu !== segment.mtu) changes.push('mtu', mtu);
    if (master && (!link || link.master !== master)) changes.push('master', master);
    if (!link || !link.up) changes.push('up');
    if (changes.length > 0) out.push(ip('link', 'set', 'dev', name, ...changes));
  };

  const existingBridge = state.links.get(bridge);
  if (existingBridge && existingBridge.kind !== 'bridge') out.push(ip('link', 'del', 'dev', bridge));
  if (!existingBridge || existingBridge.kind !== 'bridge') out.push(ip('link', 'add', bridge, 'type', 'bridge'));
  fix(bridge, null);

  if (vtep) {
    const link = state.links.get(vx);
    const right =
      link?.vxlan &&
      link.vxlan.vni === segment.vni &&
      link.vxlan.local === vtep &&
      link.vxlan.port === layout.vxlanPort &&
      !link.vxlan.learning &&
      link.vxlan.proxy;
    if (link && !right) out.push(ip('link', 'del', 'dev', vx));
    if (!right)
      out.push(
        ip(
          'link',
          'add',
          vx,
          'type',
          'vxlan',
          'id',
          String(segment.vni),
          'local',
          vtep,
          'dstport',
          String(layout.vxlanPort),
          'nolearning',
          'proxy',
          'df',
          'set',
        ),
      );
    fix(vx, bridge);
    // Forwarding and neighbour entries: exactly the remote ports (a recreated device has none).
    const fdb = right ? (state.fdb.get(vx) ?? []) : [];
    const neigh = right ? (state.neigh.get(vx) ?? []) : [];
    for (const entry of fdb)
      if (!segment.remotes.some((r) => r.mac === entry.mac && r.vtep === entry.dst))
        removals.push(bridgeCmd('fdb', 'del', entry.mac, 'dev', vx, 'dst', entry.dst, 'self'));
    for (const entry of neigh)
      if (!segment.remotes.some((r) => r.ip === entry.ip && r.mac === entry.mac))
        removals.push(ip('neigh', 'del', entry.ip, 'dev', vx));
    for (const remote of segment.remotes) {
      if (!fdb.some((e) => e.mac === remote.mac && e.dst === remote.vtep))
        out.push(bridgeCmd('fdb', 'replace', remote.mac, 'dev', vx, 'dst', remote.vtep, 'self', 'permanent'));
      if (!neigh.some((e) => e.ip === remote.ip && e.mac === remote.mac && e.permanent))
        out.push(ip('neigh', 'replace', remote.ip, 'lladdr', remote.mac, 'dev', vx, 'nud', 'permanent'));
    }
  }

  for (const port of segment.ports) {
    const tap = privateTapName(port.serverId, segment.networkId);
    if (!state.links.has(tap)) out.push(ip('tuntap', 'add', 'dev', tap, 'mode', 'tap', 'vnet_hdr'));
    fix(tap, bridge);
  }
  return out;
}

function planPublic(
  routes: DesiredPublicRoute[],
  state: HostDataPlaneState,
  bridge: string,
  removals: Command[],
  creations: Command[],
  announce: string[],
) {
  const neigh = state.neigh.get(bridge) ?? [];
  const wanted = new Map(routes.map((r) => [routeKey(r), r]));
  for (const route of state.routes) {
    const want = wanted.get(route.dst);
    const nextHop = want?.type === 'ipv6' ? linkLocalOf(macAddress(want.serverId)) : null;
    if (want && route.dev === bridge && route.gateway === nextHop) continue;
    const v6 = route.dst.includes(':');
    removals.push(
      ip(
        ...(v6 ? ['-6'] : []),
        'route',
        'del',
        route.dst,
        'dev',
        route.dev ?? bridge,
        'proto',
        String(vmcloudRouteProtocol),
      ),
    );
    if (!v6 && !want) removals.push(ip('neigh', 'del', route.dst, 'dev', bridge));
  }
  const routed = new Set(state.routes.map((r) => r.dst));
  for (const route of routes) {
    const mac = macAddress(route.serverId);
    if (route.type === 'ipv4') {
      const address = routeKey(route);
      const current = state.routes.find((r) => r.dst === address);
      if (!neigh.some((e) => e.ip === address && e.mac === mac && e.permanent))
        creations.push(ip('neigh', 'replace', address, 'lladdr', mac, 'dev', bridge, 'nud', 'permanent'));
      if (!current || current.dev !== bridge)
        creations.push(ip('route', 'replace', `${address}/32`, 'dev', bridge, 'proto', String(vmcloudRouteProtocol)));
      if (!routed.has(address) || !neigh.some((e) => e.ip === address && e.mac === mac)) announce.push(address);
    } else {
      const hop = linkLocalOf(mac);
      const current = state.routes.find((r) => r.dst === route.address);
      if (!neigh.some((e) => e.ip === hop && e.mac === mac && e.permanent))
        creations.push(ip('-6', 'neigh', 'replace', hop, 'lladdr', mac, 'dev', bridge, 'nud', 'permanent'));
      if (!current || current.dev !== bridge || current.gateway !== hop)
        creations.push(
          ip('-6', 'route', 'replace', route.address, 'via', hop, 'dev', bridge, 'proto', String(vmcloudRouteProtocol)),
        );
    }
  }
}
