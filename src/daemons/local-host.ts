import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../app.ts';
import { vmcloudVersion } from '../app.ts';
import { createAgent, createInProcessLink, type Agent } from '../agent/index.ts';
import type { QemuDriver } from '../compute/drivers/qemu/index.ts';
import type { ImageStore } from '../images/index.ts';
import { createHostApi } from '../agent/host-api/index.ts';
import { needsRenewal } from '../pki/index.ts';

export interface LocalHostOptions {
  region: string;
  dataDir: string;
  imageDir: string;
  network: boolean;
  reservedCoresPerNode: number;
  /** The host's name (default `<hostname>-local`); two local hosts (two regions on one machine) need two. */
  name?: string;
}

/**
 * `vmcloud serve --local-host qemu`: the machine running the control plane is also the only hypervisor host
 * of a region (a one-machine install). Same agent loop and driver as `vmcloud agent`, linked in-process.
 * Its host API is the same as a remote agent's, over the same mutual TLS: a certificate for its host id
 * issued directly by the CA (no join: the control plane trusts itself), renewed on a timer.
 */
export async function startLocalQemuHost(
  cp: ControlPlane,
  options: LocalHostOptions,
): Promise<{ hostId: string; driver: QemuDriver; imageStore: ImageStore; agent: Agent; stop(): Promise<void> }> {
  const qemu = await import('./qemu-host.ts');
  const stateDir = join(options.dataDir, 'local-host');
  const host = await qemu.fingerprintQemuHost({
    stateDir,
    imageDir: options.imageDir,
    log: cp.log,
    reservedCoresPerNode: options.reservedCoresPerNode,
  });
  const registration = {
    name: options.name ?? `${hostname()}-local`,
    region: options.region,
    driver: 'qemu' as const,
    cpuModel: host.cpuModel,
    topology: host.topology,
    agentVersion: vmcloudVersion,
    images: (await host.imageStore.list()).map((image) => image.slug),
  };
  // Registered first without an address: its certificate names the host id.
  const { hostId } = await cp.services.inventory.registerHost({ kind: 'local' }, { ...registration, address: null });
  // The same host API a remote agent runs, on loopback: console, snapshots and export need no special case.
  let featureDriver: QemuDriver | null = null;
  let tls = await cp.hostTrust.issueLocalHostCredentials(hostId);
  const hostApi = createHostApi({
    driver: () => featureDriver,
    imageStore: host.imageStore,
    tls,
    log: cp.log,
    scratchDir: stateDir,
  });
  const address = await hostApi.listen({ host: '127.0.0.1', port: 0 });
  const { ipv4Pool } = await cp.services.inventory.registerHost({ kind: 'local' }, { ...registration, address });
  const renewal = setInterval(() => {
    if (!needsRenewal(tls.certPem, Date.now())) return;
    cp.hostTrust
      .issueLocalHostCredentials(hostId)
      .then((renewed) => {
        tls = renewed;
        hostApi.setTls(renewed);
      })
      .catch((error: unknown) =>
        cp.log.error({ err: error, host_id: hostId }, 'could not renew the local host certificate'),
      );
  }, 10 * 60_000);
  renewal.unref();
  await cp.services.scheduler.refreshHost(hostId);
  let agent: Agent | null = null;
  const driver = qemu.createQemuHostDriver({
    stateDir,
    imageStore: host.imageStore,
    log: cp.log,
    ipv4Pool: options.network ? ipv4Pool : null,
    onChange: () => agent?.poke(),
  });
  featureDriver = driver;
  agent = createAgent({
    hostId,
    link: createInProcessLink({
      hostSync: cp.services.hostSync,
      inventory: cp.services.inventory,
      volumeSync: cp.services.volumeSync,
    }),
    driver,
    log: cp.log,
    resyncIntervalMs: 5000,
    heartbeatIntervalMs: 5000,
    gracefulStopTimeoutMs: 30_000,
    images: async () => (await host.imageStore.list()).map((image) => image.slug),
  });
  agent.start();
  const started = agent;
  return {
    hostId,
    driver,
    imageStore: host.imageStore,
    agent: started,
    async stop() {
      clearInterval(renewal);
      await started.stop();
      await hostApi.close();
      await driver.close();
    },
  };
}
