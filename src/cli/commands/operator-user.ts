/**
 * `vmcloud operator-user link|unlink|list` (operators): which people may open operator sessions in the
 * console's operator area (with password and TOTP). Unlinking revokes their operator sessions at once.
 */
import { linkOperatorUser, listOperatorUsers, unlinkOperatorUser, type OperatorUser } from '../../contract/index.ts';
import type { Column } from '../output.ts';
import { renderData, renderList } from '../output.ts';
import type { Command, Context, Group } from '../command.ts';

const columns: Column<OperatorUser>[] = [
  { header: 'id', value: (u) => u.id },
  { header: 'email', value: (u) => u.email },
  { header: 'name', value: (u) => u.name },
  { header: 'totp', value: (u) => (u.totp_enabled ? 'on' : 'off (cannot sign in yet)') },
];

function printUser(ctx: Context, user: OperatorUser, verb: string): number {
  if (ctx.output !== 'table') {
    ctx.out(renderData(ctx.output, user));
    return 0;
  }
  const note = user.operator && !user.totp_enabled ? ' (no TOTP yet: they must turn it on before signing in)' : '';
  ctx.out(`user ${user.id} (${user.email}) ${verb}${note}\n`);
  return 0;
}

const link: Command = {
  name: 'link',
  summary: 'make an existing user an operator (they sign in to the operator area with password + TOTP)',
  usage: 'EMAIL',
  args: [{ name: 'EMAIL', required: true }],
  examples: ['vmcloud --profile operator operator-user link alice@example.com'],
  async run(ctx, { positionals }) {
    const user = await (await ctx.client()).call(linkOperatorUser, { body: { email: positionals[0] } });
    return printUser(ctx, user, 'is an operator');
  },
};

const unlink: Command = {
  name: 'unlink',
  summary: 'a user is no longer an operator; their operator sessions end at once',
  usage: 'EMAIL',
  args: [{ name: 'EMAIL', required: true }],
  examples: ['vmcloud --profile operator operator-user unlink alice@example.com'],
  async run(ctx, { positionals }) {
    const user = await (await ctx.client()).call(unlinkOperatorUser, { body: { email: positionals[0] } });
    return printUser(ctx, user, 'is no longer an operator');
  },
};

const list: Command = {
  name: 'list',
  summary: 'the users linked as operators',
  usage: '',
  examples: ['vmcloud --profile operator operator-user list'],
  async run(ctx) {
    const { users } = await (await ctx.client()).call(listOperatorUsers);
    ctx.out(renderList(ctx.output, columns, users, 'No operator users.'));
    return 0;
  },
};

export const operatorUserGroup: Group = {
  name: 'operator-user',
  summary: 'operators: people who may open operator sessions (link, unlink, list)',
  commands: [link, unlink, list],
};
