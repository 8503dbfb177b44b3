import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/**
 * Webhooks: endpoints (their signing secrets sealed in `sealed_secrets`), deliveries written in the
 * transaction of the event they carry (an outbox per endpoint: seq + tx_id give the order, as for events),
 * and the attempts of each delivery (kept 30 days).
 */
export function webhooksMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('events_json', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('secret_id', 'text', (c) => c.notNull())
        .addColumn('previous_secret_id', 'text')
        .addColumn('previous_secret_expires_at', 'text')
        .addColumn('failing_since', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_endpoints_project')
        .on('webhook_endpoints')
        .columns(['project_id', 'enabled'])
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('tx_id', dialect === 'postgres' ? sql`xid8` : 'integer', (c) =>
          dialect === 'postgres' ? c.notNull().defaultTo(sql`pg_current_xact_id()`) : c.notNull().defaultTo(0),
        )
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('payload_json', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('lease_until_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at_ms'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_resource')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'resource_id', 'status', 'seq'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_endpoint')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_age')
        .on('webhook_deliveries')
        .columns(['created_at_ms'])
        .execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('webhook_attempts_delivery')
        .on('webhook_attempts')
        .columns(['delivery_id', 'attempt'])
        .execute();
      await db.schema.createIndex('webhook_attempts_age').on('webhook_attempts').columns(['at_ms']).execute();
    },
  };
}
