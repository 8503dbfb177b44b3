import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../app.ts';
import { vmcloudVersion } from '../app.ts';
import { createAgent, createInProcessLink, type Agent } from '../agent/index.ts';
import type { QemuDriver } from '../compute/drivers/qemu/index.ts';
import type { ImageStore } from '../images/index.ts';
import { createHostApi, newAgentKey } from '../agent/host-api/index.ts';

export interface LocalHostOptions {
  region: string;
  dataDir: string;
  imageDir: string;
  network: boolean;
  reservedCoresPerNode: number;
}

/**
 * `vmcloud serve --local-host qemu`: the machine running the control plane is also the only hypervisor host
 * of a region (a one-machine install). Same agent loop and driver as `vmcloud agent`, linked in-process.
 */
export async function startLocalQemuHost(cp: ControlPlane, options: LocalHostOptions): Promise<{ hostId: string; driver: QemuDriver; imageStore: ImageStore; agent: Agent; stop(): Promise<void> }> {
  const qemu = await import('./qemu-host.ts');
  const stateDir = join(options.dataDir, 'local-host');
  const host = await qemu.fingerprintQemuHost({ stateDir, imageDir: options.imageDir, log: cp.log, reservedCoresPerNode: options.reservedCoresPerNode });
  // The same host API a remote agent runs, on loopback: console, snapshots and export need no special case.
  let featureDriver: QemuDriver | null = null;
  const agentKey = newAgentKey();
  const hostApi = createHostApi({ driver: () => featureDriver, imageStore: host.imageStore, agentKey, log: cp.log, scratchDir: stateDir });
  const address = await hostApi.listen({ host: '127.0.0.1', port: 0 });
  const { hostId, ipv4Pool } = await cp.services.inventory.registerHost({
    name: `${hostname()}-local`,
    region: options.region,
    driver: 'qemu',
    cpuModel: host.cpuModel,
    topology: host.topology,
    agentVersion: vmcloudVersion,
    address,
    agentKey,
  });
  await cp.services.scheduler.refreshHost(hostId);
  let agent: Agent | null = null;
  const driver = qemu.createQemuHostDriver({ stateDir, imageStore: host.imageStore, log: cp.log, ipv4Pool: options.network ? ipv4Pool : null, onChange: () => agent?.poke() });
  featureDriver = driver;
  agent = createAgent({
    hostId,
    link: createInProcessLink({ hostSync: cp.services.hostSync, inventory: cp.services.inventory }),
    driver,
    log: cp.log,
    resyncIntervalMs: 5000,
    heartbeatIntervalMs: 5000,
    gracefulStopTimeoutMs: 30_000,
  });
  agent.start();
  const started = agent;
  return {
    hostId,
    driver,
    imageStore: host.imageStore,
    agent: started,
    async stop() {
      await started.stop();
      await hostApi.close();
      await driver.close();
    },
  };
}
