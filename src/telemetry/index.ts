/**
 * Agent telemetry: peer probes inside a region (intra-DC round trips and loss) and servers' CPU and disk
 * usage reported by agents (migration 024, docs/observability.md).
 */
export * from './stats.ts';
export type { TelemetryTables } from './tables.ts';
export {
  createTelemetryService,
  defaultTelemetryOptions,
  echoEndpointOf,
  hostStealFigures,
  regionFigures,
  regionPairFigures,
  type HostStealFigures,
  type RegionPairFigures,
  type RegionProbeFigures,
  type TelemetryDeps,
  type TelemetryHost,
  type TelemetryOptions,
  type TelemetryService,
} from './service.ts';
