/**
 * Flow logs: per server (or every server of a project), one record per flow — 5-tuple, bytes, packets,
 * start/end, and whether it was accepted or dropped (by which rule). Kept 30 days by default, then deleted
 * (IP addresses are personal data: docs/privacy.md). Queried by server, window, address and port; exported
 * as JSON lines or an IPFIX-like CSV.
 */
import { Type, type Static } from 'typebox';
import { CursorQuery, LimitQuery, Literals, NextCursor, Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const FlowRecord = Type.Object({
  server_id: Type.String(),
  /** `in`: towards the server; `out`: from it. */
  direction: Literals(['in', 'out'] as const),
  src_addr: Type.String(),
  dst_addr: Type.String(),
  src_port: Type.Integer(),
  dst_port: Type.Integer(),
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp). */
  protocol: Type.Integer(),
  packets: Type.Integer(),
  bytes: Type.Integer(),
  start: Timestamp,
  end: Timestamp,
  action: Literals(['accept', 'drop'] as const),
  /** The firewall or DDoS rule that decided, when one did. */
  rule: Nullable(Type.String()),
});
export type FlowRecord = Static<typeof FlowRecord>;

const Address = Type.String({ minLength: 2, maxLength: 45, pattern: '^[0-9a-fA-F:.]+$' });
const Port = Type.String({ pattern: '^[0-9]{1,5}$' });

export const FlowLogQuery = Type.Object(
  {
    server: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'server id or name' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'default: one hour before `to`' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'default: now' })),
    addr: Type.Optional(Address),
    port: Type.Optional(Port),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type FlowLogQuery = Static<typeof FlowLogQuery>;

export const FlowLogPage = Type.Object({ flows: Type.Array(FlowRecord), next_cursor: NextCursor });
export type FlowLogPage = Static<typeof FlowLogPage>;

export const flowExportFormats = ['jsonl', 'csv'] as const;
export const FlowExportQuery = Type.Object(
  {
    format: Type.Optional(Literals(flowExportFormats)),
    server: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    addr: Type.Optional(Address),
    port: Type.Optional(Port),
  },
  { additionalProperties: false },
);
export type FlowExportQuery = Static<typeof FlowExportQuery>;

export const FlowLogSettings = Type.Object({
  project_id: Type.String(),
  enabled: Type.Boolean(),
  /** Empty: every server of the project. */
  servers: Type.Array(Type.String()),
  retention_days: Type.Integer(),
  purpose: Type.String(),
  updated_at: Nullable(Timestamp),
});
export type FlowLogSettings = Static<typeof FlowLogSettings>;

export const SetFlowLogSettingsBody = Type.Object(
  {
    enabled: Type.Boolean(),
    servers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 1000 })),
    retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 30, description: 'at most 30 days' })),
  },
  { additionalProperties: false },
);
export type SetFlowLogSettingsBody = Static<typeof SetFlowLogSettingsBody>;

const tags = ['flow-logs'];

export const listFlowLogs = defineOperation({
  operationId: 'listFlowLogs',
  method: 'GET',
  path: '/v1/flow-logs',
  tags,
  summary: "Query the project's flow records",
  description: 'Newest window first is not implied: records come in start order. At most 7 days per query.',
  auth: 'project',
  query: FlowLogQuery,
  status: 200,
  response: FlowLogPage,
});

export const exportFlowLogs = defineOperation({
  operationId: 'exportFlowLogs',
  method: 'GET',
  path: '/v1/flow-logs/export',
  tags,
  summary: 'Export flow records as JSON lines or IPFIX-like CSV',
  auth: 'project',
  query: FlowExportQuery,
  status: 200,
  produces: 'text/plain',
  response: Type.String({ description: 'application/x-ndjson or text/csv' }),
});

export const getFlowLogSettings = defineOperation({
  operationId: 'getFlowLogSettings',
  method: 'GET',
  path: '/v1/flow-logs/settings',
  tags,
  summary: "The project's flow-log settings",
  auth: 'project',
  status: 200,
  response: Type.Object({ settings: FlowLogSettings }),
});

export const setFlowLogSettings = defineOperation({
  operationId: 'setFlowLogSettings',
  method: 'PUT',
  path: '/v1/flow-logs/settings',
  tags,
  summary: 'Turn flow logs on or off (for some or every server) and set their retention',
  auth: 'project',
  body: SetFlowLogSettingsBody,
  status: 200,
  response: Type.Object({ settings: FlowLogSettings }),
  resource: 'flow_log_settings',
});

export const flowLogOperations = { listFlowLogs, exportFlowLogs, getFlowLogSettings, setFlowLogSettings };
