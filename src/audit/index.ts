export * from './log.ts';
export * from './actions.ts';
export * from './hash.ts';
export * from './failed-auth-limit.ts';
export * from './failed-auth-recorder.ts';
export * from './sealer.ts';
export { auditJsonLine } from './export.ts';
export type { VerifyResult, AuditRow } from './chain-store.ts';
export type { AuditLogTable, AuditChainTable, AuditTables } from './tables.ts';
