/**
 * What a resize could be now, without doing it: the products of the server's kind (the rules of
 * resize.ts) sold in its region, priced against the current product, each placed on the server's host in
 * a transaction that is rolled back (the scheduler's own filters and NUMA fit decide, as for the resize),
 * with the region's availability as `GET /v1/capacity` shows it. Where it does not fit on the host, the
 * answer is the resize's: a simulated server may move (possible while the region has room), a real disk
 * cannot (`migration_unsupported`).
 */
import type { Db } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import { requireProject, type IdentityService, type Principal } from '../identity/index.ts';
import type { Product, ResizeOption, ResizeOptions } from '../contract/index.ts';
import type { ServerRecord } from './store.ts';

export interface ResizeOptionsDeps {
  db: Db;
  catalog: CatalogService;
  scheduler: PlacementScheduler;
  identity: IdentityService;
  hostDriverOf?: (hostId: string) => Promise<string>;
  loadServer(q: Db, projectId: string, serverId: string): Promise<ServerRecord>;
}

class DryRun extends Error {}

/** Which quota a growth by `vcpus` and `gpus` would exceed (as identity.reserveQuota words it), or null. Pure. */
export function quotaOverrun(
  project: { quotas: { vcpus: number; gpus: number }; usage: { vcpus: number; gpus: number } },
  vcpus: number,
  gpus: number,
): string | null {
  const { quotas, usage } = project;
  const over: string[] = [];
  if (vcpus > 0 && usage.vcpus + vcpus > quotas.vcpus) over.push(`vCPUs ${usage.vcpus}+${vcpus}/${quotas.vcpus}`);
  if (gpus > 0 && usage.gpus + gpus > quotas.gpus) over.push(`GPUs ${usage.gpus}+${gpus}/${quotas.gpus}`);
  return over.length > 0 ? over.join(', ') : null;
}

/** Same kind as resize.ts requires: the family and the GPU model. Pure. */
export const sameKind = (a: Product, b: Product) =>
  a.family === b.family && (a.gpu?.model ?? null) === (b.gpu?.model ?? null);

export function createResizeOptions(deps: ResizeOptionsDeps) {
  const { db } = deps;
  return async function resizeOptions(principal: Principal, serverId: string): Promise<ResizeOptions> {
    const caller = requireProject(principal, 'viewer');
    const server = await deps.loadServer(db, caller.projectId, serverId);
    const [from, products, capacity, project] = await Promise.all([
      deps.catalog.productSpec(server.product),
      deps.catalog.listProducts(),
      deps.scheduler.capacity(server.region),
      deps.identity.getProject(principal),
    ]);
    const candidates = products
      .filter((p) => p.code !== from.code && sameKind(p, from) && p.regions.includes(server.region))
      .sort((a, b) => a.price.hourly_cents - b.price.hourly_cents || a.vcpus - b.vcpus);
    const availability = new Map(
      (capacity.find((r) => r.region === server.region)?.products ?? []).map((p) => [p.product, p.availability]),
    );
    const currentDiskGiB = server.diskGiB ?? from.disk_gib;
    const driver = server.hostId && deps.hostDriverOf ? await deps.hostDriverOf(server.hostId) : 'sim';
    const fits = server.hostId ? await fitsOnHost(server, candidates, currentDiskGiB) : new Map<string, string>();

    const options = candidates.map((product): ResizeOption => {
      const region = availability.get(product.code) ?? 'none';
      const failure = fits.get(product.code);
      const onHost = server.hostId ? failure === undefined : null;
      let reason: ResizeOption['reason'] = null;
      let message: string | null = null;
      if (!onHost && server.hostId && driver !== 'sim') {
        reason = 'migration_unsupported';
        message = `${product.name} does not fit on the host of ${server.name} (${failure}), and a real disk cannot move between hosts until live migration exists`;
      } else if (!onHost && region === 'none') {
        reason = 'no_capacity';
        message = failure ?? `no room for ${product.name} in ${server.region.toUpperCase()}`;
      } else {
        // Placed, the resize then counts the growth against the project's quotas (resize.ts).
        const over = quotaOverrun(
          project,
          product.vcpus - from.vcpus,
          (product.gpu?.count ?? 0) - (from.gpu?.count ?? 0),
        );
        if (over) {
          reason = 'quota_exceeded';
          message = `project quota exceeded: ${over}; ask support to raise it`;
        }
      }
      const grows =
        product.vcpus > from.vcpus || (product.vcpus === from.vcpus && product.memory_mib > from.memory_mib);
      return {
        product: product.code,
        name: product.name,
        vcpus: product.vcpus,
        memory_mib: product.memory_mib,
        disk_gib: product.disk_gib,
        gpu: product.gpu,
        price: product.price,
        monthly_difference_cents: product.price.monthly_cents - from.price.monthly_cents,
        direction: grows ? 'grow' : 'shrink',
        disk_gib_after: Math.max(currentDiskGiB, product.disk_gib),
        fits_current_host: onHost,
        region_availability: region,
        possible: reason === null,
        reason,
        message,
      };
    });
    return {
      server_id: server.id,
      product: from.code,
      disk_gib: currentDiskGiB,
      must_stop_first: !(server.desiredState === 'stopped' && server.status === 'stopped'),
      options,
    };
  };

  /**
   * Per product that does not fit on the server's host, the scheduler's reason: each is placed there in one
   * transaction (the server's own claim given back first, as resize does) that is then rolled back.
   */
  async function fitsOnHost(server: ServerRecord, products: Product[], currentDiskGiB: number) {
    const refused = new Map<string, string>();
    if (products.length === 0 || !server.hostId) return refused;
    const hostId = server.hostId;
    try {
      await inTransaction(db, async (tx, hooks) => {
        await deps.scheduler.release(tx, hooks, server.id);
        for (const product of products) {
          const outcome = await deps.scheduler.place(tx, hooks, {
            serverId: server.id,
            projectId: server.projectId,
            region: server.region,
            family: product.family,
            vcpus: product.vcpus,
            memoryMiB: product.memory_mib,
            diskGiB: Math.max(currentDiskGiB, product.disk_gib),
            gpuModel: product.gpu?.model ?? null,
            gpuCount: product.gpu?.count ?? 0,
            sriovVfs: product.sriov ? 1 : 0,
            placementGroupId: server.placementGroupId,
            onlyHostId: hostId,
          });
          if (outcome.ok) await deps.scheduler.release(tx, hooks, server.id);
          else refused.set(product.code, outcome.failure.message);
        }
        throw new DryRun('options only');
      });
    } catch (error) {
      if (!(error instanceof DryRun)) throw error;
    }
    return refused;
  }
}
