/**
 * `vmcloud backup policy|create|list|show|restore|delete|stats`: backups of server disks, their policy and
 * the RPO/RTO measured.
 */
import { VmcError } from '../../core/errors.ts';
import {
  createBackup,
  deleteBackup,
  getBackup,
  getBackupStats,
  getProjectBackupPolicy,
  getRestore,
  getServerBackupPolicy,
  listBackups,
  restoreBackup,
  setProjectBackupPolicy,
  setServerBackupPolicy,
  type Backup,
  type BackupPolicy,
  type Restore,
  type SetBackupPolicyBody,
} from '../../contract/index.ts';
import {
  UsageError,
  choiceOf,
  flagOf,
  integerOf,
  stringOf,
  type Command,
  type Context,
  type Group,
} from '../command.ts';
import { renderData, renderList, type Column } from '../output.ts';
import { resolveServer } from '../resolve.ts';
import type { ApiClient } from '../../client/index.ts';

/** `6h`, `5h30m`, `90m`, `1d` → minutes. */
export function parseEvery(text: string): number {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text.trim());
  if (!match || text.trim() === '' || match.slice(1).every((part) => part === undefined))
    throw new UsageError(`--every ${JSON.stringify(text)} is not a duration like 6h, 5h30m or 90m`);
  return Number(match[1] ?? 0) * 1440 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

const gib = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 1024 ** 3).toFixed(2)} GiB`);

const backupColumns: Column<Backup>[] = [
  { header: 'id', value: (b) => b.id },
  { header: 'server', value: (b) => b.source.server_name },
  { header: 'status', value: (b) => b.status },
  { header: 'kind', value: (b) => b.kind ?? '-' },
  { header: 'read', value: (b) => gib(b.read_bytes) },
  { header: 'volumes', value: (b) => String(b.volumes.length) },
  { header: 'stored', value: (b) => gib(b.stored_bytes) },
  { header: 'location', value: (b) => b.location ?? '-' },
  { header: 'created', value: (b) => b.created_at },
];

const renderPolicy = (ctx: Context, policy: BackupPolicy) =>
  ctx.output === 'table'
    ? [
        `scope            ${policy.scope}`,
        `every            ${Math.floor(policy.every_minutes / 60)}h${String(policy.every_minutes % 60).padStart(2, '0')}m` +
          (policy.offset_minutes !== null ? ` (offset ${policy.offset_minutes} min)` : ''),
        `keep (local)     last ${policy.keep_last}, hourly ${policy.keep_hourly}, daily ${policy.keep_daily}, weekly ${policy.keep_weekly}, monthly ${policy.keep_monthly}`,
        `remote copy      ${policy.remote_region ? `${policy.remote_region}, kept ${policy.remote_keep_days} days` : 'none'}`,
        `enabled          ${policy.enabled}`,
        `next run         ${policy.next_run_at ?? '-'}`,
        '',
      ].join('\n')
    : renderData(ctx.output, { policy });

async function poll<T>(ctx: Context, what: string, get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = ctx.now() + 6 * 3600_000;
  const intervalText = ctx.io.env.VMCLOUD_POLL_INTERVAL_MS;
  const intervalMs = intervalText && /^\d+$/.test(intervalText) ? Number(intervalText) : 1000;
  for (;;) {
    const value = await get();
    if (done(value)) return value;
    if (ctx.now() > deadline) throw new VmcError('unavailable', `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const policyCommand: Command = {
  name: 'policy',
  summary: "show or set a server's backup policy (or the project default)",
  usage:
    'show|set SERVER|--project-default [--every 5h30m] [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--remote-region R|none] [--remote-keep-days N] [--enabled true|false]',
  description:
    'Fields not given keep their effective value. The default is every 5 h 30 min (so that RPO < 6 h holds), the last 5 and one a day\n' +
    'for 7 days locally, and a copy in another region kept 30 days.',
  args: [
    { name: 'show|set', required: true },
    { name: 'SERVER', required: false },
  ],
  options: {
    'project-default': { type: 'boolean', help: "the project's default policy instead of a server's" },
    every: { type: 'string', arg: 'DURATION', help: 'e.g. 6h, 5h30m' },
    'keep-last': { type: 'string', arg: 'N', help: 'the N newest backups' },
    'keep-hourly': { type: 'string', arg: 'N', help: 'one per hour for N hours' },
    'keep-daily': { type: 'string', arg: 'N', help: 'one per day for N days' },
    'keep-weekly': { type: 'string', arg: 'N', help: 'one per ISO week for N weeks' },
    'keep-monthly': { type: 'string', arg: 'N', help: 'one per month for N months' },
    'remote-region': { type: 'string', arg: 'REGION', help: "another region's repository, or none" },
    'remote-keep-days': { type: 'string', arg: 'N', help: 'days remote copies are kept' },
    enabled: { type: 'string', arg: 'BOOL', help: 'false: no scheduled backups' },
  },
  examples: ['vmcloud backup policy set web-1 --every 6h --keep-daily 7 --remote-region ams1 --remote-keep-days 30'],
  async run(ctx, { values, positionals }) {
    const action = choiceOf(positionals[0], ['show', 'set'] as const, 'the policy action');
    const projectDefault = flagOf(values, 'project-default');
    if (!projectDefault && !positionals[1]) throw new UsageError('missing SERVER (or --project-default)');
    const client = await ctx.client();
    if (action === 'show') {
      if (projectDefault) {
        const { policy } = await client.call(getProjectBackupPolicy, {});
        ctx.out(renderPolicy(ctx, policy));
        return 0;
      }
      const server = await resolveServer(client, positionals[1]);
      const { policy } = await client.call(getServerBackupPolicy, { params: { id: server.id } });
      ctx.out(renderPolicy(ctx, policy));
      return 0;
    }
    const keep = (name: string) => integerOf(values, name, { min: 0, max: 1000 });
    const remote = stringOf(values, 'remote-region');
    const enabled = stringOf(values, 'enabled');
    const every = stringOf(values, 'every');
    const body: SetBackupPolicyBody = {
      ...(every !== undefined && { every_minutes: parseEvery(every) }),
      ...(keep('keep-last') !== undefined && { keep_last: keep('keep-last') }),
      ...(keep('keep-hourly') !== undefined && { keep_hourly: keep('keep-hourly') }),
      ...(keep('keep-daily') !== undefined && { keep_daily: keep('keep-daily') }),
      ...(keep('keep-weekly') !== undefined && { keep_weekly: keep('keep-weekly') }),
      ...(keep('keep-monthly') !== undefined && { keep_monthly: keep('keep-monthly') }),
      ...(remote !== undefined && { remote_region: remote === 'none' ? null : remote.toLowerCase() }),
      ...(values['remote-keep-days'] !== undefined && {
        remote_keep_days: integerOf(values, 'remote-keep-days', { min: 1, max: 3650 }),
      }),
      ...(enabled !== undefined && { enabled: choiceOf(enabled, ['true', 'false'] as const, '--enabled') === 'true' }),
    };
    if (projectDefault) {
      const { policy } = await client.call(setProjectBackupPolicy, { body });
      ctx.out(renderPolicy(ctx, policy));
      return 0;
    }
    const server = await resolveServer(client, positionals[1]);
    const { policy } = await client.call(setServerBackupPolicy, { params: { id: server.id }, body });
    ctx.out(renderPolicy(ctx, policy));
    return 0;
  },
};

async function waitForBackup(ctx: Context, client: ApiClient, backup: Backup): Promise<Backup> {
  const done = await poll(
    ctx,
    `backup ${backup.id}`,
    async () => (await client.call(getBackup, { params: { id: backup.id } })).backup,
    (b) => b.status === 'succeeded' || b.status === 'failed',
  );
  if (done.status === 'failed')
    throw new VmcError('internal', `backup ${done.id} failed: ${done.error ?? 'unknown error'}`);
  return done;
}

const createCommand: Command = {
  name: 'create',
  summary: 'back a server up now',
  usage: 'SERVER [--wait]',
  args: [{ name: 'SERVER', required: true }],
  options: { wait: { type: 'boolean', short: 'w', help: 'wait until the backup succeeded (exit 1 if it failed)' } },
  examples: ['vmcloud backup create web-1 --wait'],
  async run(ctx, { values, positionals }) {
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    let { backup } = await client.call(createBackup, { params: { id: server.id } });
    if (flagOf(values, 'wait')) backup = await waitForBackup(ctx, client, backup);
    ctx.out(
      ctx.output === 'table'
        ? `backup ${backup.id} of ${server.name}: ${backup.status}\n`
        : renderData(ctx.output, { backup }),
    );
    return 0;
  },
};

const listCommand: Command = {
  name: 'list',
  summary: 'list backups, newest first',
  usage: '[SERVER]',
  args: [{ name: 'SERVER', required: false }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const server = positionals[0] ? await resolveServer(client, positionals[0]) : null;
    const { backups } = await client.call(listBackups, {
      query: server ? { server_id: server.id, limit: '500' } : { limit: '500' },
    });
    ctx.out(renderList(ctx.output, backupColumns, backups, 'No backups.'));
    return 0;
  },
};

const showCommand: Command = {
  name: 'show',
  summary: 'show a backup',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { backup } = await client.call(getBackup, { params: { id: positionals[0] } });
    ctx.out(renderData(ctx.output === 'table' ? 'yaml' : ctx.output, { backup }));
    return 0;
  },
};

const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a backup to a new server, or in place (server stopped)',
  usage: 'ID --to-new NAME [--region R] | ID --in-place   [--wait]',
  args: [{ name: 'ID', required: true }],
  options: {
    'to-new': { type: 'string', arg: 'NAME', help: 'a new server with this name' },
    region: { type: 'string', arg: 'REGION', help: 'where the new server goes (a region holding a copy)' },
    'in-place': { type: 'boolean', help: "replace the (stopped) server's disk" },
    wait: { type: 'boolean', short: 'w', help: 'wait until the restore finished' },
  },
  examples: [
    'vmcloud backup restore bkp_… --to-new web-1-copy --region ams1 --wait',
    'vmcloud backup restore bkp_… --in-place',
  ],
  async run(ctx, { values, positionals }) {
    const name = stringOf(values, 'to-new');
    const inPlace = flagOf(values, 'in-place');
    if ((name === undefined) === !inPlace) throw new UsageError('give exactly one of --to-new NAME or --in-place');
    const region = stringOf(values, 'region');
    if (inPlace && region) throw new UsageError('--region goes with --to-new');
    const client = await ctx.client();
    let { restore } = await client.call(restoreBackup, {
      params: { id: positionals[0] },
      body: inPlace
        ? { mode: 'in_place' }
        : { mode: 'to_new', name: name!, ...(region && { region: region.toLowerCase() }) },
    });
    if (flagOf(values, 'wait')) {
      restore = await poll<Restore>(
        ctx,
        `restore ${restore.id}`,
        async () => (await client.call(getRestore, { params: { id: restore.id } })).restore,
        (r) => r.status === 'succeeded' || r.status === 'failed',
      );
      if (restore.status === 'failed')
        throw new VmcError('internal', `restore ${restore.id} failed: ${restore.error ?? ''}`);
    }
    ctx.out(
      ctx.output === 'table'
        ? `restore ${restore.id} of ${restore.backup_id} into ${restore.server_id}: ${restore.status}${restore.duration_ms !== null ? ` in ${Math.round(restore.duration_ms / 1000)} s` : ''}\n`
        : renderData(ctx.output, { restore }),
    );
    return 0;
  },
};

const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a backup',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    await client.call(deleteBackup, { params: { id: positionals[0] } });
    ctx.out(
      ctx.output === 'table'
        ? `backup ${positionals[0]} deleted\n`
        : renderData(ctx.output, { id: positionals[0], deleted: true }),
    );
    return 0;
  },
};

const statsCommand: Command = {
  name: 'stats',
  summary: 'RPO now and RTO measured, per region (p50/p99) against the promise',
  usage: '',
  async run(ctx) {
    const client = await ctx.client();
    const stats = await client.call(getBackupStats, {});
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, stats));
      return 0;
    }
    const min = (s: number | null) => (s === null ? '-' : `${Math.round(s / 60)} min`);
    ctx.out(
      renderList(
        'table',
        [
          { header: 'region', value: (r: (typeof stats.regions)[number]) => r.region },
          { header: 'servers', value: (r) => String(r.servers) },
          { header: 'without backup', value: (r) => String(r.servers_without_backup) },
          { header: 'RPO p50', value: (r) => min(r.rpo_s.p50) },
          { header: 'RPO p99', value: (r) => min(r.rpo_s.p99) },
          { header: 'RTO p50', value: (r) => min(r.rto_s.p50) },
          { header: 'RTO p99', value: (r) => min(r.rto_s.p99) },
        ],
        stats.regions,
        'No servers with a backup schedule.',
      ) + `promise: RPO < ${stats.promise.rpo_s / 3600} h, RTO < ${stats.promise.rto_s / 3600} h\n`,
    );
    return 0;
  },
};

export const backupGroup: Group = {
  name: 'backup',
  summary: 'backups of server disks: policy, create, list, show, restore, delete, stats',
  commands: [policyCommand, createCommand, listCommand, showCommand, restoreCommand, deleteCommand, statsCommand],
};
