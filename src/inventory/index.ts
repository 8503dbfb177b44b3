export * from './topology.ts';
export * from './shapes.ts';
export {
  createInventoryService,
  type InventoryService,
  type RegisterHostInput,
  type Registrant,
  type HostApiEndpoint,
} from './service.ts';
export { topologyProblems } from './topology-check.ts';
export { hostAddressProblem, type HostAddressPolicy } from './host-address.ts';
export { type HostUsage, noUsage } from './host-view.ts';
export * from './capacity-view.ts';
export * from './cpu-list.ts';
