export * from './service.ts';
export * from './audit.ts';
export * from './roles.ts';
export { isWellFormedToken } from './token-format.ts';
