/**
 * Host networking, first step: one bridge per host carrying the gateway address of the host's pool, a tap
 * device per server attached to it (QEMU opens it with `script=no`, needing no privileges), and the
 * tenant isolation ruleset (nftables, bridge family). Commands run in a network namespace when `netns` is
 * given (tests build "hosts" that way). Every operation is idempotent.
 */
import { spawn } from 'node:child_process';
import { silentLogger, type Logger } from '../core/log.ts';
import { renderIsolationRuleset, type IsolationPort } from './isolation-rules.ts';
import { macAddress, tapName } from './names.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (command: string, args: string[], input?: string) => Promise<CommandResult>;

export const runCommand: CommandRunner = (command, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its input
      child.stdin.end(input);
    }
  });

export interface HostNetworkOptions {
  /** Bridge device name, e.g. `vmcbr0`. */
  bridge: string;
  /** The bridge's address: the gateway of the host's pool, e.g. `10.20.0.1/24`. */
  gatewayCidr: string;
  /** Network namespace to work in (tests); the host's own namespace when absent. */
  netns?: string;
  run?: CommandRunner;
  log?: Logger;
}

export interface TapDevice {
  tapName: string;
  mac: string;
}

export interface HostNetwork {
  readonly bridge: string;
  ensureBridge(): Promise<void>;
  /** Creates the server's tap on the bridge if missing. */
  ensureTap(serverId: string): Promise<TapDevice>;
  removeTap(serverId: string): Promise<void>;
  /** Replaces the isolation ruleset atomically with one for exactly these ports. */
  applyIsolation(ports: IsolationPort[]): Promise<void>;
}

export function createHostNetwork(options: HostNetworkOptions): HostNetwork {
  const run = options.run ?? runCommand;
  const log = options.log ?? silentLogger;
  const { bridge } = options;

  const ip = async (args: string[], allowFailure = false) => {
    const result = await run('ip', options.netns ? ['-n', options.netns, ...args] : args);
    if (result.code !== 0 && !allowFailure) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result;
  };
  const linkExists = async (name: string) => (await ip(['link', 'show', 'dev', name], true)).code === 0;

  return {
    bridge,
    async ensureBridge() {
      if (!(await linkExists(bridge))) {
        await ip(['link', 'add', bridge, 'type', 'bridge']);
        log.info({ bridge }, 'bridge created');
      }
      const addresses = (await ip(['-o', 'addr', 'show', 'dev', bridge])).stdout;
      if (!addresses.includes(` ${options.gatewayCidr} `))
        await ip(['addr', 'add', options.gatewayCidr, 'dev', bridge]);
      await ip(['link', 'set', bridge, 'up']);
    },
    async ensureTap(serverId) {
      const name = tapName(serverId);
      if (!(await linkExists(name))) {
        await ip(['tuntap', 'add', 'dev', name, 'mode', 'tap', 'vnet_hdr']);
        log.info({ serverId, tap: name }, 'tap created');
      }
      await ip(['link', 'set', name, 'master', bridge]);
      await ip(['link', 'set', name, 'up']);
      return { tapName: name, mac: macAddress(serverId) };
    },
    async removeTap(serverId) {
      const name = tapName(serverId);
      if (await linkExists(name)) await ip(['link', 'del', name]);
    },
    async applyIsolation(ports) {
      const ruleset = renderIsolationRuleset(bridge, ports);
      const args = options.netns ? ['netns', 'exec', options.netns, 'nft', '-f', '-'] : ['-f', '-'];
      const result = await run(options.netns ? 'ip' : 'nft', args, ruleset);
      if (result.code !== 0) throw new Error(`nft -f failed: ${result.stderr.trim()}\n${ruleset}`);
    },
  };
}
