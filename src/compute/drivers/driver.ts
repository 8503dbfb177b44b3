/**
 * What a hypervisor driver does for the host agent. The agent reads the desired state of its servers and
 * converges through a driver; `sim` simulates it with realistic delays, `qemu` runs real QEMU processes.
 * Every method is idempotent: calling it again for a state already reached does nothing.
 */
export interface InstanceSpec {
  serverId: string;
  /** Guest hostname. */
  hostname: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  /** Image slug (catalog or custom image) the disk is created from. */
  image: string;
  /** Host thread id each vCPU is pinned to, vCPU i → threads[i]. */
  threads: number[];
  /** Host NUMA node(s) the guest memory is bound to. */
  numaNodes: number[];
  /** GPU PCI addresses passed through (vfio-pci). */
  gpus: string[];
  /** SR-IOV VF PCI addresses passed through. */
  vfs: string[];
  sshKeys: string[];
  userData: string | null;
  /** IPv4 address with prefix, e.g. 10.20.0.5/24, or null when the host network assigns none. */
  ipv4: string | null;
  /** The owning project: host networking isolates tenants from each other. */
  projectId?: string;
}

export type ObservedPower = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

export interface ObservedInstance {
  serverId: string;
  power: ObservedPower;
  /** The highest reboot generation this instance has carried out (see the server's reboot_generation). */
  rebootGeneration: number;
  /** Why the instance is crashed or failed to converge, for operators. */
  detail?: string;
}

export interface StopOptions {
  /** How long a guest may take to shut down after ACPI power-off before it is forced off. */
  gracefulTimeoutMs: number;
}

export interface Driver {
  readonly name: string;
  /** Every instance this host knows of, running or not. */
  list(): Promise<ObservedInstance[]>;
  /** Creates the instance (disk, seed) if missing and boots it. */
  start(spec: InstanceSpec, rebootGeneration: number): Promise<void>;
  /** ACPI power-off, then forced off after `gracefulTimeoutMs`. */
  stop(serverId: string, options: StopOptions): Promise<void>;
  /** Resets a running instance and records `rebootGeneration` as carried out. */
  reboot(serverId: string, rebootGeneration: number): Promise<void>;
  /** Stops the instance if needed and removes it: process and disk gone. */
  destroy(serverId: string): Promise<void>;
  /** Releases resources held by the driver itself (sockets, timers); instances keep running. */
  close(): Promise<void>;
}
