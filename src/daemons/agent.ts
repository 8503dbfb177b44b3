import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createAgent,
  createModelSteal,
  createProcStatSteal,
  createTrafficLoop,
  createUdpProber,
  type Agent,
  type HostTap,
  type TrafficLoop,
  type HostDataPlane,
  type UdpProber,
} from '../agent/index.ts';
import { createHostApi, hostFeaturesOf } from '../agent/host-api/index.ts';
import { createHostIdentity, createMtlsLink, establishHostIdentity } from '../agent/mtls/index.ts';
import type { ImageStore } from '../images/index.ts';
import { createSimDriver, type Driver } from '../compute/index.ts';
import { hostShapes, topologyOfShape, type HostShapeName, type HostTopology } from '../inventory/index.ts';
import { tapName, type RoutedSourcesSink } from '../network/index.ts';
import { nftRunner } from '../ddos/index.ts';
import {
  createLogger,
  isVmcError,
  parseListenAddress,
  startMetricsListener,
  systemClock,
  type LogLevel,
} from '../core/index.ts';
import { createAgentMetrics } from '../metrics/index.ts';
import { vmcloudVersion } from '../app.ts';

export const agentUsage = `Usage: vmcloud agent --control-plane https://HOST:8443 --ca-sha256 FINGERPRINT --region REGION [options]

Turns this machine into a hypervisor host of a region: fingerprints it, joins the control plane over
mutual TLS, heartbeats and runs the reconcile loop for the servers placed on it.

The first start joins with a one-time join token from \`vmcloud host token create\` (printed with the
CA fingerprint), given in the environment (VMCLOUD_JOIN_TOKEN) or a file, never on the command line. The
agent keeps its key and certificate in STATE_DIR/identity and restarts without a token; it renews its
certificate by itself.

Options:
  --control-plane URL     the control plane's agent listener, https://HOST:8443 (env VMCLOUD_URL)
  --ca-sha256 FP          SHA-256 fingerprint of the control plane's CA (env VMCLOUD_CA_SHA256): needed to
                          join; the agent refuses a control plane whose CA has another fingerprint
  --join-token-file FILE  read the join token from FILE (else env VMCLOUD_JOIN_TOKEN, or VMCLOUD_HOST_TOKEN)
  --region REGION         region of this host, e.g. fra1
  --driver qemu|sim       hypervisor driver (default qemu)
  --name NAME             host name (default: the machine hostname)
  --state-dir DIR         identity, instance state, disks and sockets (default ./data/agent)
  --image-dir DIR         the host's image store (env VMCLOUD_IMAGE_DIR, default ./data/images)
  --network on|off        a tap per server on bridge vmcbr0 with nftables tenant isolation (default: on as root)
  --uplink DEV            with --network on: the uplink towards the provider's router, where floating IPs
                          are announced (proxy ARP, gratuitous ARP); private networks use VXLAN from the
                          host's API address
  --sriov on|off          set up SR-IOV VFs (MAC, VLAN, vfio-pci) before starting servers that have one
                          (default: on as root when the host has SR-IOV NICs with VFs)
  --sriov-vlan ID         the 802.1Q VLAN of every VF (default 0: untagged)
  --reserved-cores N      cores per NUMA node kept for the hypervisor, never sold (default 1)
  --api-listen H:P        where the host API (console, logs, snapshots, export, images) listens (default 127.0.0.1:0)
  --api-address URL       the host API's URL as the control plane reaches it (default https://<api-listen>)
  --sim-shape SHAPE       with --driver sim: the hardware shape to simulate (default std-7543)
  --log-level L           debug|info|warn|error (default info)
  --metrics-listen H:P    serve GET /metrics (servers by state, driver operations, per-server CPU, memory,
                          disk and network, host CPU steal) on this plain-HTTP address; off by default
  --probes on|off         probe the other hosts of the region (UDP echo on the host API's port number,
                          latency and loss for the status page; default on)
  --traffic on|off        with --driver qemu and --network on: report each server's traffic (tap and nft
                          accounting counters every 5 minutes) and run the DDoS fast path (nft meter read
                          every second, mitigation tables as the control plane answers; default on)
  --metrics-token-file F  require "Authorization: Bearer <token>" there, the token read from F (needed
                          for an address other than loopback; see docs/observability.md)
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
  if (argv.some((arg) => arg === '--token' || arg.startsWith('--token='))) {
    io.stderr(
      'error: --token was removed: a secret on the command line shows in `ps`. Give the join token in VMCLOUD_JOIN_TOKEN or --join-token-file FILE.\n',
    );
    return 2;
  }
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        'control-plane': { type: 'string' },
        'ca-sha256': { type: 'string' },
        'join-token-file': { type: 'string' },
        region: { type: 'string' },
        driver: { type: 'string' },
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        'sim-shape': { type: 'string' },
        'image-dir': { type: 'string' },
        network: { type: 'string' },
        uplink: { type: 'string' },
        sriov: { type: 'string' },
        'sriov-vlan': { type: 'string' },
        'reserved-cores': { type: 'string' },
        'api-listen': { type: 'string' },
        'api-address': { type: 'string' },
        'log-level': { type: 'string' },
        'metrics-listen': { type: 'string' },
        'metrics-token-file': { type: 'string' },
        probes: { type: 'string' },
        traffic: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${agentUsage}`);
    return 2;
  }
  const url = values['control-plane'] ?? io.env.VMCLOUD_URL;
  const region = values.region;
  const driverName = values.driver ?? 'qemu';
  if (!url || !region) {
    io.stderr(`error: --control-plane and --region are required\n\n${agentUsage}`);
    return 2;
  }
  if (!/^https:\/\//.test(url)) {
    io.stderr(
      `error: --control-plane must be the agent listener's https:// URL (e.g. https://cp.example:8443), got ${url}\n`,
    );
    return 2;
  }
  const probes = values.probes ?? 'on';
  if (probes !== 'on' && probes !== 'off') {
    io.stderr('error: --probes must be on or off\n');
    return 2;
  }
  const traffic = values.traffic ?? 'on';
  if (traffic !== 'on' && traffic !== 'off') {
    io.stderr('error: --traffic must be on or off\n');
    return 2;
  }
  if (driverName !== 'qemu' && driverName !== 'sim') {
    io.stderr(`error: --driver must be qemu or sim\n`);
    return 2;
  }
  let metricsListen: { host: string; port: number } | null = null;
  let metricsToken: string | null = null;
  try {
    if (values['metrics-listen']) metricsListen = parseListenAddress(values['metrics-listen'], '--metrics-listen');
    if (values['metrics-token-file']) metricsToken = (await readFile(values['metrics-token-file'], 'utf8')).trim();
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    return 2;
  }
  if (metricsListen && !metricsToken && !/^(127\.|::1$|localhost$)/.test(metricsListen.host)) {
    io.stderr('error: --metrics-listen on an address other than loopback needs --metrics-token-file\n');
    return 2;
  }
  let joinToken: string | undefined;
  try {
    joinToken = values['join-token-file']
      ? (await readFile(values['join-token-file'], 'utf8')).trim()
      : (io.env.VMCLOUD_JOIN_TOKEN ?? io.env.VMCLOUD_HOST_TOKEN);
  } catch (error) {
    io.stderr(`error: cannot read --join-token-file: ${(error as Error).message}\n`);
    return 2;
  }
  // The token is needed once: nothing this process starts (QEMU, helpers) inherits it.
  delete process.env.VMCLOUD_JOIN_TOKEN;
  delete process.env.VMCLOUD_HOST_TOKEN;
  const log = createLogger({ level: (values['log-level'] ?? 'info') as LogLevel, base: { component: 'agent' } });
  const stateDir = resolve(values['state-dir'] ?? './data/agent');
  let agent: Agent | null = null;
  const name = values.name ?? hostname();

  let topology: HostTopology;
  let cpuModel: string;
  let makeDriver: (ipv4Pool: string) => Driver;
  let imageStore: ImageStore | null = null;
  let dataPlane: HostDataPlane | undefined;
  let tapsOnHost = false;
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
    const host = await qemu.fingerprintQemuHost({
      stateDir,
      imageDir: resolve(values['image-dir'] ?? io.env.VMCLOUD_IMAGE_DIR ?? './data/images'),
      log,
      reservedCoresPerNode,
    });
    topology = host.topology;
    cpuModel = host.cpuModel;
    imageStore = host.imageStore;
    const hasVfs = host.topology.nics.some((nic) => nic.vfs.length > 0);
    const sriov = values.sriov ?? (process.getuid?.() === 0 && hasVfs ? 'on' : 'off');
    const sriovVlan = Number(values['sriov-vlan'] ?? 0);
    if (sriov !== 'on' && sriov !== 'off') {
      io.stderr('error: --sriov must be on or off\n');
      return 2;
    }
    if (!Number.isInteger(sriovVlan) || sriovVlan < 0 || sriovVlan > 4094) {
      io.stderr('error: --sriov-vlan must be a VLAN id from 0 to 4094\n');
      return 2;
    }
    // Private networks (VXLAN segments) and public routes (floating and primary IPs) on this host.
    // The isolation ruleset (made with the driver) learns the addresses routed to each server from it.
    let isolation: RoutedSourcesSink | null = null;
    tapsOnHost = network === 'on';
    if (network === 'on')
      dataPlane = qemu.createHostDataPlane({
        publicBridge: 'vmcbr0',
        uplink: values.uplink ?? null,
        log,
        isolation: () => isolation,
      });
    makeDriver = (ipv4Pool) =>
      qemu.createQemuHostDriver({
        stateDir,
        imageStore: host.imageStore,
        log,
        ipv4Pool: network === 'on' ? ipv4Pool : null,
        onChange: () => agent?.poke(),
        onInstanceNetwork: (sink) => (isolation = sink),
        sriov: sriov === 'on' ? { vlan: sriovVlan } : null,
      });
  }

  const imageSlugs = async (): Promise<string[]> =>
    imageStore ? (await imageStore.list()).map((image) => image.slug) : [];
  const registration = {
    name,
    region,
    driver: driverName,
    cpuModel,
    topology,
    agentVersion: vmcloudVersion,
    address: values['api-address'] ?? null,
    // A simulated host boots every image of the catalog; a real one what its image store holds.
    images: imageStore ? await imageSlugs() : null,
  };

  // Who this host is: its stored certificate, or a join with the token (the CA checked against --ca-sha256).
  let established;
  try {
    established = await establishHostIdentity({
      stateDir,
      controlPlaneUrl: url,
      caSha256: values['ca-sha256'] ?? io.env.VMCLOUD_CA_SHA256,
      joinToken,
      registration,
      clock: systemClock,
      log,
    });
  } catch (error) {
    io.stderr(`error: could not join the control plane at ${url}: ${(error as Error).message}\n`);
    return 8;
  }
  const link = createMtlsLink({ controlPlaneUrl: url, credentials: () => identity.current() });
  const identity = createHostIdentity({
    stateDir,
    credentials: established.credentials,
    link,
    clock: systemClock,
    log,
  });
  const hostId = established.credentials.hostId;

  // The host API serves the control plane's console, log, snapshot, export and image requests, over
  // mutual TLS with this host's certificate; it accepts only the control plane's certificate.
  let driver: Driver | null = null;
  const hostApi = createHostApi({
    driver: () => (driver ? hostFeaturesOf(driver) : null),
    imageStore,
    tls: identity.current(),
    log,
    scratchDir: stateDir,
  });
  identity.onRenewed((credentials) => hostApi.setTls(credentials));
  const [apiHost, apiPort] = splitHostPort(values['api-listen'] ?? '127.0.0.1:0');
  const listening = await hostApi.listen({ host: apiHost, port: apiPort });
  const address = values['api-address'] ?? listening;

  let ipv4Pool: string;
  try {
    ({ ipv4Pool } = await link.register({ ...registration, address }));
  } catch (error) {
    const refused = isVmcError(error) && (error.code === 'unauthenticated' || error.code === 'forbidden');
    io.stderr(
      `error: could not register with ${url}: ${(error as Error).message}${
        refused
          ? `\nThe control plane refused this host's certificate (revoked?). To join again, ask an operator for a rotation join token (\`vmcloud --profile operator host token create --name NAME --host-id ${hostId}\`) and start the agent with it in VMCLOUD_JOIN_TOKEN.`
          : ''
      }\n`,
    );
    link.close();
    await hostApi.close();
    return 8;
  }
  await identity
    .renewIfDue()
    .catch((error: unknown) =>
      log.warn({ host_id: hostId, err: (error as Error).message }, 'host certificate renewal failed: will retry'),
    );
  identity.start();
  const agentMetrics = createAgentMetrics({
    driver: () => driver,
    log,
    host: { id: hostId, name, region, driver: driverName, version: vmcloudVersion },
  });
  driver = agentMetrics.instrument(makeDriver(ipv4Pool));
  const metricsListener = metricsListen
    ? await startMetricsListener({ ...metricsListen, render: agentMetrics.render, bearerToken: metricsToken, log })
    : null;
  if (metricsListener) log.info({ url: metricsListener.url }, 'metrics listening');
  log.info({ host_id: hostId, name, region, driver: driverName, host_api: address }, 'registered');
  // Peer probes: a UDP echo responder and prober on the host API's address, the same port number over UDP.
  let prober: UdpProber | null = null;
  if (probes === 'on') {
    try {
      prober = await createUdpProber({ host: apiHost, port: Number(new URL(listening).port), log });
      log.info({ port: prober.port }, 'peer probes: UDP echo listening');
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'peer probes off: the UDP echo port could not be bound');
    }
  }
  agent = createAgent({
    hostId,
    link,
    driver: driver,
    log,
    resyncIntervalMs: 2000,
    heartbeatIntervalMs: 5000,
    gracefulStopTimeoutMs: 30_000,
    ...(imageStore ? { images: imageSlugs } : {}),
    ...(dataPlane ? { dataPlane } : {}),
    // CPU and disk counters of the servers each minute; peer round trips when the echo port is bound.
    // The host's CPU steal from /proc/stat (the sim driver's: the model's, none).
    telemetry: {
      reportUsage: driverName !== 'sim',
      cpuSteal: driverName === 'sim' ? createModelSteal() : createProcStatSteal(),
      ...(prober ? { prober } : {}),
    },
  });
  agent.start();
  // Traffic accounting and the DDoS fast path need the servers' taps (qemu with host networking) and nft.
  let trafficLoop: TrafficLoop | null = null;
  if (tapsOnHost && traffic === 'on') {
    let taps: { atMs: number; taps: HostTap[] } | null = null;
    trafficLoop = createTrafficLoop({
      hostId,
      link,
      log,
      // The servers that should run here, from the desired state (re-read every 30 s): their taps.
      taps: async () => {
        if (!taps || Date.now() - taps.atMs > 30_000)
          taps = {
            atMs: Date.now(),
            taps: (await link.desired(hostId))
              .filter((d) => d.desired === 'running')
              .map((d) => ({
                serverId: d.spec.serverId,
                ifname: tapName(d.spec.serverId),
                addresses: d.spec.ipv4 ? [d.spec.ipv4.split('/')[0]] : [],
              })),
          };
        return taps.taps;
      },
      nft: nftRunner(),
      // Flow records from conntrack: its entries need per-direction counters (acct), off by default.
      readConntrack: () => readFile('/proc/net/nf_conntrack', 'utf8').catch(() => ''),
      // Flow records of what the servers' firewalls dropped, from the firewall table's drop sets.
      firewallDrops: true,
    });
    await writeFile('/proc/sys/net/netfilter/nf_conntrack_acct', '1').catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'flow records: nf_conntrack_acct could not be set'),
    );
    trafficLoop.start();
    log.info({}, 'traffic: accounting every 5 minutes, DDoS meter every second');
  }
  // The agent's timers do not hold the process open; this does, until a signal.
  const keepAlive = setInterval(() => undefined, 60_000);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  clearInterval(keepAlive);
  identity.stop();
  await trafficLoop?.stop();
  await agent.stop();
  await prober?.close();
  link.close();
  await hostApi.close();
  await metricsListener?.close();
  await driver.close();
  return 0;
}

function splitHostPort(text: string): [string, number] {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  if (!match) throw new Error(`--api-listen must be HOST:PORT, got ${text}`);
  return [match[1], Number(match[2])];
}
