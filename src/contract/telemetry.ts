/**
 * Agent telemetry (`POST /v1/agent/hosts/:id/telemetry`, the agent listener, mutual TLS): about once a
 * minute an agent sends what it measured since its last telemetry — the round trips to the other hosts of
 * its region (UDP echo between agents, or the sim model) and its servers' CPU and disk counters as deltas —
 * and gets back the peers to probe next. Not part of the public API. Payloads keep the agent's camelCase
 * model, like the rest of the agent protocol.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

/**
 * Upper bounds (ms) of the round-trip histogram buckets, part of the wire format: the control plane sums
 * histograms from many agents and hours, and reads percentiles from the sums. The last bucket is +Inf.
 */
export const probeRttBucketsMs = [
  0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 50, 100, 250, 500, 1000,
] as const;

/** A peer to probe: another host of the region; `address` null on simulated hosts (the sim model answers). */
export const ProbePeer = Type.Object({
  hostId: Type.String(),
  /** Where its echo responder listens: the host API's address, the same port number over UDP. */
  address: Nullable(Type.String()),
  port: Nullable(Type.Integer({ minimum: 1, maximum: 65_535 })),
  /** Set on the few hosts of other regions in the list (inter-region probes, reported apart per region). */
  region: Type.Optional(Type.String()),
});
export type ProbePeer = Static<typeof ProbePeer>;

/** One peer's figures over the period. */
export const PeerProbeStats = Type.Object(
  {
    hostId: Type.String({ maxLength: 100 }),
    sent: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    received: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    p50Ms: Nullable(Type.Number({ minimum: 0 })),
    p99Ms: Nullable(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type PeerProbeStats = Static<typeof PeerProbeStats>;

/** What an agent measured towards the sampled hosts of another region since its last telemetry. */
export const RemoteRegionProbes = Type.Object(
  {
    region: Type.String({ maxLength: 100 }),
    sent: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    received: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    /** Round trips per bucket of `probeRttBucketsMs` (+Inf last), as for the region's own peers. */
    histogram: Type.Array(Type.Integer({ minimum: 0 }), {
      minItems: probeRttBucketsMs.length + 1,
      maxItems: probeRttBucketsMs.length + 1,
    }),
    /** Hosts of that region probed. */
    peers: Type.Integer({ minimum: 0, maximum: 64 }),
  },
  { additionalProperties: false },
);
export type RemoteRegionProbes = Static<typeof RemoteRegionProbes>;

/** What an agent measured towards its peer set since its last telemetry. */
export const ProbeReport = Type.Object(
  {
    /** Seconds the figures cover. */
    periodS: Type.Number({ minimum: 0, maximum: 86_400 }),
    sent: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    received: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    p50Ms: Nullable(Type.Number({ minimum: 0 })),
    p99Ms: Nullable(Type.Number({ minimum: 0 })),
    /** Round trips counted per bucket of `probeRttBucketsMs` (+Inf last): one more item than the bounds. */
    histogram: Type.Array(Type.Integer({ minimum: 0 }), {
      minItems: probeRttBucketsMs.length + 1,
      maxItems: probeRttBucketsMs.length + 1,
    }),
    peers: Type.Array(PeerProbeStats, { maxItems: 64 }),
    /** `sockets` (UDP echo between agents) or `model` (the simulated fleet's deterministic model). */
    method: Type.Union([Type.Literal('sockets'), Type.Literal('model')]),
    /** Probes of hosts of other regions, per region (the figures above are of the host's own region only). */
    remote: Type.Optional(Type.Array(RemoteRegionProbes, { maxItems: 32 })),
  },
  { additionalProperties: false },
);
export type ProbeReport = Static<typeof ProbeReport>;

/** A server's counters that grew over `seconds` (differences of the driver's cumulative counters). */
export const ServerUsageDelta = Type.Object(
  {
    serverId: Type.String({ maxLength: 100 }),
    seconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600 }),
    cpuSeconds: Type.Number({ minimum: 0 }),
    diskReadBytes: Type.Number({ minimum: 0 }),
    diskWriteBytes: Type.Number({ minimum: 0 }),
    diskReadOps: Type.Number({ minimum: 0 }),
    diskWriteOps: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ServerUsageDelta = Static<typeof ServerUsageDelta>;

/** The host's CPU steal over the period (time its CPUs waited for a hypervisor under it). */
export const HostCpuSteal = Type.Object(
  {
    periodS: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
    /** Steal ticks over all ticks of all CPUs in the period (/proc/stat deltas), 0–1. */
    stealRatio: Type.Number({ minimum: 0, maximum: 1 }),
    /** `procfs` (/proc/stat on the host) or `model` (the simulated fleet). */
    method: Type.Union([Type.Literal('procfs'), Type.Literal('model')]),
  },
  { additionalProperties: false },
);
export type HostCpuSteal = Static<typeof HostCpuSteal>;

export const TelemetryBody = Type.Object(
  {
    probes: Type.Optional(ProbeReport),
    cpu: Type.Optional(HostCpuSteal),
    usage: Type.Optional(Type.Array(ServerUsageDelta, { maxItems: 10_000 })),
  },
  { additionalProperties: false },
);
export type TelemetryBody = Static<typeof TelemetryBody>;

export const TelemetryAnswer = Type.Object({
  peers: Type.Array(ProbePeer),
  /** The host's own region (the sim model of inter-region round trips needs both ends). */
  region: Type.Optional(Type.String()),
  /** How often each peer is to be probed, and how often telemetry is to be sent. */
  probeIntervalMs: Type.Integer(),
  reportIntervalMs: Type.Integer(),
});
export type TelemetryAnswer = Static<typeof TelemetryAnswer>;

export const sendTelemetry = defineOperation({
  operationId: 'agentTelemetry',
  method: 'POST',
  path: '/v1/agent/hosts/:id/telemetry',
  tags: ['agents'],
  summary: "Peer probes and the servers' CPU and disk counters; answers the peers to probe next",
  auth: 'host',
  params: IdParams,
  body: TelemetryBody,
  status: 200,
  response: TelemetryAnswer,
});
