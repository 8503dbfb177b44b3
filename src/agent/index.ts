export * from './agent.ts';
export * from './link.ts';
export * from './plan.ts';
export * from './sim-fleet.ts';
export * from './http-link.ts';
