/**
 * The machine-readable status in the shape of the Atlassian Statuspage v2 API (`/api/v2/summary.json`…),
 * which monitoring tools and status aggregators read. Component ids are VMCloud's (`fra1.compute`); each
 * region (and `global`) is a component group.
 */
import type { Incident, Maintenance } from '../contract/index.ts';
import type { StatusSnapshot } from './service.ts';

const pageId = 'vmcloud';

const descriptions = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
  maintenance: 'Service Under Maintenance',
} as const;

export function statuspageDocuments(snapshot: StatusSnapshot, history: readonly Incident[], baseUrl: string) {
  const page = {
    id: pageId,
    name: 'VMCloud',
    url: `${baseUrl}/status`,
    time_zone: 'Etc/UTC',
    updated_at: snapshot.generatedAt,
  };
  const all = snapshot.groups.flatMap((g) => g.components);
  const byId = new Map(all.map((c) => [c.id, c]));
  let position = 0;
  const components = snapshot.groups.flatMap((group) => {
    const groupRow = {
      id: group.id,
      name: group.name,
      status: worstStatus(group.components.map((c) => c.status)),
      created_at: snapshot.generatedAt,
      updated_at: snapshot.generatedAt,
      position: ++position,
      description: null,
      showcase: false,
      start_date: null,
      group_id: null,
      page_id: pageId,
      group: true,
      only_show_if_degraded: false,
      components: group.components.map((c) => c.id),
    };
    const rows = group.components.map((c) => ({
      id: c.id,
      name: c.name,
      status: c.status,
      created_at: c.updated_at,
      updated_at: c.updated_at,
      position: ++position,
      description: c.reason,
      showcase: true,
      start_date: null,
      group_id: group.id,
      page_id: pageId,
      group: false,
      only_show_if_degraded: false,
    }));
    return [groupRow, ...rows];
  });
  const componentRef = (id: string) => {
    const c = byId.get(id);
    return {
      id,
      name: c?.name ?? id,
      status: c?.status ?? 'operational',
      created_at: c?.updated_at ?? snapshot.generatedAt,
      updated_at: c?.updated_at ?? snapshot.generatedAt,
      position: 0,
      description: null,
      showcase: true,
      start_date: null,
      group_id: c?.group ?? null,
      page_id: pageId,
      group: false,
      only_show_if_degraded: false,
    };
  };
  const incident = (i: Incident) => ({
    id: i.id,
    name: i.title,
    status: i.status,
    created_at: i.created_at,
    updated_at: i.updated_at,
    monitoring_at: i.updates.find((u) => u.status === 'monitoring')?.at ?? null,
    resolved_at: i.resolved_at,
    impact: i.impact,
    shortlink: `${baseUrl}/v1/incidents/${i.id}`,
    started_at: i.created_at,
    page_id: pageId,
    incident_updates: i.updates.map((u) => ({
      id: u.id,
      status: u.status,
      body: u.body,
      incident_id: i.id,
      created_at: u.at,
      updated_at: u.at,
      display_at: u.at,
      affected_components: null,
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
    })),
    components: i.components.map(componentRef),
  });
  const maintenance = (m: Maintenance) => ({
    id: m.id,
    name: m.title,
    status: m.status === 'cancelled' ? 'completed' : m.status,
    created_at: m.created_at,
    updated_at: m.updated_at,
    monitoring_at: null,
    resolved_at: m.status === 'completed' ? m.ends_at : (m.cancelled_at ?? null),
    impact: 'maintenance',
    shortlink: `${baseUrl}/v1/maintenances/${m.id}`,
    started_at: m.starts_at,
    page_id: pageId,
    scheduled_for: m.starts_at,
    scheduled_until: m.ends_at,
    incident_updates: m.body
      ? [
          {
            id: `${m.id}-announcement`,
            status: 'scheduled',
            body: m.body,
            incident_id: m.id,
            created_at: m.created_at,
            updated_at: m.created_at,
            display_at: m.created_at,
            affected_components: null,
            deliver_notifications: true,
            custom_tweet: null,
            tweet_id: null,
          },
        ]
      : [],
    components: m.components.map(componentRef),
  });
  const status = { indicator: snapshot.indicator, description: descriptions[snapshot.indicator] };
  const incidents = snapshot.activeIncidents.map(incident);
  const scheduled = snapshot.maintenances.map(maintenance);
  return {
    summary: { page, components, incidents, scheduled_maintenances: scheduled, status },
    status: { page, status },
    components: { page, components },
    incidents: { page, incidents: history.map(incident) },
    unresolved: { page, incidents },
    scheduledMaintenances: { page, scheduled_maintenances: scheduled },
  };
}

const order = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'];
function worstStatus(statuses: readonly string[]): string {
  return statuses.reduce((worst, s) => (order.indexOf(s) > order.indexOf(worst) ? s : worst), 'operational');
}
