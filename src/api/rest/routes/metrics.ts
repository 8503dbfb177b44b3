/**
 * `GET /v1/metrics` (operators): the families each domain counts from the database, in the Prometheus text
 * format. `GET /metrics` (operators): this replica's whole registry (docs/observability.md).
 * `GET /v1/servers/{id}/metrics`: a server's time series for its owner.
 */
import { formatPrometheus, prometheusContentType, type MetricFamily } from '../../../core/index.ts';
import { getMetrics, getPrometheusMetrics, getServerMetrics } from '../../../contract/index.ts';
import type { ServerMetricsService } from '../../../metrics/index.ts';
import type { Principal } from '../../../identity/index.ts';
import type { Route } from '../route.ts';

export function registerMetricsRoutes(
  route: Route,
  deps: {
    sources: Array<() => Promise<MetricFamily[]>>;
    render?: () => Promise<string>;
    serverMetrics?: ServerMetricsService<Principal>;
  },
) {
  route(getMetrics, async ({ reply }) => {
    const families = (await Promise.all(deps.sources.map((source) => source()))).flat();
    return reply.code(200).type('text/plain; version=0.0.4; charset=utf-8').send(formatPrometheus(families));
  });
  const { render, serverMetrics } = deps;
  if (render)
    route(getPrometheusMetrics, async ({ reply }) =>
      reply
        .code(200)
        .type(prometheusContentType)
        .send(await render()),
    );
  if (serverMetrics)
    route(getServerMetrics, ({ principal, params, query }) => serverMetrics.serverMetrics(principal, params.id, query));
}
