import type { Kysely, Migration } from 'kysely';

/**
 * Billing and SLAs (issue 13): billing accounts (customer details, SLA tier, budget), versioned prices,
 * usage intervals and downtime intervals written by the metering consumer (exactly once: the events it has
 * applied are remembered in the same transaction as its cursor), invoices and credit notes with their
 * gapless numbers (one counter row per issuer, series and year).
 */
export function billingMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('billing_accounts')
        .addColumn('project_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('vat_id', 'text')
        .addColumn('sla_tier', 'text', (c) => c.notNull())
        .addColumn('budget_cents', 'bigint')
        .addColumn('budget_notified_month', 'text')
        .addColumn('budget_notified_percent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('billing_prices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('item', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull()) // '*' for every region
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('unit_micros', 'bigint', (c) => c.notNull())
        .addColumn('monthly_cap_micros', 'bigint')
        .addColumn('valid_from', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('billing_prices_version')
        .on('billing_prices')
        .columns(['item', 'region', 'currency', 'valid_from'])
        .unique()
        .execute();

      await db.schema
        .createTable('usage_intervals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('item', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('quantity_milli', 'bigint', (c) => c.notNull())
        .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('ended_at_ms', 'bigint')
        .execute();
      await db.schema
        .createIndex('usage_intervals_project')
        .on('usage_intervals')
        .columns(['project_id', 'started_at_ms'])
        .execute();
      await db.schema.createIndex('usage_intervals_resource').on('usage_intervals').column('resource_id').execute();
      await db.schema.createIndex('usage_intervals_ended').on('usage_intervals').column('ended_at_ms').execute();

      await db.schema
        .createTable('metered_events')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('metered_servers')
        .addColumn('server_id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text')
        .addColumn('wants_running', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('downtime_intervals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text')
        .addColumn('cause', 'text', (c) => c.notNull())
        .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('ended_at_ms', 'bigint')
        .execute();
      await db.schema
        .createIndex('downtime_intervals_project')
        .on('downtime_intervals')
        .columns(['project_id', 'started_at_ms'])
        .execute();
      await db.schema.createIndex('downtime_intervals_server').on('downtime_intervals').column('server_id').execute();

      await db.schema
        .createTable('invoices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull()) // invoice | credit_note
        .addColumn('number', 'text', (c) => c.unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('period', 'text', (c) => c.notNull()) // YYYY-MM
        .addColumn('run_key', 'text', (c) => c.unique()) // project:month for the monthly run
        .addColumn('refers_to', 'text')
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('subtotal_cents', 'bigint', (c) => c.notNull())
        .addColumn('vat_cents', 'bigint', (c) => c.notNull())
        .addColumn('total_cents', 'bigint', (c) => c.notNull())
        .addColumn('document_json', 'text', (c) => c.notNull())
        .addColumn('payment_reference', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text')
        .addColumn('paid_at', 'text')
        .addColumn('voided_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('invoices_project').on('invoices').columns(['project_id', 'created_at']).execute();
      await db.schema.createIndex('invoices_status').on('invoices').columns(['status', 'period']).execute();

      await db.schema
        .createTable('billing_runs')
        .addColumn('month', 'text', (c) => c.primaryKey())
        .addColumn('invoices', 'integer', (c) => c.notNull())
        .addColumn('finished_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('invoice_counters')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('series', 'text', (c) => c.notNull())
        .addColumn('year', 'integer', (c) => c.notNull())
        .addColumn('last_number', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('invoice_counters_pk', ['issuer', 'series', 'year'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'invoice_counters',
        'billing_runs',
        'invoices',
        'downtime_intervals',
        'metered_servers',
        'metered_events',
        'usage_intervals',
        'billing_prices',
        'billing_accounts',
      ])
        await db.schema.dropTable(table).execute();
    },
  };
}
