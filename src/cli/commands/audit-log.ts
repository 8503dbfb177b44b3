/** `vmcloud audit-log list`: who changed what, when, from where. */
import { listAuditLog, verifyAuditLog, type AuditEntry } from '../../contract/index.ts';
import { rawRequest } from './raw-http.ts';
import { renderData } from '../output.ts';
import { flagOf, integerOf, stringOf, UsageError, type Command, type Group } from '../command.ts';
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
        const page = await client.call(listAuditLog, {
          query: { limit: limit === undefined ? undefined : String(limit), cursor },
        });
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

const verify: Command = {
  name: 'verify',
  summary: 'check the hash chain of the audit log (operators); exit 1 naming the first bad row',
  usage: '',
  description:
    'Every audit entry carries the hash of the one before it. verify seals the entries written so far and recomputes\n' +
    'the chain from its anchor: an edited, deleted or truncated entry breaks it. Exit 0 when the chain holds, 1 when not.',
  examples: ['vmcloud --profile operator audit-log verify'],
  async run(ctx) {
    const client = await ctx.client();
    const result = await client.call(verifyAuditLog);
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, result));
    else if (result.ok)
      ctx.out(
        `audit log chain holds: ${result.checked} entries checked${result.unsealed ? `, ${result.unsealed} not sealed yet` : ''}\n`,
      );
    else ctx.out(`audit log chain BROKEN at entry ${result.first_bad?.id}: ${result.first_bad?.reason}\n`);
    return result.ok ? 0 : 1;
  },
};

const exportCommand: Command = {
  name: 'export',
  summary: 'print the audit log as JSON lines, for ELK or Loki (operators)',
  usage: '--since TIME',
  options: { since: { type: 'string', arg: 'TIME', help: 'oldest entry, ISO 8601 (e.g. 2026-11-01T00:00:00Z)' } },
  examples: ['vmcloud --profile operator audit-log export --since 2026-11-01T00:00:00Z > audit.jsonl'],
  async run(ctx, { values }) {
    const since = stringOf(values, 'since');
    if (!since || Number.isNaN(Date.parse(since)))
      throw new UsageError('--since must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z');
    const response = await rawRequest(ctx, 'GET', '/v1/audit-log/export', {
      query: { since: new Date(since).toISOString() },
    });
    if (!response.body) return 0;
    const decoder = new TextDecoder();
    for await (const chunk of response.body) ctx.out(decoder.decode(chunk as Uint8Array, { stream: true }));
    ctx.out(decoder.decode());
    return 0;
  },
};

export const auditLogGroup: Group = {
  name: 'audit-log',
  summary: 'the audit log: list, verify the hash chain, export as JSON lines',
  commands: [list, verify, exportCommand],
};
