/**
 * The agent protocol (`/v1/agent/…`), served by the control plane's agent listener over mutual TLS, not by
 * the public API: an agent fetches the CA (and checks its fingerprint), joins once with a one-time join
 * token and a CSR, and from then on proves itself with its host certificate: it re-registers at each
 * start, renews its certificate, reads the desired state of its servers, reports what it observes and
 * heartbeats. Not part of the public API document. Payloads keep the agent's camelCase model.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Nullable } from './common.ts';
import { HostTopology } from './topology.ts';
import { defineOperation } from './operation.ts';
import { DesiredHostNetwork, ObservedHostNetwork } from './host-network.ts';
import { imageSlugPattern } from './images.ts';
import { sendTelemetry } from './telemetry.ts';
import { reportHostTraffic } from './host-traffic.ts';

export const hostNamePattern = '^[a-zA-Z0-9][a-zA-Z0-9._-]*$';

/** The images a host can boot (its image store), so the scheduler places a server only where its image is. */
const HostImages = Type.Array(Type.String({ pattern: imageSlugPattern }), {
  maxItems: 10_000,
  description: 'slugs of the images the host can boot; absent or null: every image of the catalog (simulated hosts)',
});

const registrationProperties = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: hostNamePattern }),
  region: Type.String({ minLength: 1, maxLength: 16 }),
  driver: Type.Union([Type.Literal('qemu'), Type.Literal('sim')]),
  cpu_model: Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
  topology: HostTopology,
  agent_version: Type.String({ maxLength: 50, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
  address: Nullable(
    Type.String({
      maxLength: 200,
      pattern: '^https://',
      description: "the host API's URL (HTTPS, mutual TLS with the host's certificate)",
    }),
  ),
  images: Type.Optional(Nullable(HostImages)),
};

export const RegisterHostBody = Type.Object(registrationProperties, { additionalProperties: false });
export type RegisterHostBody = Static<typeof RegisterHostBody>;

/** A certificate signing request in PEM (ECDSA P-256 or P-384): the key stays on the host. */
export const CsrPem = Type.String({ minLength: 1, maxLength: 16_384, description: 'PEM PKCS#10 request' });

export const JoinHostBody = Type.Object({ ...registrationProperties, csr: CsrPem }, { additionalProperties: false });
export type JoinHostBody = Static<typeof JoinHostBody>;

export const HostRegistered = Type.Object({
  host_id: Type.String(),
  created: Type.Boolean(),
  ipv4_pool: Type.String({ description: 'the region pool: the host bridge carries its gateway' }),
});
export type HostRegistered = Static<typeof HostRegistered>;

export const HostCertificateIssued = Type.Object({
  certificate_pem: Type.String({ description: "the host's certificate (SAN URI urn:vmcloud:host:<id>)" }),
  ca_pem: Type.String({ description: 'the CA that signed it, which the host API checks clients against' }),
});
export type HostCertificateIssued = Static<typeof HostCertificateIssued>;

export const HostJoined = Type.Object({
  host_id: Type.String(),
  created: Type.Boolean(),
  ipv4_pool: Type.String(),
  certificate_pem: Type.String(),
  ca_pem: Type.String(),
});
export type HostJoined = Static<typeof HostJoined>;

export const RenewCertificateBody = Type.Object({ csr: CsrPem }, { additionalProperties: false });
export type RenewCertificateBody = Static<typeof RenewCertificateBody>;

export const AgentCa = Type.Object({
  ca_pem: Type.String(),
  ca_sha256: Type.String({ description: 'AB:CD:… as `openssl x509 -noout -fingerprint -sha256` prints it' }),
});
export type AgentCa = Static<typeof AgentCa>;

/**
 * An SR-IOV virtual function of a server (one of its spec's `vfs`), with what the host needs to set it up
 * before QEMU starts: the physical function's network device and the VF's number on it.
 */
export const InstanceVf = Type.Object({
  pciAddress: Type.String(),
  /** The physical function's network device, e.g. `enp33s0f0` (`ip link set <pf> vf <n> …`). */
  pf: Type.String(),
  vfIndex: Type.Integer({ minimum: 0 }),
});
export type InstanceVf = Static<typeof InstanceVf>;

export const InstanceSpec = Type.Object({
  serverId: Type.String(),
  hostname: Type.String(),
  vcpus: Type.Integer(),
  memoryMiB: Type.Integer(),
  diskGiB: Type.Integer(),
  image: Type.String(),
  threads: Type.Array(Type.Integer()),
  numaNodes: Type.Array(Type.Integer()),
  gpus: Type.Array(Type.String()),
  vfs: Type.Array(Type.String()),
  /** The VFs of `vfs` as the host's topology names them; absent when the server has none. */
  vfDevices: Type.Optional(Type.Array(InstanceVf)),
  sshKeys: Type.Array(Type.String()),
  userData: Nullable(Type.String()),
  ipv4: Nullable(Type.String()),
  projectId: Type.Optional(Type.String()),
  /**
   * The LUKS passphrase of the server's disk (base64 of 32 random bytes), unwrapped from the key store for
   * this host only, over the agent link's mutual TLS. Drivers keep it in memory, never on disk or in logs.
   */
  diskKey: Type.Optional(Type.String({ maxLength: 256 })),
  /** Bumped by a rebuild: a driver whose disk is of an older generation recreates it from `image`. */
  diskGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  /** An ISO image (slug) attached as a bootable cdrom, booted before the disk (rescue, install). */
  iso: Type.Optional(Nullable(Type.String())),
});
export type InstanceSpec = Static<typeof InstanceSpec>;

export const DesiredInstance = Type.Object({
  spec: InstanceSpec,
  desired: Type.Union([Type.Literal('running'), Type.Literal('stopped'), Type.Literal('deleted')]),
  rebootGeneration: Type.Integer(),
  forceStop: Type.Boolean(),
});
export type DesiredInstance = Static<typeof DesiredInstance>;

export const ObservedPower = Type.Union([
  Type.Literal('starting'),
  Type.Literal('running'),
  Type.Literal('stopping'),
  Type.Literal('stopped'),
  Type.Literal('crashed'),
  Type.Literal('failed'),
]);
export type ObservedPower = Static<typeof ObservedPower>;

export const ObservedInstance = Type.Object(
  {
    serverId: Type.String({ maxLength: 100 }),
    power: ObservedPower,
    rebootGeneration: Type.Integer({ minimum: 0 }),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ObservedInstance = Static<typeof ObservedInstance>;

/**
 * What a volume on this host should be: present with a size and attached to a server (or to none), or
 * deleted. The agent creates, grows, attaches, detaches and removes until what it observes matches.
 */
/**
 * What a volume is filled from when the host creates it: an internal snapshot of a server disk on this
 * host, or a backup's restic snapshot (with the repository to read it from, for real hosts).
 */
export const DesiredVolumeSource = Type.Union([
  Type.Object({ kind: Type.Literal('snapshot'), serverId: Type.String(), snapshot: Type.String() }),
  Type.Object({
    kind: Type.Literal('backup'),
    backupId: Type.String(),
    /** The restic snapshot of the backup in the repository below. */
    snapshot: Type.String(),
    /** Which disk of the backup: one of its volumes (`vol_…`); absent: the server's disk. */
    volumeId: Type.Optional(Type.String()),
    /** The region's repository (url and password, over the agent link's mutual TLS); absent for simulated hosts. */
    repository: Type.Optional(Type.Object({ region: Type.String(), url: Type.String(), password: Type.String() })),
  }),
]);
export type DesiredVolumeSource = Static<typeof DesiredVolumeSource>;

export const DesiredVolume = Type.Object({
  volumeId: Type.String(),
  sizeGiB: Type.Integer(),
  /** The server it should be attached to on this host; null: detached. */
  serverId: Nullable(Type.String()),
  desired: Type.Union([Type.Literal('present'), Type.Literal('deleted')]),
  /**
   * The LUKS passphrase of the volume's data (base64 of 32 random bytes), unwrapped from the key store for
   * this host only, over the agent link's mutual TLS. Drivers keep it in memory, never on disk or in logs.
   */
  key: Type.Optional(Type.String({ maxLength: 256 })),
  /** What to fill it with when it is created (sent while the volume is being created only). */
  source: Type.Optional(DesiredVolumeSource),
});
export type DesiredVolume = Static<typeof DesiredVolume>;

export const ObservedVolume = Type.Object(
  {
    volumeId: Type.String({ maxLength: 100 }),
    sizeGiB: Type.Integer({ minimum: 0 }),
    /** The server it is attached to (plugged into its running guest, or recorded for its next start). */
    serverId: Nullable(Type.String({ maxLength: 100 })),
    /** `failed`: the agent gave up on an operation of this volume (its message in `detail`). */
    state: Type.Optional(Type.Literal('failed')),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ObservedVolume = Static<typeof ObservedVolume>;

export const ReportBody = Type.Object(
  {
    observed: Type.Array(ObservedInstance, { maxItems: 10_000 }),
    full: Type.Boolean(),
    /** Every volume on the host, when present (the whole truth about the host's volumes). */
    volumes: Type.Optional(Type.Array(ObservedVolume, { maxItems: 10_000 })),
    /** The host's network data plane as it is (private ports, public routes), when present. */
    network: Type.Optional(ObservedHostNetwork),
  },
  { additionalProperties: false },
);
export type ReportBody = Static<typeof ReportBody>;

const tags = ['agents'];

export const getAgentCa = defineOperation({
  operationId: 'agentCa',
  method: 'GET',
  path: '/v1/agent/ca',
  tags,
  summary: 'The CA of host certificates (no client certificate needed; check its fingerprint)',
  auth: 'public',
  status: 200,
  response: AgentCa,
});

export const joinHost = defineOperation({
  operationId: 'agentJoin',
  method: 'POST',
  path: '/v1/agent/join',
  tags,
  summary: 'Join: register or re-attach a host with a one-time join token and get its certificate',
  description:
    '`Authorization: Bearer <join token>`. The token is consumed by a successful join; a token made for an existing host (rotation) re-issues its certificate and revokes the older ones.',
  auth: 'host',
  body: JoinHostBody,
  status: 200,
  response: HostJoined,
  resource: 'host',
});

export const registerHost = defineOperation({
  operationId: 'agentRegister',
  method: 'POST',
  path: '/v1/agent/hosts/:id/register',
  tags,
  summary: 'Re-register a host (topology, address) at each agent start (host certificate)',
  auth: 'host',
  params: IdParams,
  body: RegisterHostBody,
  status: 200,
  response: HostRegistered,
  resource: 'host',
});

export const renewHostCertificate = defineOperation({
  operationId: 'agentRenewCertificate',
  method: 'POST',
  path: '/v1/agent/hosts/:id/certificate',
  tags,
  summary: "Renew the host's certificate from a new CSR (host certificate)",
  description: 'The previous certificate stays valid until it expires.',
  auth: 'host',
  params: IdParams,
  body: RenewCertificateBody,
  status: 200,
  response: HostCertificateIssued,
  resource: 'host',
});

export const HeartbeatBody = Type.Object(
  { images: Type.Optional(HostImages) },
  { additionalProperties: false, description: 'sent when something reported changed since the last heartbeat' },
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

export const heartbeat = defineOperation({
  operationId: 'agentHeartbeat',
  method: 'POST',
  path: '/v1/agent/hosts/:id/heartbeat',
  tags,
  summary: 'Heartbeat',
  auth: 'host',
  params: IdParams,
  body: HeartbeatBody,
  status: 204,
});

export const getDesired = defineOperation({
  operationId: 'agentDesired',
  method: 'GET',
  path: '/v1/agent/hosts/:id/desired',
  tags,
  summary: 'Desired state of the host servers',
  auth: 'host',
  params: IdParams,
  status: 200,
  response: Type.Object({
    instances: Type.Array(DesiredInstance),
    volumes: Type.Optional(Type.Array(DesiredVolume)),
    network: Type.Optional(DesiredHostNetwork),
  }),
});

export const report = defineOperation({
  operationId: 'agentReport',
  method: 'POST',
  path: '/v1/agent/hosts/:id/report',
  tags,
  summary: 'Report observed instances',
  auth: 'host',
  params: IdParams,
  body: ReportBody,
  status: 204,
});

/** The operations of the agent listener (not of the public API). */
export const agentOperations = {
  getAgentCa,
  joinHost,
  registerHost,
  renewHostCertificate,
  heartbeat,
  getDesired,
  report,
  sendTelemetry,
  reportHostTraffic,
};
