/**
 * Host traffic (`POST /v1/agent/hosts/:id/traffic`, the agent listener, mutual TLS): what a qemu host's agent
 * measured of its servers' traffic — per complete 5-minute slot, each server's tap counters split into
 * metered and unmetered by the nft accounting counters (samples), flow records, and the fast path's
 * per-second DDoS meter observations per protected address — plus the packets its mitigation tables
 * dropped. The answer is the mitigation the host should have in place now (desired state): one entry per
 * attacked address of its servers. Not part of the public API; payloads keep the agent's camelCase model.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

const count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const rate = Type.Number({ minimum: 0, maximum: 1e15 });

export const HostTrafficSample = Type.Object(
  {
    serverId: Type.String({ maxLength: 64 }),
    /** The 5-minute slot (epoch seconds / 300); a slot reported again replaces the earlier report. */
    slot: Type.Integer({ minimum: 0 }),
    /** The server's view: rx is what it received (the tap's tx). */
    rxBytes: count,
    txBytes: count,
    rxPackets: count,
    txPackets: count,
    /** The part of rx/tx bytes to or from the provider's own sites (nft accounting counters). */
    rxUnmeteredBytes: count,
    txUnmeteredBytes: count,
  },
  { additionalProperties: false },
);
export type HostTrafficSample = Static<typeof HostTrafficSample>;

export const HostFlowRecord = Type.Object(
  {
    serverId: Type.String({ maxLength: 64 }),
    direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
    srcAddr: Type.String({ maxLength: 45 }),
    dstAddr: Type.String({ maxLength: 45 }),
    srcPort: Type.Integer({ minimum: 0, maximum: 65_535 }),
    dstPort: Type.Integer({ minimum: 0, maximum: 65_535 }),
    protocol: Type.Integer({ minimum: 0, maximum: 255 }),
    packets: count,
    bytes: count,
    startMs: count,
    endMs: count,
    action: Type.Union([Type.Literal('accept'), Type.Literal('drop')]),
    rule: Nullable(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type HostFlowRecord = Static<typeof HostFlowRecord>;

/** One second (or more) of the fast path's meter for one protected address (an IPv4, an IPv6 /64). */
export const HostDdosObservation = Type.Object(
  {
    address: Type.String({ maxLength: 45 }),
    atMs: count,
    pps: rate,
    bps: rate,
    synPps: Type.Optional(rate),
    udpPps: Type.Optional(rate),
    icmpPps: Type.Optional(rate),
    reflectorPps: Type.Optional(rate),
  },
  { additionalProperties: false },
);
export type HostDdosObservation = Static<typeof HostDdosObservation>;

export const HostTrafficBody = Type.Object(
  {
    samples: Type.Optional(Type.Array(HostTrafficSample, { maxItems: 10_000 })),
    flows: Type.Optional(Type.Array(HostFlowRecord, { maxItems: 50_000 })),
    observations: Type.Optional(Type.Array(HostDdosObservation, { maxItems: 10_000 })),
    /** Packets dropped by the host's mitigation tables since its previous report, per address. */
    dropped: Type.Optional(
      Type.Array(
        Type.Object(
          {
            address: Type.String({ maxLength: 45 }),
            /** The incident whose table dropped them (the answer's `attackId`). */
            attackId: Type.Optional(Type.String({ maxLength: 64 })),
            packets: count,
          },
          { additionalProperties: false },
        ),
        { maxItems: 10_000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type HostTrafficBody = Static<typeof HostTrafficBody>;

export const HostCustomRule = Type.Object({
  action: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  source: Type.Optional(Type.String()),
  protocol: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp')])),
  port: Type.Optional(Type.Integer()),
  lengthMin: Type.Optional(Type.Integer()),
  lengthMax: Type.Optional(Type.Integer()),
});

/** A mitigation the host should have: the input of `compileMitigation` (src/ddos/nft-rules.ts). */
export const HostMitigation = Type.Object({
  address: Type.String(),
  attackId: Type.String(),
  customRules: Type.Array(HostCustomRule),
  perSourcePps: Type.Integer(),
  synPps: Type.Integer(),
});
export type HostMitigation = Static<typeof HostMitigation>;

export const HostTrafficAnswer = Type.Object({
  /** Every mitigation this host should have now; any other `vmcloud_ddos*` table of the host goes. */
  mitigations: Type.Array(HostMitigation),
  /** Records refused (servers not on this host, addresses not of its servers). */
  refused: Type.Integer(),
  /** The public addresses of the host's servers (IPv4, IPv6 /64s, floating included): what its meter watches. */
  watch: Type.Array(Type.Object({ serverId: Type.String(), addresses: Type.Array(Type.String()) })),
  /** The provider's own prefixes: the accounting table's unmetered sets (the agent follows changes). */
  unmetered: Type.Object({ v4: Type.Array(Type.String()), v6: Type.Array(Type.String()) }),
});
export type HostTrafficAnswer = Static<typeof HostTrafficAnswer>;

export const reportHostTraffic = defineOperation({
  operationId: 'agentTraffic',
  method: 'POST',
  path: '/v1/agent/hosts/:id/traffic',
  tags: ['agents'],
  summary: "The servers' traffic samples, flow records and DDoS meter observations; answers the mitigation to apply",
  auth: 'host',
  params: IdParams,
  body: HostTrafficBody,
  response: HostTrafficAnswer,
  status: 200,
});
