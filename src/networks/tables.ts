/** Row types of the networks domain's tables (src/db/schema.ts includes them). */
export interface NetworksTable {
  id: string;
  project_id: string;
  name: string;
  region: string;
  ip_range: string;
  /** The VXLAN network identifier: unique across every network ever made. */
  vni: number;
  mtu: number;
  labels_json: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface NetworkSubnetsTable {
  network_id: string;
  ip_range: string;
  gateway: string;
  created_at: string;
}

export interface NetworkRoutesTable {
  network_id: string;
  destination: string;
  gateway: string;
  created_at: string;
}

export interface NetworkAttachmentsTable {
  network_id: string;
  server_id: string;
  project_id: string;
  ip: string;
  mac: string;
  /** attaching | attached | detaching */
  status: string;
  created_at: string;
  updated_at: string;
}

/** IPAM: one row per address handed out, unique per pool (`net:<id>`, `public4:<region>`, `public6:<region>`). */
export interface AddressAllocationsTable {
  pool: string;
  address: string;
  owner_id: string;
  created_at: string;
}

/** The last network report of a host's agent (src/networks/host-network-store.ts). */
export interface HostNetworkReportsTable {
  host_id: string;
  /** The agent's `ObservedHostNetwork`. */
  observed_json: string;
  reported_at: string;
}
