/**
 * Where mitigation rules go. The DDoS service compiles them (nft-rules.ts) and hands them to a mitigator:
 * `nft-mitigation.ts` applies them with nft (a qemu host's agent, the network-namespace test); the sim fleet's
 * mitigator only records them.
 */
import type { MitigationInput } from './nft-rules.ts';

export interface Mitigator {
  /** Installs the rules of one address; returns what was done (for the incident's `actions`). */
  install(input: MitigationInput): Promise<string[]>;
  /** Removes them; returns the packets they dropped. */
  remove(address: string): Promise<{ droppedPackets: number }>;
}

export function createRecordingMitigator(): Mitigator & { installed: Map<string, MitigationInput> } {
  const installed = new Map<string, MitigationInput>();
  return {
    installed,
    async install(input) {
      installed.set(input.address, input);
      return [`sim: mitigation rules compiled for ${input.address} (not installed: simulated host)`];
    },
    async remove(address) {
      installed.delete(address);
      return { droppedPackets: 0 };
    },
  };
}
