// TEMPORARY first-fit scheduler used until src/scheduler lands. Not for commit.
import type { Db, DialectName } from './db/index.ts';
import type { Scheduler } from './scheduler/types.ts';
import type { HostTopology } from './inventory/index.ts';
export function createScheduler(_deps: { db: Db; dialect: DialectName; log?: unknown; clock?: unknown }): Scheduler & { reload(): Promise<void>; refreshHost(id: string): Promise<void> } {
  return {
    async reload() {},
    async refreshHost() {},
    async place(tx, _hooks, req) {
      const hosts = await tx.selectFrom('hosts').selectAll().where('region', '=', req.region).where('state', '=', 'active').where('kind', '=', req.family === 'gpu' ? 'gpu' : 'standard').orderBy('name').execute();
      for (const h of hosts) {
        const topo = JSON.parse(h.topology_json) as HostTopology;
        const allocs = await tx.selectFrom('allocations').selectAll().where('host_id', '=', h.id).execute();
        const used = new Set<number>(allocs.flatMap((a) => JSON.parse(a.threads_json) as number[]));
        const usedGpus = new Set<string>(allocs.flatMap((a) => JSON.parse(a.gpus_json) as string[]));
        const reserved = new Set(topo.reservedThreads);
        for (const node of topo.numaNodes) {
          const cores = node.cores.filter((c) => c.threads.every((t) => !used.has(t) && !reserved.has(t)));
          const need = Math.ceil(req.vcpus / 2);
          const gpus = topo.gpus.filter((g) => g.model === req.gpuModel && !usedGpus.has(g.pciAddress)).slice(0, req.gpuCount);
          if (cores.length >= need && gpus.length >= req.gpuCount) {
            const threads = cores.slice(0, need).flatMap((c) => c.threads);
            const r = await tx.updateTable('hosts').set({ generation: h.generation + 1 }).where('id', '=', h.id).where('generation', '=', h.generation).executeTakeFirst();
            if (Number(r.numUpdatedRows) === 0) continue;
            await tx.insertInto('allocations').values({ server_id: req.serverId, host_id: h.id, threads_json: JSON.stringify(threads), numa_nodes_json: JSON.stringify([node.id]), memory_mib: req.memoryMiB, disk_gib: req.diskGiB, gpus_json: JSON.stringify(gpus.map((g) => g.pciAddress)), vfs_json: '[]', created_at: new Date().toISOString() }).execute();
            return { ok: true, placement: { hostId: h.id, threads: threads.slice(0, req.vcpus), coreThreads: threads, numaNodes: [node.id], memoryMiB: req.memoryMiB, diskGiB: req.diskGiB, gpus: gpus.map((g) => g.pciAddress), vfs: [] } };
          }
        }
      }
      return { ok: false, failure: { region: req.region, hostsConsidered: hosts.length, rejections: [], largestAvailable: { vcpus: 0, memoryMiB: 0, gpus: 0 }, message: `no host in ${req.region.toUpperCase()} fits` } };
    },
    async release(tx, _hooks, serverId) {
      await tx.deleteFrom('allocations').where('server_id', '=', serverId).execute();
    },
  };
}
