/**
 * What billing needs from domains being built beside it, as small interfaces (ports) with null
 * implementations wired today; the real ones are wired in src/app.ts when those domains land:
 * - traffic (src/traffic): egress bytes and, for projects on 95th-percentile billing, the p95 in Mbps;
 * - DDoS (src/ddos): the project's DDoS protection tier;
 * - maintenance (status page): windows announced at least `noticeDays` ahead, cut out of SLA downtime.
 */
import type { TrafficUsage } from './rating.ts';
import type { Window } from './sla.ts';

export interface TrafficPort {
  /** The project's traffic of the month (so far), or null when nothing is known. */
  monthlyTrafficUsage(projectId: string, month: string): Promise<TrafficUsage | null>;
}

export interface DdosPort {
  /** `standard` | `business` | `enterprise`, or null when the project has none (standard is included). */
  ddosTierOf(projectId: string): Promise<string | null>;
}

export interface MaintenancePort {
  /** Maintenance windows of a server (its host, its region) announced ≥ the notice period ahead. */
  announcedWindows(input: {
    serverId: string;
    hostId: string | null;
    region: string;
    fromMs: number;
    toMs: number;
  }): Promise<Window[]>;
}

export interface BillingPorts {
  traffic: TrafficPort;
  ddos: DdosPort;
  maintenance: MaintenancePort;
}

export const nullBillingPorts: BillingPorts = {
  traffic: { monthlyTrafficUsage: async () => null },
  ddos: { ddosTierOf: async () => null },
  maintenance: { announcedWindows: async () => [] },
};
