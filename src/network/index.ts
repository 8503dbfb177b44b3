/** Host networking: per-host bridge, a tap per server, addresses from the pool, tenant isolation (nftables). */
export { createHostNetwork, runCommand } from './host-network.ts';
export type { CommandResult, CommandRunner, HostNetwork, HostNetworkOptions, TapDevice } from './host-network.ts';
export { createInstanceNetwork } from './instance-network.ts';
export type { InstanceNetworkOptions, NetworkedServer } from './instance-network.ts';
export { renderIsolationRuleset, isolationTableName } from './isolation-rules.ts';
export type { IsolationPort } from './isolation-rules.ts';
export { allocateAddress, gatewayCidr, ipToNumber, numberToIp, parseCidr } from './ipv4-pool.ts';
export type { Ipv4Network } from './ipv4-pool.ts';
export { macAddress, tapName } from './names.ts';
