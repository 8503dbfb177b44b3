/**
 * Volumes: block devices a project creates in a region and attaches to its servers there (hot-plugged into
 * a running server), grows, detaches and deletes. Every mutation that reaches a host answers 202 with an
 * action, like the lifecycle of servers.
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  IdParams,
  Labels,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  RegionCode,
  Timestamp,
} from './common.ts';
import { Action, ActionAccepted } from './actions.ts';
import { defineOperation } from './operation.ts';
import { hostnamePattern } from './servers.ts';
import { SnapshotName } from './server-host.ts';

export const volumeStatuses = [
  'creating',
  'available',
  'attaching',
  'attached',
  'detaching',
  'resizing',
  'deleting',
  'deleted',
  'error',
] as const;
export const VolumeStatus = Literals(volumeStatuses);
export type VolumeStatus = (typeof volumeStatuses)[number];

/** Where a volume's data lives: `local` (a qcow2 file on its host); `rbd` (Ceph) is the next backend. */
export const volumeBackends = ['local'] as const;
// One backend for now: a literal (a one-branch union is an illogical schema); a union once `rbd` arrives.
export const VolumeBackend = Type.Literal(volumeBackends[0]);
export type VolumeBackend = (typeof volumeBackends)[number];

/** Sizes in whole GiB: at least 1, at most 16 TiB. */
export const volumeMaxSizeGiB = 16_384;
export const VolumeSizeGiB = Type.Integer({ minimum: 1, maximum: volumeMaxSizeGiB, description: 'size in GiB' });

export const VolumeName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: hostnamePattern,
  description: '1–63 letters, digits and hyphens, not starting or ending with a hyphen',
});

/** What a volume was made from: a backup of a server's disk, or an internal snapshot of a server's disk. */
export const VolumeSource = Type.Union([
  Type.Object({
    kind: Type.Literal('backup'),
    backup_id: Type.String({ description: 'bkp_…' }),
    backup_volume_id: Type.Optional(
      Type.String({ description: "which volume of the backup (vol_…); absent: the backed-up server's disk" }),
    ),
  }),
  Type.Object({
    kind: Type.Literal('snapshot'),
    server_id: Type.String({ description: 'srv_…' }),
    snapshot: Type.String({ description: 'the name of the disk snapshot' }),
  }),
]);
export type VolumeSource = Static<typeof VolumeSource>;

export const Volume = Type.Object({
  id: Type.String({ description: 'vol_…' }),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  size_gib: Type.Integer(),
  backend: VolumeBackend,
  status: VolumeStatus,
  server_id: Nullable(Type.String({ description: 'the server it is attached to (or being attached to)' })),
  /** Operators see the host; a project sees null. */
  host_id: Nullable(Type.String({ description: 'the host holding a local volume (operators only)' })),
  labels: Labels,
  error: Nullable(Type.String()),
  /** Encrypted at rest (LUKS, AES-256-XTS) under a key of its own, sealed in the key store. */
  encrypted: Type.Boolean(),
  /** null: made empty. */
  source: Nullable(VolumeSource),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Volume = Static<typeof Volume>;

export const CreateVolumeBody = Type.Object(
  {
    name: VolumeName,
    size_gib: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: volumeMaxSizeGiB,
        description: "size in GiB: required for an empty volume; with a source, at least its disk's (by default that)",
      }),
    ),
    region: RegionCode,
    from_backup: Type.Optional(
      Type.String({
        pattern: '^bkp_[0-9a-z]{1,60}$',
        maxLength: 64,
        description: "fill the volume with a backup of a server's disk (bkp_…), read from a copy in the region",
      }),
    ),
    server: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          "with from_backup: made on this server's host and attached to it once filled (server id or name, of the volume's region)",
      }),
    ),
    backup_volume_id: Type.Optional(
      Type.String({
        pattern: '^vol_[0-9a-z]{1,60}$',
        maxLength: 64,
        description:
          "with from_backup: fill the volume with this volume of the backup (its `volumes`) instead of the server's disk",
      }),
    ),
    from_snapshot: Type.Optional(
      Type.Object(
        {
          server: Type.String({ minLength: 1, maxLength: 100, description: 'server id or name' }),
          name: SnapshotName,
        },
        {
          additionalProperties: false,
          description: "fill the volume with an internal snapshot of a server's disk (made on the server's host)",
        },
      ),
    ),
    labels: Type.Optional(Labels),
    project_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'operators: the project the volume belongs to' }),
    ),
    host: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'operators: create it on this host (name or id)' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateVolumeBody = Static<typeof CreateVolumeBody>;

export const AttachVolumeBody = Type.Object(
  { server: Type.String({ minLength: 1, maxLength: 100, description: 'server id or name' }) },
  { additionalProperties: false },
);
export type AttachVolumeBody = Static<typeof AttachVolumeBody>;

export const ResizeVolumeBody = Type.Object({ size_gib: VolumeSizeGiB }, { additionalProperties: false });
export type ResizeVolumeBody = Static<typeof ResizeVolumeBody>;

export const ListVolumesQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
    region: Type.Optional(Type.String({ maxLength: 16 })),
    server_id: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type ListVolumesQuery = Static<typeof ListVolumesQuery>;

export const VolumeList = Type.Object({ volumes: Type.Array(Volume), next_cursor: NextCursor });
export type VolumeList = Static<typeof VolumeList>;

export const VolumeCreated = Type.Object({ volume: Volume, action: Action });
export type VolumeCreated = Static<typeof VolumeCreated>;

export const VolumeEnvelope = Type.Object({ volume: Volume });
export type VolumeEnvelope = Static<typeof VolumeEnvelope>;

const tags = ['volumes'];

export const createVolume = defineOperation({
  operationId: 'createVolume',
  method: 'POST',
  path: '/v1/volumes',
  tags,
  summary: 'Create a volume',
  description:
    'A local volume created detached is placed on a host when first attached (the disk space is claimed on the server’s host). Operators may pass `project_id` and `host` to create it on a named host at once. With `from_backup` (a backup of one of the project’s servers, with a copy in the region) the volume is placed at once on an up host of the region; with `from_snapshot` on the server’s host; it is `creating` until the host has filled it (`error` with the reason if it could not). `size_gib` is then optional (default: the source disk’s size). `backup_volume_id` picks one of the backup’s volumes (its `volumes`) instead of the server’s disk; `server` (with `from_backup`) places it on that server’s host and attaches it once filled (409 `region_mismatch`, `server_not_placed`, `server_deleting`). Refused with 400 `source_conflict` (both sources), `volume_too_small`, `backup_not_in_region`, `backup_volume_missing`, 404 `backup_not_found`, 409 `backup_not_restorable`, `region_mismatch`, `server_not_placed`, `snapshot_not_found`, `snapshots_unsupported`.',
  auth: 'project_or_operator',
  body: CreateVolumeBody,
  status: 202,
  response: VolumeCreated,
  resource: 'volume',
});

export const listVolumes = defineOperation({
  operationId: 'listVolumes',
  method: 'GET',
  path: '/v1/volumes',
  tags,
  summary: 'List volumes',
  auth: 'project',
  query: ListVolumesQuery,
  status: 200,
  response: VolumeList,
});

export const getVolume = defineOperation({
  operationId: 'getVolume',
  method: 'GET',
  path: '/v1/volumes/:id',
  tags,
  summary: 'Show a volume',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: VolumeEnvelope,
});

export const deleteVolume = defineOperation({
  operationId: 'deleteVolume',
  method: 'DELETE',
  path: '/v1/volumes/:id',
  tags,
  summary: 'Delete a volume',
  description: 'Refused with 409 `volume_attached` while the volume is attached: detach it first.',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'volume',
});

export const attachVolume = defineOperation({
  operationId: 'attachVolume',
  method: 'POST',
  path: '/v1/volumes/:id/actions/attach',
  tags,
  summary: 'Attach a volume to a server of its region',
  description: 'Hot-plugged into a running server; a stopped server gets it at its next start.',
  auth: 'project',
  params: IdParams,
  body: AttachVolumeBody,
  status: 202,
  response: ActionAccepted,
  resource: 'volume',
});

export const detachVolume = defineOperation({
  operationId: 'detachVolume',
  method: 'POST',
  path: '/v1/volumes/:id/actions/detach',
  tags,
  summary: 'Detach a volume from its server',
  description: 'On a running server the guest is asked to release the device (PCI unplug) and the action waits for it.',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'volume',
});

export const resizeVolume = defineOperation({
  operationId: 'resizeVolume',
  method: 'POST',
  path: '/v1/volumes/:id/actions/resize',
  tags,
  summary: 'Grow a volume',
  description: 'Grow only (a smaller size is refused with `volume_shrink`); online when attached to a running server.',
  auth: 'project',
  params: IdParams,
  body: ResizeVolumeBody,
  status: 202,
  response: ActionAccepted,
  resource: 'volume',
});

export const volumeOperations = {
  createVolume,
  listVolumes,
  getVolume,
  deleteVolume,
  attachVolume,
  detachVolume,
  resizeVolume,
};
