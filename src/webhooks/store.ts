/** The only code that names the webhooks domain's tables. JSON columns are parsed here, once. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DialectName } from '../db/index.ts';
import {
  webhookTablesOf,
  type WebhookAttemptsTable,
  type WebhookDeliveriesTable,
  type WebhookEndpointsTable,
  type WebhookTables,
} from './tables.ts';

type Q = { selectFrom: unknown };
const t = (q: Q): Kysely<WebhookTables> => webhookTablesOf(q);

export interface EndpointRecord {
  id: string;
  projectId: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  secretId: string;
  previousSecretId: string | null;
  previousSecretExpiresAt: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

const endpointOf = (r: Selectable<WebhookEndpointsTable>): EndpointRecord => ({
  id: r.id,
  projectId: r.project_id,
  url: r.url,
  description: r.description,
  events: JSON.parse(r.events_json) as string[],
  enabled: Number(r.enabled) === 1,
  disabledReason: r.disabled_reason,
  secretId: r.secret_id,
  previousSecretId: r.previous_secret_id,
  previousSecretExpiresAt: r.previous_secret_expires_at,
  failingSince: r.failing_since,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertEndpoint(q: Q, e: EndpointRecord): Promise<void> {
  await t(q)
    .insertInto('webhook_endpoints')
    .values({
      id: e.id,
      project_id: e.projectId,
      url: e.url,
      description: e.description,
      events_json: JSON.stringify(e.events),
      enabled: e.enabled ? 1 : 0,
      disabled_reason: e.disabledReason,
      secret_id: e.secretId,
      previous_secret_id: e.previousSecretId,
      previous_secret_expires_at: e.previousSecretExpiresAt,
      failing_since: e.failingSince,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
    })
    .execute();
}

export interface EndpointChange {
  url?: string;
  description?: string;
  events?: string[];
  enabled?: boolean;
  disabledReason?: string | null;
  secretId?: string;
  previousSecretId?: string | null;
  previousSecretExpiresAt?: string | null;
  failingSince?: string | null;
  updatedAt: string;
}

export async function updateEndpoint(q: Q, id: string, c: EndpointChange): Promise<void> {
  await t(q)
    .updateTable('webhook_endpoints')
    .set({
      ...(c.url !== undefined && { url: c.url }),
      ...(c.description !== undefined && { description: c.description }),
      ...(c.events !== undefined && { events_json: JSON.stringify(c.events) }),
      ...(c.enabled !== undefined && { enabled: c.enabled ? 1 : 0 }),
      ...(c.disabledReason !== undefined && { disabled_reason: c.disabledReason }),
      ...(c.secretId !== undefined && { secret_id: c.secretId }),
      ...(c.previousSecretId !== undefined && { previous_secret_id: c.previousSecretId }),
      ...(c.previousSecretExpiresAt !== undefined && { previous_secret_expires_at: c.previousSecretExpiresAt }),
      ...(c.failingSince !== undefined && { failing_since: c.failingSince }),
      updated_at: c.updatedAt,
    })
    .where('id', '=', id)
    .execute();
}

export async function findEndpoint(q: Q, projectId: string | null, id: string): Promise<EndpointRecord | null> {
  let query = t(q).selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  if (projectId !== null) query = query.where('project_id', '=', projectId);
  const row = await query.executeTakeFirst();
  return row ? endpointOf(row) : null;
}

export async function endpointsByIds(q: Q, ids: string[]): Promise<EndpointRecord[]> {
  if (ids.length === 0) return [];
  const rows = await t(q).selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
  return rows.map(endpointOf);
}

export async function listEndpoints(
  q: Q,
  projectId: string,
  afterId: string | null,
  limit: number,
): Promise<EndpointRecord[]> {
  let query = t(q).selectFrom('webhook_endpoints').selectAll().where('project_id', '=', projectId);
  if (afterId) query = query.where('id', '>', afterId);
  return (await query.orderBy('id').limit(limit).execute()).map(endpointOf);
}

export async function countEndpoints(q: Q, projectId: string): Promise<number> {
  const row = await t(q)
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The enabled endpoints of a project and their filters: what an event of that project fans out to. */
export async function enabledEndpointsOf(q: Q, projectId: string): Promise<Array<{ id: string; events: string[] }>> {
  const rows = await t(q)
    .selectFrom('webhook_endpoints')
    .select(['id', 'events_json'])
    .where('project_id', '=', projectId)
    .where('enabled', '=', 1)
    .execute();
  return rows.map((r) => ({ id: r.id, events: JSON.parse(r.events_json) as string[] }));
}

/** Every enabled endpoint of every project (public status events). */
export async function enabledEndpointsOfAll(q: Q): Promise<Array<{ id: string; projectId: string; events: string[] }>> {
  const rows = await t(q)
    .selectFrom('webhook_endpoints')
    .select(['id', 'project_id', 'events_json'])
    .where('enabled', '=', 1)
    .execute();
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, events: JSON.parse(r.events_json) as string[] }));
}

/** Enabled endpoints whose every delivery has failed since before `cutoff`. */
export async function endpointsFailingSince(q: Q, cutoff: string): Promise<EndpointRecord[]> {
  const rows = await t(q)
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('enabled', '=', 1)
    .where('failing_since', 'is not', null)
    .where('failing_since', '<', cutoff)
    .execute();
  return rows.map(endpointOf);
}

export async function deleteEndpoint(q: Q, id: string): Promise<void> {
  await t(q).deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
  await t(q).deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
  await t(q).deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

// ---- deliveries ----------------------------------------------------------------------------------------

export type NewDelivery = Omit<WebhookDeliveriesTable, 'seq' | 'tx_id'>;

export async function insertDeliveries(q: Q, rows: NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  // 18 columns a row: stay far below SQLite's parameter limit.
  for (let i = 0; i < rows.length; i += 500)
    await t(q)
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + 500))
      .execute();
}

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

const numeric = (r: DeliveryRow): DeliveryRow => ({
  ...r,
  seq: Number(r.seq),
  tx_id: String(r.tx_id),
  attempts: Number(r.attempts),
  next_attempt_at_ms: Number(r.next_attempt_at_ms),
  lease_until_ms: Number(r.lease_until_ms),
  created_at_ms: Number(r.created_at_ms),
  last_status_code: r.last_status_code === null ? null : Number(r.last_status_code),
});

/**
 * Takes up to `limit` due deliveries for this worker until `leaseUntilMs`: pending, due, not held by
 * another worker, of an enabled endpoint, and each the oldest pending delivery of its resource for its
 * endpoint (in order per resource: a later one waits while an earlier one is pending). On PostgreSQL only
 * rows of transactions that have ended count (as in src/events/ordered-read.ts), and rows another worker
 * is claiming are skipped.
 */
export async function claimDue(
  q: Q,
  dialect: DialectName,
  nowMs: number,
  leaseUntilMs: number,
  limit: number,
): Promise<DeliveryRow[]> {
  const db = t(q);
  const earlier = dialect === 'postgres' ? sql`(p.tx_id, p.seq) < (d.tx_id, d.seq)` : sql`p.seq < d.seq`;
  const settled = dialect === 'postgres' ? sql`and d.tx_id < pg_snapshot_xmin(pg_current_snapshot())` : sql``;
  const lock = dialect === 'postgres' ? sql`for update of d skip locked` : sql``;
  const { rows } = await sql<DeliveryRow>`
    update webhook_deliveries set lease_until_ms = ${leaseUntilMs}
    where seq in (
      select d.seq from webhook_deliveries d
      join webhook_endpoints e on e.id = d.endpoint_id and e.enabled = 1
      where d.status = 'pending' and d.next_attempt_at_ms <= ${nowMs} and d.lease_until_ms <= ${nowMs} ${settled}
        and not exists (
          select 1 from webhook_deliveries p
          where p.endpoint_id = d.endpoint_id and p.resource_id = d.resource_id and p.status = 'pending' and ${earlier}
        )
      order by d.seq
      limit ${limit}
      ${lock}
    ) and lease_until_ms <= ${nowMs}
    returning *`.execute(db);
  return rows.map(numeric).sort((a, b) => a.seq - b.seq);
}

export interface AttemptOutcome {
  delivery: DeliveryRow;
  attempt: Omit<WebhookAttemptsTable, 'delivery_id' | 'endpoint_id' | 'attempt'>;
  /** succeeded, or pending with the next attempt's time, or failed (the schedule is exhausted). */
  next: { status: 'succeeded' } | { status: 'pending'; atMs: number } | { status: 'failed' };
}

/**
 * Writes the outcomes of a batch (the worker's lease still held: a delivery another worker took over since
 * keeps that worker's state, but every attempt is logged) and the endpoints' failure records.
 */
export async function recordOutcomes(q: Q, outcomes: AttemptOutcome[], leaseUntilMs: number, nowIso: string) {
  const db = t(q);
  if (outcomes.length === 0) return;
  const attempts = outcomes.map((o) => ({
    ...o.attempt,
    delivery_id: o.delivery.id,
    endpoint_id: o.delivery.endpoint_id,
    attempt: o.delivery.attempts + 1,
  }));
  for (let i = 0; i < attempts.length; i += 500)
    await db
      .insertInto('webhook_attempts')
      .values(attempts.slice(i, i + 500))
      .execute();

  const succeededByCode = new Map<number, string[]>();
  for (const o of outcomes) {
    if (o.next.status === 'succeeded') {
      const code = o.attempt.status_code ?? 0;
      succeededByCode.set(code, [...(succeededByCode.get(code) ?? []), o.delivery.id]);
      continue;
    }
    await db
      .updateTable('webhook_deliveries')
      .set({
        status: o.next.status,
        attempts: o.delivery.attempts + 1,
        next_attempt_at_ms: o.next.status === 'pending' ? o.next.atMs : o.delivery.next_attempt_at_ms,
        lease_until_ms: 0,
        last_status_code: o.attempt.status_code,
        last_error: o.attempt.error,
      })
      .where('id', '=', o.delivery.id)
      .where('lease_until_ms', '=', leaseUntilMs)
      .execute();
  }
  for (const [code, ids] of succeededByCode)
    for (let i = 0; i < ids.length; i += 500)
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: 'succeeded',
          attempts: eb('attempts', '+', 1),
          lease_until_ms: 0,
          last_status_code: code,
          last_error: null,
          delivered_at: nowIso,
        }))
        .where('id', 'in', ids.slice(i, i + 500))
        .where('lease_until_ms', '=', leaseUntilMs)
        .execute();

  const failing = [
    ...new Set(outcomes.filter((o) => o.next.status !== 'succeeded').map((o) => o.delivery.endpoint_id)),
  ];
  const working = [
    ...new Set(outcomes.filter((o) => o.next.status === 'succeeded').map((o) => o.delivery.endpoint_id)),
  ];
  if (failing.length > 0)
    await db
      .updateTable('webhook_endpoints')
      .set({ failing_since: nowIso })
      .where('id', 'in', failing)
      .where('failing_since', 'is', null)
      .execute();
  if (working.length > 0)
    await db
      .updateTable('webhook_endpoints')
      .set({ failing_since: null })
      .where('id', 'in', working)
      .where('failing_since', 'is not', null)
      .execute();
}

export async function listDeliveries(
  q: Q,
  endpointId: string,
  filter: { status?: string; beforeSeq: number | null; limit: number },
): Promise<DeliveryRow[]> {
  let query = t(q).selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.beforeSeq !== null) query = query.where('seq', '<', filter.beforeSeq);
  return (await query.orderBy('seq', 'desc').limit(filter.limit).execute()).map(numeric);
}

export async function findDelivery(q: Q, endpointId: string, id: string): Promise<DeliveryRow | null> {
  const row = await t(q)
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? numeric(row) : null;
}

export async function attemptsOf(q: Q, deliveryIds: string[]): Promise<Selectable<WebhookAttemptsTable>[]> {
  if (deliveryIds.length === 0) return [];
  const rows = await t(q)
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('delivery_id')
    .orderBy('attempt')
    .execute();
  return rows.map((r) => ({
    ...r,
    attempt: Number(r.attempt),
    at_ms: Number(r.at_ms),
    latency_ms: Number(r.latency_ms),
    status_code: r.status_code === null ? null : Number(r.status_code),
  }));
}

/** Makes a delivery due now again (a manual retry); a finished one is pending again. */
export async function requeueDelivery(q: Q, id: string, nowMs: number): Promise<void> {
  await t(q)
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at_ms: nowMs })
    .where('id', '=', id)
    .execute();
}

/** Attempts older than the cutoff, and finished deliveries created before it. */
export async function pruneOlderThan(q: Q, cutoffMs: number): Promise<{ attempts: number; deliveries: number }> {
  const a = await t(q).deleteFrom('webhook_attempts').where('at_ms', '<', cutoffMs).executeTakeFirst();
  const d = await t(q)
    .deleteFrom('webhook_deliveries')
    .where('created_at_ms', '<', cutoffMs)
    .where('status', '!=', 'pending')
    .executeTakeFirst();
  return { attempts: Number(a.numDeletedRows), deliveries: Number(d.numDeletedRows) };
}

/** Counts by status (tests, benchmarks, metrics). */
export async function deliveryCounts(q: Q): Promise<Record<string, number>> {
  const rows = await t(q)
    .selectFrom('webhook_deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
