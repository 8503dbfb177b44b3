/** Servers: the virtual machines customers create, their lifecycle actions and their list. */
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

export const serverStatuses = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'rebooting',
  'deleting',
  'deleted',
  'error',
  'unknown',
] as const;
export const ServerStatus = Literals(serverStatuses);
export type ServerStatus = (typeof serverStatuses)[number];

export const DesiredState = Type.Union([Type.Literal('running'), Type.Literal('stopped'), Type.Literal('deleted')]);
export type DesiredState = Static<typeof DesiredState>;

/** A hostname label: letters, digits and hyphens, not starting or ending with a hyphen. */
export const hostnamePattern = '^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$';
export const ServerName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: hostnamePattern,
  description: 'Hostname: 1–63 letters, digits and hyphens, not starting or ending with a hyphen',
});

export const ServerPlacement = Type.Object({
  numa_nodes: Type.Array(Type.Integer(), { description: 'host NUMA nodes the server runs on' }),
  gpus: Type.Array(Type.String(), { description: 'PCI addresses of its GPUs' }),
  vfs: Type.Array(Type.String(), {
    description: 'PCI addresses of its SR-IOV virtual functions (products with `sriov`)',
  }),
});

export const Server = Type.Object({
  id: Type.String({ description: 'srv_…' }),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  product: Type.String(),
  image: Type.String(),
  status: ServerStatus,
  desired_state: DesiredState,
  labels: Labels,
  ipv4: Nullable(Type.String()),
  placement: Nullable(ServerPlacement),
  error: Nullable(Type.String({ description: 'why the server is in error' })),
  delete_protection: Type.Boolean({ description: 'while true, deleting the server is refused (409 protected)' }),
  rebuild_protection: Type.Boolean({ description: 'while true, rebuilding the server is refused (409 protected)' }),
  iso: Nullable(Type.String({ description: 'the ISO image attached for a rescue or install boot' })),
  disk_encrypted: Type.Boolean({ description: 'whether its disk is encrypted at rest (LUKS, AES-256-XTS)' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Server = Static<typeof Server>;

export const userDataMaxLength = 32 * 1024;
export const sshKeysMax = 10;

export const SshPublicKey = Type.String({
  minLength: 1,
  maxLength: 16_384,
  pattern: '^[^\\u0000-\\u001f\\u007f\\u2028\\u2029]+$',
  description: 'An OpenSSH public key line: type base64 [comment]',
});

export const CreateServerBody = Type.Object(
  {
    name: ServerName,
    product: Type.String({ minLength: 1, maxLength: 64, description: 'Product code, e.g. vps-starter' }),
    region: RegionCode,
    image: Type.String({ minLength: 1, maxLength: 128, description: 'Image slug or id, e.g. debian-12' }),
    labels: Type.Optional(Labels),
    ssh_keys: Type.Optional(Type.Array(SshPublicKey, { maxItems: sshKeysMax })),
    user_data: Type.Optional(
      Nullable(
        Type.String({
          maxLength: userDataMaxLength,
          pattern: '^[^\\u0000]*$',
          description: 'A cloud-init user-data document or shell script (at most 32768 characters, no NUL)',
        }),
      ),
    ),
    placement_group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    networks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        maxItems: 8,
        description: 'Private networks of the project (ids or names, in the server’s region) to attach it to',
      }),
    ),
    firewalls: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        maxItems: 5,
        description: 'Firewalls of the project (ids or names) applied to the server before its first packet',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateServerBody = Static<typeof CreateServerBody>;

export const UpdateServerBody = Type.Object(
  {
    name: Type.Optional(ServerName),
    labels: Type.Optional(Labels),
    delete_protection: Type.Optional(Type.Boolean()),
    rebuild_protection: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateServerBody = Static<typeof UpdateServerBody>;

export const StopServerBody = Type.Union([
  Type.Object(
    { force: Type.Optional(Type.Boolean({ description: 'power off at once instead of an ACPI shutdown' })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type StopServerBody = Static<typeof StopServerBody>;

const ProductCode = Type.String({ minLength: 1, maxLength: 64, description: 'Product code, e.g. vps-pro' });
const ImageRef = Type.String({ minLength: 1, maxLength: 128, description: 'Image slug or id, e.g. debian-12' });

export const ResizeServerBody = Type.Object({ product: ProductCode }, { additionalProperties: false });
export type ResizeServerBody = Static<typeof ResizeServerBody>;

export const RebuildServerBody = Type.Object({ image: ImageRef }, { additionalProperties: false });
export type RebuildServerBody = Static<typeof RebuildServerBody>;

export const AttachIsoBody = Type.Object(
  { iso: Type.String({ minLength: 1, maxLength: 128, description: 'An ISO image (slug or id)' }) },
  { additionalProperties: false },
);
export type AttachIsoBody = Static<typeof AttachIsoBody>;

export const ListServersQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000, description: 'e.g. env=prod,tier!=db' })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
    region: Type.Optional(Type.String({ maxLength: 16 })),
    status: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type ListServersQuery = Static<typeof ListServersQuery>;

export const ServerList = Type.Object({ servers: Type.Array(Server), next_cursor: NextCursor });
export type ServerList = Static<typeof ServerList>;

export const ServerCreated = Type.Object({ server: Server, action: Action });
export type ServerCreated = Static<typeof ServerCreated>;

export const ServerEnvelope = Type.Object({ server: Server });
export type ServerEnvelope = Static<typeof ServerEnvelope>;

const tags = ['servers'];

export const createServer = defineOperation({
  operationId: 'createServer',
  method: 'POST',
  path: '/v1/servers',
  tags,
  summary: 'Create a server',
  description:
    'Places the server on a host of the region (exact pinned threads, NUMA node, GPUs) and boots it. Returns the action to wait on.',
  auth: 'project',
  body: CreateServerBody,
  status: 202,
  response: ServerCreated,
  resource: 'server',
});

export const listServers = defineOperation({
  operationId: 'listServers',
  method: 'GET',
  path: '/v1/servers',
  tags,
  summary: 'List servers',
  auth: 'project',
  query: ListServersQuery,
  status: 200,
  response: ServerList,
});

export const getServer = defineOperation({
  operationId: 'getServer',
  method: 'GET',
  path: '/v1/servers/:id',
  tags,
  summary: 'Show a server',
  description: 'The ETag header carries the version, for If-Match on PATCH.',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: ServerEnvelope,
});

export const updateServer = defineOperation({
  operationId: 'updateServer',
  method: 'PATCH',
  path: '/v1/servers/:id',
  tags,
  summary: 'Rename a server, replace its labels, or set its protection flags',
  description:
    'Send the ETag of a GET as If-Match to refuse the change when the server changed in between (412). `delete_protection` and `rebuild_protection` make delete and rebuild answer 409 `protected` while on.',
  auth: 'project',
  params: IdParams,
  body: UpdateServerBody,
  status: 200,
  response: ServerEnvelope,
  resource: 'server',
});

export const deleteServer = defineOperation({
  operationId: 'deleteServer',
  method: 'DELETE',
  path: '/v1/servers/:id',
  tags,
  summary: 'Delete a server',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const startServer = defineOperation({
  operationId: 'startServer',
  method: 'POST',
  path: '/v1/servers/:id/actions/start',
  tags,
  summary: 'Start a server',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const rebootServer = defineOperation({
  operationId: 'rebootServer',
  method: 'POST',
  path: '/v1/servers/:id/actions/reboot',
  tags,
  summary: 'Reboot a server',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const stopServer = defineOperation({
  operationId: 'stopServer',
  method: 'POST',
  path: '/v1/servers/:id/actions/stop',
  tags,
  summary: 'Stop a server',
  description: 'ACPI shutdown, forced off after 30 s; `force: true` powers off at once.',
  auth: 'project',
  params: IdParams,
  body: StopServerBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const resizeServer = defineOperation({
  operationId: 'resizeServer',
  method: 'POST',
  path: '/v1/servers/:id/actions/resize',
  tags,
  summary: 'Resize a stopped server to another product of the same kind',
  description:
    'The server must be stopped (409 `not_stopped`). The scheduler claims the new size on the same host, or moves the server to another host (simulated hosts; a real disk cannot move yet: 409 `migration_unsupported`). The disk grows (at the next start), never shrinks; the quota follows.',
  auth: 'project',
  params: IdParams,
  body: ResizeServerBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const resizeRefusals = ['migration_unsupported', 'no_capacity', 'quota_exceeded'] as const;
export type ResizeRefusal = (typeof resizeRefusals)[number];

/** One product a server can be resized to, priced and checked against the fleet now. */
export const ResizeOption = Type.Object({
  product: Type.String({ description: 'the product code, e.g. vps-pro' }),
  name: Type.String(),
  vcpus: Type.Integer(),
  memory_mib: Type.Integer(),
  disk_gib: Type.Integer({ description: 'the product’s disk' }),
  gpu: Nullable(Type.Object({ model: Type.String(), count: Type.Integer() })),
  price: Type.Object({
    hourly_cents: Type.Integer(),
    monthly_cents: Type.Integer({ description: 'the monthly cap' }),
    currency: Type.Literal('EUR'),
  }),
  /** Against the current product: the monthly cap's difference (negative when cheaper). */
  monthly_difference_cents: Type.Integer(),
  direction: Literals(['grow', 'shrink'] as const),
  disk_gib_after: Type.Integer({
    description: 'the server’s disk after the resize: a disk never shrinks, a smaller product keeps the current one',
  }),
  fits_current_host: Nullable(
    Type.Boolean({ description: 'the new size fits on the server’s host now (null: the server has no host)' }),
  ),
  region_availability: Type.Union([Type.Literal('available'), Type.Literal('scarce'), Type.Literal('none')], {
    description: 'as `GET /v1/capacity` shows it for the server’s region',
  }),
  possible: Type.Boolean({ description: 'a resize to it would be placed now (the server stopped)' }),
  reason: Nullable(Literals(resizeRefusals)),
  message: Nullable(Type.String()),
});
export type ResizeOption = Static<typeof ResizeOption>;

export const ResizeOptions = Type.Object({
  server_id: Type.String(),
  product: Type.String({ description: 'the current product' }),
  disk_gib: Type.Integer({ description: 'the server’s disk now' }),
  /** A resize needs the server stopped (409 `not_stopped` otherwise); the options hold either way. */
  must_stop_first: Type.Boolean(),
  options: Type.Array(ResizeOption),
});
export type ResizeOptions = Static<typeof ResizeOptions>;

export const getServerResizeOptions = defineOperation({
  operationId: 'getServerResizeOptions',
  method: 'GET',
  path: '/v1/servers/:id/resize-options',
  tags,
  summary: 'The products a server can be resized to, priced, with their availability now',
  description:
    'The products of the same kind (family and GPU model) sold in the server’s region, cheapest first, each with its price, whether it grows or shrinks the server, whether it fits on the server’s host now and the region’s availability. `possible: false` comes with the `reason` a resize would be refused with (`migration_unsupported`: it does not fit on a real host; `no_capacity`: nowhere in the region; `quota_exceeded`: the growth in vCPUs or GPUs is past the project’s quota). A snapshot: a resize checks again.',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: ResizeOptions,
});

export const rebuildServer = defineOperation({
  operationId: 'rebuildServer',
  method: 'POST',
  path: '/v1/servers/:id/actions/rebuild',
  tags,
  summary: 'Reinstall a server from an image, keeping its id and address',
  description:
    'The disk is recreated from the image (a new disk generation; snapshots inside the old disk are lost) and the server boots it. Refused with 409 `protected` while `rebuild_protection` is on.',
  auth: 'project',
  params: IdParams,
  body: RebuildServerBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const attachIso = defineOperation({
  operationId: 'attachServerIso',
  method: 'POST',
  path: '/v1/servers/:id/actions/attach-iso',
  tags,
  summary: 'Attach an ISO image and boot from it (rescue or install)',
  description: 'A running server is restarted to boot the ISO; a stopped one boots it at its next start.',
  auth: 'project',
  params: IdParams,
  body: AttachIsoBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const detachIso = defineOperation({
  operationId: 'detachServerIso',
  method: 'POST',
  path: '/v1/servers/:id/actions/detach-iso',
  tags,
  summary: 'Detach the ISO image: the server boots its disk again',
  description: 'A running server is restarted to boot its disk; a stopped one boots it at its next start.',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const serverOperations = {
  createServer,
  listServers,
  getServer,
  updateServer,
  deleteServer,
  startServer,
  rebootServer,
  stopServer,
  resizeServer,
  getServerResizeOptions,
  rebuildServer,
  attachIso,
  detachIso,
};
