/**
 * The traffic domain: per-server accounting (5-minute samples, hourly/daily rollups, closed months), the 95th
 * percentile, the sim fleet's traffic model and the qemu hosts' counters. Billing reads `monthlyTrafficUsage`.
 */
export type * from './tables.ts';
export * from './percentile.ts';
export * from './prefixes.ts';
export * from './model.ts';
export * from './model-flows.ts';
export * from './usage.ts';
export { createTrafficService, type TrafficService, type MonthlyTrafficUsage } from './service.ts';
export { createSimTrafficCollector, type SimTrafficCollector, type SimServer } from './sim-collector.ts';
export { createHostTrafficReceiver, type HostTrafficReceiver, type HostServer } from './host-report.ts';
export * from './tap-counters.ts';
export * from './nft-accounting.ts';
export * from './conntrack.ts';
export * from './firewall-drops.ts';
