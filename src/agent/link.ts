import type { ObservedInstance, DesiredInstance } from '../compute/index.ts';
import type { HostTopology } from '../inventory/index.ts';

/** How an agent talks to the control plane: in-process for the simulated fleet, HTTP for real hosts. */
export interface ControlPlaneLink {
  desired(hostId: string): Promise<DesiredInstance[]>;
  report(hostId: string, observed: ObservedInstance[], options: { full: boolean }): Promise<void>;
  heartbeat(hostId: string): Promise<void>;
}

export interface HostRegistration {
  name: string;
  region: string;
  driver: string;
  cpuModel: string;
  topology: HostTopology;
  agentVersion: string;
  address: string | null;
  agentKey?: string | null;
}

export interface Registered {
  hostId: string;
  created: boolean;
  /** The region's address pool: the host bridge carries its gateway. */
  ipv4Pool: string;
}
