/** `vmcloud operator-token create|list|revoke` (operators): the tokens of the operator API. */
import {
  createOperatorToken,
  listOperatorTokens,
  revokeOperatorToken,
  type CreateOperatorTokenBody,
} from '../../contract/index.ts';
import { integerOf, requiredString, type Command, type Group } from '../command.ts';
import { renderData, renderList } from '../output.ts';
import { printCreatedToken, tokenColumns } from './token.ts';

const create: Command = {
  name: 'create',
  summary: 'create an operator token (the secret is shown once)',
  usage: '--name NAME [--expires-in-days N]',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'who or what the token is for, e.g. alice or grafana' },
    'expires-in-days': { type: 'string', arg: 'N', help: 'expire after N days (default: never)' },
  },
  examples: ['vmcloud --profile operator operator-token create --name alice --expires-in-days 30'],
  async run(ctx, { values }) {
    const body: CreateOperatorTokenBody = { name: requiredString(values, 'name') };
    const days = integerOf(values, 'expires-in-days', { min: 1, max: 3650 });
    if (days !== undefined) body.expires_in_days = days;
    return printCreatedToken(ctx, await (await ctx.client()).call(createOperatorToken, { body }));
  },
};

const list: Command = {
  name: 'list',
  summary: 'list the live operator tokens (never their secrets)',
  usage: '',
  examples: ['vmcloud --profile operator operator-token list'],
  async run(ctx) {
    const { tokens } = await (await ctx.client()).call(listOperatorTokens);
    ctx.out(renderList(ctx.output, tokenColumns(ctx.now()), tokens, 'No operator tokens.'));
    return 0;
  },
};

const revoke: Command = {
  name: 'revoke',
  summary: 'revoke an operator token (the last one cannot be revoked)',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  examples: ['vmcloud --profile operator operator-token revoke tok_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals }) {
    await (await ctx.client()).call(revokeOperatorToken, { params: { id: positionals[0] } });
    ctx.out(
      ctx.output === 'table'
        ? `token ${positionals[0]} revoked\n`
        : renderData(ctx.output, { revoked: positionals[0] }),
    );
    return 0;
  },
};

export const operatorTokenGroup: Group = {
  name: 'operator-token',
  summary: 'operators: tokens of the operator API (create, list, revoke)',
  commands: [create, list, revoke],
};
