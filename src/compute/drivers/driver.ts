/**
 * What a hypervisor driver does for the host agent. The agent reads the desired state of its servers and
 * converges through a driver; `sim` simulates it with realistic delays, `qemu` runs real QEMU processes.
 * Every method is idempotent: calling it again for a state already reached does nothing.
 */
/**
 * What an instance should be (`InstanceSpec`) and what a host observes (`ObservedInstance`) are the agent
 * protocol's wire types (src/contract/agent.ts), defined once there.
 *
 * Observed `failed` is never a driver's observation: the agent reports it for a server whose driver
 * operation failed `maxAttempts` times in a row (an image missing on the host, a disk that cannot be
 * created), with the driver's message in `detail`. The control plane shows the server `error`.
 */
export type { InstanceSpec, ObservedInstance, ObservedPower, ObservedVolume } from '../../contract/agent.ts';
import type { DesiredVolumeSource, InstanceSpec, ObservedInstance } from '../../contract/agent.ts';

/** A volume as a driver sees it: its size and the instance it is attached to. */
export interface DriverVolume {
  volumeId: string;
  sizeGiB: number;
  serverId: string | null;
}

/**
 * Volumes on this host (the volume pool). An attachment belongs to the instance: hot-plugged into a
 * running guest, and given to a stopped one at its next start. Idempotent like the instance methods.
 */
export interface VolumeDriver {
  listVolumes(): Promise<DriverVolume[]>;
  /**
   * Creates a volume of `sizeGiB` if missing: empty, or filled from `source` (an internal snapshot of a
   * server disk on this host, or a backup's restic snapshot), all or nothing: a failure leaves no volume.
   */
  createVolume(volumeId: string, sizeGiB: number, source?: DesiredVolumeSource): Promise<void>;
  /** Grows the volume to `sizeGiB` (online when attached to a running instance); a smaller size does nothing. */
  resizeVolume(volumeId: string, sizeGiB: number): Promise<void>;
  /** Attaches to an instance of this host: hot-plug when running; rejects for an unknown instance or another attachment. */
  attachVolume(volumeId: string, serverId: string): Promise<void>;
  /** Detaches: on a running guest, unplugs and waits until the guest released the device. */
  detachVolume(volumeId: string): Promise<void>;
  /** Removes the volume and its data; rejects while it is attached. */
  deleteVolume(volumeId: string): Promise<void>;
  /**
   * The volumes' encryption keys from the desired state (the QEMU driver keeps them in memory and refuses
   * to create a volume without one; drivers that store nothing real ignore them).
   */
  learnVolumeKeys?(keys: { volumeId: string; key: string }[]): void;
}

/** A NIC of a server on a private network: the host tap of its port and its MAC. */
export interface PrivateNicSpec {
  networkId: string;
  tap: string;
  mac: string;
  /** What the guest configures on it (the seed's network-config at boot): `10.20.0.2/24`. */
  address?: string;
  /** The network's MTU (VXLAN: 1450). */
  mtu?: number;
  /** The network's static routes. */
  routes?: { destination: string; gateway: string }[];
}

export interface StopOptions {
  /** How long a guest may take to shut down after ACPI power-off before it is forced off. */
  gracefulTimeoutMs: number;
}

/**
 * What an instance has used, as its host measures it: counters since the instance's process started
 * (CPU time, disk and network bytes), and the memory it holds now. The server's point of view: `receive`
 * is what the guest received.
 */
export interface InstanceUsage {
  serverId: string;
  cpuSeconds: number;
  memoryBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  networkReceiveBytes: number;
  networkTransmitBytes: number;
}

export interface Driver extends VolumeDriver {
  readonly name: string;
  /** Every instance this host knows of, running or not. */
  list(): Promise<ObservedInstance[]>;
  /** Creates the instance (disk, seed) if missing and boots it. */
  start(spec: InstanceSpec, rebootGeneration: number): Promise<void>;
  /** ACPI power-off, then forced off after `gracefulTimeoutMs`. */
  stop(serverId: string, options: StopOptions): Promise<void>;
  /**
   * Resets a running instance and records `rebootGeneration` as carried out. With `spec`, a reboot whose
   * spec changes what the instance boots (a rebuilt disk: newer `diskGeneration`; another ISO) is a cold
   * restart that applies it: power off, the disk recreated from the image if rebuilt, booted again.
   */
  reboot(serverId: string, rebootGeneration: number, spec?: InstanceSpec): Promise<void>;
  /**
   * The specs the control plane wants on this host, at every reconcile pass: drivers that encrypt disks
   * keep the keys in memory from here (an agent restarted under running instances needs them for
   * snapshots and exports without starting anything).
   */
  learn?(specs: InstanceSpec[]): void;
  /** Stops the instance if needed and removes it: process and disk gone; its volumes are detached (kept). */
  destroy(serverId: string): Promise<void>;
  /** Releases resources held by the driver itself (sockets, timers); instances keep running. */
  close(): Promise<void>;
  /**
   * The private-network NICs an instance should have (hot-plugged or unplugged until a running one has
   * exactly these); a driver without it leaves NICs to the data plane (simulated hosts). A stopped or not yet
   * created instance gets them at its next start (QEMU: plugged at boot and in the seed's network-config).
   */
  syncPrivateNics?(serverId: string, nics: PrivateNicSpec[]): Promise<void>;
  /** What the running instances use now (the agent's `/metrics`); a driver without it exports none. */
  usage?(): Promise<InstanceUsage[]>;
}
