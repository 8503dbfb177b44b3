/**
 * VMCloud's architecture rules, enforced by the linter (see docs/architecture.md):
 *  - `import-boundaries`: core imports no domain; contract imports only core; the client only contract and
 *    core; the CLI only contract, core and the client; the REST edge never the database layer; a domain
 *    reaches another domain only through an `index.ts`.
 *  - `table-ownership`: only a domain's store (`store.ts` or `store/`) names that domain's tables.
 */
import { dirname, relative, resolve, sep, basename } from 'node:path';

const srcRoot = resolve(import.meta.dirname, '..', 'src');

/** The area of a file under src/: its first folder (`compute`, `api`, …), or null outside src. */
function areaOf(file) {
  const rel = relative(srcRoot, file);
  if (rel.startsWith('..') || rel === '') return null;
  const parts = rel.split(sep);
  return parts.length === 1 ? '.' : parts[0];
}

/** Tests and the helpers only tests use (suites, fixtures, fakes). */
const isTest = (file) =>
  /(\.test|\.typecheck|-suite|test-support|fixtures|\.fake)\.ts$/.test(file) || file.includes(`${sep}testdata${sep}`);

/** What each area may import besides itself (null: no restriction beyond the index rule). */
const allowedAreas = {
  core: new Set(['core', 'contract']),
  contract: new Set(['contract', 'core']),
  client: new Set(['client', 'contract', 'core']),
  cli: new Set(['cli', 'client', 'contract', 'core']),
};
const forbiddenAreas = {
  api: new Set(['db']),
  cli: new Set(['db']),
};

/** Tables and the areas whose store may name them. */
export const tableOwners = {
  regions: ['catalog'],
  products: ['catalog'],
  images: ['catalog'],
  hosts: ['inventory', 'scheduler'],
  allocations: ['scheduler'],
  placement_groups: ['scheduler'],
  servers: ['compute', 'scheduler'],
  actions: ['compute'],
  projects: ['identity'],
  users: ['identity'],
  memberships: ['identity'],
  tokens: ['identity'],
  audit_log: ['audit'],
  audit_chain: ['audit'],
  events: ['events'],
  event_consumers: ['events'],
  idempotency_keys: ['idempotency'],
  leases: ['db'],
  sealed_secrets: ['keystore'],
  pki_authorities: ['pki'],
  host_certificates: ['pki'],
  volumes: ['volumes'],
  volume_sources: ['volumes'],
  custom_images: ['custom-images'],
  backup_policies: ['backups'],
  backup_schedules: ['backups'],
  backups: ['backups'],
  backup_restores: ['backups'],
  backup_forgets: ['backups'],
  backup_volumes: ['backups'],
  webhook_endpoints: ['webhooks'],
  webhook_deliveries: ['webhooks'],
  webhook_attempts: ['webhooks'],
  networks: ['networks'],
  network_subnets: ['networks'],
  network_routes: ['networks'],
  network_attachments: ['networks'],
  address_allocations: ['networks'],
  host_network_reports: ['networks'],
  floating_ips: ['addresses'],
  primary_ips: ['addresses'],
  firewalls: ['firewalls'],
  firewall_targets: ['firewalls'],
  firewall_counters: ['firewalls'],
  ssh_keys: ['sshkeys'],
  console_tickets: ['identity'],
  rate_limit_windows: ['identity'],
  user_credentials: ['identity'],
  user_recovery_codes: ['identity'],
  sessions: ['identity'],
  user_links: ['identity'],
  project_invitations: ['identity'],
  user_passkeys: ['identity'],
  passkey_challenges: ['identity'],
  traffic_servers: ['traffic'],
  traffic_samples: ['traffic'],
  traffic_rollups: ['traffic'],
  traffic_months: ['traffic'],
  flow_log_settings: ['flowlogs'],
  flow_log_partitions: ['flowlogs'],
  ddos_settings: ['ddos'],
  ddos_attacks: ['ddos'],
  ddos_addresses: ['ddos'],
  billing_accounts: ['billing'],
  billing_prices: ['billing'],
  usage_intervals: ['billing'],
  metered_events: ['billing'],
  metered_servers: ['billing'],
  downtime_intervals: ['billing'],
  invoices: ['billing'],
  invoice_counters: ['billing'],
  billing_runs: ['billing'],
  status_incidents: ['status'],
  status_incident_updates: ['status'],
  status_maintenances: ['status'],
  status_components: ['status'],
  status_probe_results: ['status'],
  status_daily_rollups: ['status'],
  status_settings: ['status'],
  host_probe_rollups: ['telemetry'],
  host_region_probe_rollups: ['telemetry'],
  host_cpu_steal_rollups: ['telemetry'],
  server_usage_minutes: ['telemetry'],
  server_usage_rollups: ['telemetry'],
};

const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'domain boundaries of VMCloud' },
    messages: {
      area: '{{from}} may not import {{to}} ({{why}})',
      index: 'import another domain through its index.ts: {{target}}',
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = areaOf(file);
    // Tests may set up any domain they exercise (a real database under a plugin, say).
    if (from === null || isTest(file)) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = resolve(dirname(file), source);
      const to = areaOf(target);
      if (to === null || to === from) return;
      const allowed = allowedAreas[from];
      if (allowed && !allowed.has(to)) {
        context.report({
          node,
          messageId: 'area',
          data: { from, to, why: `${from} may import only ${[...allowed].join(', ')}` },
        });
        return;
      }
      if (forbiddenAreas[from]?.has(to)) {
        context.report({ node, messageId: 'area', data: { from, to, why: 'edges never reach the database' } });
        return;
      }
      // core, contract and client are libraries, not domains: their small modules may be imported one by one.
      const library = to === 'core' || to === 'contract' || to === 'client';
      if (from !== '.' && to !== '.' && !library && !isTest(file) && basename(target) !== 'index.ts') {
        context.report({ node, messageId: 'index', data: { target: relative(srcRoot, target) } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

const tableMethods = new Set(['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto']);

const tableOwnership = {
  meta: {
    type: 'problem',
    docs: { description: "only a domain's store names its tables" },
    messages: {
      owner: 'table {{table}} belongs to {{owners}}: only its store may name it',
      store: 'table {{table}} is named outside a store: move the query into {{area}}/store.ts',
      unknown: 'table {{table}} has no owner in eslint-rules/boundaries.js',
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const area = areaOf(file);
    if (area === null || isTest(file)) return {};
    const rel = relative(srcRoot, file);
    // The database layer itself (migrations, leases, test helpers) is infrastructure, not a domain.
    if (rel.startsWith(`db${sep}`)) return {};
    const inStore = /(^|-)store\.ts$/.test(basename(file)) || rel.split(sep).includes('store');
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        if (!tableMethods.has(callee.property.name)) return;
        const arg = node.arguments[0];
        if (!arg || arg.type !== 'Literal' || typeof arg.value !== 'string') return;
        const table = arg.value.split(/\s+as\s+/)[0].trim();
        const owners = tableOwners[table];
        if (!owners) return context.report({ node, messageId: 'unknown', data: { table } });
        if (!owners.includes(area))
          return context.report({ node, messageId: 'owner', data: { table, owners: owners.join(', ') } });
        if (!inStore) context.report({ node, messageId: 'store', data: { table, area } });
      },
    };
  },
};

export default { rules: { 'import-boundaries': importBoundaries, 'table-ownership': tableOwnership } };
