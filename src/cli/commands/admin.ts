/** `vmcloud admin audit-placement` (operators): checks that no host thread, GPU or VF is claimed twice. */
import { auditPlacement as auditPlacementOperation, type PlacementAudit } from '../../contract/index.ts';

type PlacementViolation = PlacementAudit['violations'][number];
import type { Command, Group } from '../command.ts';
import { renderData, renderTable, type Column } from '../output.ts';

export const violationColumns: Column<PlacementViolation>[] = [
  { header: 'kind', value: (v) => v.kind },
  { header: 'host-id', value: (v) => v.host_id },
  { header: 'servers', value: (v) => v.server_ids },
  { header: 'detail', value: (v) => v.detail },
];

const auditPlacement: Command = {
  name: 'audit-placement',
  summary: 'check every placement claim for overselling; exit 1 when any violation is found',
  usage: '',
  description: 'Calls GET /v1/admin/audit-placement. Exit 0: no violations. Exit 1: violations, listed.',
  examples: ['vmcloud admin audit-placement'],
  async run(ctx) {
    const client = await ctx.client();
    const audit = await client.call(auditPlacementOperation);
    const { violations } = audit;
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, audit));
    else if (violations.length === 0) ctx.out('No placement violations.\n');
    else ctx.out(renderTable(violationColumns, violations));
    if (violations.length > 0) {
      ctx.err(`${violations.length} placement violation${violations.length === 1 ? '' : 's'} found\n`);
      return 1;
    }
    return 0;
  },
};

export const adminGroup: Group = {
  name: 'admin',
  summary: 'operators: consistency checks',
  commands: [auditPlacement],
};
