/** Host networking: per-host bridge, a tap per server, addresses from the pool, tenant isolation (nftables). */
export { createHostNetwork, runCommand } from './host-network.ts';
export type { CommandResult, CommandRunner, HostNetwork, HostNetworkOptions, TapDevice } from './host-network.ts';
export { createInstanceNetwork } from './instance-network.ts';
export type { InstanceNetworkOptions, NetworkedServer } from './instance-network.ts';
export { renderIsolationRuleset, isolationTableName } from './isolation-rules.ts';
export {
  routedSourcesOf,
  withIsolationSources,
  type RoutedSources,
  type RoutedSourcesSink,
} from './isolation-sources.ts';
export type { IsolationPort } from './isolation-rules.ts';
export { allocateAddress, gatewayCidr, ipToNumber, numberToIp, parseCidr } from './ipv4-pool.ts';
export type { Ipv4Network } from './ipv4-pool.ts';
export { macAddress, tapName } from './names.ts';
export { createVfPreparer, renderVfSetup, vfMac, vfStepsText, type VfPreparer, type VfSetup } from './sriov-vf.ts';
export { privateMac, privateTapName, segmentBridgeName, vxlanDeviceName } from './vxlan-names.ts';
export { createSegmentDataPlane, type SegmentDataPlane, type SegmentDataPlaneOptions } from './segment-data-plane.ts';
export {
  planHostNetwork,
  linkLocalOf,
  type DataPlaneLayout,
  type Command,
  type DataPlanePlan,
} from './segment-plan.ts';
export * from './segment-state.ts';
export {
  renderFirewallRuleset,
  renderFirewallUpdate,
  renderStateTable,
  parseFirewallCounters,
  parseFirewallDrops,
  dropSetName,
  defaultDropSets,
  firewallFingerprint,
  counterName as firewallCounterName,
  firewallTable,
  firewallStateTable,
  type DropSetOptions,
  type FirewallDropElement,
  type FirewallPort,
  type StateMatch,
} from './firewall-rules.ts';
export {
  createFirewallDataPlane,
  withFirewalls,
  type FirewallDataPlane,
  type FirewallDataPlaneOptions,
} from './firewall-data-plane.ts';
