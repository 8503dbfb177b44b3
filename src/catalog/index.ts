export { createCatalogService, normalizeCode, catalogCacheTtlMs, type CatalogService } from './service.ts';
export type { ImageFacts, ImageRecord, RegionRecord } from './store.ts';
export * from './vmcloud-defaults.ts';
