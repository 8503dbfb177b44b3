/** The only code that names the catalog's tables: `regions`, `products`, `images`. */
import type { Db, Tx, RegionsTable } from '../db/index.ts';
import type { Selectable } from 'kysely';
import type { Image, Product, Region, RegionStatus } from '../contract/index.ts';
import type { ImageDefinition, ProductDefinition, RegionDefinition } from './vmcloud-defaults.ts';

export interface RegionRecord extends Region {
  ipv4Pool: string;
}

export interface ImageRecord extends Image {
  format: string | null;
  sizeBytes: number | null;
  sha256: string | null;
}

export interface ImageFacts {
  format: string;
  sizeBytes: number;
  sha256: string;
  minDiskGiB: number;
}

type RegionRow = Selectable<RegionsTable>;

const regionOf = (r: RegionRow): RegionRecord => ({
  code: r.code,
  name: r.name,
  city: r.city,
  country: r.country,
  peering: r.peering,
  peering_gbps: r.peering_gbps,
  status: r.status as RegionStatus,
  orderable: r.status === 'operational',
  opens: r.opens,
  ipv4Pool: r.ipv4_pool,
});

export function createCatalogStore(db: Db) {
  return {
    async listRegions(): Promise<RegionRecord[]> {
      return (await db.selectFrom('regions').selectAll().execute()).map(regionOf);
    },

    async setRegionStatus(tx: Tx, code: string, status: RegionStatus, nowIso: string) {
      const before = await tx.selectFrom('regions').select('status').where('code', '=', code).executeTakeFirst();
      if (!before) return null;
      await tx.updateTable('regions').set({ status, updated_at: nowIso }).where('code', '=', code).execute();
      const row = await tx.selectFrom('regions').selectAll().where('code', '=', code).executeTakeFirstOrThrow();
      return { before: before.status as RegionStatus, region: regionOf(row) };
    },

    /** Every product, retired ones too (servers of a retired product still run and bill). */
    async listProducts(): Promise<Array<Product & { active: boolean }>> {
      const rows = await db.selectFrom('products').selectAll().orderBy('sort_order').execute();
      return rows.map((p) => ({
        active: p.status === 'active',
        code: p.code,
        name: p.name,
        family: p.family === 'gpu' ? 'gpu' : 'vps',
        vcpus: p.vcpus,
        memory_mib: p.memory_mib,
        disk_gib: p.disk_gib,
        traffic_tib: p.traffic_tib,
        gpu: p.gpu_model ? { model: p.gpu_model, count: p.gpu_count } : null,
        price: { hourly_cents: p.price_hourly_cents, monthly_cents: p.price_monthly_cents, currency: 'EUR' },
        regions: JSON.parse(p.regions_json) as string[],
        sriov: p.sriov === 1,
      }));
    },

    async listImages(): Promise<ImageRecord[]> {
      const rows = await db
        .selectFrom('images')
        .selectAll()
        .where('status', '!=', 'deleted')
        .orderBy('category')
        .orderBy('slug')
        .execute();
      return rows.map((i) => ({
        id: i.id,
        slug: i.slug,
        name: i.name,
        os_family: i.os_family,
        os_version: i.os_version,
        category: i.category,
        requires_gpu: i.requires_gpu === 1,
        min_disk_gib: i.min_disk_gib,
        status: i.status,
        format: i.format,
        sizeBytes: i.size_bytes === null ? null : Number(i.size_bytes),
        sha256: i.sha256,
      }));
    },

    /** Inserts the defaults that are missing; existing rows (an operator's changes) are kept. */
    async insertDefaults(
      tx: Tx,
      defaults: { regions: RegionDefinition[]; products: ProductDefinition[]; images: ImageDefinition[] },
      make: { nowIso: string; imageId: () => string },
    ) {
      for (const r of defaults.regions) {
        await tx
          .insertInto('regions')
          .values({
            code: r.code,
            name: r.name,
            city: r.city,
            country: r.country,
            peering: r.peering,
            peering_gbps: r.peeringGbps,
            status: r.status,
            opens: r.opens,
            ipv4_pool: r.ipv4Pool,
            created_at: make.nowIso,
            updated_at: make.nowIso,
          })
          .onConflict((oc) => oc.column('code').doNothing())
          .execute();
      }
      for (const [index, p] of defaults.products.entries()) {
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
            sriov: p.sriov ? 1 : 0,
          })
          .onConflict((oc) => oc.column('code').doNothing())
          .execute();
      }
      for (const i of defaults.images) {
        await tx
          .insertInto('images')
          .values({
            id: make.imageId(),
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
            created_at: make.nowIso,
          })
          .onConflict((oc) => oc.column('slug').doNothing())
          .execute();
      }
    },

    /** A new slug becomes a `custom` image; an existing one (a catalog image, say) gets its file's facts. */
    async upsertUploadedImage(
      tx: Tx,
      input: { slug: string; name: string | null; fileName: string; facts: ImageFacts; nowIso: string; newId: string },
    ): Promise<void> {
      const existing = await tx.selectFrom('images').selectAll().where('slug', '=', input.slug).executeTakeFirst();
      if (existing) {
        await tx
          .updateTable('images')
          .set({
            status: 'available',
            format: input.facts.format,
            size_bytes: input.facts.sizeBytes,
            sha256: input.facts.sha256,
            min_disk_gib: Math.max(existing.min_disk_gib, input.facts.minDiskGiB),
            ...(input.name && existing.category === 'custom' ? { name: input.name } : {}),
          })
          .where('id', '=', existing.id)
          .execute();
        return;
      }
      await tx
        .insertInto('images')
        .values({
          id: input.newId,
          slug: input.slug,
          name: input.name ?? input.fileName,
          os_family: input.facts.format === 'iso' ? 'iso' : 'custom',
          os_version: '',
          category: 'custom',
          requires_gpu: 0,
          min_disk_gib: input.facts.minDiskGiB,
          project_id: null,
          status: 'available',
          format: input.facts.format,
          size_bytes: input.facts.sizeBytes,
          sha256: input.facts.sha256,
          created_at: input.nowIso,
        })
        .execute();
    },

    async findImage(q: Tx | Db, slug: string) {
      return q.selectFrom('images').select('id').where('slug', '=', slug).executeTakeFirst();
    },
  };
}

export type CatalogStore = ReturnType<typeof createCatalogStore>;
