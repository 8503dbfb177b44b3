/** Only active hosts take new servers: down, draining and maintenance hosts are filtered out. */
import type { HostFilter } from './filter.ts';

export const hostDown: HostFilter = {
  name: 'host_down',
  kind: 'eligibility',
  answeredBy: 'active_state',
  rejects: (host) => host.state === 'down',
  reason: () => 'are down',
};

export const hostDraining: HostFilter = {
  name: 'host_draining',
  kind: 'eligibility',
  answeredBy: 'active_state',
  rejects: (host) => host.state === 'draining',
  reason: () => 'are draining',
};

export const maintenance: HostFilter = {
  name: 'maintenance',
  kind: 'eligibility',
  answeredBy: 'active_state',
  rejects: (host) => host.state === 'maintenance',
  reason: () => 'are in maintenance',
};
