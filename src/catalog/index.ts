export * from './service.ts';
export * from './vmcloud-defaults.ts';
