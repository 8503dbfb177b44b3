/** `vmcloud admin audit-placement` (operators): checks that no host thread, GPU or VF is claimed twice. */
import type { Command, Group } from '../command.ts';
import { firstArray } from '../loose.ts';
import { autoColumns, renderData, renderTable } from '../output.ts';

const auditPlacement: Command = {
  name: 'audit-placement',
  summary: 'check every placement claim for overselling; exit 1 when any violation is found',
  usage: '',
  description: 'Calls GET /v1/admin/audit-placement. Exit 0: no violations. Exit 1: violations, listed.',
  examples: ['vmcloud admin audit-placement'],
  async run(ctx) {
    const client = await ctx.client();
    const answer = await client.get<{ violations: unknown[] } & Record<string, unknown>>('/v1/admin/audit-placement');
    const violations = firstArray(answer, 'violations');
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, answer));
    else if (violations.length === 0) ctx.out('No placement violations.\n');
    else ctx.out(renderTable(autoColumns(violations), violations));
    if (violations.length > 0) {
      ctx.err(`${violations.length} placement violation${violations.length === 1 ? '' : 's'} found\n`);
      return 1;
    }
    return 0;
  },
};

export const adminGroup: Group = { name: 'admin', summary: 'operators: consistency checks', commands: [auditPlacement] };
