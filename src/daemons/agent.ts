import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgent, createHttpLink, type Agent } from '../agent/index.ts';
import { createHostApi, hostFeaturesOf, newAgentKey } from '../agent/host-api/index.ts';
import type { ImageStore } from '../images/index.ts';
import { createSimDriver, type Driver } from '../compute/index.ts';
import { hostShapes, topologyOfShape, type HostShapeName, type HostTopology } from '../inventory/index.ts';
import { createLogger, type LogLevel } from '../core/index.ts';
import { vmcloudVersion } from '../app.ts';

export const agentUsage = `Usage: vmcloud agent --control-plane URL --token TOKEN --region REGION [options]

Turns this machine into a hypervisor host of a region: fingerprints it, registers, heartbeats and runs
the reconcile loop for the servers placed on it.

Options:
  --control-plane URL   the control plane (env VMCLOUD_URL)
  --token TOKEN         a host token from \`vmcloud host token create\` (env VMCLOUD_HOST_TOKEN)
  --region REGION       region of this host, e.g. fra1
  --driver qemu|sim     hypervisor driver (default qemu)
  --name NAME           host name (default: the machine hostname)
  --state-dir DIR       instance state, disks and sockets (default ./data/agent)
  --image-dir DIR       the host's image store (env VMCLOUD_IMAGE_DIR, default ./data/images)
  --network on|off      a tap per server on bridge vmcbr0 with nftables tenant isolation (default: on as root)
  --reserved-cores N    cores per NUMA node kept for the hypervisor, never sold (default 1)
  --api-listen H:P      where the host API (console, logs, snapshots, export, images) listens (default 127.0.0.1:0)
  --api-address URL     the host API's URL as the control plane reaches it (default http://<api-listen>)
  --sim-shape SHAPE     with --driver sim: the hardware shape to simulate (default std-7543)
  --log-level L         debug|info|warn|error (default info)
`;

export interface AgentIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export async function runAgent(argv: string[], io: AgentIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(agentUsage);
    return 0;
  }
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        'control-plane': { type: 'string' },
        token: { type: 'string' },
        region: { type: 'string' },
        driver: { type: 'string' },
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        'sim-shape': { type: 'string' },
        'image-dir': { type: 'string' },
        network: { type: 'string' },
        'reserved-cores': { type: 'string' },
        'api-listen': { type: 'string' },
        'api-address': { type: 'string' },
        'log-level': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${agentUsage}`);
    return 2;
  }
  const url = values['control-plane'] ?? io.env.VMCLOUD_URL;
  const token = values.token ?? io.env.VMCLOUD_HOST_TOKEN;
  const region = values.region;
  const driverName = values.driver ?? 'qemu';
  if (!url || !token || !region) {
    io.stderr(`error: --control-plane, --token and --region are required\n\n${agentUsage}`);
    return 2;
  }
  if (driverName !== 'qemu' && driverName !== 'sim') {
    io.stderr(`error: --driver must be qemu or sim\n`);
    return 2;
  }
  const log = createLogger({ level: (values['log-level'] ?? 'info') as LogLevel, base: { component: 'agent' } });
  const stateDir = resolve(values['state-dir'] ?? './data/agent');
  let agent: Agent | null = null;
  const name = values.name ?? hostname();

  const link = createHttpLink({ baseUrl: url, token });
  let topology: HostTopology;
  let cpuModel: string;
  let makeDriver: (ipv4Pool: string) => Driver;
  let imageStore: ImageStore | null = null;
  if (driverName === 'sim') {
    const shapeName = (values['sim-shape'] ?? 'std-7543') as HostShapeName;
    const shape = hostShapes[shapeName];
    if (!shape) {
      io.stderr(`error: unknown --sim-shape ${shapeName}; one of ${Object.keys(hostShapes).join(', ')}\n`);
      return 2;
    }
    topology = topologyOfShape(shape);
    cpuModel = shape.cpuModel;
    makeDriver = () => createSimDriver({ stateFile: join(stateDir, 'sim-instances.json') });
  } else {
    const network = values.network ?? (process.getuid?.() === 0 ? 'on' : 'off');
    if (network !== 'on' && network !== 'off') {
      io.stderr('error: --network must be on or off\n');
      return 2;
    }
    const qemu = await import('./qemu-host.ts');
    const reservedCoresPerNode = Number(values['reserved-cores'] ?? 1);
    if (!Number.isInteger(reservedCoresPerNode) || reservedCoresPerNode < 0) {
      io.stderr('error: --reserved-cores must be a whole number ≥ 0\n');
      return 2;
    }
    const host = await qemu.fingerprintQemuHost({ stateDir, imageDir: resolve(values['image-dir'] ?? io.env.VMCLOUD_IMAGE_DIR ?? './data/images'), log, reservedCoresPerNode });
    topology = host.topology;
    cpuModel = host.cpuModel;
    imageStore = host.imageStore;
    makeDriver = (ipv4Pool) => qemu.createQemuHostDriver({ stateDir, imageStore: host.imageStore, log, ipv4Pool: network === 'on' ? ipv4Pool : null, onChange: () => agent?.poke() });
  }

  // The host API serves the control plane's console, log, snapshot, export and image requests.
  let driver: Driver | null = null;
  const agentKey = newAgentKey();
  const hostApi = createHostApi({ driver: () => (driver ? hostFeaturesOf(driver) : null), imageStore, agentKey, log, scratchDir: stateDir });
  const [apiHost, apiPort] = splitHostPort(values['api-listen'] ?? '127.0.0.1:0');
  const listening = await hostApi.listen({ host: apiHost, port: apiPort });
  const address = values['api-address'] ?? listening;

  let hostId: string;
  let ipv4Pool: string;
  try {
    ({ hostId, ipv4Pool } = await link.register({ name, region, driver: driverName, cpuModel, topology, agentVersion: vmcloudVersion, address, agentKey }));
  } catch (error) {
    io.stderr(`error: could not register with ${url}: ${(error as Error).message}\n`);
    await hostApi.close();
    return 8;
  }
  driver = makeDriver(ipv4Pool);
  log.info({ host_id: hostId, name, region, driver: driverName, host_api: address }, 'registered');
  agent = createAgent({ hostId, link, driver: driver, log, resyncIntervalMs: 2000, heartbeatIntervalMs: 5000, gracefulStopTimeoutMs: 30_000 });
  agent.start();
  // The agent's timers do not hold the process open; this does, until a signal.
  const keepAlive = setInterval(() => undefined, 60_000);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  clearInterval(keepAlive);
  await agent.stop();
  await hostApi.close();
  await driver.close();
  return 0;
}

function splitHostPort(text: string): [string, number] {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  if (!match) throw new Error(`--api-listen must be HOST:PORT, got ${text}`);
  return [match[1], Number(match[2])];
}
