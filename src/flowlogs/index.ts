/**
 * The flow-log domain: per-server flow records in per-day tables, queried by server, window, address and
 * port, exported as JSON lines or CSV, and dropped a day at a time after the retention (docs/privacy.md).
 */
export type * from './tables.ts';
export { createFlowLogStore, type FlowLogStore, type FlowRow } from './store.ts';
export * from './format.ts';
export { createFlowLogService, flowLogPurpose, maxRetentionDays, type FlowLogService } from './service.ts';
