/**
 * The metering consumer's handler: events → usage intervals and downtime intervals, in the transaction
 * that advances the consumer's cursor (src/events/consumer.ts). Exactly once: an event already applied (a
 * replay after a crash, a cursor moved back) is skipped, by its id, in that same transaction.
 *
 * What bills: a server from `server.created` to `server.deleted`, whatever its power state (stopped servers
 * keep their pinned threads, disk and address reserved: they bill, as at Hetzner); a volume from
 * `volume.created` to `volume.deleted` at its size (a resize closes the interval and opens one at the new
 * size); a backup's stored bytes from `backup.succeeded` to `backup.deleted`; a primary IPv4 from
 * `primary_ip.created` to `primary_ip.deleted`, assigned or not (the address stays reserved to the project),
 * and a floating IPv4 likewise (IPv6 /64s are free). GPU hours are the hours of a GPU product's servers
 * (priced in the product). Traffic comes through a port (ports.ts).
 *
 * Downtime (SLA): while the customer wants a server running (created or started, not stopped or deleted),
 * `server.unknown` (its host down or its agent unreachable) opens an interval with cause `host_down`,
 * `server.error` one with cause `failed_start` (it was starting) or `crash`; the next `server.started`,
 * `server.rebooted`, a customer stop or delete closes it. A guest that shuts itself down reports
 * `server.stopped`, which opens nothing.
 */
import type { Tx } from '../db/index.ts';
import type { Event } from '../contract/events.ts';
import type { MeteringStore } from './metering-store.ts';
import { productItem } from './prices.ts';

const gib = 1024 ** 3;
const idFrom = (prefix: string, eventId: string) => `${prefix}_${eventId.replace(/^evt_/, '')}`;

export async function applyMeteringEvents(store: MeteringStore, events: readonly Event[], tx: Tx): Promise<number> {
  let applied = 0;
  for (const event of events) {
    if (!handled.has(event.type)) continue;
    const atMs = Date.parse(event.at);
    if (!(await store.markApplied(tx, event.id, atMs))) continue;
    await applyOne(store, event, atMs, tx);
    applied++;
  }
  return applied;
}

const handled = new Set<string>([
  'server.created',
  'server.starting',
  'server.stopping',
  'server.deleting',
  'server.started',
  'server.rebooted',
  'server.stopped',
  'server.unknown',
  'server.error',
  'server.migrated',
  'server.deleted',
  'volume.created',
  'volume.resizing',
  'volume.deleted',
  'backup.created',
  'backup.succeeded',
  'backup.failed',
  'backup.deleted',
  'primary_ip.created',
  'primary_ip.deleted',
  'floating_ip.created',
  'floating_ip.deleted',
]);

async function applyOne(store: MeteringStore, event: Event, atMs: number, tx: Tx): Promise<void> {
  const projectId = event.project_id ?? '';
  const id = event.resource.id;
  switch (event.type) {
    case 'server.created':
      await store.openUsage(tx, {
        id: idFrom('use', event.id),
        project_id: projectId,
        kind: 'server',
        resource_id: id,
        item: productItem(event.data.product),
        region: event.data.region,
        quantity_milli: 1000,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      await store.putServer(tx, {
        server_id: id,
        project_id: projectId,
        product: event.data.product,
        region: event.data.region,
        host_id: event.data.host_id,
        wants_running: 1,
        status: 'pending',
      });
      return;
    case 'server.starting':
      await store.updateServer(tx, id, { wants_running: 1 });
      return;
    case 'server.stopping':
    case 'server.deleting':
      await store.updateServer(tx, id, { wants_running: 0 });
      await store.closeDowntime(tx, id, atMs);
      return;
    case 'server.started':
    case 'server.rebooted':
    case 'server.stopped':
      await store.updateServer(tx, id, { status: event.data.to });
      await store.closeDowntime(tx, id, atMs);
      return;
    case 'server.unknown':
    case 'server.error': {
      const server = await store.server(tx, id);
      await store.updateServer(tx, id, { status: event.data.to });
      if (!server || server.wants_running !== 1) return;
      const cause =
        event.type === 'server.unknown'
          ? 'host_down'
          : ['pending', 'starting'].includes(event.data.from)
            ? 'failed_start'
            : 'crash';
      await store.openDowntime(tx, {
        id: idFrom('dt', event.id),
        project_id: projectId,
        server_id: id,
        region: server.region,
        host_id: server.host_id,
        cause,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      return;
    }
    case 'server.migrated':
      await store.updateServer(tx, id, { host_id: event.data.to_host_id });
      return;
    case 'server.deleted':
      await store.closeUsage(tx, id, atMs);
      await store.closeDowntime(tx, id, atMs);
      await store.deleteServer(tx, id);
      return;
    case 'volume.created':
      await store.openUsage(tx, {
        id: idFrom('use', event.id),
        project_id: projectId,
        kind: 'volume',
        resource_id: id,
        item: 'volume_gib',
        region: event.data.region,
        quantity_milli: event.data.size_gib * 1000,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      return;
    case 'volume.resizing': {
      const open = (await store.usageBetween(tx, atMs, atMs + 1, projectId)).find(
        (u) => u.resourceId === id && u.endMs === null,
      );
      await store.closeUsage(tx, id, atMs);
      await store.openUsage(tx, {
        id: idFrom('use', event.id),
        project_id: projectId,
        kind: 'volume',
        resource_id: id,
        item: 'volume_gib',
        region: open?.region ?? '*',
        quantity_milli: event.data.to_gib * 1000,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      return;
    }
    case 'volume.deleted':
      await store.closeUsage(tx, id, atMs);
      return;
    case 'backup.created':
      await store.openUsage(tx, {
        id: idFrom('use', event.id),
        project_id: projectId,
        kind: 'backup',
        resource_id: id,
        item: 'backup_gib',
        region: event.data.region,
        quantity_milli: 0,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      return;
    case 'backup.succeeded':
      await store.setUsageQuantity(tx, id, Math.ceil((event.data.stored_bytes * 1000) / gib), atMs);
      return;
    case 'backup.failed':
      await store.deleteOpenUsage(tx, id);
      return;
    case 'backup.deleted':
      await store.closeUsage(tx, id, atMs);
      return;
    case 'primary_ip.created':
    case 'floating_ip.created':
      if (event.data.type !== 'ipv4') return;
      await store.openUsage(tx, {
        id: idFrom('use', event.id),
        project_id: projectId,
        kind: 'ip',
        resource_id: id,
        item: event.type === 'floating_ip.created' ? 'floating_ipv4' : 'ipv4',
        region: event.data.region,
        quantity_milli: 1000,
        started_at_ms: atMs,
        ended_at_ms: null,
      });
      return;
    case 'primary_ip.deleted':
    case 'floating_ip.deleted':
      await store.closeUsage(tx, id, atMs);
      return;
    default:
      return;
  }
}
