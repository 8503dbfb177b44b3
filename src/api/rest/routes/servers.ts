import type { Route } from '../route.ts';
import type { ComputeService } from '../../../compute/index.ts';
import { VmcError } from '../../../core/index.ts';
import {
  attachIso,
  createServer,
  detachIso,
  deleteServer,
  getAction,
  getServer,
  listServers,
  rebootServer,
  rebuildServer,
  resizeServer,
  getServerResizeOptions,
  startServer,
  stopServer,
  updateServer,
} from '../../../contract/index.ts';

/** `If-Match: "v3"` → 3 (strong comparison, RFC 9110: a weak ETag never matches); absent → null. */
export function expectedVersionOf(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const version = /^"v(\d{1,15})"$/.exec(String(header).trim())?.[1];
  if (version === undefined) {
    throw new VmcError('invalid', 'If-Match must be an ETag of this API, e.g. "v3"', {
      fields: [{ field: 'If-Match', message: 'not an ETag of this API' }],
    });
  }
  return Number(version);
}

export function registerServerRoutes(route: Route, deps: { compute: ComputeService }) {
  const { compute } = deps;

  route(createServer, ({ principal, body }) => compute.createServer(principal, body));
  route(listServers, ({ principal, query }) => compute.listServers(principal, query));

  route(getServer, async ({ principal, params, reply }) => {
    const { server, version } = await compute.getServer(principal, params.id);
    reply.header('ETag', `"v${version}"`);
    return { server };
  });

  route(updateServer, async ({ principal, params, body, request, reply }) => {
    const expected = expectedVersionOf(request.headers['if-match']);
    const { server, version } = await compute.updateServer(principal, params.id, body, expected);
    reply.header('ETag', `"v${version}"`);
    return { server };
  });

  route(startServer, ({ principal, params }) => compute.start(principal, params.id));
  route(rebootServer, ({ principal, params }) => compute.reboot(principal, params.id));
  route(stopServer, ({ principal, params, body }) =>
    compute.stop(principal, params.id, { force: body?.force === true }),
  );
  route(deleteServer, ({ principal, params }) => compute.delete(principal, params.id));
  route(resizeServer, ({ principal, params, body }) => compute.resize(principal, params.id, body));
  route(getServerResizeOptions, ({ principal, params }) => compute.resizeOptions(principal, params.id));
  route(rebuildServer, ({ principal, params, body }) => compute.rebuild(principal, params.id, body));
  route(attachIso, ({ principal, params, body }) => compute.attachIso(principal, params.id, body));
  route(detachIso, ({ principal, params }) => compute.detachIso(principal, params.id));
  route(getAction, ({ principal, params }) => compute.getAction(principal, params.id));
}
