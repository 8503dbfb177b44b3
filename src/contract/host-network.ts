/**
 * The network desired state of one host, as the control plane computes it for the host's agent, and what
 * the agent observed after converging. Private networks: one segment (VXLAN, its VNI) per network with a
 * server on this host, its local ports and the static forwarding entries of its ports on other hosts
 * (the peers' VTEP addresses: no multicast, no learning). Public addresses: the floating and primary IPs
 * routed to the servers of this host.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

export const DesiredPort = Type.Object({
  serverId: Type.String(),
  mac: Type.String(),
  ip: Type.String(),
});
export type DesiredPort = Static<typeof DesiredPort>;

export const RemotePort = Type.Object({
  mac: Type.String(),
  ip: Type.String(),
  /** The underlay address of the host holding the port. */
  vtep: Type.String(),
});
export type RemotePort = Static<typeof RemotePort>;

export const DesiredSegment = Type.Object({
  networkId: Type.String(),
  projectId: Type.String(),
  vni: Type.Integer(),
  mtu: Type.Integer(),
  /** The network's range (the guests' on-link prefix). */
  ipRange: Type.String(),
  ports: Type.Array(DesiredPort),
  remotes: Type.Array(RemotePort),
  routes: Type.Array(Type.Object({ destination: Type.String(), gateway: Type.String() })),
});
export type DesiredSegment = Static<typeof DesiredSegment>;

export const DesiredPublicRoute = Type.Object({
  /** An IPv4 address, or an IPv6 /64 prefix. */
  address: Type.String(),
  type: Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')]),
  kind: Type.Union([Type.Literal('floating'), Type.Literal('primary')]),
  serverId: Type.String(),
});
export type DesiredPublicRoute = Static<typeof DesiredPublicRoute>;

/** One rule as the agent compiles it (the API's rule, normalized: CIDR text, `port` as a range or null). */
export const DesiredFirewallRule = Type.Object({
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  protocol: Type.String(),
  /** `[from, to]` (from = to for one port); null: every port, or a protocol without ports. */
  ports: Nullable(Type.Tuple([Type.Integer(), Type.Integer()])),
  /** The remote side: sources of an `in` rule, destinations of an `out` rule. */
  ips: Type.Array(Type.String()),
});
export type DesiredFirewallRule = Static<typeof DesiredFirewallRule>;

/** The firewalls of one server of this host, compiled by the agent into the chains of the server's tap. */
export const DesiredServerFirewall = Type.Object({
  serverId: Type.String(),
  firewalls: Type.Array(
    Type.Object({ id: Type.String(), version: Type.Integer(), rules: Type.Array(DesiredFirewallRule) }),
  ),
});
export type DesiredServerFirewall = Static<typeof DesiredServerFirewall>;

export const DesiredHostNetwork = Type.Object({
  /** This host's underlay address (the VXLAN source), null when unknown (simulated hosts). */
  vtep: Nullable(Type.String()),
  segments: Type.Array(DesiredSegment),
  publicRoutes: Type.Array(DesiredPublicRoute),
  /** Servers of this host with at least one firewall (absent: a control plane without firewalls). */
  firewalls: Type.Optional(Type.Array(DesiredServerFirewall)),
});
export type DesiredHostNetwork = Static<typeof DesiredHostNetwork>;

export const ObservedHostNetwork = Type.Object(
  {
    /** The ports in place (segment, tap, forwarding entries). */
    ports: Type.Array(
      Type.Object(
        { networkId: Type.String({ maxLength: 100 }), serverId: Type.String({ maxLength: 100 }) },
        { additionalProperties: false },
      ),
      { maxItems: 10_000 },
    ),
    /** The public addresses routed (and announced) to servers of this host. */
    publicRoutes: Type.Array(
      Type.Object(
        { address: Type.String({ maxLength: 64 }), serverId: Type.String({ maxLength: 100 }) },
        { additionalProperties: false },
      ),
      { maxItems: 10_000 },
    ),
    /**
     * Firewalls in place: per server, the firewall versions its chains hold, and each rule's counters
     * (packets and bytes since the chain was last written).
     */
    firewalls: Type.Optional(
      Type.Array(
        Type.Object(
          {
            serverId: Type.String({ maxLength: 100 }),
            firewalls: Type.Array(
              Type.Object(
                {
                  id: Type.String({ maxLength: 100 }),
                  version: Type.Integer({ minimum: 0 }),
                  /** Counters of the rules, in the firewall's order. */
                  counters: Type.Array(
                    Type.Object(
                      { packets: Type.Integer({ minimum: 0 }), bytes: Type.Integer({ minimum: 0 }) },
                      { additionalProperties: false },
                    ),
                    { maxItems: 1000 },
                  ),
                },
                { additionalProperties: false },
              ),
              { maxItems: 100 },
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10_000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ObservedHostNetwork = Static<typeof ObservedHostNetwork>;

/**
 * An operator's view of one host's network data plane (`GET /v1/hosts/{id}/network`): what the host should
 * have, from the control plane's desired state (segments with their devices, public routes, firewall
 * chains), beside what its agent last reported in place, and the differences (`drift`). The agent repairs
 * drift at each pass; what is listed is what its last report still lacked or had in excess.
 */
const HostNetworkDrift = Type.Object({
  kind: Type.Union([
    Type.Literal('port_missing'),
    Type.Literal('port_unexpected'),
    Type.Literal('route_missing'),
    Type.Literal('route_unexpected'),
    Type.Literal('firewall_missing'),
    Type.Literal('firewall_outdated'),
    Type.Literal('firewall_unexpected'),
    Type.Literal('never_reported'),
  ]),
  server_id: Nullable(Type.String()),
  /** The network, address or firewall concerned. */
  subject: Nullable(Type.String()),
  message: Type.String(),
});
export type HostNetworkDrift = Static<typeof HostNetworkDrift>;

export const HostNetworkView = Type.Object({
  host_id: Type.String(),
  /** The host's underlay (VXLAN source) address; null when unknown (simulated hosts). */
  vtep: Nullable(Type.String()),
  segments: Type.Array(
    Type.Object({
      network_id: Type.String(),
      project_id: Type.String(),
      vni: Type.Integer(),
      mtu: Type.Integer(),
      ip_range: Type.String(),
      bridge: Type.String(),
      vxlan_device: Type.String(),
      ports: Type.Array(
        Type.Object({
          server_id: Type.String(),
          ip: Type.String(),
          mac: Type.String(),
          tap: Type.String(),
          in_place: Type.Boolean(),
        }),
      ),
      /** Static forwarding entries: the network's ports on other hosts. */
      remotes: Type.Array(Type.Object({ ip: Type.String(), mac: Type.String(), vtep: Type.String() })),
    }),
  ),
  public_routes: Type.Array(
    Type.Object({
      address: Type.String(),
      type: Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')]),
      kind: Type.Union([Type.Literal('floating'), Type.Literal('primary')]),
      server_id: Type.String(),
      /** The server's public tap (the route's device is the public bridge `vmcbr0`). */
      tap: Type.String(),
      in_place: Type.Boolean(),
    }),
  ),
  firewalls: Type.Array(
    Type.Object({
      server_id: Type.String(),
      /** The nftables chain of the server's tap (`in_<tap>` in `table bridge vmcloud_fw`). */
      chain: Type.String(),
      firewalls: Type.Array(
        Type.Object({
          id: Type.String(),
          version: Type.Integer(),
          rules: Type.Integer(),
          /** The version the host reported in place; null: not in place. */
          observed_version: Nullable(Type.Integer()),
        }),
      ),
    }),
  ),
  reported_at: Nullable(Type.String({ description: 'when the agent last reported a change of its data plane' })),
  drift: Type.Array(HostNetworkDrift),
});
export type HostNetworkView = Static<typeof HostNetworkView>;

export const getHostNetwork = defineOperation({
  operationId: 'getHostNetwork',
  method: 'GET',
  path: '/v1/hosts/:id/network',
  tags: ['hosts'],
  summary: "A host's network data plane: desired (segments, routes, firewall chains) vs its agent's report, with drift",
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: Type.Object({ network: HostNetworkView }),
});

export const hostNetworkOperations = { getHostNetwork };
