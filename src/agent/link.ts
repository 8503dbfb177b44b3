import type {
  ObservedInstance,
  DesiredInstance,
  DesiredVolume,
  ObservedVolume,
  DesiredHostNetwork,
  ObservedHostNetwork,
  TelemetryAnswer,
  TelemetryBody,
  HostTrafficAnswer,
  HostTrafficBody,
} from '../contract/index.ts';
import type { HostTopology } from '../inventory/index.ts';

/** How an agent talks to the control plane: in-process for the simulated fleet, mutual TLS for real hosts. */
export interface ControlPlaneLink {
  desired(hostId: string): Promise<DesiredInstance[]>;
  report(hostId: string, observed: ObservedInstance[], options: { full: boolean }): Promise<void>;
  /** With `images` when the host's images changed since the last heartbeat the control plane took. */
  heartbeat(hostId: string, report?: { images?: string[] }): Promise<void>;
  /** The volumes this host should have (absent: a control plane without volumes). */
  desiredVolumes?(hostId: string): Promise<DesiredVolume[]>;
  /** Every volume on this host, as observed. */
  reportVolumes?(hostId: string, volumes: ObservedVolume[]): Promise<void>;
  /** The private segments and public routes this host should have (absent: no networks). */
  desiredNetwork?(hostId: string): Promise<DesiredHostNetwork>;
  /** What the host's data plane has in place. */
  reportNetwork?(hostId: string, observed: ObservedHostNetwork): Promise<void>;
  /** Peer probes and server usage; answers the peers to probe (absent: a control plane without telemetry). */
  telemetry?(hostId: string, body: TelemetryBody): Promise<TelemetryAnswer>;
  /** A qemu host's traffic samples, flows and DDoS meter observations; answers the mitigation to apply. */
  traffic?(hostId: string, body: HostTrafficBody): Promise<HostTrafficAnswer>;
}

export interface HostRegistration {
  name: string;
  region: string;
  driver: string;
  cpuModel: string;
  topology: HostTopology;
  agentVersion: string;
  /** The host API's URL (https://…), or null before it listens. */
  address: string | null;
  /** The image slugs the host can boot (its image store); null: every image of the catalog. */
  images?: string[] | null;
}

export interface Registered {
  hostId: string;
  created: boolean;
  /** The region's address pool: the host bridge carries its gateway. */
  ipv4Pool: string;
}
