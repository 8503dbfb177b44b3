/** Hosts the request must avoid: named by the caller (a draining source) or holding a spread-group member. */
import type { HostFilter } from './filter.ts';

export const avoidHosts: HostFilter = {
  name: 'avoid_hosts',
  rejects: (host, { avoidHostIds }) => avoidHostIds.has(host.id),
  reason: () => 'are excluded by the request',
};

export const placementGroup: HostFilter = {
  name: 'placement_group',
  rejects: (host, { spreadGroupId }) => spreadGroupId !== null && host.groupCounts.has(spreadGroupId),
  reason: ({ spreadGroupId }) => `already run a member of spread placement group ${spreadGroupId}`,
};
