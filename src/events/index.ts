export * from './record.ts';
export * from './query.ts';
export * from './ordered-read.ts';
export * from './consumer.ts';
export * from './tables.ts';
export * from './tail.ts';
export * from './consumer-lag.ts';
