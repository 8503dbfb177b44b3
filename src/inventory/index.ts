export * from './topology.ts';
export * from './shapes.ts';
export * from './service.ts';
export * from './capacity-view.ts';
export * from './cpu-list.ts';
