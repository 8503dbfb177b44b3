/**
 * The DDoS domain: tiers and custom rules per project, detection (EMA baselines, pure), incidents and their
 * events, mitigation compiled to nftables (pure) and applied by a mitigator, and the upstream scrubbing hook.
 */
export type * from './tables.ts';
export * from './tiers.ts';
export * from './detection.ts';
export * from './nft-rules.ts';
export * from './nft-meter.ts';
export * from './targets.ts';
export { createNftMitigator, nftRunner } from './nft-mitigation.ts';
export { createRecordingMitigator, createDesiredStateMitigator, type Mitigator } from './mitigator.ts';
export { createLoggingScrubbing, type UpstreamScrubbing } from './upstream.ts';
export { createDdosService, attackView, type DdosService, type AddressObservation } from './service.ts';
