/**
 * A server boots from its image on the host's own disk: a host whose agent does not report that image
 * cannot run it. Judged after capacity, so the hosts this filter counts are those with room but without
 * the image (the compute domain then answers `image_not_on_host`).
 */
import type { HostFilter } from './filter.ts';

export const imageOnHost: HostFilter = {
  name: 'image',
  kind: 'eligibility',
  rejects: (host, { request }) => !!request.image && host.images !== null && !host.images.has(request.image),
  reason: ({ request }) => `do not hold the image ${request.image}`,
};
