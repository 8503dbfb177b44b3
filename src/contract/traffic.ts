/**
 * Traffic accounting: a server's bytes and packets in 5-minute slots (or hourly/daily sums), and a project's
 * month: included vs used traffic, overage, and the 95th percentile (docs/traffic.md). Billing reads the
 * same numbers (`monthlyTrafficUsage` in src/traffic).
 */
import { Type, type Static } from 'typebox';
import { IdParams, Literals, Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const trafficSteps = ['5m', '1h', '1d'] as const;
export const TrafficStep = Literals(trafficSteps);
export type TrafficStep = (typeof trafficSteps)[number];

export const MonthQueryValue = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM (UTC)' });

export const TrafficPoint = Type.Object({
  at: Timestamp,
  /** Bytes the server received and sent in the step; unmetered: to/from the provider's own sites. */
  rx_bytes: Type.Integer(),
  tx_bytes: Type.Integer(),
  rx_unmetered_bytes: Type.Integer(),
  tx_unmetered_bytes: Type.Integer(),
  rx_packets: Type.Integer(),
  tx_packets: Type.Integer(),
  /** Average rates over the step, Mbit/s. */
  in_mbps: Type.Number(),
  out_mbps: Type.Number(),
});
export type TrafficPoint = Static<typeof TrafficPoint>;

export const ServerTraffic = Type.Object({
  server_id: Type.String(),
  from: Timestamp,
  to: Timestamp,
  step: TrafficStep,
  points: Type.Array(TrafficPoint),
  totals: Type.Object({
    rx_bytes: Type.Integer(),
    tx_bytes: Type.Integer(),
    billable_bytes: Type.Integer(),
    unmetered_bytes: Type.Integer(),
  }),
});
export type ServerTraffic = Static<typeof ServerTraffic>;

export const ServerTrafficQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'default: 24 hours before `to`' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'default: now' })),
    step: Type.Optional(TrafficStep),
  },
  { additionalProperties: false },
);
export type ServerTrafficQuery = Static<typeof ServerTrafficQuery>;

export const ServerTrafficUsage = Type.Object({
  server_id: Type.String(),
  name: Type.String(),
  product: Type.String(),
  rx_bytes: Type.Integer(),
  tx_bytes: Type.Integer(),
  unmetered_bytes: Type.Integer(),
  /** Metered outbound bytes: what counts against the included traffic. */
  billable_bytes: Type.Integer(),
  /** The product's included traffic, prorated to the part of the month the server existed. */
  included_bytes: Type.Integer(),
  overage_bytes: Type.Integer(),
  p95_in_mbps: Type.Number(),
  p95_out_mbps: Type.Number(),
  /** The higher direction: what 95th-percentile billing bills. */
  p95_mbps: Type.Number(),
});
export type ServerTrafficUsage = Static<typeof ServerTrafficUsage>;

export const TrafficSummary = Type.Object({
  project_id: Type.String(),
  month: Type.String(),
  /** True once the month is over and its figures are closed (they no longer change). */
  closed: Type.Boolean(),
  servers: Type.Array(ServerTrafficUsage),
  project: Type.Object({
    included_tib: Type.Number(),
    used_tib: Type.Number(),
    overage_tib: Type.Number(),
    included_bytes: Type.Integer(),
    billable_bytes: Type.Integer(),
    unmetered_bytes: Type.Integer(),
    overage_bytes: Type.Integer(),
    /** The project's 95th percentile: per slot the sum over its servers, then the month's 95th percentile. */
    p95_in_mbps: Type.Number(),
    p95_out_mbps: Type.Number(),
    p95_mbps: Type.Number(),
  }),
  computed_at: Nullable(Timestamp),
});
export type TrafficSummary = Static<typeof TrafficSummary>;

export const TrafficSummaryQuery = Type.Object(
  { month: Type.Optional(MonthQueryValue) },
  { additionalProperties: false },
);
export type TrafficSummaryQuery = Static<typeof TrafficSummaryQuery>;

const tags = ['traffic'];

export const getServerTraffic = defineOperation({
  operationId: 'getServerTraffic',
  method: 'GET',
  path: '/v1/servers/:id/traffic',
  tags,
  summary: "A server's traffic series",
  description:
    '5-minute samples (`step=5m`, kept 35 days) or hourly/daily sums (`1h`, `1d`, kept 13 months). A window holds at most 2 016 points.',
  auth: 'project',
  params: IdParams,
  query: ServerTrafficQuery,
  status: 200,
  response: ServerTraffic,
});

export const getTrafficSummary = defineOperation({
  operationId: 'getTrafficSummary',
  method: 'GET',
  path: '/v1/traffic/summary',
  tags,
  summary: "A project's traffic of a month",
  description:
    'Per server and for the project: included vs used, overage and the 95th percentile (sort the month’s 5-minute rates, drop the top 5 %, take the highest remaining; in and out separately, the higher one billed). Default: the current month.',
  auth: 'project',
  query: TrafficSummaryQuery,
  status: 200,
  response: TrafficSummary,
});

export const trafficOperations = { getServerTraffic, getTrafficSummary };
