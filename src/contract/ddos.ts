/**
 * DDoS protection: a project's tier (standard, business, enterprise), its custom rules (business and up)
 * and per-address thresholds (enterprise), the attacks seen (incidents), and the operators' live view.
 */
import { Type, type Static } from 'typebox';
import { CursorQuery, IdParams, LimitQuery, Literals, NextCursor, Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const ddosTierNames = ['standard', 'business', 'enterprise'] as const;
export const DdosTierName = Literals(ddosTierNames);

export const DdosRule = Type.Object(
  {
    action: Literals(['allow', 'deny'] as const),
    source: Type.Optional(Type.String({ maxLength: 43, description: 'IPv4 or IPv6 address or prefix' })),
    protocol: Type.Optional(Literals(['tcp', 'udp', 'icmp'] as const)),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'destination port' })),
    length_min: Type.Optional(Type.Integer({ minimum: 20, maximum: 65535 })),
    length_max: Type.Optional(Type.Integer({ minimum: 20, maximum: 65535 })),
  },
  { additionalProperties: false },
);
export type DdosRule = Static<typeof DdosRule>;

export const DdosThreshold = Type.Object(
  {
    address: Type.String({
      maxLength: 43,
      description: 'an IPv4 address, or an IPv6 address or /64 (stored as its /64: IPv6 is protected per /64)',
    }),
    min_pps: Type.Integer({ minimum: 100 }),
    min_bps: Type.Integer({ minimum: 100_000 }),
  },
  { additionalProperties: false },
);
export type DdosThreshold = Static<typeof DdosThreshold>;

export const DdosSettings = Type.Object({
  project_id: Type.String(),
  tier: DdosTierName,
  policy: Type.Object({
    scrubbing_capacity_gbps: Type.Integer(),
    min_pps: Type.Integer(),
    min_bps: Type.Integer(),
    quiet_minutes: Type.Integer(),
    custom_rules: Type.Boolean(),
    per_address_thresholds: Type.Boolean(),
    soc: Type.Boolean(),
  }),
  rules: Type.Array(DdosRule),
  thresholds: Type.Array(DdosThreshold),
  updated_at: Nullable(Timestamp),
});
export type DdosSettings = Static<typeof DdosSettings>;

export const DdosAttack = Type.Object({
  id: Type.String({ description: 'atk_…' }),
  project_id: Type.String(),
  server_id: Nullable(Type.String()),
  address: Type.String(),
  tier: DdosTierName,
  status: Literals(['active', 'ended'] as const),
  vector: Type.String(),
  detected_by: Literals(['fast_path', 'counters'] as const),
  started_at: Timestamp,
  ended_at: Nullable(Timestamp),
  peak_pps: Type.Integer(),
  peak_bps: Type.Integer(),
  dropped_packets: Type.Integer(),
  actions: Type.Array(Type.String()),
});
export type DdosAttack = Static<typeof DdosAttack>;

export const ListDdosAttacksQuery = Type.Object(
  {
    status: Type.Optional(Literals(['active', 'ended'] as const)),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListDdosAttacksQuery = Static<typeof ListDdosAttacksQuery>;

export const DdosAttackList = Type.Object({ attacks: Type.Array(DdosAttack), next_cursor: NextCursor });
export type DdosAttackList = Static<typeof DdosAttackList>;

const SettingsEnvelope = Type.Object({ ddos: DdosSettings });
const tags = ['ddos'];

export const getDdosSettings = defineOperation({
  operationId: 'getDdosSettings',
  method: 'GET',
  path: '/v1/ddos',
  tags,
  summary: "The project's DDoS protection: tier, policy, custom rules, thresholds",
  auth: 'project',
  status: 200,
  response: SettingsEnvelope,
});

export const setDdosTier = defineOperation({
  operationId: 'setDdosTier',
  method: 'PUT',
  path: '/v1/ddos/tier',
  tags,
  summary: 'Change the DDoS protection tier (billed from the change on)',
  description:
    'A downgrade that would leave custom rules or thresholds the new tier does not allow is refused with 409 `ddos_tier_in_use`.',
  auth: 'project',
  body: Type.Object({ tier: DdosTierName }, { additionalProperties: false }),
  status: 200,
  response: SettingsEnvelope,
  resource: 'ddos_settings',
});

export const setDdosRules = defineOperation({
  operationId: 'setDdosRules',
  method: 'PUT',
  path: '/v1/ddos/rules',
  tags,
  summary: 'Replace the custom mitigation rules (business, enterprise)',
  description: 'Applied, in order, before the automatic rules whenever one of the project’s addresses is mitigated.',
  auth: 'project',
  body: Type.Object({ rules: Type.Array(DdosRule, { maxItems: 64 }) }, { additionalProperties: false }),
  status: 200,
  response: SettingsEnvelope,
  resource: 'ddos_settings',
});

export const setDdosThresholds = defineOperation({
  operationId: 'setDdosThresholds',
  method: 'PUT',
  path: '/v1/ddos/thresholds',
  tags,
  summary: 'Replace the per-address detection thresholds (enterprise)',
  auth: 'project',
  body: Type.Object({ thresholds: Type.Array(DdosThreshold, { maxItems: 256 }) }, { additionalProperties: false }),
  status: 200,
  response: SettingsEnvelope,
  resource: 'ddos_settings',
});

export const listDdosAttacks = defineOperation({
  operationId: 'listDdosAttacks',
  method: 'GET',
  path: '/v1/ddos/attacks',
  tags,
  summary: "The project's attacks, newest first",
  auth: 'project',
  query: ListDdosAttacksQuery,
  status: 200,
  response: DdosAttackList,
});

export const getDdosAttack = defineOperation({
  operationId: 'getDdosAttack',
  method: 'GET',
  path: '/v1/ddos/attacks/:id',
  tags,
  summary: 'One attack',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: Type.Object({ attack: DdosAttack }),
});

export const listLiveAttacks = defineOperation({
  operationId: 'listLiveAttacks',
  method: 'GET',
  path: '/v1/ddos/live',
  tags,
  summary: 'Operators (SOC): every active attack, enterprise first',
  auth: 'operator',
  status: 200,
  response: Type.Object({ attacks: Type.Array(DdosAttack) }),
});

export const ddosOperations = {
  getDdosSettings,
  setDdosTier,
  setDdosRules,
  setDdosThresholds,
  listDdosAttacks,
  getDdosAttack,
  listLiveAttacks,
};
