/**
 * `GET /v1/metrics`: the control plane's state in the Prometheus text format (version 0.0.4), for operators'
 * scrapers. Counted from the database at each scrape, so every replica answers the same.
 */
import { Type } from 'typebox';
import { defineOperation } from './operation.ts';

export const getMetrics = defineOperation({
  operationId: 'getMetrics',
  method: 'GET',
  path: '/v1/metrics',
  tags: ['operators'],
  summary: 'Metrics in the Prometheus text format (operators)',
  description:
    'Servers by status (`vmcloud_servers`), actions that ended in error by command and error code (`vmcloud_actions_failed_total`: a driver operation that kept failing, a timeout), hosts by health (`vmcloud_hosts`). Scrape with an operator token (`authorization: Bearer …`).',
  auth: 'operator',
  status: 200,
  produces: 'text/plain',
  response: Type.String({ description: 'Prometheus text exposition format 0.0.4' }),
});

export const getPrometheusMetrics = defineOperation({
  operationId: 'getPrometheusMetrics',
  method: 'GET',
  path: '/metrics',
  tags: ['operators'],
  summary: "This replica's metrics in the Prometheus text format (operators)",
  description:
    "Every family of docs/observability.md: this replica's HTTP requests, placements, actions, transactions, webhook attempts and loops, and the fleet, capacity, event-consumer lag and backups read from the database. Scrape each replica with an operator token, or without one on the replica's `serve --metrics-listen` address.",
  auth: 'operator',
  status: 200,
  produces: 'text/plain',
  response: Type.String({ description: 'Prometheus text exposition format 0.0.4' }),
});

export const metricsOperations = { getMetrics, getPrometheusMetrics };
