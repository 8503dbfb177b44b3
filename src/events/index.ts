export * from './record.ts';
export * from './query.ts';
