/** `vmcloud token create|list|delete`: API tokens of the project. */
import {
  createToken,
  listTokens,
  revokeToken,
  type CreateTokenBody,
  type Token,
  type TokenCreated,
} from '../../contract/index.ts';
import { choiceOf, integerOf, requiredString, type Command, type Context, type Group } from '../command.ts';
import { formatAge, renderData, renderDetail, renderList, type Column } from '../output.ts';

const roles = ['owner', 'member', 'viewer'] as const;

export function tokenColumns(nowMs: number): Column<Token>[] {
  return [
    { header: 'id', value: (t) => t.id },
    { header: 'name', value: (t) => t.name },
    { header: 'role', value: (t) => t.role },
    { header: 'prefix', value: (t) => t.prefix },
    { header: 'expires', value: (t) => t.expires_at },
    { header: 'last-used', value: (t) => (t.last_used_at ? `${formatAge(t.last_used_at, nowMs)} ago` : 'never') },
    { header: 'age', value: (t) => formatAge(t.created_at, nowMs), align: 'right' },
  ];
}

const create: Command = {
  name: 'create',
  summary: 'create an API token (the secret is shown once)',
  usage: '--name NAME --role owner|member|viewer [--expires-in-days N]',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'what the token is for, e.g. ci-deploy' },
    role: { type: 'string', arg: 'ROLE', help: 'owner, member or viewer (viewer cannot change anything)' },
    'expires-in-days': { type: 'string', arg: 'N', help: 'expire after N days (default: never)' },
  },
  examples: ['vmcloud token create --name ci-deploy --role member --expires-in-days 90'],
  async run(ctx, { values }) {
    const name = requiredString(values, 'name');
    const role = choiceOf(requiredString(values, 'role'), roles, '--role');
    const days = integerOf(values, 'expires-in-days', { min: 1, max: 3650 });
    const client = await ctx.client();
    const body: CreateTokenBody = { name, role: role as CreateTokenBody['role'] };
    if (days !== undefined) body.expires_in_days = days;
    return printCreatedToken(ctx, await client.call(createToken, { body }));
  },
};

/** A new token and its secret (once): json/yaml as the API answered, or the table and a reminder. */
export function printCreatedToken(ctx: Context, result: TokenCreated): number {
  if (ctx.output !== 'table') {
    ctx.out(renderData(ctx.output, result));
    return 0;
  }
  ctx.out(
    renderDetail([
      ['ID', result.token.id],
      ['Name', result.token.name],
      ['Role', result.token.role],
      ['Expires', result.token.expires_at ?? 'never'],
      ['Secret', result.secret],
    ]),
  );
  ctx.err('Store the secret now: it is shown only once.\n');
  return 0;
}

const list: Command = {
  name: 'list',
  summary: 'list the project’s API tokens (never their secrets)',
  usage: '',
  examples: ['vmcloud token list'],
  async run(ctx) {
    const client = await ctx.client();
    const { tokens } = await client.call(listTokens);
    ctx.out(renderList(ctx.output, tokenColumns(ctx.now()), tokens, 'No tokens.'));
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'revoke an API token',
  usage: 'ID',
  args: [{ name: 'ID', required: true }],
  examples: ['vmcloud token delete tok_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    await client.call(revokeToken, { params: { id: positionals[0] } });
    ctx.out(
      ctx.output === 'table'
        ? `token ${positionals[0]} deleted\n`
        : renderData(ctx.output, { deleted: positionals[0] }),
    );
    return 0;
  },
};

const revoke: Command = {
  ...remove,
  name: 'revoke',
  examples: ['vmcloud token revoke tok_01jbz4m6k2x0r8t3q9w5e7y1ab'],
};

export const tokenGroup: Group = {
  name: 'token',
  summary: 'API tokens of your project (create, list, revoke)',
  commands: [create, list, revoke, remove],
};
