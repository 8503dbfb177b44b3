import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { invalid, type Logger } from '../core/index.ts';
import type { InstanceSpec } from '../compute/index.ts';
import { defaultImages } from '../catalog/index.ts';
import { readHostFingerprint, diskGiBFree } from '../agent/fingerprint/index.ts';
import { createImageStore, type ImageStore } from '../images/index.ts';
import { createQemuDriver, type QemuDriver } from '../compute/drivers/qemu/index.ts';
import { createHostNetwork, createInstanceNetwork, gatewayCidr, parseCidr } from '../network/index.ts';
import type { HostTopology } from '../inventory/index.ts';

/** What a QEMU host is made of: the topology read from /sys, its image store. */
export async function fingerprintQemuHost(options: { stateDir: string; imageDir: string; log: Logger; reservedCoresPerNode: number }): Promise<{ topology: HostTopology; cpuModel: string; imageStore: ImageStore }> {
  mkdirSync(options.stateDir, { recursive: true });
  mkdirSync(options.imageDir, { recursive: true });
  const { topology, cpuModel } = await readHostFingerprint({ diskGiB: await diskGiBFree(options.stateDir), reservedCoresPerNode: options.reservedCoresPerNode });
  const imageStore = createImageStore({ dir: options.imageDir, catalogSlugs: defaultImages.map((i) => i.slug), log: options.log });
  return { topology, cpuModel, imageStore };
}

export interface QemuHostDriverOptions {
  stateDir: string;
  imageStore: ImageStore;
  log: Logger;
  /** The region's address pool; with it, every server gets a tap on the host bridge `vmcbr0` and tenant isolation. */
  ipv4Pool: string | null;
  onChange?: (serverId: string) => void;
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
  }
  return createQemuDriver({ stateDir: options.stateDir, imageStore: options.imageStore, log: options.log, network, onChange: options.onChange });
}
