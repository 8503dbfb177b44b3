/**
 * A server's metrics for its owner, in Hetzner's shape: `GET /v1/servers/{id}/metrics?type=cpu|disk|network
 * &start&end&step` answers time series of `[unix seconds, "value"]` pairs per series name
 * (`cpu`, `disk.0.iops.read`, `network.0.bandwidth.in`…). Network comes from the traffic accounting; CPU
 * and disk from what the host's agent reports, or the simulated fleet's model (`simulated: true`).
 */
import { Type, type Static } from 'typebox';
import { IdParams, Literals, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const serverMetricTypes = ['cpu', 'disk', 'network'] as const;
export type ServerMetricType = (typeof serverMetricTypes)[number];

/** The series each type answers (units in docs/observability.md). */
export const serverMetricSeries: Record<ServerMetricType, readonly string[]> = {
  cpu: ['cpu'],
  disk: ['disk.0.iops.read', 'disk.0.iops.write', 'disk.0.bandwidth.read', 'disk.0.bandwidth.write'],
  network: ['network.0.pps.in', 'network.0.pps.out', 'network.0.bandwidth.in', 'network.0.bandwidth.out'],
};

/** At most this many points per series in one answer (a larger `step` or a shorter window otherwise). */
export const serverMetricsMaxPoints = 1000;

export const ServerMetricsQuery = Type.Object(
  {
    type: Type.String({
      pattern: '^(cpu|disk|network)(,(cpu|disk|network)){0,2}$',
      description: 'cpu, disk or network; several comma-separated',
    }),
    start: Type.Optional(Type.String({ format: 'date-time', description: 'default: one hour before `end`' })),
    end: Type.Optional(Type.String({ format: 'date-time', description: 'default: now' })),
    step: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,7}$',
        description: 'seconds between points (default: the window over 60 points, at least 60)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ServerMetricsQuery = Static<typeof ServerMetricsQuery>;

export const ServerMetricsSeries = Type.Object({
  /** `[unix seconds, value as text]`, oldest first (Hetzner's encoding). */
  values: Type.Array(
    // A pair, not a Tuple: TypeBox's tuple (items + additionalItems) is draft-07, not OpenAPI 3.1.
    Type.Array(Type.Union([Type.Number(), Type.String()]), {
      minItems: 2,
      maxItems: 2,
      description: '[unix seconds, value as text]',
    }),
  ),
});

export const ServerMetrics = Type.Object({
  metrics: Type.Object({
    start: Timestamp,
    end: Timestamp,
    step: Type.Integer({ description: 'seconds between points' }),
    time_series: Type.Record(Type.String(), ServerMetricsSeries),
  }),
  /** Where each type's figures come from: `agent` (the host measured them), `traffic`, or `simulated`. */
  sources: Type.Record(Type.String(), Literals(['agent', 'traffic', 'simulated'] as const)),
});
export type ServerMetrics = Static<typeof ServerMetrics>;

export const getServerMetrics = defineOperation({
  operationId: 'getServerMetrics',
  method: 'GET',
  path: '/v1/servers/:id/metrics',
  tags: ['servers'],
  summary: "A server's CPU, disk and network metrics",
  description:
    'Time series of `[unix seconds, "value"]`: `cpu` (percent of the server\'s vCPUs, 100 per vCPU), `disk.0.iops.read|write` (operations/s), `disk.0.bandwidth.read|write` (bytes/s), `network.0.pps.in|out` (packets/s), `network.0.bandwidth.in|out` (bytes/s); each point is the average over the `step` before it. `sources` says where each type comes from (`simulated` on the simulated fleet). Errors: `invalid` with reason `invalid_range` (start not before end, or in the future) or `too_many_points` (more than 1000 points: raise `step`).',
  auth: 'project',
  params: IdParams,
  query: ServerMetricsQuery,
  status: 200,
  response: ServerMetrics,
});

export const serverMetricsOperations = { getServerMetrics };
