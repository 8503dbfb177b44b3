/**
 * The firewalls of a host's servers in nftables (firewall-rules.ts renders them): applied as a whole
 * table the first time and whenever the table is not what this agent last left there (drift: a chain or
 * rule deleted by hand, the table flushed, an agent restart), otherwise only the ports whose firewalls
 * changed. Each pass reads the table back (`nft -j list table`): its shape tells drift, its named
 * counters are reported per rule. Commands run in a network namespace when `netns` is given (tests).
 *
 * The stateful match (`ct` or `mark`, see firewall-rules.ts) is probed once: a bridge-family `ct`
 * expression checked with `nft -c`; without nf_conntrack_bridge the kernel refuses it and the data
 * plane uses br_netfilter and the marking table instead (it sets `net.bridge.bridge-nf-call-ip{,6}tables`).
 */
import type { DesiredHostNetwork, DesiredServerFirewall, ObservedHostNetwork } from '../contract/index.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { runCommand, type CommandRunner } from './host-network.ts';
import { tapName } from './names.ts';
import {
  counterName,
  firewallFingerprint,
  firewallStateTable,
  firewallTable,
  parseFirewallCounters,
  renderFirewallRuleset,
  renderFirewallUpdate,
  renderStateTable,
  type DropSetOptions,
  type FirewallPort,
  type StateMatch,
} from './firewall-rules.ts';

export type ObservedFirewalls = NonNullable<ObservedHostNetwork['firewalls']>;

export interface FirewallDataPlaneOptions {
  netns?: string;
  run?: CommandRunner;
  log?: Logger;
  /** The stateful match; `auto` (default) probes the kernel once. */
  state?: StateMatch | 'auto';
  /** The tap of a server (default: its public tap, `vmc…`). */
  ifnameOf?: (serverId: string) => string;
  /** The drop sets' size and element timeout (default 1 024 elements per set, 60 s). */
  dropSets?: DropSetOptions;
}

export interface FirewallDataPlane {
  converge(desired: readonly DesiredServerFirewall[]): Promise<ObservedFirewalls>;
  /** The stateful match in use (after the first converge or probe). */
  stateMatch(): Promise<StateMatch>;
  /** What the last converge did: `full` (whole table), `update` (changed ports), `none`, `removed`. */
  lastApply(): 'full' | 'update' | 'none' | 'removed' | null;
}

export function createFirewallDataPlane(options: FirewallDataPlaneOptions = {}): FirewallDataPlane {
  const run = options.run ?? runCommand;
  const log = options.log ?? silentLogger;
  const ifnameOf = options.ifnameOf ?? tapName;
  let mode: StateMatch | null = options.state === 'ct' || options.state === 'mark' ? options.state : null;
  /** What this agent last left in the table, and the table's shape right after. */
  let applied: { ports: FirewallPort[]; fingerprint: string } | null = null;
  let last: ReturnType<FirewallDataPlane['lastApply']> = null;

  const nft = async (args: string[], input?: string) => {
    const [cmd, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, 'nft', ...args]] : ['nft', args];
    return run(cmd, argv, input);
  };
  const apply = async (script: string) => {
    const result = await nft(['-f', '-'], script);
    if (result.code !== 0) throw new Error(`nft -f failed: ${result.stderr.trim()}`);
  };
  const list = async (family: string, table: string): Promise<string | null> => {
    const result = await nft(['-j', 'list', 'table', family, table]);
    return result.code === 0 ? result.stdout : null;
  };

  async function stateMatch(): Promise<StateMatch> {
    if (mode) return mode;
    const probe = `table bridge vmcloud_fw_probe {\n  chain c {\n    ct state established accept\n  }\n}\n`;
    mode = (await nft(['-c', '-f', '-'], probe)).code === 0 ? 'ct' : 'mark';
    log.info({ state_match: mode }, 'firewall stateful match chosen');
    return mode;
  }

  /** `mark` mode: bridged IP packets through the inet hooks, and the marking table in place. */
  async function ensureStateTable() {
    const sysctl = ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1'];
    const [cmd, argv] = options.netns
      ? ['ip', ['netns', 'exec', options.netns, ...sysctl]]
      : [sysctl[0], sysctl.slice(1)];
    let result = await run(cmd, argv);
    if (result.code !== 0 && !options.netns) {
      await run('modprobe', ['br_netfilter']).catch(() => null);
      result = await run(cmd, argv);
    }
    if (result.code !== 0) throw new Error(`cannot enable br_netfilter: ${result.stderr.trim()}`);
    const current = await list('inet', firewallStateTable);
    if (current === null || !current.includes('"prerouting"') || !current.includes('"output"'))
      await apply(renderStateTable());
  }

  async function removeAll(current: string | null) {
    if (current !== null) await apply(`delete table bridge ${firewallTable}\n`);
    if ((await list('inet', firewallStateTable)) !== null) await apply(`delete table inet ${firewallStateTable}\n`);
  }

  return {
    stateMatch,
    lastApply: () => last,
    async converge(desired) {
      const ports: FirewallPort[] = desired
        .filter((s) => s.firewalls.length > 0)
        .map((s) => ({ ifname: ifnameOf(s.serverId), firewalls: s.firewalls }));
      let current = await list('bridge', firewallTable);
      if (ports.length === 0) {
        if (current !== null) await removeAll(current);
        last = current !== null ? 'removed' : 'none';
        applied = { ports: [], fingerprint: '' };
        return [];
      }
      const state = await stateMatch();
      if (state === 'mark') await ensureStateTable();
      const intact = applied !== null && current !== null && firewallFingerprint(current) === applied.fingerprint;
      let script = intact
        ? renderFirewallUpdate(applied!.ports, ports, state, options.dropSets)
        : renderFirewallRuleset(ports, state, options.dropSets);
      last = intact ? (script === '' ? 'none' : 'update') : 'full';
      if (script !== '') {
        try {
          await apply(script);
        } catch (error) {
          if (!intact) throw error;
          // An update that does not fit what is there: replace the whole table instead.
          log.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'firewall update failed: replacing the table',
          );
          script = renderFirewallRuleset(ports, state, options.dropSets);
          await apply(script);
          last = 'full';
        }
        current = await list('bridge', firewallTable);
        if (current === null) throw new Error(`table bridge ${firewallTable} missing right after it was applied`);
        if (last === 'full') log.info({ ports: ports.length }, 'firewall table replaced');
      }
      applied = { ports, fingerprint: firewallFingerprint(current!) };
      const counters = parseFirewallCounters(current!);
      return desired
        .filter((s) => s.firewalls.length > 0)
        .map((s) => ({
          serverId: s.serverId,
          firewalls: s.firewalls.map((f) => ({
            id: f.id,
            version: f.version,
            counters: f.rules.map(
              (_, i) => counters.get(counterName(ifnameOf(s.serverId), f, i)) ?? { packets: 0, bytes: 0 },
            ),
          })),
        }));
    },
  };
}

/**
 * A host data plane (structurally the agent's `HostDataPlane`) with firewalls: the segments and routes
 * first, then the firewalls of the desired state; a failing firewall pass is logged and retried at the
 * next pass, and the rest is still reported.
 */
export function withFirewalls(
  base: { converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork> },
  firewalls: FirewallDataPlane,
  log: Logger = silentLogger,
): { converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork> } {
  return {
    async converge(desired) {
      const observed = await base.converge(desired);
      if (!desired.firewalls) return observed;
      try {
        return { ...observed, firewalls: await firewalls.converge(desired.firewalls) };
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'firewall pass failed');
        return observed;
      }
    },
  };
}
