/**
 * The public status of the platform: components (per region: compute, network, storage, api; global: api,
 * console, billing), incidents and maintenances that operators manage, and the seed's promises beside the
 * measured values. Reads are public (the same facts are on the public status page); writes need an
 * operator token. docs/status-page.md.
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  IdParams,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  NullableTimestamp,
  Timestamp,
} from './common.ts';
import { defineOperation } from './operation.ts';

export const regionalComponentKinds = ['compute', 'network', 'storage', 'api'] as const;
export const globalComponentKinds = ['api', 'console', 'billing'] as const;

/** `fra1.compute`, `global.api`: a region code (or `global`) and a kind. */
export const componentIdPattern = '^[a-z][a-z0-9]{0,15}\\.(compute|network|storage|api|console|billing)$';
export const ComponentId = Type.String({
  pattern: componentIdPattern,
  maxLength: 40,
  description: 'region.kind (fra1.compute, par1.api…) or global.kind (global.api, global.console, global.billing)',
});

/** The Atlassian Statuspage component states, best first. */
export const componentStatuses = [
  'operational',
  'under_maintenance',
  'degraded_performance',
  'partial_outage',
  'major_outage',
] as const;
export type ComponentStatus = (typeof componentStatuses)[number];

export const incidentImpacts = ['none', 'minor', 'major', 'critical'] as const;
export type IncidentImpact = (typeof incidentImpacts)[number];

export const incidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

export const maintenanceStatuses = ['scheduled', 'in_progress', 'completed', 'cancelled'] as const;
export type MaintenanceStatus = (typeof maintenanceStatuses)[number];

/** One line of text: titles. */
const Title = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f\\u2028\\u2029]*$' });
/** Several lines: update messages (newlines and tabs allowed, other control characters not). */
const Message = Type.String({
  minLength: 1,
  maxLength: 5000,
  pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f\\u2028\\u2029]*$',
});
const Components = Type.Array(ComponentId, { minItems: 1, maxItems: 50, uniqueItems: true });

export const Component = Type.Object({
  id: ComponentId,
  name: Type.String(),
  /** The region code, or `global`. */
  group: Type.String(),
  kind: Type.String(),
  status: Literals(componentStatuses),
  /** What the probes and host states show, before incidents and maintenances are applied. */
  measured_status: Literals(componentStatuses),
  /** Why it is in its status (probe results, hosts down, an incident, a maintenance). */
  reason: Type.String(),
  updated_at: Timestamp,
  /** Uptime over the last 90 days in percent (null: no probe result yet). */
  uptime_90d_percent: Nullable(Type.Number()),
});
export type Component = Static<typeof Component>;

export const ComponentList = Type.Object({ components: Type.Array(Component) });
export type ComponentList = Static<typeof ComponentList>;

export const IncidentUpdate = Type.Object({
  id: Type.String({ description: 'inu_…' }),
  status: Literals(incidentStatuses),
  body: Type.String(),
  at: Timestamp,
});
export type IncidentUpdate = Static<typeof IncidentUpdate>;

export const Incident = Type.Object({
  id: Type.String({ description: 'inc_…' }),
  title: Type.String(),
  impact: Literals(incidentImpacts),
  status: Literals(incidentStatuses),
  components: Type.Array(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  resolved_at: NullableTimestamp,
  /** Newest first. */
  updates: Type.Array(IncidentUpdate),
});
export type Incident = Static<typeof Incident>;

export const IncidentEnvelope = Type.Object({ incident: Incident });
export type IncidentEnvelope = Static<typeof IncidentEnvelope>;
export const IncidentList = Type.Object({ incidents: Type.Array(Incident), next_cursor: NextCursor });
export type IncidentList = Static<typeof IncidentList>;

export const CreateIncidentBody = Type.Object(
  {
    title: Title,
    impact: Literals(incidentImpacts),
    components: Components,
    status: Type.Optional(Literals(['investigating', 'identified', 'monitoring'] as const)),
    /** The first update's message. */
    body: Message,
  },
  { additionalProperties: false },
);
export type CreateIncidentBody = Static<typeof CreateIncidentBody>;

export const UpdateIncidentBody = Type.Object(
  {
    status: Type.Optional(Literals(['investigating', 'identified', 'monitoring'] as const)),
    body: Message,
    impact: Type.Optional(Literals(incidentImpacts)),
    components: Type.Optional(Components),
    title: Type.Optional(Title),
  },
  { additionalProperties: false },
);
export type UpdateIncidentBody = Static<typeof UpdateIncidentBody>;

export const ResolveIncidentBody = Type.Object({ body: Type.Optional(Message) }, { additionalProperties: false });
export type ResolveIncidentBody = Static<typeof ResolveIncidentBody>;

export const ListIncidentsQuery = Type.Object(
  {
    state: Type.Optional(Literals(['active', 'resolved'] as const, { description: 'default: both' })),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListIncidentsQuery = Static<typeof ListIncidentsQuery>;

export const Maintenance = Type.Object({
  id: Type.String({ description: 'mnt_…' }),
  title: Type.String(),
  body: Type.String(),
  components: Type.Array(Type.String()),
  starts_at: Timestamp,
  ends_at: Timestamp,
  /** Derived from the window (and a cancellation): scheduled, in_progress, completed, cancelled. */
  status: Literals(maintenanceStatuses),
  created_at: Timestamp,
  updated_at: Timestamp,
  cancelled_at: NullableTimestamp,
});
export type Maintenance = Static<typeof Maintenance>;

export const MaintenanceEnvelope = Type.Object({ maintenance: Maintenance });
export type MaintenanceEnvelope = Static<typeof MaintenanceEnvelope>;
export const MaintenanceList = Type.Object({ maintenances: Type.Array(Maintenance), next_cursor: NextCursor });
export type MaintenanceList = Static<typeof MaintenanceList>;

export const CreateMaintenanceBody = Type.Object(
  {
    title: Title,
    body: Type.Optional(Message),
    components: Components,
    starts_at: Timestamp,
    ends_at: Timestamp,
  },
  { additionalProperties: false },
);
export type CreateMaintenanceBody = Static<typeof CreateMaintenanceBody>;

export const ListMaintenancesQuery = Type.Object(
  {
    state: Type.Optional(
      Literals(['upcoming', 'past'] as const, { description: 'upcoming: scheduled or in progress; past: the rest' }),
    ),
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
  },
  { additionalProperties: false },
);
export type ListMaintenancesQuery = Static<typeof ListMaintenancesQuery>;

/** One promise of the seed with the platform's own measurement beside it. */
export const PromiseMeasure = Type.Object({
  id: Type.String({ description: 'stable key, e.g. uptime.standard, rpo, no_overselling' }),
  /** The seed's words (French, as published). */
  claim: Type.String(),
  target: Nullable(
    Type.Object({
      value: Type.Number(),
      unit: Type.String(),
      comparison: Literals(['gte', 'lte', 'lt'] as const),
    }),
  ),
  measured: Nullable(Type.Number()),
  unit: Type.String(),
  window: Type.String({ description: 'what period the measured value covers' }),
  method: Type.String({ description: 'how it is measured' }),
  holds: Nullable(Type.Boolean({ description: 'null when nothing was measured' })),
  simulated: Type.Boolean({ description: 'the figure comes from the simulated fleet' }),
  /** Why there is no measured value. */
  reason: Nullable(Type.String()),
  /**
   * Per-region figures where the promise is measured per region (intra-DC latency, packet loss, CPU steal:
   * the region's worst host), or per region pair (intra-EU latency: `region` reads `a <-> b`).
   */
  regions: Type.Optional(
    Type.Array(
      Type.Object({
        region: Type.String(),
        measured: Nullable(Type.Number()),
        holds: Nullable(Type.Boolean()),
        simulated: Type.Boolean(),
        samples: Type.Integer({ description: 'probes (or, for CPU steal, reported seconds) the figure is made of' }),
        pair: Type.Optional(
          Type.Array(Type.String(), {
            minItems: 2,
            maxItems: 2,
            description: 'the two regions of an inter-region figure',
          }),
        ),
      }),
    ),
  ),
});
export type PromiseMeasure = Static<typeof PromiseMeasure>;

export const PromiseList = Type.Object({ generated_at: Timestamp, promises: Type.Array(PromiseMeasure) });
export type PromiseList = Static<typeof PromiseList>;

export const createIncident = defineOperation({
  operationId: 'createIncident',
  method: 'POST',
  path: '/v1/incidents',
  tags: ['status'],
  summary: 'Open an incident (operators)',
  description:
    'Affected components take at least the status of its impact (minor: degraded_performance, major: partial_outage, critical: major_outage) until it is resolved.',
  auth: 'operator',
  body: CreateIncidentBody,
  status: 201,
  response: IncidentEnvelope,
  resource: 'incident',
});

export const listIncidents = defineOperation({
  operationId: 'listIncidents',
  method: 'GET',
  path: '/v1/incidents',
  tags: ['status'],
  summary: 'List incidents, newest first (public)',
  auth: 'public',
  query: ListIncidentsQuery,
  status: 200,
  response: IncidentList,
});

export const getIncident = defineOperation({
  operationId: 'getIncident',
  method: 'GET',
  path: '/v1/incidents/:id',
  tags: ['status'],
  summary: 'Show an incident with its updates (public)',
  auth: 'public',
  params: IdParams,
  status: 200,
  response: IncidentEnvelope,
});

export const updateIncident = defineOperation({
  operationId: 'updateIncident',
  method: 'POST',
  path: '/v1/incidents/:id/updates',
  tags: ['status'],
  summary: 'Post an update to an incident: a message, and a new status, impact or components (operators)',
  auth: 'operator',
  params: IdParams,
  body: UpdateIncidentBody,
  status: 201,
  response: IncidentEnvelope,
  resource: 'incident',
});

export const resolveIncident = defineOperation({
  operationId: 'resolveIncident',
  method: 'POST',
  path: '/v1/incidents/:id/resolve',
  tags: ['status'],
  summary: 'Resolve an incident (operators)',
  auth: 'operator',
  params: IdParams,
  body: ResolveIncidentBody,
  status: 200,
  response: IncidentEnvelope,
  resource: 'incident',
});

export const createMaintenance = defineOperation({
  operationId: 'createMaintenance',
  method: 'POST',
  path: '/v1/maintenances',
  tags: ['status'],
  summary: 'Schedule a maintenance window (operators)',
  auth: 'operator',
  body: CreateMaintenanceBody,
  status: 201,
  response: MaintenanceEnvelope,
  resource: 'maintenance',
});

export const listMaintenances = defineOperation({
  operationId: 'listMaintenances',
  method: 'GET',
  path: '/v1/maintenances',
  tags: ['status'],
  summary: 'List maintenances, latest start first (public)',
  auth: 'public',
  query: ListMaintenancesQuery,
  status: 200,
  response: MaintenanceList,
});

export const getMaintenance = defineOperation({
  operationId: 'getMaintenance',
  method: 'GET',
  path: '/v1/maintenances/:id',
  tags: ['status'],
  summary: 'Show a maintenance (public)',
  auth: 'public',
  params: IdParams,
  status: 200,
  response: MaintenanceEnvelope,
});

export const cancelMaintenance = defineOperation({
  operationId: 'cancelMaintenance',
  method: 'POST',
  path: '/v1/maintenances/:id/cancel',
  tags: ['status'],
  summary: 'Cancel a maintenance that has not ended (operators)',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: MaintenanceEnvelope,
  resource: 'maintenance',
});

export const listComponents = defineOperation({
  operationId: 'listComponents',
  method: 'GET',
  path: '/v1/components',
  tags: ['status'],
  summary: 'Components and their current status (public)',
  auth: 'public',
  status: 200,
  response: ComponentList,
});

export const listPromises = defineOperation({
  operationId: 'listPromises',
  method: 'GET',
  path: '/v1/promises',
  tags: ['status'],
  summary: "The seed's promises beside the measured values (public)",
  auth: 'public',
  status: 200,
  response: PromiseList,
});

export const statusOperations = {
  createIncident,
  listIncidents,
  getIncident,
  updateIncident,
  resolveIncident,
  createMaintenance,
  listMaintenances,
  getMaintenance,
  cancelMaintenance,
  listComponents,
  listPromises,
};
