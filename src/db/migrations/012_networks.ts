import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Private networks and public addresses. `address_allocations` is IPAM for both: one row per address
 * handed out, keyed by its pool (`net:<network id>`, `public4:<region>`, `public6:<region>`) and the
 * address, so that no address is ever handed out twice (the primary key says so, under any concurrency).
 * A network's VNI is unique across all networks ever made (never reused while a host may hold it).
 */
export function networksMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const int = 'integer' as const;
      await db.schema
        .createTable('networks')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('ip_range', text, (c) => c.notNull())
        .addColumn('vni', int, (c) => c.notNull().unique())
        .addColumn('mtu', int, (c) => c.notNull())
        .addColumn('labels_json', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('deleted_at', text)
        .execute();
      await sql`create unique index networks_project_name on networks (project_id, name) where deleted_at is null`.execute(
        db,
      );
      await db.schema.createIndex('networks_project_id').on('networks').columns(['project_id', 'id']).execute();

      await db.schema
        .createTable('network_subnets')
        .addColumn('network_id', text, (c) => c.notNull())
        .addColumn('ip_range', text, (c) => c.notNull())
        .addColumn('gateway', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('network_subnets_pk', ['network_id', 'ip_range'])
        .execute();

      await db.schema
        .createTable('network_routes')
        .addColumn('network_id', text, (c) => c.notNull())
        .addColumn('destination', text, (c) => c.notNull())
        .addColumn('gateway', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('network_routes_pk', ['network_id', 'destination'])
        .execute();

      await db.schema
        .createTable('network_attachments')
        .addColumn('network_id', text, (c) => c.notNull())
        .addColumn('server_id', text, (c) => c.notNull())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('ip', text, (c) => c.notNull())
        .addColumn('mac', text, (c) => c.notNull())
        /** attaching | attached | detaching */
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('network_attachments_pk', ['network_id', 'server_id'])
        .execute();
      await db.schema
        .createIndex('network_attachments_ip')
        .on('network_attachments')
        .columns(['network_id', 'ip'])
        .unique()
        .execute();
      await db.schema.createIndex('network_attachments_server').on('network_attachments').column('server_id').execute();

      await db.schema
        .createTable('address_allocations')
        .addColumn('pool', text, (c) => c.notNull())
        .addColumn('address', text, (c) => c.notNull())
        .addColumn('owner_id', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('address_allocations_pk', ['pool', 'address'])
        .execute();
      await db.schema.createIndex('address_allocations_owner').on('address_allocations').column('owner_id').execute();

      for (const table of ['floating_ips', 'primary_ips'] as const) {
        let create = db.schema
          .createTable(table)
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('project_id', text, (c) => c.notNull())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('region', text, (c) => c.notNull())
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('ip', text, (c) => c.notNull())
          .addColumn('server_id', text)
          /** What the server's host last acknowledged (null: nowhere). */
          .addColumn('observed_server_id', text)
          .addColumn('dns_ptr_json', text, (c) => c.notNull())
          .addColumn('labels_json', text, (c) => c.notNull());
        create =
          table === 'floating_ips'
            ? create.addColumn('description', text, (c) => c.notNull())
            : create.addColumn('auto_delete', int, (c) => c.notNull());
        await create
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .addColumn('deleted_at', text)
          .execute();
        await db.schema.createIndex(`${table}_project_id`).on(table).columns(['project_id', 'id']).execute();
        await db.schema.createIndex(`${table}_server`).on(table).column('server_id').execute();
      }
      await sql`create unique index primary_ips_server_type on primary_ips (server_id, type) where server_id is not null and deleted_at is null`.execute(
        db,
      );
      await sql`create unique index primary_ips_project_name on primary_ips (project_id, name) where deleted_at is null`.execute(
        db,
      );
    },
  };
}
