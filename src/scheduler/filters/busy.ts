/**
 * A host with pending claims of another open transaction of this process waits until that one ends; a host
 * being reread from the database waits until the fresh view is in place.
 */
import type { HostFilter } from './filter.ts';

export const busy: HostFilter = {
  name: 'busy',
  kind: 'eligibility',
  rejects: (host, { owner }) => host.reloading || (host.owner !== null && host.owner !== owner),
  reason: () => 'are busy with a concurrent placement',
};
