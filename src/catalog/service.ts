/**
 * The catalog: regions (and whether they are orderable), products with prices, images. Lookups are served
 * from a per-process cache with a short time-to-live (regions 1 s, products and images 5 s); a change made
 * through this service is seen at once in this process, and in the other replicas when its change notice
 * arrives (PostgreSQL LISTEN/NOTIFY, src/db/notify.ts): milliseconds after the commit.
 */
import type { Db, Notifier } from '../db/index.ts';
import { inTransaction, insideAnyTransaction, outsideTransaction } from '../db/index.ts';
import { invalid, notFound, newId, VmcError, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { Image, Product, Region, RegionStatus } from '../contract/index.ts';
import { regionStatuses } from '../contract/index.ts';
import { defaultImages, defaultProducts, defaultRegions } from './vmcloud-defaults.ts';
import { createCatalogStore, type ImageFacts, type ImageRecord, type RegionRecord } from './store.ts';

export interface CatalogService {
  /** Loads the VMCloud defaults where missing; existing rows (an operator's changes) are kept. */
  loadDefaults(): Promise<void>;
  /** Reads regions, products and images once, so that lookups inside transactions never wait for a read. */
  warm(): Promise<void>;
  listRegions(): Promise<Region[]>;
  getRegion(code: string): Promise<Region>;
  /** The region with its address pool (for the compute and network domains). */
  getRegionRecord(code: string): Promise<RegionRecord>;
  setRegionStatus(code: string, status: RegionStatus): Promise<Region>;
  listProducts(filter?: { region?: string }): Promise<Product[]>;
  /** A product that can be ordered now. */
  getProduct(code: string): Promise<Product>;
  /** Any product, retired ones too: the size of servers that already exist. */
  productSpec(code: string): Promise<Product>;
  listImages(): Promise<Image[]>;
  getImage(slugOrId: string): Promise<Image>;
  /** The file format of an image (`qcow2`, `raw`, `iso`), null before its file was uploaded. */
  imageFormat(slugOrId: string): Promise<string | null>;
  /** Makes an uploaded image available: a new `custom` image, or a catalog image gets its file. */
  recordUploadedImage(input: {
    slug: string;
    name: string | null;
    fileName: string;
    facts: ImageFacts;
  }): Promise<ImageRecord>;
}

export function normalizeCode(code: string): string {
  return code.trim().toLowerCase().replace(/\+$/, '-plus');
}

/** How long lookups may serve a cached catalog: regions change status rarely, products and images more rarely. */
export const catalogCacheTtlMs = { regions: 1000, products: 5000, images: 5000 };

/**
 * A value read at most once per `ttlMs` (per process); `clear` forgets it after a local change, `expire`
 * after another replica's. Past its time to live the old value is still served while a fresh read runs in
 * the background: a lookup inside a caller's transaction must never wait for a read of its own (on SQLite
 * the one connection is that transaction's until it ends; on PostgreSQL every pooled connection may be
 * held by transactions waiting for this one — src/db/transaction-guard.ts). Only the very first read
 * waits; the control plane makes it at start (`warm`).
 */
function cached<T>(ttlMs: number, nowMs: () => number, load: () => Promise<T>) {
  let value: { at: number; promise: Promise<T> } | null = null;
  let refreshing: Promise<T> | null = null;
  /** The read `expire` started, which lookups outside transactions wait for. */
  let awaitedOutside: Promise<T> | null = null;
  const start = () => {
    const entry = { at: nowMs(), promise: load() };
    entry.promise.then(
      () => {
        if (!value || value.at <= entry.at) value = entry;
      },
      () => undefined,
    );
    return entry;
  };
  /** A read nobody inside a transaction waits for runs outside it (`background`); the first read does not. */
  const refresh = (background: boolean) => {
    if (refreshing) return refreshing;
    const { promise } = background ? outsideTransaction(start) : start();
    refreshing = promise;
    void promise.catch(() => undefined).finally(() => (refreshing = null));
    return promise;
  };
  return {
    get(): Promise<T> {
      if (!value) return refresh(false);
      if (awaitedOutside && !insideAnyTransaction()) return awaitedOutside;
      if (nowMs() - value.at >= ttlMs) void refresh(true);
      return value.promise;
    },
    /**
     * Another replica changed it (or its notices may have been missed): read again now. Lookups wait for
     * that read, except from inside a transaction: those get the old value (with every pooled connection
     * taken, the read could wait for transactions that wait for this one).
     */
    expire() {
      if (!value) return;
      value = { ...value, at: Number.NEGATIVE_INFINITY };
      const fresh = outsideTransaction(start).promise;
      awaitedOutside = fresh;
      fresh
        .finally(() => {
          if (awaitedOutside === fresh) awaitedOutside = null;
        })
        .catch(() => undefined);
    },
    /** After a local change: the next lookups wait for a fresh read (started now, so it sees the change). */
    clear() {
      const entry = start();
      value = entry;
      entry.promise.catch(() => {
        if (value === entry) value = null;
      });
    },
  };
}

const publicRegion = ({ ipv4Pool: _pool, ...region }: RegionRecord): Region => region;
const publicImage = ({ format: _f, sizeBytes: _s, sha256: _h, ...image }: ImageRecord): Image => image;

/** Change notices between replicas: which part of the catalog changed (`regions`, `products`, `images`). */
const catalogChannel = 'catalog';
type CatalogPart = 'regions' | 'products' | 'images';

export function createCatalogService(deps: {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  /** Tells the other replicas (PostgreSQL) what changed; absent: one process. */
  notifier?: Pick<Notifier, 'publish' | 'publishInTx' | 'subscribe' | 'onResync'>;
}): CatalogService {
  const { db, clock } = deps;
  const store = createCatalogStore(db);
  const regionOrder = new Map(defaultRegions.map((r, i) => [r.code, i]));

  const regions = cached(catalogCacheTtlMs.regions, clock.nowMs, async () =>
    (await store.listRegions()).sort(
      (a, b) => (regionOrder.get(a.code) ?? 99) - (regionOrder.get(b.code) ?? 99) || a.code.localeCompare(b.code),
    ),
  );
  const products = cached(catalogCacheTtlMs.products, clock.nowMs, () => store.listProducts());
  const publicProduct = ({ active: _active, ...product }: Product & { active: boolean }): Product => product;
  const images = cached(catalogCacheTtlMs.images, clock.nowMs, () => store.listImages());
  const parts: Record<CatalogPart, { expire(): void }> = { regions, products, images };
  deps.notifier?.subscribe(catalogChannel, (part) => parts[part as CatalogPart]?.expire());
  deps.notifier?.onResync(() => Object.values(parts).forEach((part) => part.expire()));
  const changedElsewhere = (...changed: CatalogPart[]) =>
    changed.forEach((part) => deps.notifier?.publish(catalogChannel, part));

  async function regionRecord(code: string): Promise<RegionRecord> {
    const wanted = normalizeCode(code);
    const found = (await regions.get()).find((r) => r.code === wanted);
    if (!found) throw notFound('region', code);
    return found;
  }

  async function imageRecord(slugOrId: string): Promise<ImageRecord> {
    const key = slugOrId.trim().toLowerCase();
    const found = (await images.get()).find((i) => i.slug === key || i.id === slugOrId);
    if (!found)
      throw new VmcError('invalid', `unknown image ${slugOrId}`, {
        reason: 'unknown_image',
        fields: [{ field: 'image', message: `unknown image ${slugOrId}` }],
      });
    return found;
  }

  return {
    async loadDefaults() {
      await inTransaction(db, (tx) =>
        store.insertDefaults(
          tx,
          { regions: defaultRegions, products: defaultProducts, images: defaultImages },
          { nowIso: clock.nowIso(), imageId: () => newId('image', clock.nowMs()) },
        ),
      );
      regions.clear();
      products.clear();
      images.clear();
      changedElsewhere('regions', 'products', 'images');
    },

    async warm() {
      await Promise.all([regions.get(), products.get(), images.get()]);
    },

    listRegions: async () => (await regions.get()).map(publicRegion),
    getRegion: async (code) => publicRegion(await regionRecord(code)),
    getRegionRecord: regionRecord,

    async setRegionStatus(code, status) {
      if (!(regionStatuses as readonly string[]).includes(status)) {
        throw invalid(`status must be one of ${regionStatuses.join(', ')}`, {
          fields: [{ field: 'status', message: `must be one of ${regionStatuses.join(', ')}` }],
        });
      }
      const region = normalizeCode(code);
      return inTransaction(db, async (tx, hooks) => {
        const changed = await store.setRegionStatus(tx, region, status, clock.nowIso());
        if (!changed) throw notFound('region', code);
        if (changed.before !== status) {
          await deps.events.record(tx, hooks, {
            type: 'region.status_changed',
            projectId: null,
            resourceType: 'region',
            resourceId: region,
            data: { from: changed.before, to: status },
          });
        }
        hooks.afterCommit(() => regions.clear());
        await deps.notifier?.publishInTx(tx, catalogChannel, 'regions');
        return publicRegion(changed.region);
      });
    },

    async listProducts(filter) {
      const all = (await products.get()).filter((p) => p.active).map(publicProduct);
      if (!filter?.region) return all;
      const region = normalizeCode(filter.region);
      return all.filter((p) => p.regions.includes(region));
    },

    async getProduct(code) {
      const wanted = normalizeCode(code);
      const found = (await products.get()).find((p) => p.code === wanted && p.active);
      if (!found)
        throw new VmcError('invalid', `unknown product ${code}`, {
          reason: 'unknown_product',
          fields: [{ field: 'product', message: `unknown product ${code}` }],
        });
      return publicProduct(found);
    },

    async productSpec(code) {
      const found = (await products.get()).find((p) => p.code === code);
      if (!found) throw notFound('product', code);
      return publicProduct(found);
    },

    listImages: async () => (await images.get()).map(publicImage),
    getImage: async (slugOrId) => publicImage(await imageRecord(slugOrId)),
    imageFormat: async (slugOrId) => (await imageRecord(slugOrId)).format,

    async recordUploadedImage(input) {
      try {
        await inTransaction(db, (tx) =>
          store.upsertUploadedImage(tx, { ...input, nowIso: clock.nowIso(), newId: newId('image', clock.nowMs()) }),
        );
      } finally {
        images.clear();
        changedElsewhere('images');
      }
      return imageRecord(input.slug);
    },
  };
}
