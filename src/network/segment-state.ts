/**
 * What a host has of the private-network and public-address data plane, read from iproute2's JSON
 * (`ip -j -d link show`, `bridge -j fdb show`, `ip -j neigh show`, `ip -j route show proto 177`). Pure
 * parsers: the executor runs the commands, these turn their output into the state the planner compares.
 */

/** Routes the agent adds carry this protocol number, so that it removes only its own. */
export const vmcloudRouteProtocol = 177;

export interface LinkState {
  name: string;
  kind: string | null;
  master: string | null;
  mtu: number;
  up: boolean;
  mac: string | null;
  vxlan?: { vni: number; local: string | null; port: number; learning: boolean; proxy: boolean };
}

export interface FdbEntry {
  mac: string;
  dst: string;
}

export interface NeighEntry {
  ip: string;
  mac: string;
  permanent: boolean;
}

export interface RouteEntry {
  /** `198.18.16.5` (a /32 shows without its prefix) or `2001:db8:2:5::/64`. */
  dst: string;
  dev: string | null;
  gateway: string | null;
}

export interface HostDataPlaneState {
  links: Map<string, LinkState>;
  /** VXLAN device name → its unicast forwarding entries (those with a remote `dst`). */
  fdb: Map<string, FdbEntry[]>;
  /** Device name → its neighbour entries. */
  neigh: Map<string, NeighEntry[]>;
  routes: RouteEntry[];
}

type Json = Record<string, unknown>;
const asArray = (text: string): Json[] => {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const parsed = JSON.parse(trimmed) as unknown;
  return Array.isArray(parsed) ? (parsed as Json[]) : [];
};

export function parseLinks(text: string): Map<string, LinkState> {
  const links = new Map<string, LinkState>();
  for (const link of asArray(text)) {
    const name = String(link.ifname);
    const info = (link.linkinfo ?? {}) as Json;
    const data = (info.info_data ?? {}) as Json;
    const kind = typeof info.info_kind === 'string' ? info.info_kind : null;
    links.set(name, {
      name,
      kind,
      master: typeof link.master === 'string' ? link.master : null,
      mtu: Number(link.mtu),
      up: Array.isArray(link.flags) && (link.flags as string[]).includes('UP'),
      mac: typeof link.address === 'string' ? link.address : null,
      ...(kind === 'vxlan' && {
        vxlan: {
          vni: Number(data.id),
          local: typeof data.local === 'string' ? data.local : null,
          port: Number(data.port),
          learning: data.learning === true,
          proxy: data.proxy === true,
        },
      }),
    });
  }
  return links;
}

/** The unicast entries of a VXLAN device (`… dst <vtep> self permanent`). */
export function parseFdb(text: string): FdbEntry[] {
  return asArray(text).flatMap((entry) =>
    typeof entry.dst === 'string' && typeof entry.mac === 'string' ? [{ mac: entry.mac, dst: entry.dst }] : [],
  );
}

export function parseNeigh(text: string): NeighEntry[] {
  return asArray(text).flatMap((entry) =>
    typeof entry.dst === 'string'
      ? [
          {
            ip: entry.dst,
            mac: typeof entry.lladdr === 'string' ? entry.lladdr : '',
            permanent: Array.isArray(entry.state) && (entry.state as string[]).includes('PERMANENT'),
          },
        ]
      : [],
  );
}

export function parseRoutes(text: string): RouteEntry[] {
  return asArray(text).map((route) => ({
    dst: String(route.dst),
    dev: typeof route.dev === 'string' ? route.dev : null,
    gateway: typeof route.gateway === 'string' ? route.gateway : null,
  }));
}
