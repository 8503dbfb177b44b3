/**
 * Metrics: the control plane's and the agent's Prometheus registries (`GET /metrics`), and the per-server
 * time series customers read (`GET /v1/servers/{id}/metrics`). docs/observability.md lists every family.
 */
export * from './control-plane.ts';
export * from './agent.ts';
export * from './server-metrics.ts';
