/**
 * An operator's view of a host's network data plane, pure: the desired state (as its agent receives it)
 * with the devices it implies (bridge `vmn<vni>`, VXLAN device `vmx<vni>`, the ports' taps, the public
 * taps the routes and firewall chains hang off), each item marked in place or not from the agent's last
 * report, and the drift between the two listed item by item.
 */
import type { DesiredHostNetwork, HostNetworkDrift, HostNetworkView, ObservedHostNetwork } from '../contract/index.ts';
import { privateTapName, segmentBridgeName, tapName, vxlanDeviceName } from '../network/index.ts';
import type { HostNetworkReport } from './host-network-store.ts';

export function hostNetworkView(
  hostId: string,
  desired: DesiredHostNetwork,
  report: HostNetworkReport | null,
): HostNetworkView {
  const observed: ObservedHostNetwork = report?.observed ?? { ports: [], publicRoutes: [] };
  const drift: HostNetworkDrift[] = [];
  const portKey = (networkId: string, serverId: string) => `${networkId}/${serverId}`;
  const observedPorts = new Set(observed.ports.map((p) => portKey(p.networkId, p.serverId)));
  const desiredPorts = new Set(desired.segments.flatMap((s) => s.ports.map((p) => portKey(s.networkId, p.serverId))));
  const observedRoutes = new Map(observed.publicRoutes.map((r) => [r.address, r.serverId]));
  const observedFirewalls = new Map(
    (observed.firewalls ?? []).map((s) => [s.serverId, new Map(s.firewalls.map((f) => [f.id, f.version]))]),
  );

  if (
    !report &&
    (desired.segments.length > 0 || desired.publicRoutes.length > 0 || (desired.firewalls ?? []).length > 0)
  )
    drift.push({
      kind: 'never_reported',
      server_id: null,
      subject: null,
      message: 'the agent has not reported its network data plane (no data plane, or `--network off`)',
    });

  const segments = desired.segments.map((segment) => ({
    network_id: segment.networkId,
    project_id: segment.projectId,
    vni: segment.vni,
    mtu: segment.mtu,
    ip_range: segment.ipRange,
    bridge: segmentBridgeName(segment.vni),
    vxlan_device: vxlanDeviceName(segment.vni),
    ports: segment.ports.map((port) => {
      const inPlace = observedPorts.has(portKey(segment.networkId, port.serverId));
      if (report && !inPlace)
        drift.push({
          kind: 'port_missing',
          server_id: port.serverId,
          subject: segment.networkId,
          message: `port ${port.ip} of ${segment.networkId} is not in place (tap, bridge ${segmentBridgeName(segment.vni)} or VXLAN device)`,
        });
      return {
        server_id: port.serverId,
        ip: port.ip,
        mac: port.mac,
        tap: privateTapName(port.serverId, segment.networkId),
        in_place: inPlace,
      };
    }),
    remotes: segment.remotes.map((r) => ({ ip: r.ip, mac: r.mac, vtep: r.vtep })),
  }));
  for (const port of observed.ports)
    if (!desiredPorts.has(portKey(port.networkId, port.serverId)))
      drift.push({
        kind: 'port_unexpected',
        server_id: port.serverId,
        subject: port.networkId,
        message: `a port of ${port.networkId} is in place that should not exist`,
      });

  const publicRoutes = desired.publicRoutes.map((route) => {
    const inPlace = observedRoutes.get(route.address) === route.serverId;
    if (report && !inPlace)
      drift.push({
        kind: 'route_missing',
        server_id: route.serverId,
        subject: route.address,
        message: `${route.kind} ${route.type} ${route.address} is not routed to the server`,
      });
    return {
      address: route.address,
      type: route.type,
      kind: route.kind,
      server_id: route.serverId,
      tap: tapName(route.serverId),
      in_place: inPlace,
    };
  });
  for (const route of observed.publicRoutes)
    if (!desired.publicRoutes.some((r) => r.address === route.address && r.serverId === route.serverId))
      drift.push({
        kind: 'route_unexpected',
        server_id: route.serverId,
        subject: route.address,
        message: `${route.address} is routed to the server but should not be`,
      });

  const firewalls = (desired.firewalls ?? []).map((server) => {
    const inPlace = observedFirewalls.get(server.serverId);
    return {
      server_id: server.serverId,
      chain: `in_${tapName(server.serverId)}`,
      firewalls: server.firewalls.map((f) => {
        const version = inPlace?.get(f.id) ?? null;
        if (report && version === null)
          drift.push({
            kind: 'firewall_missing',
            server_id: server.serverId,
            subject: f.id,
            message: `firewall ${f.id} is not in the server's chains`,
          });
        else if (report && version !== f.version)
          drift.push({
            kind: 'firewall_outdated',
            server_id: server.serverId,
            subject: f.id,
            message: `firewall ${f.id} is in place at version ${version}, not ${f.version}`,
          });
        return { id: f.id, version: f.version, rules: f.rules.length, observed_version: version };
      }),
    };
  });
  if (desired.firewalls)
    for (const server of observed.firewalls ?? [])
      for (const f of server.firewalls)
        if (!desired.firewalls.some((d) => d.serverId === server.serverId && d.firewalls.some((x) => x.id === f.id)))
          drift.push({
            kind: 'firewall_unexpected',
            server_id: server.serverId,
            subject: f.id,
            message: `firewall ${f.id} is still in the server's chains`,
          });

  return {
    host_id: hostId,
    vtep: desired.vtep,
    segments,
    public_routes: publicRoutes,
    firewalls,
    reported_at: report?.reportedAt ?? null,
    drift,
  };
}
