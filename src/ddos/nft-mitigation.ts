/**
 * The data plane of mitigation: applies the compiled table of an address with `nft -f -` (optionally inside a
 * network namespace), reads its drop counters, and deletes it. Nothing else on the host is touched: every
 * table is `inet vmcloud_ddos_<hex>` of one address.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { compileMitigation, mitigationCounters, mitigationTable } from './nft-rules.ts';
import type { Mitigator } from './mitigator.ts';
import { parseNftCountersJson } from './nft-meter.ts';

const run = promisify(execFile);

/** `nft` (or `ip netns exec NS nft`) with arguments and optional stdin. */
export function nftRunner(netns?: string) {
  return async (args: string[], input?: string): Promise<string> => {
    const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'nft', ...args]] : ['nft', args];
    // Listings of tables with big sets (the firewall's drop sets) exceed execFile's 1 MiB default.
    if (input === undefined) return (await run(cmd, argv, { maxBuffer: 64 << 20 })).stdout;
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, argv, { maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
        error ? reject(new Error(`nft failed: ${stderr || error.message}`)) : resolve(stdout),
      );
      child.stdin!.end(input);
    });
  };
}

export function createNftMitigator(
  options: { netns?: string; hook?: 'forward' | 'input' | 'prerouting' } = {},
): Mitigator & {
  dropped(address: string): Promise<number>;
} {
  const nft = nftRunner(options.netns);
  async function dropped(address: string): Promise<number> {
    const json = await nft(['-j', 'list', 'counters', 'table', 'inet', mitigationTable(address)]).catch(() => null);
    if (!json) return 0;
    const counters = parseNftCountersJson(json);
    return mitigationCounters.reduce((sum, name) => sum + (counters.get(name)?.packets ?? 0), 0);
  }
  return {
    dropped,
    async install(input) {
      await nft(['-f', '-'], compileMitigation({ ...input, hook: options.hook ?? input.hook }));
      return [
        `nft: table inet ${mitigationTable(input.address)} installed`,
        ...(input.customRules.length ? [`custom rules: ${input.customRules.length}`] : []),
        'drop UDP from reflector ports',
        `limit SYN to ${input.synPps}/s`,
        `limit each source to ${input.perSourcePps} packets/s`,
      ];
    },
    async remove(address) {
      const droppedPackets = await dropped(address);
      await nft(['delete', 'table', 'inet', mitigationTable(address)]).catch(() => undefined);
      return { droppedPackets };
    },
  };
}
