/**
 * `vmcloud project show|members|invite|invitations|revoke-invitation`: the token's project, its quotas and
 * usage; its members and invitations (owners).
 */
import {
  createInvitation,
  getProject,
  listInvitations,
  listMembers,
  revokeInvitation,
  type Invitation,
  type Member,
  type Project,
} from '../../contract/index.ts';
import { choiceOf, stringOf, type Command, type Context, type Group, type Values } from '../command.ts';
import { formatAge, renderData, renderDetail, renderList, renderTable, type Column } from '../output.ts';

const roles = ['owner', 'member', 'viewer'] as const;

export function projectDetail(project: Project): string {
  const rows = (['servers', 'vcpus', 'gpus', 'volumes', 'volume_gib', 'custom_images'] as const).map((resource) => ({
    resource,
    used: project.usage[resource],
    quota: project.quotas[resource],
  }));
  return (
    renderDetail([
      ['Project', project.name],
      ['ID', project.id],
      ['Your role', project.role],
    ]) +
    '\n' +
    renderTable(
      [
        { header: 'resource', value: (r) => r.resource },
        { header: 'used', value: (r) => r.used, align: 'right' },
        { header: 'quota', value: (r) => r.quota, align: 'right' },
      ],
      rows,
    )
  );
}

const show: Command = {
  name: 'show',
  summary: 'show the project of the token with quotas and usage',
  usage: '',
  examples: ['vmcloud project show'],
  async run(ctx) {
    const client = await ctx.client();
    const { project } = await client.call(getProject);
    ctx.out(ctx.output === 'table' ? projectDetail(project) : renderData(ctx.output, project));
    return 0;
  },
};

/** The project a command acts on: `--project ID`, or the token's own. */
async function projectIdOf(ctx: Context, values: Values): Promise<string> {
  const given = stringOf(values, 'project');
  if (given) return given;
  return (await (await ctx.client()).call(getProject)).project.id;
}

const projectOption = { type: 'string', arg: 'ID', help: "the project (prj_…); default: the token's" } as const;

const memberColumns: Column<Member>[] = [
  { header: 'user', value: (m) => m.user_id },
  { header: 'email', value: (m) => m.email },
  { header: 'role', value: (m) => m.role },
  { header: 'joined', value: (m) => m.joined_at },
];

export function invitationColumns(nowMs: number): Column<Invitation>[] {
  return [
    { header: 'id', value: (i) => i.id },
    { header: 'email', value: (i) => i.email },
    { header: 'role', value: (i) => i.role },
    { header: 'expires', value: (i) => i.expires_at },
    { header: 'age', value: (i) => formatAge(i.created_at, nowMs), align: 'right' },
  ];
}

const members: Command = {
  name: 'members',
  summary: "list the project's members and their roles (owners)",
  usage: '[--project ID]',
  options: { project: projectOption },
  examples: ['vmcloud project members'],
  async run(ctx, { values }) {
    const id = await projectIdOf(ctx, values);
    const answer = await (await ctx.client()).call(listMembers, { params: { id } });
    ctx.out(renderList(ctx.output, memberColumns, answer.members, 'No members.'));
    return 0;
  },
};

const invite: Command = {
  name: 'invite',
  summary: 'invite an e-mail to the project with a role and print the one-time link to pass on (owners)',
  usage: 'EMAIL [--role owner|member|viewer] [--project ID]',
  args: [{ name: 'EMAIL', required: true }],
  options: {
    role: { type: 'string', arg: 'ROLE', help: 'owner, member or viewer (default: member)' },
    project: projectOption,
  },
  examples: ['vmcloud project invite alice@example.com --role member'],
  async run(ctx, { positionals, values }) {
    const role = choiceOf(stringOf(values, 'role') ?? 'member', roles, '--role');
    const id = await projectIdOf(ctx, values);
    const answer = await (
      await ctx.client()
    ).call(createInvitation, {
      params: { id },
      body: { email: positionals[0], role },
    });
    const url = `${(await ctx.profile()).url.replace(/\/+$/, '')}${answer.path}`;
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, { ...answer, url }));
      return 0;
    }
    ctx.out(
      [
        `invitation ${answer.invitation.id}: ${answer.invitation.email} as ${answer.invitation.role}`,
        `One-time link to accept it, valid until ${answer.invitation.expires_at} (shown once):`,
        `  ${url}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

const invitations: Command = {
  name: 'invitations',
  summary: "list the project's pending invitations (owners; never their links)",
  usage: '[--project ID]',
  options: { project: projectOption },
  examples: ['vmcloud project invitations'],
  async run(ctx, { values }) {
    const id = await projectIdOf(ctx, values);
    const answer = await (await ctx.client()).call(listInvitations, { params: { id } });
    ctx.out(renderList(ctx.output, invitationColumns(ctx.now()), answer.invitations, 'No pending invitations.'));
    return 0;
  },
};

const revokeInvitationCommand: Command = {
  name: 'revoke-invitation',
  summary: 'revoke a pending invitation: its link stops working (owners)',
  usage: 'ID [--project ID]',
  args: [{ name: 'ID', required: true }],
  options: { project: projectOption },
  examples: ['vmcloud project revoke-invitation ivt_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals, values }) {
    const id = await projectIdOf(ctx, values);
    await (await ctx.client()).call(revokeInvitation, { params: { id, invitation_id: positionals[0] } });
    ctx.out(
      ctx.output === 'table'
        ? `invitation ${positionals[0]} revoked\n`
        : renderData(ctx.output, { revoked: positionals[0] }),
    );
    return 0;
  },
};

export const projectGroup: Group = {
  name: 'project',
  summary: 'your project: quotas and usage, members and invitations',
  commands: [show, members, invite, invitations, revokeInvitationCommand],
};
