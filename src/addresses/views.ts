/** Floating and primary IPs as the API shows them. Pure. */
import type { FloatingIp, PrimaryIp } from '../contract/index.ts';
import type { AddressRecord } from './store.ts';

export const floatingIpView = (a: AddressRecord): FloatingIp => ({
  id: a.id,
  name: a.name,
  description: a.description,
  project_id: a.projectId,
  region: a.region,
  type: a.type,
  ip: a.ip,
  server_id: a.serverId,
  dns_ptr: a.dnsPtr,
  labels: a.labels,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

export const primaryIpView = (a: AddressRecord): PrimaryIp => ({
  id: a.id,
  name: a.name,
  project_id: a.projectId,
  region: a.region,
  type: a.type,
  ip: a.ip,
  assignee_id: a.serverId,
  auto_delete: a.autoDelete,
  dns_ptr: a.dnsPtr,
  labels: a.labels,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});
