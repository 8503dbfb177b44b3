/** The audit log: who did what, when, from where; tamper-evident. */
import { Type, type Static } from 'typebox';
import { CursorQuery, Nullable, NextCursor, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const AuditEntry = Type.Object({
  id: Type.String({ description: 'aud_…' }),
  at: Timestamp,
  project_id: Nullable(Type.String()),
  actor: Type.Object({ user_id: Nullable(Type.String()), token_id: Nullable(Type.String()) }),
  action: Type.String({ description: 'e.g. POST /v1/servers, auth.failed, server.console_opened' }),
  resource: Type.Object({ type: Nullable(Type.String()), id: Nullable(Type.String()) }),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  status_code: Nullable(Type.Integer()),
  request_id: Nullable(Type.String()),
  source_ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const ListAuditLogQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), cursor: Type.Optional(CursorQuery) },
  { additionalProperties: false },
);

export const AuditLogPage = Type.Object({ entries: Type.Array(AuditEntry), next_cursor: NextCursor });
export type AuditLogPage = Static<typeof AuditLogPage>;

export const listAuditLog = defineOperation({
  operationId: 'listAuditLog',
  method: 'GET',
  path: '/v1/audit-log',
  tags: ['identity'],
  summary: 'Audit log: every mutation, who, what, when, from where',
  description: 'Project owners see their project; operators see everything.',
  auth: 'project_or_operator',
  query: ListAuditLogQuery,
  status: 200,
  response: AuditLogPage,
});

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'sealed rows whose hash and link were checked' }),
  unsealed: Type.Integer({ description: 'rows written since the last seal (sealed within a second)' }),
  first_bad: Nullable(Type.Object({ id: Type.String(), reason: Type.String() })),
});
export type AuditVerification = Static<typeof AuditVerification>;

export const verifyAuditLog = defineOperation({
  operationId: 'verifyAuditLog',
  method: 'GET',
  path: '/v1/audit-log/verify',
  tags: ['operators'],
  summary: 'Check the hash chain of the audit log (operators)',
  description:
    'Seals the rows written so far, then recomputes the chain from its anchor; names the first row that breaks it.',
  auth: 'operator',
  status: 200,
  response: AuditVerification,
});

export const ExportAuditLogQuery = Type.Object(
  { since: Type.String({ format: 'date-time', description: 'ISO 8601 time of the oldest entry to export' }) },
  { additionalProperties: false },
);

export const exportAuditLog = defineOperation({
  operationId: 'exportAuditLog',
  method: 'GET',
  path: '/v1/audit-log/export',
  tags: ['operators'],
  summary: 'Export the audit log as JSON lines (operators)',
  description:
    'One JSON object per line (application/x-ndjson), as Filebeat/Elasticsearch and Promtail/Loki ingest it.',
  auth: 'operator',
  query: ExportAuditLogQuery,
  status: 200,
  produces: 'application/x-ndjson',
});

export const auditLogOperations = { listAuditLog, verifyAuditLog, exportAuditLog };
