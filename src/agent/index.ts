export * from './agent.ts';
export * from './link.ts';
export * from './plan.ts';
export * from './sim-fleet.ts';
export * from './network-pass.ts';
export * from './probes.ts';
export * from './telemetry.ts';
export * from './traffic.ts';
