/**
 * What a server's host serves through the control plane: the serial console (a WebSocket opened with a
 * single-use ticket), the boot log, disk snapshots and the disk export.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const Snapshot = Type.Object({
  name: Type.String(),
  id: Type.String({ description: 'qcow2 snapshot id on the host' }),
  created_at: Type.String(),
  vm_state_bytes: Type.Integer({ description: 'always 0: disk-only snapshots' }),
});
export type Snapshot = Static<typeof Snapshot>;

export const snapshotNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const SnapshotName = Type.String({
  pattern: snapshotNamePattern,
  description: "1–64 of letters, digits, '.', '_', '-'",
});
export const SnapshotParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), name: SnapshotName });

export const ConsoleTicketBody = Nullable(
  Type.Object({ read_only: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
);
export type ConsoleTicketBody = Static<typeof ConsoleTicketBody>;

export const ConsoleTicket = Type.Object({
  ticket: Type.String(),
  url: Type.String({ description: 'path of the console WebSocket, ticket included' }),
  expires_at: Timestamp,
});
export type ConsoleTicket = Static<typeof ConsoleTicket>;

export const LogsQuery = Type.Object(
  {
    previous_boot: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]),
    ),
  },
  { additionalProperties: false },
);

export const CreateSnapshotBody = Nullable(
  Type.Object({ name: Type.Optional(SnapshotName) }, { additionalProperties: false }),
);
export type CreateSnapshotBody = Static<typeof CreateSnapshotBody>;

export const ExportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('qcow2'), Type.Literal('raw')])),
    compress: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    encrypted: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description:
          'true: keep the export encrypted (a LUKS qcow2 under a fresh key, returned once in the X-VMCloud-Export-Key header and stored nowhere); default false: decrypted',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ExportQuery = Static<typeof ExportQuery>;

export const createConsoleTicket = defineOperation({
  operationId: 'createConsoleTicket',
  method: 'POST',
  path: '/v1/servers/:id/console',
  tags: ['servers'],
  summary: 'Get a console ticket',
  description:
    'A ticket for the serial console WebSocket: valid 60 s, once, for this server. Open `url` (ws:// or wss:// on this host) with it; no Authorization header is needed there. Owners and members only.',
  auth: 'project',
  params: IdParams,
  body: ConsoleTicketBody,
  status: 201,
  response: ConsoleTicket,
  resource: 'server',
});

export const getServerLogs = defineOperation({
  operationId: 'getServerLogs',
  method: 'GET',
  path: '/v1/servers/:id/logs',
  tags: ['servers'],
  summary: "The server's boot log",
  description:
    'The serial console output of the current boot as text/plain (`previous_boot=true`: the boot before). Viewers and up.',
  auth: 'project',
  params: IdParams,
  query: LogsQuery,
  status: 200,
  produces: 'text/plain',
  response: Type.String({ description: 'text/plain boot log' }),
});

export const listSnapshots = defineOperation({
  operationId: 'listSnapshots',
  method: 'GET',
  path: '/v1/servers/:id/snapshots',
  tags: ['snapshots'],
  summary: "List a server's disk snapshots",
  auth: 'project',
  params: IdParams,
  status: 200,
  response: Type.Object({ snapshots: Type.Array(Snapshot) }),
});

export const createSnapshot = defineOperation({
  operationId: 'createSnapshot',
  method: 'POST',
  path: '/v1/servers/:id/snapshots',
  tags: ['snapshots'],
  summary: 'Snapshot the disk of a server',
  description:
    'A qcow2 internal snapshot of the disk (no RAM), running or stopped; it takes milliseconds. Snapshots are deleted with the server: export to keep a copy.',
  auth: 'project',
  params: IdParams,
  body: CreateSnapshotBody,
  status: 201,
  response: Type.Object({ snapshot: Snapshot }),
  resource: 'server',
});

export const restoreSnapshot = defineOperation({
  operationId: 'restoreSnapshot',
  method: 'POST',
  path: '/v1/servers/:id/snapshots/:name/actions/restore',
  tags: ['snapshots'],
  summary: 'Revert the disk to a snapshot',
  description: 'The server must be stopped (409 `server_running` otherwise). Later snapshots are kept.',
  auth: 'project',
  params: SnapshotParams,
  status: 200,
  response: Type.Object({ snapshot: Snapshot }),
  resource: 'server',
});

export const deleteSnapshot = defineOperation({
  operationId: 'deleteSnapshot',
  method: 'DELETE',
  path: '/v1/servers/:id/snapshots/:name',
  tags: ['snapshots'],
  summary: 'Delete a disk snapshot',
  auth: 'project',
  params: SnapshotParams,
  status: 204,
  resource: 'server',
});

export const exportServerDisk = defineOperation({
  operationId: 'exportServerDisk',
  method: 'GET',
  path: '/v1/servers/:id/export',
  tags: ['servers'],
  summary: "Download the server's disk",
  description:
    'A standalone image of the disk (base image included), qcow2 or raw, streamed as application/octet-stream. From a running server the copy is crash-consistent. Decrypted by default; `encrypted=true` keeps it a LUKS qcow2 under a fresh key sent once in the `X-VMCloud-Export-Key` response header (never the disk key, never stored). Members and owners.',
  auth: 'project',
  params: IdParams,
  query: ExportQuery,
  status: 200,
  produces: 'application/octet-stream',
  resource: 'server',
});

export const ExportHeaders = {
  format: 'x-vmcloud-format',
  virtualSizeBytes: 'x-vmcloud-virtual-size-bytes',
  /** The passphrase of an encrypted export (`encrypted=true`), sent once. */
  exportKey: 'x-vmcloud-export-key',
};
export const ExportedDisk = Type.Object({ format: Type.String(), virtual_size_bytes: Nullable(Type.Integer()) });

export const serverHostOperations = {
  createConsoleTicket,
  getServerLogs,
  listSnapshots,
  createSnapshot,
  restoreSnapshot,
  deleteSnapshot,
  exportServerDisk,
};
