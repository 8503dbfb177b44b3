/** `vmcloud user create|reset-link` (operators): people of the web console and their one-time links. */
import { createUser, issueResetLink, type UserWithLink } from '../../contract/index.ts';
import { choiceOf, requiredString, stringOf, type Command, type Context, type Group } from '../command.ts';
import { renderData } from '../output.ts';

const roles = ['owner', 'member', 'viewer'] as const;

async function printLink(ctx: Context, answer: UserWithLink): Promise<number> {
  const base = (await ctx.profile()).url.replace(/\/+$/, '');
  const url = `${base}${answer.link.path}`;
  if (ctx.output !== 'table') {
    ctx.out(renderData(ctx.output, { ...answer, url }));
    return 0;
  }
  const what = answer.link.purpose === 'set_password' ? 'choose a password and sign in' : 'reset the password';
  ctx.out(
    [
      `user ${answer.user.id} (${answer.user.email})`,
      `One-time link to ${what}, valid until ${answer.link.expires_at} (shown once; earlier links stop working):`,
      `  ${url}`,
      '',
    ].join('\n'),
  );
  return 0;
}

const create: Command = {
  name: 'create',
  summary: 'add a person to a project with a role, and print their one-time link to set a password',
  usage: '--email EMAIL --project ID --role owner|member|viewer [--name NAME]',
  options: {
    email: { type: 'string', arg: 'EMAIL', help: 'their e-mail: what they sign in with' },
    project: { type: 'string', arg: 'ID', help: 'the project (prj_…) they join' },
    role: { type: 'string', arg: 'ROLE', help: 'owner, member or viewer' },
    name: { type: 'string', arg: 'NAME', help: 'how the console greets them (default: the email)' },
  },
  examples: ['vmcloud --profile operator user create --email alice@example.com --project prj_01… --role member'],
  async run(ctx, { values }) {
    const body = {
      email: requiredString(values, 'email'),
      project_id: requiredString(values, 'project'),
      role: choiceOf(requiredString(values, 'role'), roles, '--role'),
      ...(stringOf(values, 'name') ? { name: stringOf(values, 'name') } : {}),
    };
    return printLink(ctx, await (await ctx.client()).call(createUser, { body }));
  },
};

const resetLink: Command = {
  name: 'reset-link',
  summary: "a one-time link that resets a person's password (TOTP stays required)",
  usage: 'EMAIL',
  args: [{ name: 'EMAIL', required: true }],
  examples: ['vmcloud --profile operator user reset-link owner@vmcloud.local'],
  async run(ctx, { positionals }) {
    return printLink(ctx, await (await ctx.client()).call(issueResetLink, { body: { email: positionals[0] } }));
  },
};

export const userGroup: Group = {
  name: 'user',
  summary: 'operators: people of the web console (create, reset-link)',
  commands: [create, resetLink],
};
