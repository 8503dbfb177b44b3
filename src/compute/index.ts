export * from './service.ts';
export * from './host-sync.ts';
export * from './views.ts';
export * from './server-status.ts';
export type * from './drivers/driver.ts';
export { createSimDriver, realisticSimDelays, type SimDelays } from './drivers/sim/sim-driver.ts';
