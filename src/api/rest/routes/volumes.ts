import type { Route } from '../route.ts';
import type { VolumeService } from '../../../volumes/index.ts';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  detachVolume,
  getVolume,
  listVolumes,
  resizeVolume,
} from '../../../contract/index.ts';

export function registerVolumeRoutes(route: Route, deps: { volumes: VolumeService }) {
  const { volumes } = deps;
  route(createVolume, ({ principal, body }) => volumes.createVolume(principal, body));
  route(listVolumes, ({ principal, query }) => volumes.listVolumes(principal, query));
  route(getVolume, ({ principal, params }) => volumes.getVolume(principal, params.id));
  route(deleteVolume, ({ principal, params }) => volumes.delete(principal, params.id));
  route(attachVolume, ({ principal, params, body }) => volumes.attach(principal, params.id, body.server));
  route(detachVolume, ({ principal, params }) => volumes.detach(principal, params.id));
  route(resizeVolume, ({ principal, params, body }) => volumes.resize(principal, params.id, body.size_gib));
}
