/** `vmcloud audit-log list`: who changed what, when, from where. */
import { flagOf, integerOf, stringOf, type Command, type Group } from '../command.ts';
import { pick, type Loose } from '../loose.ts';
import { renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';

const joinDefined = (...parts: unknown[]) => {
  const text = parts.filter((p) => p !== null && p !== undefined && p !== '').join(' ');
  return text === '' ? null : text;
};

export const auditColumns: Column<Loose>[] = [
  { header: 'time', value: (e) => pick(e, 'at', 'created_at', 'time') },
  { header: 'actor', value: (e) => pick(e, 'actor.token_id', 'actor.user_id', 'actor_token_id', 'actor_user_id', 'actor') },
  { header: 'action', value: (e) => pick(e, 'action') },
  { header: 'resource', value: (e) => joinDefined(pick(e, 'resource.type', 'resource_type'), pick(e, 'resource.id', 'resource_id')) },
  { header: 'outcome', value: (e) => pick(e, 'outcome') },
  { header: 'status', value: (e) => pick(e, 'status_code'), align: 'right' },
  { header: 'source-ip', value: (e) => pick(e, 'source_ip') },
];

const list: Command = {
  name: 'list',
  summary: 'list audit log entries, newest first',
  usage: '[--limit N] [--cursor CURSOR] [--all]',
  options: {
    limit: { type: 'string', arg: 'N', help: 'entries per page (1-1000)' },
    cursor: { type: 'string', arg: 'CURSOR', help: 'start after this cursor' },
    all: { type: 'boolean', short: 'A', help: 'fetch every page' },
  },
  examples: ['vmcloud audit-log list --limit 20', 'vmcloud audit-log list --all -o json'],
  async run(ctx, { values }) {
    const limit = integerOf(values, 'limit', { min: 1, max: 1000 });
    const client = await ctx.client();
    const { items, nextCursor } = await listPages(
      async (cursor) => {
        const page = await client.get<{ entries: Loose[]; next_cursor: string | null }>('/v1/audit-log', { limit, cursor });
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
