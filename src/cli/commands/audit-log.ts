/** `vmcloud audit-log list`: who changed what, when, from where. */
import type { AuditEntry } from '../api-types.ts';
import { flagOf, integerOf, stringOf, type Command, type Group } from '../command.ts';
import { renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';

const joinDefined = (...parts: Array<string | null>) => {
  const text = parts.filter((p) => p !== null && p !== '').join(' ');
  return text === '' ? null : text;
};

export const auditColumns: Column<AuditEntry>[] = [
  { header: 'time', value: (e) => e.at },
  { header: 'actor', value: (e) => e.actor.token_id ?? e.actor.user_id },
  { header: 'action', value: (e) => e.action },
  { header: 'resource', value: (e) => joinDefined(e.resource.type, e.resource.id) },
  { header: 'outcome', value: (e) => e.outcome },
  { header: 'status', value: (e) => e.status_code, align: 'right' },
  { header: 'source-ip', value: (e) => e.source_ip },
];

const list: Command = {
  name: 'list',
  summary: 'list audit log entries, newest first',
  usage: '[--limit N] [--cursor CURSOR] [--all]',
  options: {
    limit: { type: 'string', arg: 'N', help: 'entries per page (1-500, default 50)' },
    cursor: { type: 'string', arg: 'CURSOR', help: 'start after this cursor' },
    all: { type: 'boolean', short: 'A', help: 'fetch every page' },
  },
  examples: ['vmcloud audit-log list --limit 20', 'vmcloud audit-log list --all -o json'],
  async run(ctx, { values }) {
    const limit = integerOf(values, 'limit', { min: 1, max: 500 });
    const client = await ctx.client();
    const { items, nextCursor } = await listPages(
      async (cursor) => {
        const page = await client.get<{ entries: AuditEntry[]; next_cursor: string | null }>('/v1/audit-log', { limit, cursor });
        return { items: page.entries, next_cursor: page.next_cursor };
      },
      flagOf(values, 'all'),
      stringOf(values, 'cursor'),
    );
    ctx.out(renderList(ctx.output, auditColumns, items, 'No audit log entries.'));
    if (nextCursor) ctx.err(`more entries: pass --all, or --cursor ${nextCursor} for the next page\n`);
    return 0;
  },
};

export const auditLogGroup: Group = { name: 'audit-log', summary: 'the audit log of mutations', commands: [list] };
