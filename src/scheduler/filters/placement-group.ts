/**
 * Hosts the request must avoid: named by the caller (a draining source), every host but the one it names
 * (`onlyHostId`: a resize in place), or holding a spread-group member.
 */
import type { HostFilter } from './filter.ts';

export const avoidHosts: HostFilter = {
  name: 'avoid_hosts',
  kind: 'eligibility',
  rejects: (host, { avoidHostIds, request }) =>
    (avoidHostIds.size > 0 && avoidHostIds.has(host.id)) ||
    (request.onlyHostId !== undefined && host.id !== request.onlyHostId),
  reason: () => 'are excluded by the request',
};

export const placementGroup: HostFilter = {
  name: 'placement_group',
  kind: 'eligibility',
  rejects: (host, { spreadGroupId }) => spreadGroupId !== null && host.groupCounts.has(spreadGroupId),
  reason: ({ spreadGroupId }) => `already run a member of spread placement group ${spreadGroupId}`,
};
