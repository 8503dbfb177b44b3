/** Row types of the addresses domain's tables (src/db/schema.ts includes them). */
interface PublicAddressColumns {
  id: string;
  project_id: string;
  name: string;
  region: string;
  /** ipv4 | ipv6 */
  type: string;
  /** An IPv4 address, or an IPv6 /64 prefix. */
  ip: string;
  server_id: string | null;
  /** The server its host last acknowledged routing it to (null: none). */
  observed_server_id: string | null;
  dns_ptr_json: string;
  labels_json: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface FloatingIpsTable extends PublicAddressColumns {
  description: string;
}

export interface PrimaryIpsTable extends PublicAddressColumns {
  /** 0/1: deleted with its server. */
  auto_delete: number;
}
