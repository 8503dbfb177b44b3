/**
 * The metrics of a `vmcloud serve` replica (`GET /metrics`): what this process observes (HTTP requests,
 * placement decisions, actions it finished, transactions, webhook attempts, its loops) and what the
 * database says at scrape time (fleet, capacity, consumer lag, backups, webhook deliveries). Labels are
 * bounded: regions, products, commands, route patterns, outcomes, never a server or project id.
 * Every family is listed with its labels in docs/observability.md.
 */
import {
  Counter,
  createMetricsRegistry,
  Histogram,
  readAtScrape,
  sharedRead,
  type DomainEvent,
  type Logger,
  type MetricFamily,
  type Registry,
  type ScrapeSample,
} from '../core/index.ts';

/** Seconds: 5 ms to 10 s (API requests, transactions). */
const requestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: 1 s to 1 h (actions: boots, rebuilds, backups). */
const actionBuckets = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds: 10 µs to 100 ms (in-memory placement decisions). */
const decisionBuckets = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1];

export interface RegionCapacitySample {
  region: string;
  compute: { usedVcpus: number; sellableVcpus: number };
  memoryMiB: { used: number; total: number };
  diskGiB: { used: number; total: number };
  gpus: { used: number; total: number };
  products: Array<{ product: string; servers: number; serversWhenEmpty: number }>;
}

export interface ConsumerLag {
  consumer: string;
  /** Events recorded after the consumer's cursor. */
  events: number;
  /** Age of the oldest event it has not consumed; 0 when caught up. */
  seconds: number;
}

/** What the control plane reads at scrape time (wired in src/app.ts). */
export interface ControlPlaneMetricSources {
  /** The families each domain already counts (servers, hosts, failed actions). */
  families: Array<() => Promise<MetricFamily[]>>;
  capacity: () => Promise<RegionCapacitySample[]>;
  consumerLag: () => Promise<ConsumerLag[]>;
  runningActions: () => Promise<Array<{ command: string; count: number; oldestAgeSeconds: number }>>;
  webhookDeliveries: () => Promise<Record<string, number>>;
  backups: () => Promise<{
    targetRpoSeconds: number;
    regions: Array<{ region: string; servers: number; withoutBackup: number; maxRpoSeconds: number | null }>;
  }>;
  /** PostgreSQL's pool (null on SQLite). */
  pool: () => { total: number; idle: number; waiting: number } | null;
}

export interface PlacementObservation {
  region: string;
  ok: boolean;
  /** Why it failed: the filter that rejected the most hosts, `no_hosts`, or `conflict`. */
  reason?: string;
  durationSeconds: number;
}

/** Milliseconds encoded in a time-ordered id (`act_…`: 10 base32 characters after the prefix). */
export function timeOfId(id: string): number | null {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  const body = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  if (body.length !== 10) return null;
  let value = 0;
  for (const char of body) {
    const digit = alphabet.indexOf(char);
    if (digit < 0) return null;
    value = value * 32 + digit;
  }
  return value;
}

/** `2xx`, `4xx`…: the histogram's status label (the counter keeps the exact code). */
export const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

export function createControlPlaneMetrics(deps: { log: Logger; sources: ControlPlaneMetricSources }) {
  const registry: Registry = createMetricsRegistry();
  const { log, sources } = deps;
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'vmcloud_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status'],
    registers,
  });
  const httpDuration = new Histogram({
    name: 'vmcloud_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern, method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    buckets: requestBuckets,
    registers,
  });
  const placements = new Counter({
    name: 'vmcloud_placement_decisions_total',
    help: 'Placement decisions by region and outcome (placed, failed).',
    labelNames: ['region', 'outcome'],
    registers,
  });
  const placementFailures = new Counter({
    name: 'vmcloud_placement_failures_total',
    help: 'Failed placements by region and reason (the filter that rejected the most hosts, no_hosts, conflict).',
    labelNames: ['region', 'reason'],
    registers,
  });
  const placementDuration = new Histogram({
    name: 'vmcloud_placement_decision_duration_seconds',
    help: 'Time spent deciding a placement in memory (all attempts), by outcome.',
    labelNames: ['outcome'],
    buckets: decisionBuckets,
    registers,
  });
  const actionsFinished = new Counter({
    name: 'vmcloud_actions_finished_total',
    help: 'Actions this replica finished, by command and outcome (success, error).',
    labelNames: ['command', 'outcome'],
    registers,
  });
  const actionDuration = new Histogram({
    name: 'vmcloud_action_duration_seconds',
    help: 'Time from an action being started to finished, by command and outcome.',
    labelNames: ['command', 'outcome'],
    buckets: actionBuckets,
    registers,
  });
  const transactionDuration = new Histogram({
    name: 'vmcloud_db_transaction_duration_seconds',
    help: 'Database transactions of this replica, by outcome (commit, rollback).',
    labelNames: ['outcome'],
    buckets: requestBuckets,
    registers,
  });
  const webhookAttempts = new Counter({
    name: 'vmcloud_webhook_attempts_total',
    help: 'Webhook delivery attempts sent by this replica, by outcome (success, http_error, network_error).',
    labelNames: ['outcome'],
    registers,
  });
  const webhookAttemptDuration = new Histogram({
    name: 'vmcloud_webhook_attempt_duration_seconds',
    help: 'Time for a webhook endpoint to answer an attempt.',
    buckets: requestBuckets,
    registers,
  });
  const loopRuns = new Counter({
    name: 'vmcloud_loop_runs_total',
    help: 'Passes of the background loops this replica ran, by loop and outcome (ok, error, skipped: another replica holds the lease).',
    labelNames: ['loop', 'outcome'],
    registers,
  });
  const loopDuration = new Histogram({
    name: 'vmcloud_loop_duration_seconds',
    help: 'Duration of the background loop passes this replica ran, by loop.',
    labelNames: ['loop'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers,
  });

  const simAgentCalls = new Counter({
    name: 'vmcloud_sim_agent_calls_total',
    help: "Calls of the simulated hosts' agents into this replica (the in-process link), by operation.",
    labelNames: ['op'],
    registers,
  });

  // ---- read at scrape time ----
  const familyDeclarations: Record<string, readonly string[]> = {
    vmcloud_servers: ['region', 'status'],
    vmcloud_actions_failed_total: ['command', 'code'],
    vmcloud_hosts: ['region', 'health'],
    // Agents probing each other inside a region (src/telemetry), this and the previous hour.
    vmcloud_region_intra_dc_rtt_p50_seconds: ['region'],
    vmcloud_region_intra_dc_rtt_p99_seconds: ['region'],
    vmcloud_region_intra_dc_packet_loss_ratio: ['region'],
    vmcloud_region_intra_dc_probes: ['region'],
    vmcloud_region_intra_dc_simulated: ['region'],
  };
  const allFamilies = sharedRead(async () => (await Promise.all(sources.families.map((read) => read()))).flat());
  const helpOf: Record<string, string> = {
    vmcloud_servers: 'Servers (not deleted) by region and status.',
    vmcloud_actions_failed_total:
      'Actions that ended in error, by command and error code (counted from the database: every replica answers the same).',
    vmcloud_hosts: 'Hosts by region and health (up, down: silent, unusable: quarantined).',
    vmcloud_region_intra_dc_rtt_p50_seconds:
      'Median round trip between the hosts of a region, agents probing each other (this and the previous hour).',
    vmcloud_region_intra_dc_rtt_p99_seconds:
      '99th percentile round trip between the hosts of a region (this and the previous hour).',
    vmcloud_region_intra_dc_packet_loss_ratio:
      'Share of probes between the hosts of a region left unanswered within 1 s (this and the previous hour).',
    vmcloud_region_intra_dc_probes: 'Probes sent between the hosts of a region (this and the previous hour).',
    vmcloud_region_intra_dc_simulated:
      '1 when the region figures come from the simulated fleet model, 0 when measured over sockets.',
  };
  for (const [name, labelNames] of Object.entries(familyDeclarations)) {
    readAtScrape(registry, {
      name,
      help: helpOf[name],
      type: name.endsWith('_total') ? 'counter' : 'gauge',
      labelNames,
      log,
      read: async () => (await allFamilies()).find((family) => family.name === name)?.samples ?? [],
    });
  }

  const capacity = sharedRead(sources.capacity);
  const perRegion = (
    name: string,
    help: string,
    pick: (region: RegionCapacitySample) => { used: number; sellable: number },
  ) =>
    readAtScrape(registry, {
      name,
      help,
      type: 'gauge',
      labelNames: ['region', 'state'],
      log,
      read: async () =>
        (await capacity()).flatMap((region) => {
          const { used, sellable } = pick(region);
          return [
            { labels: { region: region.region, state: 'used' }, value: used },
            { labels: { region: region.region, state: 'sellable' }, value: sellable },
          ];
        }),
    });
  perRegion(
    'vmcloud_region_vcpus',
    'vCPUs of active hosts by region: claimed (used) and sellable (host reserve excluded).',
    (r) => ({
      used: r.compute.usedVcpus,
      sellable: r.compute.sellableVcpus,
    }),
  );
  perRegion('vmcloud_region_memory_bytes', 'Memory of active hosts by region: claimed (used) and sellable.', (r) => ({
    used: r.memoryMiB.used * 1024 ** 2,
    sellable: r.memoryMiB.total * 1024 ** 2,
  }));
  perRegion('vmcloud_region_disk_bytes', 'Local disk of active hosts by region: claimed (used) and sellable.', (r) => ({
    used: r.diskGiB.used * 1024 ** 3,
    sellable: r.diskGiB.total * 1024 ** 3,
  }));
  perRegion('vmcloud_region_gpus', 'GPUs of active hosts by region: claimed (used) and sellable.', (r) => ({
    used: r.gpus.used,
    sellable: r.gpus.total,
  }));
  readAtScrape(registry, {
    name: 'vmcloud_region_utilisation_ratio',
    help: 'Claimed over sellable, 0 to 1, by region and resource (vcpus, memory, disk, gpus).',
    type: 'gauge',
    labelNames: ['region', 'resource'],
    log,
    read: async () =>
      (await capacity()).flatMap((r) => {
        const ratio = (used: number, total: number) => (total > 0 ? used / total : 0);
        return [
          {
            labels: { region: r.region, resource: 'vcpus' },
            value: ratio(r.compute.usedVcpus, r.compute.sellableVcpus),
          },
          { labels: { region: r.region, resource: 'memory' }, value: ratio(r.memoryMiB.used, r.memoryMiB.total) },
          { labels: { region: r.region, resource: 'disk' }, value: ratio(r.diskGiB.used, r.diskGiB.total) },
          { labels: { region: r.region, resource: 'gpus' }, value: ratio(r.gpus.used, r.gpus.total) },
        ];
      }),
  });
  readAtScrape(registry, {
    name: 'vmcloud_capacity_sellable_servers',
    help: 'How many more servers of each product fit now, by region and product (the capacity API).',
    type: 'gauge',
    labelNames: ['region', 'product'],
    log,
    read: async () =>
      (await capacity()).flatMap((r) =>
        r.products.map((p) => ({ labels: { region: r.region, product: p.product }, value: p.servers })),
      ),
  });
  readAtScrape(registry, {
    name: 'vmcloud_capacity_servers_when_empty',
    help: "How many servers of each product the region's active hosts would hold empty, by region and product.",
    type: 'gauge',
    labelNames: ['region', 'product'],
    log,
    read: async () =>
      (await capacity()).flatMap((r) =>
        r.products.map((p) => ({ labels: { region: r.region, product: p.product }, value: p.serversWhenEmpty })),
      ),
  });

  const lag = sharedRead(sources.consumerLag);
  readAtScrape(registry, {
    name: 'vmcloud_event_consumer_lag_events',
    help: "Events recorded after each event consumer's cursor (seq behind the stream head).",
    type: 'gauge',
    labelNames: ['consumer'],
    log,
    read: async () => (await lag()).map((c) => ({ labels: { consumer: c.consumer }, value: c.events })),
  });
  readAtScrape(registry, {
    name: 'vmcloud_event_consumer_lag_seconds',
    help: 'Age of the oldest event each consumer has not consumed yet (0 when caught up).',
    type: 'gauge',
    labelNames: ['consumer'],
    log,
    read: async () => (await lag()).map((c) => ({ labels: { consumer: c.consumer }, value: c.seconds })),
  });

  const running = sharedRead(sources.runningActions);
  readAtScrape(registry, {
    name: 'vmcloud_actions_running',
    help: 'Actions not finished yet (the reconcilers still converge them), by command.',
    type: 'gauge',
    labelNames: ['command'],
    log,
    read: async () => (await running()).map((r) => ({ labels: { command: r.command }, value: r.count })),
  });
  readAtScrape(registry, {
    name: 'vmcloud_actions_oldest_running_age_seconds',
    help: 'Age of the oldest unfinished action by command: the reconcilers’ lag.',
    type: 'gauge',
    labelNames: ['command'],
    log,
    read: async () => (await running()).map((r) => ({ labels: { command: r.command }, value: r.oldestAgeSeconds })),
  });

  readAtScrape(registry, {
    name: 'vmcloud_webhook_deliveries',
    help: 'Webhook deliveries kept (30 days) by status (pending, succeeded, failed: retries exhausted).',
    type: 'gauge',
    labelNames: ['status'],
    log,
    read: async () =>
      Object.entries(await sources.webhookDeliveries()).map(([status, value]) => ({ labels: { status }, value })),
  });

  const backups = sharedRead(sources.backups);
  readAtScrape(registry, {
    name: 'vmcloud_backup_rpo_seconds',
    help: 'The worst recovery point by region: age of the oldest "newest restorable backup" among scheduled servers.',
    type: 'gauge',
    labelNames: ['region'],
    log,
    read: async () =>
      (await backups()).regions
        .filter((r) => r.maxRpoSeconds !== null)
        .map((r) => ({ labels: { region: r.region }, value: r.maxRpoSeconds! })),
  });
  readAtScrape(registry, {
    name: 'vmcloud_backup_rpo_target_seconds',
    help: 'The promised recovery point objective (RPO).',
    type: 'gauge',
    labelNames: [],
    log,
    read: async () => [{ labels: {}, value: (await backups()).targetRpoSeconds }],
  });
  readAtScrape(registry, {
    name: 'vmcloud_backup_servers_without_backup',
    help: 'Servers with a backup schedule and no restorable backup yet, by region.',
    type: 'gauge',
    labelNames: ['region'],
    log,
    read: async () => (await backups()).regions.map((r) => ({ labels: { region: r.region }, value: r.withoutBackup })),
  });

  readAtScrape(registry, {
    name: 'vmcloud_db_pool_connections',
    help: 'PostgreSQL pool connections of this replica by state (open, idle, waiting: clients queued for one).',
    type: 'gauge',
    labelNames: ['state'],
    log,
    read: async (): Promise<ScrapeSample[]> => {
      const pool = sources.pool();
      if (!pool) return [];
      return [
        { labels: { state: 'open' }, value: pool.total },
        { labels: { state: 'idle' }, value: pool.idle },
        { labels: { state: 'waiting' }, value: pool.waiting },
      ];
    },
  });

  return {
    registry,
    render: () => registry.metrics(),

    /** One answered request: `route` is the route pattern (`/v1/servers/:id`), never the URL. */
    observeRequest(route: string, method: string, status: number, seconds: number) {
      httpRequests.inc({ route, method, status: String(status) });
      httpDuration.observe({ route, method, status_class: statusClass(status) }, seconds);
    },

    observePlacement(observation: PlacementObservation) {
      placements.inc({ region: observation.region, outcome: observation.ok ? 'placed' : 'failed' });
      if (!observation.ok)
        placementFailures.inc({ region: observation.region, reason: observation.reason ?? 'unknown' });
      placementDuration.observe({ outcome: observation.ok ? 'placed' : 'failed' }, observation.durationSeconds);
    },

    /** Events this replica recorded (the bus): `action.finished` counts and times actions. */
    observeEvent(event: DomainEvent) {
      if (event.type !== 'action.finished') return;
      const command = String(event.data.command ?? 'unknown');
      const outcome = event.data.status === 'success' ? 'success' : 'error';
      actionsFinished.inc({ command, outcome });
      const startedMs = timeOfId(event.resourceId);
      const finishedMs = Date.parse(event.at);
      if (startedMs !== null && Number.isFinite(finishedMs) && finishedMs >= startedMs)
        actionDuration.observe({ command, outcome }, (finishedMs - startedMs) / 1000);
    },

    observeTransaction(outcome: 'commit' | 'rollback', seconds: number) {
      transactionDuration.observe({ outcome }, seconds);
    },

    observeWebhookAttempt(result: { statusCode: number | null; error: string | null; latencyMs: number }) {
      const outcome = result.error === null ? 'success' : result.statusCode === null ? 'network_error' : 'http_error';
      webhookAttempts.inc({ outcome });
      webhookAttemptDuration.observe(result.latencyMs / 1000);
    },

    /** One call of a simulated host's agent through the in-process link (`desired`, `heartbeat`, …). */
    observeSimAgentCall(op: string) {
      simAgentCalls.inc({ op });
    },

    /** Wraps one pass of a background loop: `null` from the pass means another replica holds its lease. */
    async timeLoop<T>(loop: string, pass: () => Promise<T>): Promise<T> {
      const started = performance.now();
      try {
        const result = await pass();
        loopRuns.inc({ loop, outcome: result === null ? 'skipped' : 'ok' });
        if (result !== null) loopDuration.observe({ loop }, (performance.now() - started) / 1000);
        return result;
      } catch (error) {
        loopRuns.inc({ loop, outcome: 'error' });
        throw error;
      }
    },
  };
}

export type ControlPlaneMetrics = ReturnType<typeof createControlPlaneMetrics>;
