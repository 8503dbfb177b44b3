/**
 * The status domain's routes: incidents and maintenances (operators write, everyone reads), components and
 * promises under /v1, and the public status page outside it — `/status` (HTML), the Statuspage v2 documents
 * under `/status/api/v2/` and the Atom feed `/status/history.atom`. No token needed for any read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Api } from '../server.ts';
import type { Route } from '../route.ts';
import {
  cancelMaintenance,
  createIncident,
  createMaintenance,
  getIncident,
  getMaintenance,
  listComponents,
  listIncidents,
  listMaintenances,
  listPromises,
  resolveIncident,
  updateIncident,
} from '../../../contract/index.ts';
import {
  pickLanguage,
  renderAtom,
  renderStatusPage,
  statuspageDocuments,
  type StatusService,
} from '../../../status/index.ts';

export function registerStatusRoutes(api: Api, route: Route, deps: { status: StatusService; nowIso: () => string }) {
  const { status } = deps;
  route(createIncident, ({ principal, body }) => status.createIncident(principal, body));
  route(listIncidents, ({ query }) => status.listIncidents(query));
  route(getIncident, ({ params }) => status.getIncident(params.id));
  route(updateIncident, ({ principal, params, body }) => status.updateIncident(principal, params.id, body));
  route(resolveIncident, ({ principal, params, body }) => status.resolveIncident(principal, params.id, body ?? {}));
  route(createMaintenance, ({ principal, body }) => status.createMaintenance(principal, body));
  route(listMaintenances, ({ query }) => status.listMaintenances(query));
  route(getMaintenance, ({ params }) => status.getMaintenance(params.id));
  route(cancelMaintenance, ({ principal, params }) => status.cancelMaintenance(principal, params.id));
  route(listComponents, () => status.listComponents());
  route(listPromises, () => status.promises());

  const publicRoute = { config: { auth: 'public' as const }, schema: { hide: true } };
  const baseUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
  const cached = (reply: FastifyReply) => reply.header('cache-control', 'public, max-age=30');

  api.get('/status', publicRoute, async (request, reply) => {
    const query = request.query as { lang?: string };
    const lang = pickLanguage(query.lang, request.headers['accept-language']);
    const html = renderStatusPage(await status.snapshot(), lang);
    return cached(reply)
      .header('vary', 'accept-language')
      .header('content-language', lang)
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
      .type('text/html; charset=utf-8')
      .send(html);
  });

  const documents = async (request: FastifyRequest) =>
    statuspageDocuments(await status.snapshot(), await status.history(), baseUrl(request));
  const json =
    (pick: (docs: Awaited<ReturnType<typeof documents>>) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) =>
      cached(reply)
        .header('access-control-allow-origin', '*')
        .send(pick(await documents(request)));
  api.get(
    '/status/api/v2/summary.json',
    publicRoute,
    json((d) => d.summary),
  );
  api.get(
    '/status/api/v2/status.json',
    publicRoute,
    json((d) => d.status),
  );
  api.get(
    '/status/api/v2/components.json',
    publicRoute,
    json((d) => d.components),
  );
  api.get(
    '/status/api/v2/incidents.json',
    publicRoute,
    json((d) => d.incidents),
  );
  api.get(
    '/status/api/v2/incidents/unresolved.json',
    publicRoute,
    json((d) => d.unresolved),
  );
  api.get(
    '/status/api/v2/scheduled-maintenances.json',
    publicRoute,
    json((d) => d.scheduledMaintenances),
  );
  api.get('/status/history.atom', publicRoute, async (request, reply) =>
    cached(reply)
      .type('application/atom+xml; charset=utf-8')
      .send(renderAtom(await status.history(), baseUrl(request), deps.nowIso())),
  );
}
