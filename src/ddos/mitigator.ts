/**
 * Where mitigation rules go. The DDoS service compiles them (nft-rules.ts) and hands them to a mitigator:
 * `nft-mitigation.ts` applies them with nft (a qemu host's agent, the network-namespace test); the sim fleet's
 * mitigator only records them.
 */
import { mitigationTable, type MitigationInput } from './nft-rules.ts';

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

/**
 * The control plane's mitigator for a fleet with real hosts: on a qemu host the incident is the desired
 * state — the host's agent gets it in the answer to its next traffic report (`DdosService.mitigationsFor`),
 * applies the compiled table with nft and reports its drops; on a simulated host it is only recorded.
 */
export function createDesiredStateMitigator(options: {
  /** True when the address is a server's on a simulated host (or on no known host). */
  simulated: (address: string) => Promise<boolean>;
}): Mitigator {
  const recording = createRecordingMitigator();
  return {
    async install(input) {
      if (await options.simulated(input.address)) return recording.install(input);
      return [
        `host agent: table inet ${mitigationTable(input.address)} desired (applied at the host's next traffic report)`,
        ...(input.customRules.length ? [`custom rules: ${input.customRules.length}`] : []),
        'drop UDP from reflector ports',
        `limit SYN to ${input.synPps}/s`,
        `limit each source to ${input.perSourcePps} packets/s`,
      ];
    },
    async remove(address) {
      // A real host's drops arrive with its reports (`addDropped`); it deletes the table once not desired.
      return recording.remove(address);
    },
  };
}
