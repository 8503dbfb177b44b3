/**
 * `vmcloud operator-user link|unlink|list|reset-totp` (operators): which people may open operator sessions
 * in the console's operator area (with password and TOTP). Unlinking revokes their operator sessions at
 * once; `reset-totp` is the recovery of a person who lost their TOTP device (ADR 0012, "Recovery").
 */
import {
  linkOperatorUser,
  listOperatorUsers,
  resetUserTotp,
  unlinkOperatorUser,
  type OperatorUser,
} from '../../contract/index.ts';
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

const resetTotp: Command = {
  name: 'reset-totp',
  summary: "reset another person's second factor: TOTP off, recovery codes deleted, sessions revoked, a link",
  usage: 'EMAIL|USER_ID',
  args: [{ name: 'EMAIL', required: true }],
  examples: ['vmcloud --profile operator operator-user reset-totp alice@example.com'],
  async run(ctx, { positionals }) {
    const answer = await (await ctx.client()).call(resetUserTotp, { params: { id: positionals[0] } });
    const base = (await ctx.profile()).url.replace(/\/+$/, '');
    const url = `${base}${answer.link.path}`;
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, { ...answer, url }));
      return 0;
    }
    ctx.out(
      [
        `user ${answer.user.id} (${answer.user.email}): two-factor authentication reset` +
          (answer.had_totp ? '' : ' (it was off already)') +
          ', recovery codes deleted' +
          (answer.passkeys_deleted > 0 ? `, ${answer.passkeys_deleted} passkey(s) deleted` : '') +
          `, ${answer.sessions_revoked} session(s) revoked`,
        `Pass on this one-time link to set a new password and turn TOTP on again, valid until ${answer.link.expires_at} (shown once):`,
        `  ${url}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

export const operatorUserGroup: Group = {
  name: 'operator-user',
  summary: 'operators: people who may open operator sessions (link, unlink, list, reset-totp)',
  commands: [link, unlink, list, resetTotp],
};
