import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connection.ts';

/** The first schema: catalog, inventory, allocations, servers, actions, identity, audit, events. */
export function initialMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const text = 'text' as const;
      const int = 'integer' as const;
      const big = 'bigint' as const;

      await db.schema
        .createTable('regions')
        .addColumn('code', text, (c) => c.primaryKey())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('city', text, (c) => c.notNull())
        .addColumn('country', text, (c) => c.notNull())
        .addColumn('peering', text, (c) => c.notNull())
        .addColumn('peering_gbps', int)
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('opens', text)
        .addColumn('ipv4_pool', text, (c) => c.notNull().defaultTo('10.0.0.0/16'))
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('products')
        .addColumn('code', text, (c) => c.primaryKey())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('family', text, (c) => c.notNull())
        .addColumn('vcpus', int, (c) => c.notNull())
        .addColumn('memory_mib', int, (c) => c.notNull())
        .addColumn('disk_gib', int, (c) => c.notNull())
        .addColumn('traffic_tib', int, (c) => c.notNull())
        .addColumn('gpu_model', text)
        .addColumn('gpu_count', int, (c) => c.notNull())
        .addColumn('price_hourly_cents', int, (c) => c.notNull())
        .addColumn('price_monthly_cents', int, (c) => c.notNull())
        .addColumn('regions_json', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('sort_order', int, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('images')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('slug', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('os_family', text, (c) => c.notNull())
        .addColumn('os_version', text, (c) => c.notNull())
        .addColumn('category', text, (c) => c.notNull())
        .addColumn('requires_gpu', int, (c) => c.notNull())
        .addColumn('min_disk_gib', int, (c) => c.notNull())
        .addColumn('project_id', text)
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('format', text)
        .addColumn('size_bytes', big)
        .addColumn('sha256', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('images_slug').on('images').column('slug').unique().execute();

      await db.schema
        .createTable('hosts')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('name', text, (c) => c.notNull().unique())
        .addColumn('region', text, (c) => c.notNull().references('regions.code'))
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('health', text, (c) => c.notNull().defaultTo('up'))
        .addColumn('driver', text, (c) => c.notNull())
        .addColumn('cpu_model', text, (c) => c.notNull())
        .addColumn('sockets', int, (c) => c.notNull())
        .addColumn('threads_total', int, (c) => c.notNull())
        .addColumn('memory_mib', int, (c) => c.notNull())
        .addColumn('disk_gib', int, (c) => c.notNull())
        .addColumn('gpu_model', text)
        .addColumn('gpu_count', int, (c) => c.notNull())
        .addColumn('topology_json', text, (c) => c.notNull())
        .addColumn('generation', int, (c) => c.notNull())
        .addColumn('last_heartbeat_at', text)
        .addColumn('agent_version', text)
        .addColumn('address', text)
        .addColumn('agent_key', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('hosts_region').on('hosts').columns(['region', 'state']).execute();

      await db.schema
        .createTable('projects')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('quota_servers', int, (c) => c.notNull())
        .addColumn('quota_vcpus', int, (c) => c.notNull())
        .addColumn('quota_gpus', int, (c) => c.notNull())
        .addColumn('used_servers', int, (c) => c.notNull().defaultTo(0))
        .addColumn('used_vcpus', int, (c) => c.notNull().defaultTo(0))
        .addColumn('used_gpus', int, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('servers')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('region', text, (c) => c.notNull())
        .addColumn('product', text, (c) => c.notNull())
        .addColumn('image', text, (c) => c.notNull())
        .addColumn('host_id', text)
        .addColumn('placement_group_id', text)
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('desired_state', text, (c) => c.notNull())
        .addColumn('reboot_generation', int, (c) => c.notNull())
        .addColumn('observed_reboot_generation', int, (c) => c.notNull())
        .addColumn('force_stop', int, (c) => c.notNull().defaultTo(0))
        .addColumn('labels_json', text, (c) => c.notNull())
        .addColumn('ssh_keys_json', text, (c) => c.notNull())
        .addColumn('user_data', text)
        .addColumn('ipv4', text)
        .addColumn('error_message', text)
        .addColumn('version', int, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('deleted_at', text)
        .execute();
      // A live server's name is unique in its project; deleted servers free their name.
      await sql`create unique index servers_project_name on servers (project_id, name) where deleted_at is null`.execute(
        db,
      );
      // A live server's address is unique in its region's pool.
      await sql`create unique index servers_region_ipv4 on servers (region, ipv4) where deleted_at is null and ipv4 is not null`.execute(
        db,
      );
      await db.schema.createIndex('servers_host').on('servers').column('host_id').execute();
      await db.schema.createIndex('servers_project_id').on('servers').columns(['project_id', 'id']).execute();

      await db.schema
        .createTable('allocations')
        .addColumn('server_id', text, (c) => c.primaryKey())
        .addColumn('host_id', text, (c) => c.notNull().references('hosts.id'))
        .addColumn('threads_json', text, (c) => c.notNull())
        .addColumn('numa_nodes_json', text, (c) => c.notNull())
        .addColumn('memory_mib', int, (c) => c.notNull())
        .addColumn('disk_gib', int, (c) => c.notNull())
        .addColumn('gpus_json', text, (c) => c.notNull())
        .addColumn('vfs_json', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('allocations_host').on('allocations').column('host_id').execute();

      await db.schema
        .createTable('actions')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text)
        .addColumn('resource_type', text, (c) => c.notNull())
        .addColumn('resource_id', text, (c) => c.notNull())
        .addColumn('command', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('progress', int, (c) => c.notNull())
        .addColumn('target_json', text, (c) => c.notNull())
        .addColumn('error_code', text)
        .addColumn('error_message', text)
        .addColumn('started_at', text, (c) => c.notNull())
        .addColumn('finished_at', text)
        .execute();
      await db.schema.createIndex('actions_resource').on('actions').columns(['resource_id', 'status']).execute();
      await db.schema.createIndex('actions_status').on('actions').column('status').execute();

      await db.schema
        .createTable('users')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('email', text, (c) => c.notNull().unique())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('is_operator', int, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('memberships')
        .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
        .addColumn('user_id', text, (c) => c.notNull().references('users.id'))
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['project_id', 'user_id'])
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('project_id', text)
        .addColumn('user_id', text)
        .addColumn('host_id', text)
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('token_hash', text, (c) => c.notNull().unique())
        .addColumn('display_prefix', text, (c) => c.notNull())
        .addColumn('expires_at', text)
        .addColumn('last_used_at', text)
        .addColumn('revoked_at', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('project_id', text)
        .addColumn('actor_user_id', text)
        .addColumn('actor_token_id', text)
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('resource_type', text)
        .addColumn('resource_id', text)
        .addColumn('outcome', text, (c) => c.notNull())
        .addColumn('status_code', int)
        .addColumn('request_id', text)
        .addColumn('source_ip', text)
        .addColumn('user_agent', text)
        .addColumn('details_json', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_project').on('audit_log').columns(['project_id', 'id']).execute();

      await db.schema
        .createTable('events')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('id', text, (c) => c.notNull().unique())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('project_id', text)
        .addColumn('resource_type', text, (c) => c.notNull())
        .addColumn('resource_id', text, (c) => c.notNull())
        .addColumn('data_json', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('key', text, (c) => c.notNull())
        .addColumn('method', text, (c) => c.notNull())
        .addColumn('path', text, (c) => c.notNull())
        .addColumn('fingerprint', text, (c) => c.notNull())
        .addColumn('status_code', int)
        .addColumn('response_json', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
        .execute();

      await db.schema
        .createTable('placement_groups')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('project_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('policy', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('holder', text, (c) => c.notNull())
        .addColumn('expires_at_ms', big, (c) => c.notNull())
        .execute();
    },
  };
}
