export * from './connection.ts';
export type * from './schema.ts';
export * from './transaction.ts';
export * from './lease.ts';
export * from './notify.ts';
export * from './singleton.ts';
export { insideAnyTransaction, outsideTransaction } from './transaction-guard.ts';
