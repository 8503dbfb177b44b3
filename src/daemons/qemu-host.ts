import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { invalid, type Logger } from '../core/index.ts';
import type { InstanceSpec } from '../compute/index.ts';
import { defaultImages } from '../catalog/index.ts';
import { readHostFingerprint, diskGiBFree } from '../agent/fingerprint/index.ts';
import { createImageStore, type ImageStore } from '../images/index.ts';
import { createQemuDriver, type QemuDriver } from '../compute/drivers/qemu/index.ts';
import {
  createHostNetwork,
  createInstanceNetwork,
  createFirewallDataPlane,
  createVfPreparer,
  createSegmentDataPlane,
  gatewayCidr,
  parseCidr,
  withFirewalls,
  withIsolationSources,
  type RoutedSourcesSink,
} from '../network/index.ts';
import type { HostTopology } from '../inventory/index.ts';

/** What a QEMU host is made of: the topology read from /sys, its image store. */
export async function fingerprintQemuHost(options: {
  stateDir: string;
  imageDir: string;
  log: Logger;
  reservedCoresPerNode: number;
}): Promise<{ topology: HostTopology; cpuModel: string; imageStore: ImageStore }> {
  mkdirSync(options.stateDir, { recursive: true });
  mkdirSync(options.imageDir, { recursive: true });
  const { topology, cpuModel } = await readHostFingerprint({
    diskGiB: await diskGiBFree(options.stateDir),
    reservedCoresPerNode: options.reservedCoresPerNode,
  });
  const imageStore = createImageStore({
    dir: options.imageDir,
    catalogSlugs: defaultImages.map((i) => i.slug),
    log: options.log,
  });
  return { topology, cpuModel, imageStore };
}

export interface QemuHostDriverOptions {
  stateDir: string;
  imageStore: ImageStore;
  log: Logger;
  /** The region's address pool; with it, every server gets a tap on the host bridge `vmcbr0` and tenant isolation. */
  ipv4Pool: string | null;
  onChange?: (serverId: string) => void;
  /** Receives the instance network (owner of the isolation ruleset) once made, for the data plane's routed sources. */
  onInstanceNetwork?: (network: RoutedSourcesSink) => void;
  /**
   * SR-IOV: set each server's VFs up (MAC, VLAN, vfio-pci) before QEMU starts, on this VLAN (0: untagged).
   * Null or absent: VFs are left as they are (hosts without SR-IOV NICs).
   */
  sriov?: { vlan: number } | null;
}

/** The QEMU driver of this host, with host networking when a pool is given (needs root, iproute2, nftables). */
export function createQemuHostDriver(options: QemuHostDriverOptions): QemuDriver {
  let network;
  if (options.ipv4Pool) {
    const pool = parseCidr(options.ipv4Pool);
    if (!pool) throw invalid(`the region's IPv4 pool ${options.ipv4Pool} is not a CIDR`);
    network = createInstanceNetwork<InstanceSpec>({
      host: createHostNetwork({ bridge: 'vmcbr0', gatewayCidr: gatewayCidr(pool), log: options.log }),
      stateFile: join(options.stateDir, 'network-ports.json'),
      tenantOf: (server) => server.projectId ?? 'default',
    });
    options.onInstanceNetwork?.(network);
  }
  return createQemuDriver({
    stateDir: options.stateDir,
    imageStore: options.imageStore,
    log: options.log,
    network,
    vfs: options.sriov ? createVfPreparer({ vlan: options.sriov.vlan, log: options.log }) : undefined,
    onChange: options.onChange,
  });
}

/**
 * The network data plane of this host: VXLAN segments of private networks, floating and primary IP routes,
 * the servers' firewalls (nftables chains on their taps), and the routed addresses handed to the tenant
 * isolation ruleset (`isolation()`: the instance network, once the driver is made).
 */
export function createHostDataPlane(options: {
  publicBridge: string;
  uplink: string | null;
  log: Logger;
  isolation?: () => RoutedSourcesSink | null;
}) {
  const planes = withFirewalls(
    createSegmentDataPlane(options),
    createFirewallDataPlane({ log: options.log }),
    options.log,
  );
  return options.isolation ? withIsolationSources(planes, options.isolation, options.log) : planes;
}
