/**
 * The status domain's service: incidents and maintenances (operators write, everyone reads), the probe
 * pass (probes → signals → hysteresis → stored status, daily rollups, events), the components as shown
 * (incidents and maintenances applied), the page's snapshot and the promises.
 */
import { inTransaction, type Db, type Tx, type TxHooks } from '../db/index.ts';
import { conflict, invalid, newId, notFound, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireOperator, type Principal } from '../identity/index.ts';
import {
  globalComponentKinds,
  regionalComponentKinds,
  type BackupStats,
  type Component,
  type ComponentList,
  type ComponentStatus,
  type CreateIncidentBody,
  type CreateMaintenanceBody,
  type Incident,
  type IncidentList,
  type ListIncidentsQuery,
  type ListMaintenancesQuery,
  type Maintenance,
  type MaintenanceList,
  type PromiseList,
  type ResolveIncidentBody,
  type SlaOverview,
  type UpdateIncidentBody,
} from '../contract/index.ts';
import {
  apiSignal,
  applyHysteresis,
  canarySignal,
  checkSignal,
  dailyBars,
  dayOf,
  effectiveStatus,
  hostsSignal,
  maintenanceStatusAt,
  measure,
  pageIndicator,
  sumCounts,
  uptimePercent,
  type DayBar,
  type HostCensusEntry,
  type ProbeOutcome,
  type Signal,
} from './derive.ts';
import { buildPromises, percentileOf, type PromiseInputs } from './promises.ts';
import * as store from './store.ts';

const dayMs = 86_400_000;

/** A region as the status page shows it (planned regions have no components). */
export interface StatusRegion {
  code: string;
  name: string;
  /** operational | maintenance | planned */
  status: string;
}

/** What the probe pass asks of the rest of the platform (wired in src/app.ts; fakes in tests). */
export interface StatusProbes {
  /** A real HTTP request to the control plane's own /healthz (null: the API does not listen yet). */
  api(): Promise<ProbeOutcome | null>;
  /** A cheap read of billing's store. */
  billing(): Promise<ProbeOutcome>;
  /** Every host with its region, state, health and heartbeat age. */
  hosts(): Promise<Array<HostCensusEntry & { region: string }>>;
  /** Creates the smallest server in the region, waits for it to run, deletes it: create-to-running in latencyMs. */
  canary(region: string): Promise<ProbeOutcome>;
}

/** What the promises are computed from (other domains' figures). */
export interface PromiseSources {
  slaOverview(): Promise<SlaOverview>;
  backupStats(): Promise<Pick<BackupStats, 'regions' | 'promise'>>;
  placementViolations(): Promise<number>;
  /** Whether any host of the fleet is simulated. */
  simulatedFleet(): Promise<boolean>;
  /** Agents' probes of the other hosts of their region, per region (absent: not measured). */
  intraDc?(): Promise<NonNullable<PromiseInputs['intraDc']>>;
  /** Agents' probes of a few hosts of the other regions, per region pair (absent: not measured). */
  interRegion?(): Promise<NonNullable<PromiseInputs['interRegion']>>;
  /** Each host's CPU steal from its agent (absent: not measured). */
  cpuSteal?(): Promise<NonNullable<PromiseInputs['cpuSteal']>>;
}

export interface StatusOptions {
  /** Passes in a row a new measured status must be seen before the component changes (default 3). */
  hysteresisPasses: number;
  /** API answers slower than this are degraded (default 1000 ms). */
  apiSlowAfterMs: number;
  /** Canaries running later than this after create are degraded (default 5 min). */
  canarySlowAfterMs: number;
  /** How often each region gets a canary (default 15 min; 0: never). */
  canaryIntervalMs: number;
  /** A heartbeat older than this (host not yet marked down) is late: degraded (default 20 s). */
  heartbeatLateAfterMs: number;
  /** Raw probe results are kept this long (default 7 days). */
  rawRetentionDays: number;
  /** Daily rollups are kept this long (default 400 days: 90 days of bars and a year of figures). */
  rollupRetentionDays: number;
}

export const defaultStatusOptions: StatusOptions = {
  hysteresisPasses: 3,
  apiSlowAfterMs: 1000,
  canarySlowAfterMs: 5 * 60_000,
  canaryIntervalMs: 15 * 60_000,
  heartbeatLateAfterMs: 20_000,
  rawRetentionDays: 7,
  rollupRetentionDays: 400,
};

export interface StatusServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  regions(): Promise<StatusRegion[]>;
  probes: StatusProbes;
  promiseSources: PromiseSources;
  options?: Partial<StatusOptions>;
}

export interface ShownComponent extends Component {
  bars: DayBar[];
}

/** Everything the public page and the Statuspage documents show. */
export interface StatusSnapshot {
  generatedAt: string;
  indicator: 'none' | 'minor' | 'major' | 'critical' | 'maintenance';
  worst: ComponentStatus;
  groups: Array<{ id: string; name: string; components: ShownComponent[] }>;
  activeIncidents: Incident[];
  /** Resolved in the last 14 days, newest first. */
  recentIncidents: Incident[];
  /** Scheduled or in progress. */
  maintenances: Maintenance[];
  /** Regions an operator put in maintenance (catalog), with or without an announced window. */
  regionsInMaintenance: Array<{ code: string; name: string }>;
  promises: PromiseList;
}

const kindNames: Record<string, string> = {
  compute: 'Compute',
  network: 'Network',
  storage: 'Storage',
  api: 'API',
  console: 'Console',
  billing: 'Billing',
};

export type StatusService = ReturnType<typeof createStatusService>;

export function createStatusService(deps: StatusServiceDeps) {
  const { db, clock } = deps;
  const options: StatusOptions = { ...defaultStatusOptions, ...deps.options };
  let promiseCache: { atMs: number; value: PromiseList } | null = null;

  /** Every component id there is now, with its group (region code or `global`). */
  async function componentIndex() {
    const regions = (await deps.regions()).filter((r) => r.status !== 'planned');
    const list: Array<{ id: string; group: string; kind: string; name: string }> = [];
    for (const kind of globalComponentKinds)
      list.push({ id: `global.${kind}`, group: 'global', kind, name: kindNames[kind] });
    for (const region of regions)
      for (const kind of regionalComponentKinds)
        list.push({
          id: `${region.code}.${kind}`,
          group: region.code,
          kind,
          name: `${region.code.toUpperCase()} ${kindNames[kind]}`,
        });
    return { regions, list };
  }

  async function checkComponents(ids: readonly string[]) {
    const known = new Set((await componentIndex()).list.map((c) => c.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0)
      throw invalid(`unknown components: ${unknown.join(', ')}`, {
        reason: 'unknown_component',
        fields: [{ field: 'components', message: `unknown: ${unknown.join(', ')} (see GET /v1/components)` }],
      });
  }

  const notBlank = (field: string, value: string | undefined) => {
    if (value !== undefined && value.trim() === '')
      throw invalid(`${field} must not be blank`, {
        reason: 'blank',
        fields: [{ field, message: 'must not be blank' }],
      });
  };

  const incidentSubject = (id: string) => ({ projectId: null, resourceType: 'incident', resourceId: id });

  async function incidentsView(records: store.IncidentRecord[]): Promise<Incident[]> {
    const updates = await store.updatesOf(
      db,
      records.map((r) => r.id),
    );
    return records.map((r) => ({
      id: r.id,
      title: r.title,
      impact: r.impact,
      status: r.status,
      components: r.components,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
      resolved_at: r.resolvedAt,
      updates: (updates.get(r.id) ?? []).map((u) => ({ id: u.id, status: u.status, body: u.body, at: u.at })),
    }));
  }

  const maintenanceView = (m: store.MaintenanceRecord, nowMs: number): Maintenance => ({
    id: m.id,
    title: m.title,
    body: m.body,
    components: m.components,
    starts_at: m.startsAt,
    ends_at: m.endsAt,
    status: maintenanceStatusAt(m, nowMs),
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    cancelled_at: m.cancelledAt,
  });

  async function activeIncidentRecords() {
    return store.listIncidents(db, { state: 'active', cursor: null, limit: 1000 });
  }

  async function maintenancesInProgress(nowMs: number) {
    const upcoming = await store.listMaintenances(db, {
      cursor: null,
      limit: 1000,
      upcomingAt: new Date(nowMs).toISOString(),
    });
    return upcoming.filter((m) => maintenanceStatusAt(m, nowMs) === 'in_progress');
  }

  /** Components as shown now, with 90 daily bars each. */
  async function shownComponents(): Promise<{ components: ShownComponent[]; regions: StatusRegion[] }> {
    const nowMs = clock.nowMs();
    const { regions, list } = await componentIndex();
    const [stored, incidents, maintenances, rollups] = await Promise.all([
      store.components(db),
      activeIncidentRecords(),
      maintenancesInProgress(nowMs),
      store.rollupsSince(db, dayOf(nowMs - 89 * dayMs)),
    ]);
    const regionMaintenance = regions
      .filter((r) => r.status === 'maintenance')
      .map((r) => ({
        title: `region ${r.code} in maintenance`,
        components: regionalComponentKinds.map((k) => `${r.code}.${k}`),
      }));
    const components = list.map((c): ShownComponent => {
      const record = stored.get(c.id);
      const measured: Signal = record
        ? { status: record.status, reason: record.reason }
        : { status: 'operational', reason: 'no probe result yet' };
      const shown = effectiveStatus(c.id, measured, incidents, [...maintenances, ...regionMaintenance]);
      const days = rollups.get(c.id) ?? new Map();
      return {
        id: c.id,
        name: c.name,
        group: c.group,
        kind: c.kind,
        status: shown.status,
        measured_status: measured.status,
        reason: shown.reason,
        updated_at: record?.updatedAt ?? clock.nowIso(),
        uptime_90d_percent: uptimePercent(sumCounts([...days.values()])),
        bars: dailyBars(days, nowMs, 90),
      };
    });
    return { components, regions };
  }

  async function computePromises(): Promise<PromiseList> {
    const nowMs = clock.nowMs();
    const settle = async <T>(what: string, work: () => Promise<T>): Promise<T | null> => {
      try {
        return await work();
      } catch (error) {
        deps.log.warn({ err: String(error), source: what }, 'a promise source failed');
        return null;
      }
    };
    const sinceIso = new Date(nowMs - 365 * dayMs).toISOString();
    const intraDcSource = deps.promiseSources.intraDc?.bind(deps.promiseSources);
    const interRegionSource = deps.promiseSources.interRegion?.bind(deps.promiseSources);
    const cpuStealSource = deps.promiseSources.cpuSteal?.bind(deps.promiseSources);
    const [sla, backups, violations, simulated, incidents, rollups, api, intraDc, interRegion, cpuSteal] =
      await Promise.all([
        settle('sla', () => deps.promiseSources.slaOverview()),
        settle('backups', () => deps.promiseSources.backupStats()),
        settle('placement', () => deps.promiseSources.placementViolations()),
        settle('fleet', () => deps.promiseSources.simulatedFleet()),
        store.listIncidents(db, { cursor: null, limit: 10_000, since: sinceIso }),
        store.rollupsSince(db, dayOf(nowMs - 89 * dayMs)),
        store.probeOutcomesSince(db, 'api', nowMs - dayMs),
        intraDcSource ? settle('intra-dc', intraDcSource) : undefined,
        interRegionSource ? settle('inter-region', interRegionSource) : undefined,
        cpuStealSource ? settle('cpu-steal', cpuStealSource) : undefined,
      ]);
    const major = incidents.filter((i) => (i.impact === 'major' || i.impact === 'critical') && i.createdAt >= sinceIso);
    const minutes = major.reduce(
      (sum, i) =>
        sum + Math.max(0, (i.resolvedAt ? Date.parse(i.resolvedAt) : nowMs) - Date.parse(i.createdAt)) / 60_000,
      0,
    );
    const perComponent = [...rollups.values()]
      .map((days) => uptimePercent(sumCounts([...days.values()])))
      .filter((u): u is number => u !== null);
    const latencies = api.filter((a) => a.ok && a.latencyMs !== null).map((a) => a.latencyMs!);
    return {
      generated_at: clock.nowIso(),
      promises: buildPromises({
        sla,
        backups,
        placementViolations: violations,
        majorIncidents: { count: major.length, minutes: Math.round(minutes) },
        uptime90dPercent:
          perComponent.length === 0
            ? null
            : Math.floor((perComponent.reduce((a, b) => a + b, 0) / perComponent.length) * 1000) / 1000,
        apiLatencyP50Ms: percentileOf(latencies, 50),
        apiLatencyP99Ms: percentileOf(latencies, 99),
        simulatedFleet: simulated ?? true,
        intraDc,
        interRegion,
        cpuSteal,
      }),
    };
  }

  async function recordEvent(tx: Tx, hooks: TxHooks, input: Parameters<EventRecorder['record']>[2]): Promise<void> {
    await deps.events.record(tx, hooks, input);
  }

  return {
    options,

    // ---------------- incidents ----------------

    async createIncident(principal: Principal, body: CreateIncidentBody): Promise<{ incident: Incident }> {
      requireOperator(principal);
      notBlank('title', body.title);
      notBlank('body', body.body);
      await checkComponents(body.components);
      const now = clock.nowIso();
      const record: store.IncidentRecord = {
        id: newId('incident', clock.nowMs()),
        title: body.title.trim(),
        impact: body.impact,
        status: body.status ?? 'investigating',
        components: [...body.components],
        createdAt: now,
        updatedAt: now,
        resolvedAt: null,
      };
      await inTransaction(db, async (tx, hooks) => {
        await store.insertIncident(tx, record);
        await store.insertIncidentUpdate(tx, {
          id: newId('incidentUpdate', clock.nowMs()),
          incidentId: record.id,
          status: record.status,
          body: body.body,
          at: now,
        });
        await recordEvent(tx, hooks, {
          type: 'incident.created',
          ...incidentSubject(record.id),
          data: { title: record.title, impact: record.impact, status: record.status, components: record.components },
        });
      });
      return { incident: (await incidentsView([record]))[0] };
    },

    async updateIncident(principal: Principal, id: string, body: UpdateIncidentBody): Promise<{ incident: Incident }> {
      requireOperator(principal);
      notBlank('title', body.title);
      notBlank('body', body.body);
      if (body.components) await checkComponents(body.components);
      const record = await inTransaction(db, async (tx, hooks) => {
        const current = await store.findIncident(tx, id);
        if (!current) throw notFound('incident', id);
        if (current.resolvedAt !== null)
          throw conflict(`incident ${id} is resolved: open a new one`, { reason: 'incident_resolved' });
        const now = clock.nowIso();
        const next: store.IncidentRecord = {
          ...current,
          title: body.title?.trim() ?? current.title,
          impact: body.impact ?? current.impact,
          status: body.status ?? current.status,
          components: body.components ? [...body.components] : current.components,
          updatedAt: now,
        };
        await store.saveIncident(tx, next);
        await store.insertIncidentUpdate(tx, {
          id: newId('incidentUpdate', clock.nowMs()),
          incidentId: id,
          status: next.status,
          body: body.body,
          at: now,
        });
        await recordEvent(tx, hooks, {
          type: 'incident.updated',
          ...incidentSubject(id),
          data: {
            title: next.title,
            impact: next.impact,
            status: next.status,
            components: next.components,
            body: body.body,
          },
        });
        return next;
      });
      return { incident: (await incidentsView([record]))[0] };
    },

    async resolveIncident(
      principal: Principal,
      id: string,
      body: ResolveIncidentBody,
    ): Promise<{ incident: Incident }> {
      requireOperator(principal);
      notBlank('body', body.body);
      const record = await inTransaction(db, async (tx, hooks) => {
        const current = await store.findIncident(tx, id);
        if (!current) throw notFound('incident', id);
        if (current.resolvedAt !== null)
          throw conflict(`incident ${id} is already resolved`, { reason: 'incident_resolved' });
        const now = clock.nowIso();
        const next: store.IncidentRecord = { ...current, status: 'resolved', updatedAt: now, resolvedAt: now };
        await store.saveIncident(tx, next);
        await store.insertIncidentUpdate(tx, {
          id: newId('incidentUpdate', clock.nowMs()),
          incidentId: id,
          status: 'resolved',
          body: body.body ?? 'This incident has been resolved.',
          at: now,
        });
        await recordEvent(tx, hooks, {
          type: 'incident.resolved',
          ...incidentSubject(id),
          data: {
            title: next.title,
            impact: next.impact,
            duration_s: Math.max(0, Math.round((Date.parse(now) - Date.parse(current.createdAt)) / 1000)),
          },
        });
        return next;
      });
      return { incident: (await incidentsView([record]))[0] };
    },

    async getIncident(id: string): Promise<{ incident: Incident }> {
      const record = await store.findIncident(db, id);
      if (!record) throw notFound('incident', id);
      return { incident: (await incidentsView([record]))[0] };
    },

    async listIncidents(query: ListIncidentsQuery): Promise<IncidentList> {
      const limit = Math.min(Math.max(Number(query.limit ?? 50) || 50, 1), 100);
      const rows = await store.listIncidents(db, {
        state: query.state,
        cursor: query.cursor ?? null,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        incidents: await incidentsView(page),
        next_cursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },

    // ---------------- maintenances ----------------

    async createMaintenance(principal: Principal, body: CreateMaintenanceBody): Promise<{ maintenance: Maintenance }> {
      requireOperator(principal);
      notBlank('title', body.title);
      notBlank('body', body.body);
      await checkComponents(body.components);
      const startsMs = Date.parse(body.starts_at);
      const endsMs = Date.parse(body.ends_at);
      const nowMs = clock.nowMs();
      if (!(endsMs > startsMs))
        throw invalid('ends_at must be after starts_at', {
          reason: 'window_invalid',
          fields: [{ field: 'ends_at', message: 'must be after starts_at' }],
        });
      if (endsMs <= nowMs)
        throw invalid('the window has already ended', {
          reason: 'window_in_past',
          fields: [{ field: 'ends_at', message: 'must be in the future' }],
        });
      if (endsMs - startsMs > 30 * dayMs)
        throw invalid('a maintenance window lasts at most 30 days', {
          reason: 'window_too_long',
          fields: [{ field: 'ends_at', message: 'at most 30 days after starts_at' }],
        });
      const now = clock.nowIso();
      const record: store.MaintenanceRecord = {
        id: newId('maintenance', nowMs),
        title: body.title.trim(),
        body: body.body ?? '',
        components: [...body.components],
        startsAt: new Date(startsMs).toISOString(),
        endsAt: new Date(endsMs).toISOString(),
        announced: 'scheduled',
        cancelledAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await inTransaction(db, async (tx, hooks) => {
        await store.insertMaintenance(tx, record);
        await recordEvent(tx, hooks, {
          type: 'maintenance.scheduled',
          projectId: null,
          resourceType: 'maintenance',
          resourceId: record.id,
          data: {
            title: record.title,
            components: record.components,
            starts_at: record.startsAt,
            ends_at: record.endsAt,
          },
        });
      });
      return { maintenance: maintenanceView(record, nowMs) };
    },

    async cancelMaintenance(principal: Principal, id: string): Promise<{ maintenance: Maintenance }> {
      requireOperator(principal);
      const record = await inTransaction(db, async (tx, hooks) => {
        const current = await store.findMaintenance(tx, id);
        if (!current) throw notFound('maintenance', id);
        const status = maintenanceStatusAt(current, clock.nowMs());
        if (status === 'cancelled' || status === 'completed')
          throw conflict(`maintenance ${id} is ${status}`, { reason: 'maintenance_ended' });
        const now = clock.nowIso();
        const next = { ...current, cancelledAt: now, announced: 'cancelled', updatedAt: now };
        await store.saveMaintenance(tx, next);
        await recordEvent(tx, hooks, {
          type: 'maintenance.cancelled',
          projectId: null,
          resourceType: 'maintenance',
          resourceId: id,
          data: { title: current.title },
        });
        return next;
      });
      return { maintenance: maintenanceView(record, clock.nowMs()) };
    },

    /**
     * The maintenance windows that excuse a server's downtime in the SLA: not cancelled, on its region's
     * compute, network or storage, and announced (created) at least `noticeMs` before they started.
     */
    async announcedWindows(input: {
      region: string;
      fromMs: number;
      toMs: number;
      noticeMs: number;
    }): Promise<{ startMs: number; endMs: number }[]> {
      const affecting = new Set(['compute', 'network', 'storage'].map((kind) => `${input.region}.${kind}`));
      const found = await store.maintenancesOverlapping(
        db,
        new Date(input.fromMs).toISOString(),
        new Date(input.toMs).toISOString(),
      );
      return found
        .filter((m) => m.components.some((c) => affecting.has(c)))
        .filter((m) => Date.parse(m.createdAt) <= Date.parse(m.startsAt) - input.noticeMs)
        .map((m) => ({ startMs: Date.parse(m.startsAt), endMs: Date.parse(m.endsAt) }));
    },

    async getMaintenance(id: string): Promise<{ maintenance: Maintenance }> {
      const record = await store.findMaintenance(db, id);
      if (!record) throw notFound('maintenance', id);
      return { maintenance: maintenanceView(record, clock.nowMs()) };
    },

    async listMaintenances(query: ListMaintenancesQuery): Promise<MaintenanceList> {
      const limit = Math.min(Math.max(Number(query.limit ?? 50) || 50, 1), 100);
      const nowIso = clock.nowIso();
      const rows = await store.listMaintenances(db, {
        cursor: query.cursor ?? null,
        limit: limit + 1,
        upcomingAt: query.state === 'upcoming' ? nowIso : undefined,
        pastAt: query.state === 'past' ? nowIso : undefined,
      });
      const page = rows.slice(0, limit);
      return {
        maintenances: page.map((m) => maintenanceView(m, clock.nowMs())),
        next_cursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },

    // ---------------- components, page, promises ----------------

    async listComponents(): Promise<ComponentList> {
      const { components } = await shownComponents();
      return { components: components.map(({ bars: _bars, ...c }) => c) };
    },

    async promises(): Promise<PromiseList> {
      const nowMs = clock.nowMs();
      if (promiseCache && nowMs - promiseCache.atMs < 30_000) return promiseCache.value;
      const value = await computePromises();
      promiseCache = { atMs: nowMs, value };
      return value;
    },

    async snapshot(): Promise<StatusSnapshot> {
      const nowMs = clock.nowMs();
      const [{ components, regions }, active, recent, upcoming, promises] = await Promise.all([
        shownComponents(),
        activeIncidentRecords(),
        store.listIncidents(db, {
          state: 'resolved',
          cursor: null,
          limit: 50,
          since: new Date(nowMs - 14 * dayMs).toISOString(),
        }),
        store.listMaintenances(db, { cursor: null, limit: 100, upcomingAt: new Date(nowMs).toISOString() }),
        this.promises(),
      ]);
      const groups = [
        { id: 'global', name: 'Global', components: components.filter((c) => c.group === 'global') },
        ...regions.map((r) => ({
          id: r.code,
          name: `${r.code.toUpperCase()} · ${r.name}`,
          components: components.filter((c) => c.group === r.code),
        })),
      ];
      const activeIncidents = await incidentsView(active);
      const { indicator, worst } = pageIndicator(
        components.map((c) => c.status),
        activeIncidents.map((i) => i.impact),
      );
      return {
        generatedAt: clock.nowIso(),
        indicator,
        worst,
        groups,
        activeIncidents,
        recentIncidents: await incidentsView(recent),
        maintenances: upcoming
          .map((m) => maintenanceView(m, nowMs))
          .sort((a, b) => a.starts_at.localeCompare(b.starts_at)),
        regionsInMaintenance: regions
          .filter((r) => r.status === 'maintenance')
          .map((r) => ({ code: r.code, name: r.name })),
        promises,
      };
    },

    /** Incidents for the Atom feed and incidents.json: the newest 50. */
    async history(): Promise<Incident[]> {
      return incidentsView(await store.listIncidents(db, { cursor: null, limit: 50 }));
    },

    // ---------------- the probe pass ----------------

    /**
     * One pass: runs the probes (a canary per orderable region when due), stores their results, derives
     * each component's measured status through hysteresis, counts the shown status in the day's rollup,
     * announces maintenances that started or ended, and purges old results. Returns the shown statuses.
     */
    async probePass(): Promise<Record<string, ComponentStatus>> {
      const { regions, list } = await componentIndex();
      const startMs = clock.nowMs();
      const results: store.ProbeResultRecord[] = [];
      const result = (probe: string, target: string, outcome: ProbeOutcome, detail: Record<string, unknown> = {}) => {
        const atMs = clock.nowMs();
        results.push({
          id: newId('probe', atMs),
          probe,
          target,
          at: new Date(atMs).toISOString(),
          atMs,
          ok: outcome.ok,
          latencyMs: outcome.latencyMs === null ? null : Math.round(outcome.latencyMs),
          detail: { ...detail, ...(outcome.error ? { error: outcome.error } : {}) },
        });
        return outcome;
      };
      const safely = async (work: () => Promise<ProbeOutcome>): Promise<ProbeOutcome> => {
        try {
          return await work();
        } catch (error) {
          return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
        }
      };

      const apiOutcome = await deps.probes.api().catch((error: unknown) => ({
        ok: false,
        latencyMs: null,
        error: String(error),
      }));
      if (apiOutcome) result('api', 'global', apiOutcome);
      const billing = result('billing', 'global', await safely(() => deps.probes.billing()));
      const hosts = await deps.probes.hosts();
      const hostSignals = new Map<string, Signal>();
      for (const region of regions) {
        const inRegion = hosts.filter((h) => h.region === region.code);
        const signal = hostsSignal(inRegion, options.heartbeatLateAfterMs);
        hostSignals.set(region.code, signal);
        result(
          'hosts',
          region.code,
          { ok: signal.status === 'operational', latencyMs: null },
          {
            hosts: inRegion.length,
            down: inRegion.filter((h) => h.health !== 'up').length,
            status: signal.status,
          },
        );
      }
      // Canaries: orderable regions whose last canary is older than the interval, in parallel.
      const canaries = new Map<string, ProbeOutcome | null>();
      await Promise.all(
        regions.map(async (region) => {
          const last = await store.latestProbe(db, 'canary', region.code);
          const due =
            options.canaryIntervalMs > 0 &&
            region.status === 'operational' &&
            (!last || startMs - last.atMs >= options.canaryIntervalMs);
          if (due)
            canaries.set(
              region.code,
              result('canary', region.code, await safely(() => deps.probes.canary(region.code))),
            );
          else
            canaries.set(
              region.code,
              last && region.status === 'operational'
                ? { ok: last.ok, latencyMs: last.latencyMs, error: (last.detail.error as string | undefined) ?? null }
                : null,
            );
        }),
      );

      const nowMs = clock.nowMs();
      const nowIso = new Date(nowMs).toISOString();
      const api = apiSignal(apiOutcome, options.apiSlowAfterMs);
      const measuredOf = (id: string, group: string, kind: string): Signal => {
        if (group === 'global') {
          if (kind === 'billing') return measure([checkSignal('billing', billing)]);
          if (kind === 'console')
            return measure([api ? { ...api, reason: `served by the control plane: ${api.reason}` } : null]);
          return measure([api]);
        }
        const hostsOfRegion = hostSignals.get(group) ?? null;
        if (kind === 'api') return measure([api]);
        if (kind === 'compute')
          return measure([hostsOfRegion, canarySignal(canaries.get(group) ?? null, options.canarySlowAfterMs)]);
        return measure([hostsOfRegion]);
      };

      const [incidents, inProgress] = await Promise.all([activeIncidentRecords(), maintenancesInProgress(nowMs)]);
      const regionMaintenance = regions
        .filter((r) => r.status === 'maintenance')
        .map((r) => ({
          title: `region ${r.code} in maintenance`,
          components: regionalComponentKinds.map((k) => `${r.code}.${k}`),
        }));
      const shown: Record<string, ComponentStatus> = {};
      await inTransaction(db, async (tx, hooks) => {
        await store.insertProbeResults(tx, results);
        const stored = await store.components(tx);
        const day = dayOf(nowMs);
        for (const c of list) {
          const observed = measuredOf(c.id, c.group, c.kind);
          const previous = stored.get(c.id) ?? null;
          const { next, changed } = applyHysteresis(
            previous && {
              status: previous.status,
              candidate: previous.candidate,
              candidateCount: previous.candidateCount,
            },
            observed.status,
            options.hysteresisPasses,
          );
          const reason = next.status === observed.status ? observed.reason : (previous?.reason ?? observed.reason);
          await store.saveComponent(
            tx,
            {
              id: c.id,
              status: next.status,
              reason,
              candidate: next.candidate,
              candidateCount: next.candidateCount,
              changedAt: changed || !previous ? nowIso : previous.changedAt,
              updatedAt: nowIso,
            },
            previous !== null,
          );
          if (changed && previous)
            await recordEvent(tx, hooks, {
              type: 'component.status_changed',
              projectId: null,
              resourceType: 'component',
              resourceId: c.id,
              data: { from: previous.status, to: next.status, reason },
            });
          const effective = effectiveStatus(c.id, { status: next.status, reason }, incidents, [
            ...inProgress,
            ...regionMaintenance,
          ]);
          shown[c.id] = effective.status;
          await store.addRollupSample(tx, c.id, day, effective.status);
        }
        // Maintenances whose window started or ended since the last pass are announced.
        for (const m of await store.maintenancesToAnnounce(tx)) {
          const status = maintenanceStatusAt(m, nowMs);
          if (status === m.announced) continue;
          await store.saveMaintenance(tx, { ...m, announced: status, updatedAt: nowIso });
          if (status === 'in_progress' || status === 'completed')
            await recordEvent(tx, hooks, {
              type: status === 'in_progress' ? 'maintenance.started' : 'maintenance.completed',
              projectId: null,
              resourceType: 'maintenance',
              resourceId: m.id,
              data: { title: m.title },
            });
        }
        await store.purgeProbeResults(tx, nowMs - options.rawRetentionDays * dayMs);
        await store.purgeRollups(tx, dayOf(nowMs - options.rollupRetentionDays * dayMs));
      });
      return shown;
    },

    /** The internal project canaries run in (made once, remembered in the domain's settings). */
    async canaryProject(create: () => Promise<string>): Promise<string> {
      const known = await store.setting(db, 'canary_project_id');
      if (known) return known;
      const projectId = await create();
      await store.setSetting(db, 'canary_project_id', projectId);
      return projectId;
    },
  };
}
