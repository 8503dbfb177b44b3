import type { Db } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { invalid, notFound, newId, VmcError, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { defaultImages, defaultProducts, defaultRegions, type RegionStatus } from './vmcloud-defaults.ts';

export interface RegionView {
  code: string;
  name: string;
  city: string;
  country: string;
  peering: string;
  peering_gbps: number | null;
  status: RegionStatus;
  /** Whether new servers can be ordered here now. */
  orderable: boolean;
  opens: string | null;
}

export interface ProductView {
  code: string;
  name: string;
  family: 'vps' | 'gpu';
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  traffic_tib: number;
  gpu: { model: string; count: number } | null;
  price: { hourly_cents: number; monthly_cents: number; currency: 'EUR' };
  regions: string[];
}

export interface ImageView {
  id: string;
  slug: string;
  name: string;
  os_family: string;
  os_version: string;
  category: string;
  requires_gpu: boolean;
  min_disk_gib: number;
  status: string;
}

export const regionStatuses: RegionStatus[] = ['operational', 'maintenance', 'planned'];

export interface CatalogService {
  /** Loads the VMCloud defaults where missing; existing rows (an operator's changes) are kept. */
  loadDefaults(): Promise<void>;
  listRegions(): Promise<RegionView[]>;
  getRegion(code: string): Promise<RegionView>;
  setRegionStatus(code: string, status: string): Promise<RegionView>;
  listProducts(filter?: { region?: string }): Promise<ProductView[]>;
  getProduct(code: string): Promise<ProductView>;
  listImages(): Promise<ImageView[]>;
  getImage(slugOrId: string): Promise<ImageView>;
  /** Forget cached catalog rows after a change made outside this service (an image upload). */
  invalidate(): void;
}

export function normalizeCode(code: string): string {
  return code.trim().toLowerCase().replace(/\+$/, '-plus');
}

/** How long lookups may serve a cached catalog: regions change status rarely, products and images more rarely. */
export const catalogCacheTtlMs = { regions: 1000, products: 5000, images: 5000 };

/** A value read at most once per `ttlMs` (per process); `clear` forgets it after a local change. */
function cached<T>(ttlMs: number, nowMs: () => number, load: () => Promise<T>) {
  let value: { at: number; promise: Promise<T> } | null = null;
  return {
    get(): Promise<T> {
      if (!value || nowMs() - value.at >= ttlMs) {
        const promise = load();
        value = { at: nowMs(), promise };
        promise.catch(() => {
          value = null;
        });
      }
      return value.promise;
    },
    clear() {
      value = null;
    },
  };
}

export function createCatalogService(deps: { db: Db; clock: Clock; events: EventRecorder }): CatalogService {
  const { db, clock } = deps;

  const regionView = (r: { code: string; name: string; city: string; country: string; peering: string; peering_gbps: number | null; status: string; opens: string | null }): RegionView => ({
    code: r.code,
    name: r.name,
    city: r.city,
    country: r.country,
    peering: r.peering,
    peering_gbps: r.peering_gbps,
    status: r.status as RegionStatus,
    orderable: r.status === 'operational',
    opens: r.opens,
  });

  const productView = (p: { code: string; name: string; family: string; vcpus: number; memory_mib: number; disk_gib: number; traffic_tib: number; gpu_model: string | null; gpu_count: number; price_hourly_cents: number; price_monthly_cents: number; regions_json: string }): ProductView => ({
    code: p.code,
    name: p.name,
    family: p.family as 'vps' | 'gpu',
    vcpus: p.vcpus,
    memory_mib: p.memory_mib,
    disk_gib: p.disk_gib,
    traffic_tib: p.traffic_tib,
    gpu: p.gpu_model ? { model: p.gpu_model, count: p.gpu_count } : null,
    price: { hourly_cents: p.price_hourly_cents, monthly_cents: p.price_monthly_cents, currency: 'EUR' },
    regions: JSON.parse(p.regions_json) as string[],
  });

  const imageView = (i: { id: string; slug: string; name: string; os_family: string; os_version: string; category: string; requires_gpu: number; min_disk_gib: number; status: string }): ImageView => ({
    id: i.id,
    slug: i.slug,
    name: i.name,
    os_family: i.os_family,
    os_version: i.os_version,
    category: i.category,
    requires_gpu: i.requires_gpu === 1,
    min_disk_gib: i.min_disk_gib,
    status: i.status,
  });

  const regionRows = cached(catalogCacheTtlMs.regions, clock.nowMs, () => db.selectFrom('regions').selectAll().execute());
  const productRows = cached(catalogCacheTtlMs.products, clock.nowMs, () => db.selectFrom('products').selectAll().where('status', '=', 'active').orderBy('sort_order').execute());
  const imageRows = cached(catalogCacheTtlMs.images, clock.nowMs, () => db.selectFrom('images').selectAll().where('status', '!=', 'deleted').orderBy('category').orderBy('slug').execute());
  const forgetAll = () => {
    regionRows.clear();
    productRows.clear();
    imageRows.clear();
  };

  return {
    async loadDefaults() {
      const now = clock.nowIso();
      await inTransaction(db, async (tx) => {
        for (const r of defaultRegions) {
          await tx
            .insertInto('regions')
            .values({ code: r.code, name: r.name, city: r.city, country: r.country, peering: r.peering, peering_gbps: r.peeringGbps, status: r.status, opens: r.opens, ipv4_pool: r.ipv4Pool, created_at: now, updated_at: now })
            .onConflict((oc) => oc.column('code').doNothing())
            .execute();
        }
        for (const [index, p] of defaultProducts.entries()) {
          await tx
            .insertInto('products')
            .values({
              code: p.code,
              name: p.name,
              family: p.family,
              vcpus: p.vcpus,
              memory_mib: p.memoryMiB,
              disk_gib: p.diskGiB,
              traffic_tib: p.trafficTiB,
              gpu_model: p.gpuModel,
              gpu_count: p.gpuCount,
              price_hourly_cents: p.priceHourlyCents,
              price_monthly_cents: p.priceMonthlyCents,
              regions_json: JSON.stringify(p.regions),
              status: 'active',
              sort_order: index,
            })
            .onConflict((oc) => oc.column('code').doNothing())
            .execute();
        }
        for (const i of defaultImages) {
          await tx
            .insertInto('images')
            .values({
              id: newId('image', clock.nowMs()),
              slug: i.slug,
              name: i.name,
              os_family: i.osFamily,
              os_version: i.osVersion,
              category: i.category,
              requires_gpu: i.requiresGpu ? 1 : 0,
              min_disk_gib: i.minDiskGiB,
              project_id: null,
              status: 'available',
              format: null,
              size_bytes: null,
              sha256: null,
              created_at: now,
            })
            .onConflict((oc) => oc.column('slug').doNothing())
            .execute();
        }
      });
      forgetAll();
    },

    async listRegions() {
      const rows = await regionRows.get();
      const order = new Map(defaultRegions.map((r, i) => [r.code, i]));
      return rows.map(regionView).sort((a, b) => (order.get(a.code) ?? 99) - (order.get(b.code) ?? 99) || a.code.localeCompare(b.code));
    },

    async getRegion(code) {
      const wanted = normalizeCode(code);
      const row = (await regionRows.get()).find((r) => r.code === wanted);
      if (!row) throw notFound('region', code);
      return regionView(row);
    },

    async setRegionStatus(code, status) {
      if (!(regionStatuses as string[]).includes(status)) {
        throw invalid(`status must be one of ${regionStatuses.join(', ')}`, { fields: [{ field: 'status', message: `must be one of ${regionStatuses.join(', ')}` }] });
      }
      const region = normalizeCode(code);
      return inTransaction(db, async (tx, hooks) => {
        const before = await tx.selectFrom('regions').select('status').where('code', '=', region).executeTakeFirst();
        if (!before) throw notFound('region', code);
        await tx.updateTable('regions').set({ status, updated_at: clock.nowIso() }).where('code', '=', region).execute();
        await deps.events.record(tx, hooks, { type: 'region.status_changed', projectId: null, resourceType: 'region', resourceId: region, data: { from: before.status, to: status } });
        const row = await tx.selectFrom('regions').selectAll().where('code', '=', region).executeTakeFirstOrThrow();
        hooks.afterCommit(() => regionRows.clear());
        return regionView(row);
      });
    },

    async listProducts(filter) {
      const rows = await productRows.get();
      const products = rows.map(productView);
      if (!filter?.region) return products;
      const region = normalizeCode(filter.region);
      return products.filter((p) => p.regions.includes(region));
    },

    async getProduct(code) {
      const wanted = normalizeCode(code);
      const row = (await productRows.get()).find((p) => p.code === wanted);
      if (!row || row.status !== 'active') throw new VmcError('invalid', `unknown product ${code}`, { reason: 'unknown_product', fields: [{ field: 'product', message: `unknown product ${code}` }] });
      return productView(row);
    },

    async listImages() {
      const rows = await imageRows.get();
      return rows.map(imageView);
    },

    invalidate: forgetAll,

    async getImage(slugOrId) {
      const key = slugOrId.trim().toLowerCase();
      const row = (await imageRows.get()).find((i) => i.slug === key || i.id === slugOrId);
      if (!row || row.status === 'deleted') throw new VmcError('invalid', `unknown image ${slugOrId}`, { reason: 'unknown_image', fields: [{ field: 'image', message: `unknown image ${slugOrId}` }] });
      return imageView(row);
    },
  };
}
