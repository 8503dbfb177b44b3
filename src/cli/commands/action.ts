/** `vmcloud action show ID`: the state of a long-running mutation. */
import { getAction, type Action } from '../../contract/index.ts';
import type { ApiClient } from '../../client/index.ts';
import { flagOf, type Command, type Context, type Group, type Options } from '../command.ts';
import { formatDuration, renderData, renderDetail } from '../output.ts';

/** `--wait` of every command that starts an action. */
export const waitOption: Options = {
  wait: { type: 'boolean', short: 'w', help: 'wait until the action finishes, showing its progress' },
};

/**
 * After a mutation that started an action: optionally wait (a failed action throws, exit 1), then print
 * `{ action }` (json/yaml) or one sentence: `done` once it succeeded, `accepted` while it runs.
 */
export async function finishAction(
  ctx: Context,
  client: ApiClient,
  action: Action,
  wait: boolean,
  text: { label: string; done: string; accepted: string },
): Promise<number> {
  const final = wait ? await ctx.waitForAction(client, action, { label: text.label }) : action;
  if (ctx.output !== 'table') ctx.out(renderData(ctx.output, { action: final }));
  else ctx.out((final.status === 'success' ? text.done : text.accepted) + '\n');
  return final.status === 'error' ? 1 : 0;
}

export function actionDetail(action: Action): string {
  const finishedMs = action.finished_at ? Date.parse(action.finished_at) - Date.parse(action.started_at) : NaN;
  return renderDetail([
    ['ID', action.id],
    ['Command', action.command],
    ['Status', action.status],
    ['Progress', `${action.progress}%`],
    ['Resource', `${action.resource.type} ${action.resource.id}`],
    ['Error', action.error ? `${action.error.message} (${action.error.code})` : null],
    ['Started', action.started_at],
    [
      'Finished',
      action.finished_at
        ? `${action.finished_at}${Number.isFinite(finishedMs) ? ` (took ${formatDuration(finishedMs)})` : ''}`
        : null,
    ],
  ]);
}

const show: Command = {
  name: 'show',
  summary: 'show an action (status, progress, error)',
  usage: 'ID [--wait]',
  args: [{ name: 'ID', required: true }],
  options: { wait: { type: 'boolean', short: 'w', help: 'wait until the action finishes' } },
  examples: [
    'vmcloud action show act_01jbz4m6k2x0r8t3q9w5e7y1ab',
    'vmcloud action show act_01jbz4m6k2x0r8t3q9w5e7y1ab --wait',
  ],
  async run(ctx, { values, positionals }) {
    const client = await ctx.client();
    let { action } = await client.call(getAction, { params: { id: positionals[0] } });
    if (flagOf(values, 'wait'))
      action = await ctx.waitForAction(client, action, { label: `${action.command} ${action.resource.id}` });
    ctx.out(ctx.output === 'table' ? actionDetail(action) : renderData(ctx.output, action));
    return 0;
  },
};

export const actionGroup: Group = { name: 'action', summary: 'long-running operations', commands: [show] };
