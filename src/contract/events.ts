/**
 * The typed events: one payload schema per event type, and the wire shape of an event as the stream
 * (`GET /v1/events`, event consumers, webhooks) carries it. Recording an event type-checks its data
 * against its type's payload (src/events/record.ts).
 */
import { Type, type Static, type TSchema } from 'typebox';

const Id = (description: string) => Type.String({ description });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** What a change of status looked like (agents' reports): from, to, and the agent's detail on errors. */
const StatusChange = Type.Object(
  { from: Type.String(), to: Type.String(), detail: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
/** A lifecycle request was accepted: the action that follows it. */
const ActionStarted = Type.Object({ action_id: Id('act_…') }, { additionalProperties: false });
const Empty = Type.Object({}, { additionalProperties: false });

export const eventPayloadSchemas = {
  'server.created': Type.Object(
    {
      name: Type.String(),
      product: Type.String(),
      region: Type.String(),
      host_id: Id('host_…'),
      action_id: Id('act_…'),
    },
    { additionalProperties: false },
  ),
  'server.starting': ActionStarted,
  'server.stopping': ActionStarted,
  'server.rebooting': ActionStarted,
  'server.deleting': ActionStarted,
  'server.started': StatusChange,
  'server.stopped': StatusChange,
  'server.rebooted': StatusChange,
  'server.deleted': StatusChange,
  'server.error': StatusChange,
  'server.unknown': StatusChange,
  'server.resized': Type.Object(
    {
      action_id: Id('act_…'),
      from_product: Type.String(),
      to_product: Type.String(),
      from_host_id: Nullable(Id('host_…')),
      to_host_id: Id('host_…'),
    },
    { additionalProperties: false },
  ),
  'server.rebuilding': Type.Object(
    { action_id: Id('act_…'), image: Type.String(), disk_generation: Type.Integer() },
    { additionalProperties: false },
  ),
  'server.iso_attached': Type.Object({ action_id: Id('act_…'), iso: Type.String() }, { additionalProperties: false }),
  'server.iso_detached': Type.Object(
    { action_id: Id('act_…'), iso: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'server.protection_changed': Type.Object(
    { delete_protection: Type.Boolean(), rebuild_protection: Type.Boolean() },
    { additionalProperties: false },
  ),
  'server.migrated': Type.Object(
    { from_host_id: Id('host_…'), to_host_id: Id('host_…') },
    { additionalProperties: false },
  ),
  'volume.created': Type.Object(
    {
      name: Type.String(),
      size_gib: Type.Integer(),
      region: Type.String(),
      host_id: Nullable(Id('host_…')),
      action_id: Id('act_…'),
    },
    { additionalProperties: false },
  ),
  'volume.attaching': Type.Object(
    { server_id: Id('srv_…'), host_id: Id('host_…'), action_id: Id('act_…') },
    { additionalProperties: false },
  ),
  'volume.detaching': Type.Object({ server_id: Id('srv_…'), action_id: Id('act_…') }, { additionalProperties: false }),
  'volume.resizing': Type.Object(
    { from_gib: Type.Integer(), to_gib: Type.Integer(), action_id: Id('act_…') },
    { additionalProperties: false },
  ),
  'volume.deleting': ActionStarted,
  'volume.available': StatusChange,
  'volume.attached': StatusChange,
  'volume.resized': StatusChange,
  'volume.deleted': StatusChange,
  'volume.error': StatusChange,
  'custom_image.creating': Type.Object(
    {
      name: Type.String(),
      region: Type.String(),
      source_server_id: Id('srv_…'),
      action_id: Id('act_…'),
    },
    { additionalProperties: false },
  ),
  'custom_image.available': Type.Object(
    { hosts: Type.Array(Id('host_…')), size_bytes: Nullable(Type.Integer()) },
    { additionalProperties: false },
  ),
  'custom_image.error': Type.Object({ error: Type.String() }, { additionalProperties: false }),
  'custom_image.deleted': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'action.finished': Type.Object(
    {
      command: Type.String(),
      /** The server the action is about; for a volume's action, the volume's id is in `volume_id` instead. */
      server_id: Type.Optional(Id('srv_…')),
      volume_id: Type.Optional(Id('vol_…')),
      network_id: Type.Optional(Id('net_…')),
      floating_ip_id: Type.Optional(Id('fip_…')),
      primary_ip_id: Type.Optional(Id('pip_…')),
      custom_image_id: Type.Optional(Id('cimg_…')),
      status: Type.Union([Type.Literal('success'), Type.Literal('error')]),
      error: Type.Optional(
        Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }),
      ),
    },
    { additionalProperties: false },
  ),
  'network.created': Type.Object(
    { name: Type.String(), region: Type.String(), ip_range: Type.String() },
    { additionalProperties: false },
  ),
  'network.updated': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'network.deleted': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'network.subnet_added': Type.Object({ ip_range: Type.String() }, { additionalProperties: false }),
  'network.route_added': Type.Object(
    { destination: Type.String(), gateway: Type.String() },
    { additionalProperties: false },
  ),
  'network.route_deleted': Type.Object(
    { destination: Type.String(), gateway: Type.String() },
    { additionalProperties: false },
  ),
  'network.server_attaching': Type.Object(
    { server_id: Id('srv_…'), ip: Type.String(), action_id: Id('act_…') },
    { additionalProperties: false },
  ),
  'network.server_attached': Type.Object(
    { server_id: Id('srv_…'), ip: Type.String() },
    { additionalProperties: false },
  ),
  'network.server_detaching': Type.Object(
    { server_id: Id('srv_…'), ip: Type.String(), action_id: Nullable(Id('act_…')) },
    { additionalProperties: false },
  ),
  'network.server_detached': Type.Object(
    { server_id: Id('srv_…'), ip: Type.String() },
    { additionalProperties: false },
  ),
  'firewall.created': Type.Object({ name: Type.String(), rules: Type.Integer() }, { additionalProperties: false }),
  'firewall.updated': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'firewall.deleted': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'firewall.rules_set': Type.Object(
    { rules: Type.Integer(), rules_version: Type.Integer() },
    { additionalProperties: false },
  ),
  'firewall.applied': Type.Object(
    { server_ids: Type.Array(Id('srv_…')), label_selectors: Type.Array(Type.String()) },
    { additionalProperties: false },
  ),
  'firewall.removed': Type.Object(
    { server_ids: Type.Array(Id('srv_…')), label_selectors: Type.Array(Type.String()) },
    { additionalProperties: false },
  ),
  'ssh_key.created': Type.Object(
    { name: Type.String(), fingerprint: Type.String(), type: Type.String() },
    { additionalProperties: false },
  ),
  'ssh_key.updated': Type.Object({ name: Type.String() }, { additionalProperties: false }),
  'ssh_key.deleted': Type.Object({ name: Type.String(), fingerprint: Type.String() }, { additionalProperties: false }),
  'floating_ip.created': Type.Object(
    { region: Type.String(), type: Type.String(), ip: Type.String() },
    { additionalProperties: false },
  ),
  'floating_ip.assigned': Type.Object(
    { server_id: Id('srv_…'), previous_server_id: Nullable(Id('srv_…')), action_id: Id('act_…') },
    { additionalProperties: false },
  ),
  'floating_ip.unassigned': Type.Object(
    { server_id: Id('srv_…'), action_id: Nullable(Id('act_…')) },
    { additionalProperties: false },
  ),
  'floating_ip.dns_ptr_changed': Type.Object(
    { ip: Type.String(), dns_ptr: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'floating_ip.deleted': Type.Object({ ip: Type.String() }, { additionalProperties: false }),
  'primary_ip.created': Type.Object(
    { region: Type.String(), type: Type.String(), ip: Type.String(), server_id: Nullable(Id('srv_…')) },
    { additionalProperties: false },
  ),
  'primary_ip.updated': Type.Object(
    { name: Type.String(), auto_delete: Type.Boolean() },
    { additionalProperties: false },
  ),
  'primary_ip.assigned': Type.Object(
    { server_id: Id('srv_…'), action_id: Nullable(Id('act_…')) },
    { additionalProperties: false },
  ),
  'primary_ip.unassigned': Type.Object(
    { server_id: Id('srv_…'), action_id: Nullable(Id('act_…')) },
    { additionalProperties: false },
  ),
  'primary_ip.dns_ptr_changed': Type.Object(
    { ip: Type.String(), dns_ptr: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'primary_ip.deleted': Type.Object({ ip: Type.String() }, { additionalProperties: false }),
  'host.registered': Type.Object({ name: Type.String(), region: Type.String() }, { additionalProperties: false }),
  'host.state_changed': Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false }),
  'host.down': Type.Object({ stale_after_ms: Type.Integer() }, { additionalProperties: false }),
  'host.up': Empty,
  'host.forgotten': Type.Object(
    { name: Type.String(), deleted: Type.Integer(), lost: Type.Integer() },
    { additionalProperties: false },
  ),
  'host.quarantined': Type.Object({ reason: Type.String() }, { additionalProperties: false }),
  'region.status_changed': Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false }),
  'project.created': Type.Object({ name: Type.String(), owner_email: Type.String() }, { additionalProperties: false }),
  'project.quotas_changed': Type.Object(
    {
      quotas: Type.Record(Type.String(), Type.Integer(), { description: 'every quota after the change' }),
      changed: Type.Array(Type.String(), { description: 'the quotas the change named' }),
    },
    { additionalProperties: false },
  ),
  'token.created': Type.Object(
    { kind: Type.String(), role: Type.String(), name: Type.String() },
    { additionalProperties: false },
  ),
  'backup.created': Type.Object(
    { server_id: Id('srv_…'), trigger: Type.String(), region: Type.String() },
    { additionalProperties: false },
  ),
  'backup.started': Type.Object({ server_id: Id('srv_…'), host_id: Id('host_…') }, { additionalProperties: false }),
  'backup.succeeded': Type.Object(
    {
      server_id: Id('srv_…'),
      kind: Type.String(),
      disk_bytes: Type.Integer(),
      read_bytes: Type.Integer(),
      stored_bytes: Type.Integer(),
      duration_ms: Type.Integer(),
      location: Type.String(),
      /** The volumes read with the disk (absent in events of older versions). */
      volume_ids: Type.Optional(Type.Array(Id('vol_…'))),
    },
    { additionalProperties: false },
  ),
  'backup.failed': Type.Object({ server_id: Id('srv_…'), error: Type.String() }, { additionalProperties: false }),
  'backup.copy_pruned': Type.Object(
    { server_id: Id('srv_…'), copy: Type.String(), location: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'backup.deleted': Type.Object({ server_id: Id('srv_…'), reason: Type.String() }, { additionalProperties: false }),
  'backup.verified': Type.Object({ server_id: Id('srv_…'), ok: Type.Boolean() }, { additionalProperties: false }),
  'backup.policy_changed': Type.Object(
    { scope: Type.String(), every_minutes: Type.Integer() },
    { additionalProperties: false },
  ),
  'restore.started': Type.Object(
    {
      backup_id: Id('bkp_…'),
      mode: Type.String(),
      server_id: Id('srv_…'),
      region: Type.String(),
      /** A restore to a new server: the volumes made from the backup's volumes, attached to it. */
      volume_ids: Type.Optional(Type.Array(Id('vol_…'))),
    },
    { additionalProperties: false },
  ),
  'restore.finished': Type.Object(
    {
      backup_id: Id('bkp_…'),
      server_id: Id('srv_…'),
      status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
      duration_ms: Type.Integer(),
      error: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  'webhook.created': Type.Object({ url: Type.String() }, { additionalProperties: false }),
  'webhook.updated': Type.Object({ url: Type.String(), enabled: Type.Boolean() }, { additionalProperties: false }),
  'webhook.deleted': Type.Object({ url: Type.String() }, { additionalProperties: false }),
  'webhook.secret_rotated': Type.Object(
    { previous_secret_expires_at: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  /** Every delivery failed for days: the endpoint stopped receiving until someone enables it again. */
  'webhook.disabled': Type.Object(
    { url: Type.String(), failing_since: Type.String(), reason: Type.String() },
    { additionalProperties: false },
  ),
  'token.revoked': Type.Object({ kind: Type.String() }, { additionalProperties: false }),
  'user.created': Type.Object(
    { role: Type.String(), created_by: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'user.link_issued': Type.Object(
    { purpose: Type.String(), expires_at: Type.String(), created_by: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'invitation.created': Type.Object(
    { email: Type.String(), role: Type.String(), expires_at: Type.String(), invited_by: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'invitation.accepted': Type.Object(
    { email: Type.String(), role: Type.String(), user_id: Id('usr_…'), new_user: Type.Boolean() },
    { additionalProperties: false },
  ),
  'invitation.revoked': Type.Object({ email: Type.String(), role: Type.String() }, { additionalProperties: false }),
  'user.password_changed': Type.Object({ via: Type.String() }, { additionalProperties: false }),
  'user.totp_enabled': Empty,
  'user.totp_disabled': Empty,
  'user.passkey_added': Type.Object(
    { passkey_id: Id('pky_…'), name: Type.String(), backed_up: Type.Boolean() },
    { additionalProperties: false },
  ),
  'user.passkey_deleted': Type.Object(
    { passkey_id: Id('pky_…'), name: Type.String() },
    { additionalProperties: false },
  ),
  'user.operator_linked': Type.Object(
    { email: Type.String(), by: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'user.operator_unlinked': Type.Object(
    { email: Type.String(), by: Nullable(Type.String()), sessions_revoked: Type.Integer() },
    { additionalProperties: false },
  ),
  'user.totp_reset': Type.Object(
    {
      email: Type.String(),
      by: Nullable(Type.String()),
      had_totp: Type.Boolean(),
      recovery_codes_deleted: Type.Integer(),
      passkeys_deleted: Type.Integer(),
      sessions_revoked: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  'session.created': Type.Object(
    { user_id: Id('usr_…'), second_factor: Type.String(), kind: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  'session.revoked': Type.Object({ user_id: Id('usr_…'), reason: Type.String() }, { additionalProperties: false }),
  'session.project_changed': Type.Object(
    { user_id: Id('usr_…'), from_project_id: Type.String() },
    { additionalProperties: false },
  ),
  'member.role_changed': Type.Object(
    { user_id: Id('usr_…'), email: Type.String(), from: Type.String(), to: Type.String() },
    { additionalProperties: false },
  ),
  'member.removed': Type.Object(
    { user_id: Id('usr_…'), email: Type.String(), role: Type.String() },
    { additionalProperties: false },
  ),
  'ddos.attack_started': Type.Object(
    {
      address: Type.String(),
      server_id: Nullable(Id('srv_…')),
      tier: Type.String(),
      vector: Type.String(),
      detected_by: Type.String(),
      pps: Type.Integer(),
      bps: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  'ddos.attack_ended': Type.Object(
    {
      address: Type.String(),
      server_id: Nullable(Id('srv_…')),
      vector: Type.String(),
      duration_s: Type.Integer(),
      peak_pps: Type.Integer(),
      peak_bps: Type.Integer(),
      dropped_packets: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  'ddos.tier_changed': Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false }),
  'ddos.rules_changed': Type.Object(
    { rules: Type.Integer(), thresholds: Type.Integer() },
    { additionalProperties: false },
  ),
  'flow_logs.settings_changed': Type.Object(
    { enabled: Type.Boolean(), servers: Type.Integer(), retention_days: Type.Integer() },
    { additionalProperties: false },
  ),
  'flow_logs.day_purged': Type.Object({ day: Type.String() }, { additionalProperties: false }),
  'traffic.month_closed': Type.Object(
    { month: Type.String(), servers: Type.Integer() },
    { additionalProperties: false },
  ),
  'billing.account_updated': Type.Object(
    { country: Type.String(), sla_tier: Type.String(), vat_treatment: Type.String() },
    { additionalProperties: false },
  ),
  'price.set': Type.Object(
    { item: Type.String(), region: Type.String(), unit_micros: Type.Integer(), valid_from: Type.String() },
    { additionalProperties: false },
  ),
  'invoice.created': Type.Object({ kind: Type.String(), period: Type.String() }, { additionalProperties: false }),
  'invoice.issued': Type.Object(
    {
      kind: Type.String(),
      number: Type.String(),
      period: Type.String(),
      total_cents: Type.Integer(),
      refers_to: Nullable(Type.String()),
    },
    { additionalProperties: false },
  ),
  'invoice.paid': Type.Object({ number: Type.String(), total_cents: Type.Integer() }, { additionalProperties: false }),
  'invoice.voided': Type.Object(
    { number: Nullable(Type.String()), reason: Type.String(), credit_note_id: Nullable(Type.String()) },
    { additionalProperties: false },
  ),
  'budget.threshold_reached': Type.Object(
    { month: Type.String(), percent: Type.Integer(), budget_cents: Type.Integer(), usage_cents: Type.Integer() },
    { additionalProperties: false },
  ),
  // The status page (src/status): events of no project, read by operators' streams and public webhooks.
  'incident.created': Type.Object(
    { title: Type.String(), impact: Type.String(), status: Type.String(), components: Type.Array(Type.String()) },
    { additionalProperties: false },
  ),
  'incident.updated': Type.Object(
    {
      title: Type.String(),
      impact: Type.String(),
      status: Type.String(),
      components: Type.Array(Type.String()),
      body: Type.String(),
    },
    { additionalProperties: false },
  ),
  'incident.resolved': Type.Object(
    { title: Type.String(), impact: Type.String(), duration_s: Type.Integer() },
    { additionalProperties: false },
  ),
  'maintenance.scheduled': Type.Object(
    { title: Type.String(), components: Type.Array(Type.String()), starts_at: Type.String(), ends_at: Type.String() },
    { additionalProperties: false },
  ),
  'maintenance.started': Type.Object({ title: Type.String() }, { additionalProperties: false }),
  'maintenance.completed': Type.Object({ title: Type.String() }, { additionalProperties: false }),
  'maintenance.cancelled': Type.Object({ title: Type.String() }, { additionalProperties: false }),
  'component.status_changed': Type.Object(
    { from: Type.String(), to: Type.String(), reason: Type.String() },
    { additionalProperties: false },
  ),
} as const;

type PayloadSchemas = typeof eventPayloadSchemas;

/** The payload of each event type. */
export type EventPayloads = { [K in keyof PayloadSchemas]: Static<PayloadSchemas[K]> };
/** Every event type there is. */
export type EventType = keyof EventPayloads;
export const eventTypes = Object.keys(eventPayloadSchemas) as EventType[];

/** The wire shape of an event of one type (or, without a type argument, of any type). */
export type Event<T extends EventType = EventType> = {
  [K in T]: {
    /** Position in the stream (unique, increasing within a transaction; order by the stream cursor). */
    seq: number;
    id: string;
    at: string;
    type: K;
    project_id: string | null;
    resource: { type: string; id: string };
    data: EventPayloads[K];
  };
}[T];

/** TypeBox schema of an event of any type: a union discriminated by `type` (for OpenAPI and validation). */
export const EventSchema = Type.Union(
  eventTypes.map((type) =>
    Type.Object({
      seq: Type.Integer(),
      id: Type.String({ description: 'evt_…' }),
      at: Type.String({ format: 'date-time' }),
      type: Type.Literal(type),
      project_id: Nullable(Type.String()),
      resource: Type.Object({ type: Type.String(), id: Type.String() }),
      data: eventPayloadSchemas[type],
    }),
  ),
);
