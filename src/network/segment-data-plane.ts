/**
 * The agent's network data plane on a real host (structurally the agent's `HostDataPlane`): read what the
 * host has, plan (segment-plan.ts), run the commands, announce newly routed IPv4 addresses (gratuitous
 * ARP), read again and report what is in place. Commands run in a network namespace when `netns` is
 * given (tests build two "hosts" that way). Every pass converges from whatever it finds: what should not
 * exist is removed, what was deleted under it is made again.
 */
import type { DesiredHostNetwork, ObservedHostNetwork } from '../contract/index.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { runCommand, type CommandRunner } from './host-network.ts';
import { macAddress } from './names.ts';
import { planHostNetwork, linkLocalOf, type DataPlaneLayout } from './segment-plan.ts';
import {
  parseFdb,
  parseLinks,
  parseNeigh,
  parseRoutes,
  vmcloudRouteProtocol,
  type HostDataPlaneState,
} from './segment-state.ts';
import { privateTapName, segmentBridgeName, vxlanDeviceName } from './vxlan-names.ts';

export interface SegmentDataPlaneOptions extends Partial<DataPlaneLayout> {
  netns?: string;
  run?: CommandRunner;
  log?: Logger;
  /** Gratuitous ARPs per announcement (default 1). */
  announceCount?: number;
}

export function createSegmentDataPlane(options: SegmentDataPlaneOptions = {}) {
  const run = options.run ?? runCommand;
  const log = options.log ?? silentLogger;
  const layout: DataPlaneLayout = {
    publicBridge: options.publicBridge ?? null,
    uplink: options.uplink ?? null,
    vxlanPort: options.vxlanPort ?? 4789,
  };
  const inNs = (command: string, args: string[]): [string, string[]] =>
    options.netns ? ['ip', ['netns', 'exec', options.netns, command, ...args]] : [command, args];
  const exec = async (command: string, args: string[], allowFailure = false) => {
    const [cmd, argv] = inNs(command, args);
    const result = await run(cmd, argv);
    if (result.code !== 0 && !allowFailure)
      throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result;
  };

  async function readState(): Promise<HostDataPlaneState> {
    const links = parseLinks((await exec('ip', ['-j', '-d', 'link', 'show'])).stdout);
    const fdb = new Map<string, ReturnType<typeof parseFdb>>();
    const neigh = new Map<string, ReturnType<typeof parseNeigh>>();
    for (const name of links.keys())
      if (/^vmx\d+$/.test(name)) {
        fdb.set(name, parseFdb((await exec('bridge', ['-j', 'fdb', 'show', 'dev', name])).stdout));
        neigh.set(name, parseNeigh((await exec('ip', ['-j', 'neigh', 'show', 'dev', name])).stdout));
      }
    const routes = [];
    if (layout.publicBridge && links.has(layout.publicBridge)) {
      neigh.set(
        layout.publicBridge,
        parseNeigh((await exec('ip', ['-j', 'neigh', 'show', 'dev', layout.publicBridge])).stdout),
      );
      for (const family of ['-4', '-6'])
        routes.push(
          ...parseRoutes(
            (await exec('ip', ['-j', family, 'route', 'show', 'proto', String(vmcloudRouteProtocol)])).stdout,
          ),
        );
    }
    return { links, fdb, neigh, routes };
  }

  function observedOf(desired: DesiredHostNetwork, state: HostDataPlaneState): ObservedHostNetwork {
    const ports: ObservedHostNetwork['ports'] = [];
    for (const segment of desired.segments) {
      const bridge = state.links.get(segmentBridgeName(segment.vni));
      const vx = state.links.get(vxlanDeviceName(segment.vni));
      if (!bridge?.up || (desired.vtep && (!vx?.up || vx.master !== bridge.name))) continue;
      for (const port of segment.ports) {
        const tap = state.links.get(privateTapName(port.serverId, segment.networkId));
        if (tap && tap.master === bridge.name) ports.push({ networkId: segment.networkId, serverId: port.serverId });
      }
    }
    const publicRoutes: ObservedHostNetwork['publicRoutes'] = [];
    if (layout.publicBridge) {
      const neigh = state.neigh.get(layout.publicBridge) ?? [];
      for (const route of desired.publicRoutes) {
        const mac = macAddress(route.serverId);
        const hop = route.type === 'ipv4' ? route.address : linkLocalOf(mac);
        const routed = state.routes.some((r) => r.dst === route.address && r.dev === layout.publicBridge);
        if (routed && neigh.some((e) => e.ip === hop && e.mac === mac))
          publicRoutes.push({ address: route.address, serverId: route.serverId });
      }
    }
    return { ports, publicRoutes };
  }

  return {
    layout,
    readState,
    async converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork> {
      const plan = planHostNetwork(desired, await readState(), layout);
      if (plan.commands.length > 0) log.info({ commands: plan.commands.length }, 'network data plane converging');
      for (const command of plan.commands) {
        // A removal of something already gone is fine; anything else that fails is retried next pass.
        const removal = command.args.includes('del');
        await exec(command.tool, command.args, removal);
      }
      if (layout.uplink) {
        // Proxy ARP answers the provider's router for the addresses routed here; a non-local bind lets
        // arping send a gratuitous ARP from an address the host routes but does not hold.
        await exec('sysctl', [
          '-qw',
          `net.ipv4.conf.${layout.uplink}.proxy_arp=1`,
          'net.ipv4.ip_forward=1',
          'net.ipv4.ip_nonlocal_bind=1',
        ]);
        for (const address of plan.announce) {
          const result = await exec(
            'busybox',
            ['arping', '-U', '-c', String(options.announceCount ?? 1), '-I', layout.uplink, '-s', address, address],
            true,
          );
          if (result.code !== 0) log.warn({ address, err: result.stderr.trim() }, 'gratuitous ARP failed');
        }
      }
      return observedOf(desired, await readState());
    },
  };
}

export type SegmentDataPlane = ReturnType<typeof createSegmentDataPlane>;
