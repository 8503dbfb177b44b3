export * from './errors.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './log.ts';
export * from './events.ts';
