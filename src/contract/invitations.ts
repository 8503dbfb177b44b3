/**
 * Project members and invitations (docs/console.md, "Members and invitations"): an owner invites an e-mail
 * with a role; the invitee accepts with a one-time link (`/invite#token=vmi_…`, 7 days, single use, stored
 * only as a SHA-256). A new person sets a password on accepting; a known one proves it (or is signed in).
 */
import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';
import { RecoveryCode, SignedIn, TotpCode } from './auth.ts';

const Role = Type.Union([Type.Literal('owner'), Type.Literal('member'), Type.Literal('viewer')]);
const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$',
  description: 'e-mail',
});

export const ProjectParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'prj_…' }) });
export const InvitationParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'prj_…' }),
  invitation_id: Type.String({ minLength: 1, maxLength: 100, description: 'ivt_…' }),
});

export const MemberParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'prj_…' }),
  user_id: Type.String({ minLength: 1, maxLength: 100, description: 'usr_…' }),
});

export const Member = Type.Object({
  user_id: Type.String({ description: 'usr_…' }),
  email: Type.String(),
  name: Type.String(),
  role: Role,
  joined_at: Timestamp,
});
export type Member = Static<typeof Member>;

export const Invitation = Type.Object({
  id: Type.String({ description: 'ivt_…' }),
  project_id: Type.String(),
  email: Type.String(),
  role: Role,
  invited_by: Nullable(Type.String({ description: 'the user (usr_…) or token (tok_…) that invited' })),
  created_at: Timestamp,
  expires_at: Timestamp,
});
export type Invitation = Static<typeof Invitation>;

export const CreateInvitationBody = Type.Object({ email: Email, role: Role }, { additionalProperties: false });
export type CreateInvitationBody = Static<typeof CreateInvitationBody>;

export const SetMemberRoleBody = Type.Object({ role: Role }, { additionalProperties: false });
export type SetMemberRoleBody = Static<typeof SetMemberRoleBody>;

export const InvitationCreated = Type.Object({
  invitation: Invitation,
  path: Type.String({ description: 'append to the console address: /invite#token=vmi_…; shown once, works once' }),
});
export type InvitationCreated = Static<typeof InvitationCreated>;

export const AcceptInvitationBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: 'the secret of the link (after #token=)' }),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'a new person: the password to set (12+ characters); a known one: their password',
      }),
    ),
    totp_code: Type.Optional(TotpCode),
    recovery_code: Type.Optional(RecoveryCode),
  },
  { additionalProperties: false },
);
export type AcceptInvitationBody = Static<typeof AcceptInvitationBody>;

export const listMembers = defineOperation({
  operationId: 'listMembers',
  method: 'GET',
  path: '/v1/projects/:id/members',
  tags: ['identity'],
  summary: "The project's members and their roles (owners)",
  auth: 'project',
  params: ProjectParams,
  status: 200,
  response: Type.Object({ members: Type.Array(Member) }),
});

export const setMemberRole = defineOperation({
  operationId: 'setMemberRole',
  method: 'PATCH',
  path: '/v1/projects/:id/members/:user_id',
  tags: ['identity'],
  summary: "Change a member's role (owners)",
  description:
    "The member's sessions act with the new role at once; their project tokens with a role above it are revoked. 404 when the user is not a member; 409 `last_owner` when the project would be left without an owner.",
  auth: 'project',
  params: MemberParams,
  body: SetMemberRoleBody,
  status: 200,
  response: Type.Object({ member: Member }),
  resource: 'member',
});

export const removeMember = defineOperation({
  operationId: 'removeMember',
  method: 'DELETE',
  path: '/v1/projects/:id/members/:user_id',
  tags: ['identity'],
  summary: 'Remove a member from the project (owners): their sessions in it and their project tokens are revoked',
  description:
    '404 when the user is not a member; 409 `last_owner` for the only owner (make another member owner first).',
  auth: 'project',
  params: MemberParams,
  status: 204,
  resource: 'member',
});

export const createInvitation = defineOperation({
  operationId: 'createInvitation',
  method: 'POST',
  path: '/v1/projects/:id/invitations',
  tags: ['identity'],
  summary: 'Invite an e-mail to the project with a role (owners): a one-time link, shown once, valid 7 days',
  description:
    '409 `already_member` when the e-mail belongs to a member, 409 `already_invited` while an invitation to it is pending (revoke it first). The link is also handed to the mail interface.',
  auth: 'project',
  params: ProjectParams,
  body: CreateInvitationBody,
  status: 201,
  response: InvitationCreated,
  resource: 'invitation',
});

export const listInvitations = defineOperation({
  operationId: 'listInvitations',
  method: 'GET',
  path: '/v1/projects/:id/invitations',
  tags: ['identity'],
  summary: 'Pending invitations of the project (owners): not accepted, revoked or expired',
  auth: 'project',
  params: ProjectParams,
  status: 200,
  response: Type.Object({ invitations: Type.Array(Invitation) }),
});

export const revokeInvitation = defineOperation({
  operationId: 'revokeInvitation',
  method: 'DELETE',
  path: '/v1/projects/:id/invitations/:invitation_id',
  tags: ['identity'],
  summary: 'Revoke a pending invitation (owners): its link stops working',
  auth: 'project',
  params: InvitationParams,
  status: 204,
  resource: 'invitation',
});

export const acceptInvitation = defineOperation({
  operationId: 'acceptInvitation',
  method: 'POST',
  path: '/v1/invitations/accept',
  tags: ['auth'],
  summary: 'Accept an invitation: join the project and sign in to it',
  description:
    'A new e-mail becomes a user with the `password` sent (the rules of one-time links). A known user sends their password (and TOTP code when enrolled), or is signed in as that user in the console. 401 `invitation_invalid` (unknown), `invitation_expired`, `invitation_used`, `invitation_revoked`; 400 `password_required` (a new account: choose one), `account_password_required` (a known account: its password), `weak_password`; 401 `bad_credentials`, `totp_required`; 409 `already_member`. Nothing changes on a refusal.',
  auth: 'public',
  body: AcceptInvitationBody,
  status: 200,
  response: SignedIn,
});

export const invitationOperations = {
  listMembers,
  setMemberRole,
  removeMember,
  createInvitation,
  listInvitations,
  revokeInvitation,
  acceptInvitation,
};
