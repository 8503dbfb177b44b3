/**
 * `vmcloud project show|members|member|invite|invitations|revoke-invitation`: the token's project, its
 * quotas and usage; its members (a role changed, a member removed) and invitations (owners).
 */
import {
  createInvitation,
  getProject,
  listInvitations,
  listMembers,
  removeMember,
  revokeInvitation,
  setMemberRole,
  type Invitation,
  type Member,
  type Project,
} from '../../contract/index.ts';
import { VmcError } from '../../core/errors.ts';
import type { ApiClient } from '../../client/index.ts';
import { choiceOf, requiredString, stringOf, type Command, type Context, type Group, type Values } from '../command.ts';
import { formatAge, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { projectCreate, projectList, projectQuotas, quotaTable, showOperatorProject } from './project-operator.ts';

const roles = ['owner', 'member', 'viewer'] as const;

export function projectDetail(project: Project): string {
  return (
    renderDetail([
      ['Project', project.name],
      ['ID', project.id],
      ['Your role', project.role],
    ]) +
    '\n' +
    quotaTable(project.quotas, project.usage)
  );
}

const show: Command = {
  name: 'show',
  summary: 'show the project of the token with quotas and usage; operators: any project by id',
  usage: '[ID]',
  args: [{ name: 'ID', required: false }],
  examples: ['vmcloud project show', 'vmcloud --profile operator project show prj_…'],
  async run(ctx, { positionals }) {
    if (positionals[0]) return showOperatorProject(ctx, positionals[0]);
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

/** A member by user id (usr_…) or e-mail (any case), from the project's list of members. */
async function resolveMember(client: ApiClient, projectId: string, userOrEmail: string): Promise<Member> {
  const wanted = userOrEmail.trim().toLowerCase();
  const { members } = await client.call(listMembers, { params: { id: projectId } });
  const found = members.find((m) => m.user_id.toLowerCase() === wanted || m.email.toLowerCase() === wanted);
  if (!found)
    throw new VmcError('not_found', `${userOrEmail} is not a member of project ${projectId}`, {
      details: { resource: 'member', id: userOrEmail },
    });
  return found;
}

const memberVerbs = ['set-role', 'remove'] as const;

const member: Command = {
  name: 'member',
  summary: "change a member's role (set-role) or remove a member (remove) (owners)",
  usage: 'set-role|remove USER_OR_EMAIL [--role owner|member|viewer] [--project ID]',
  description:
    "USER_OR_EMAIL is the user id (usr_…) or the e-mail of a member. `set-role` needs --role; the member's " +
    'project tokens with a role above the new one are revoked. `remove` revokes their sessions and tokens in ' +
    'the project. The last owner can neither be demoted nor removed (409 last_owner).',
  args: [
    { name: 'set-role|remove', required: true },
    { name: 'USER_OR_EMAIL', required: true },
  ],
  options: {
    role: { type: 'string', arg: 'ROLE', help: 'set-role: owner, member or viewer' },
    project: projectOption,
  },
  examples: [
    'vmcloud project member set-role alice@example.com --role viewer',
    'vmcloud project member remove alice@example.com',
  ],
  async run(ctx, { positionals, values }) {
    const verb = choiceOf(positionals[0], memberVerbs, 'the verb');
    const role = verb === 'set-role' ? choiceOf(requiredString(values, 'role'), roles, '--role') : null;
    const id = await projectIdOf(ctx, values);
    const client = await ctx.client();
    const found = await resolveMember(client, id, positionals[1]);
    if (role) {
      const answer = await client.call(setMemberRole, { params: { id, user_id: found.user_id }, body: { role } });
      ctx.out(
        ctx.output === 'table'
          ? `${answer.member.email} (${answer.member.user_id}) is ${answer.member.role} of ${id}\n`
          : renderData(ctx.output, answer.member),
      );
      return 0;
    }
    await client.call(removeMember, { params: { id, user_id: found.user_id } });
    ctx.out(
      ctx.output === 'table'
        ? `${found.email} (${found.user_id}) removed from ${id}: their sessions and tokens there are revoked\n`
        : renderData(ctx.output, { removed: found.user_id, email: found.email }),
    );
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
  summary: 'your project: quotas and usage, members and invitations; operators: every project',
  commands: [
    show,
    members,
    member,
    invite,
    invitations,
    revokeInvitationCommand,
    projectList,
    projectCreate,
    projectQuotas,
  ],
};
