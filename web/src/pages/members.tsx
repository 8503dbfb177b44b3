/**
 * Members of the project and its pending invitations (owners): change a member's role, remove a member
 * (confirmed), invite an e-mail with a role (the one-time link shown once, to pass on), revoke an
 * invitation (confirmed). A change to the signed-in user's own membership refreshes who they are.
 */
import { useState, type FormEvent } from 'react';
import {
  createInvitation,
  listInvitations,
  listMembers,
  removeMember,
  revokeInvitation,
  setMemberRole,
  type CurrentPrincipal,
  type Invitation,
  type Member,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field } from '../components.tsx';
import { PageHeader, isOwner, useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';

type Role = 'owner' | 'member' | 'viewer';

export function Members({ me, onChanged }: { me: CurrentPrincipal; onChanged?: () => Promise<void> }) {
  const { t, when } = useFormat();
  const owner = isOwner(me);
  const projectId = me.project.id;
  const members = useLoad(
    async () => (owner ? (await api.call(listMembers, { params: { id: projectId } })).members : []),
    [owner, projectId],
  );
  const invitations = useLoad(
    async () => (owner ? (await api.call(listInvitations, { params: { id: projectId } })).invitations : []),
    [owner, projectId],
  );
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);

  if (!owner)
    return (
      <section aria-labelledby="members-title">
        <PageHeader id="members-title" title="members" />
        <p className="muted">{t('ownersOnly')}</p>
      </section>
    );
  const invite = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const answer = await api.call(createInvitation, {
        params: { id: projectId },
        body: { email: email.trim(), role },
      });
      setLink({ email: answer.invitation.email, url: `${window.location.origin}${answer.path}` });
      setEmail('');
      await invitations.reload();
    });
  };
  const isMe = (member: Member) => me.user?.id === member.user_id;
  const changeRole = (member: Member, next: Role) =>
    void action.run(async () => {
      const answer = await api.call(setMemberRole, {
        params: { id: projectId, user_id: member.user_id },
        body: { role: next },
      });
      // One's own new role: who is signed in is read again (a former owner's page closes).
      if (isMe(member)) await onChanged?.();
      else await members.reload();
      return t('memberRoleChanged', { email: answer.member.email, role: answer.member.role });
    });
  const remove = (member: Member) =>
    ask(
      t('removeMemberTitle'),
      t('confirmRemoveMember', { email: member.email }),
      () =>
        void action.run(async () => {
          await api.call(removeMember, { params: { id: projectId, user_id: member.user_id } });
          // Oneself: the session ended with the membership, the console goes back to signing in.
          if (isMe(member)) await onChanged?.();
          else await members.reload();
          return t('memberRemoved', { email: member.email });
        }),
      { label: t('removeMember') },
    );
  const revoke = (invitation: Invitation) =>
    ask(
      t('revoke'),
      t('confirmRevokeInvitation', { email: invitation.email }),
      () =>
        void action.run(async () => {
          await api.call(revokeInvitation, { params: { id: projectId, invitation_id: invitation.id } });
          // The link just shown stops working: it is not shown any longer.
          setLink((shown) => (shown?.email === invitation.email ? null : shown));
          await invitations.reload();
          return t('revokedThing', { name: invitation.email });
        }),
    );

  return (
    <section aria-labelledby="members-title">
      <PageHeader id="members-title" title="members" />
      <ErrorNotice error={members.error ?? invitations.error} />
      {action.view}
      <ResourceTable
        rows={members.data}
        rowKey={(member) => member.user_id}
        rowData={(member) => ({ 'data-member': member.email })}
        columns={[
          { header: 'email', cell: (member) => (isMe(member) ? `${member.email} (${t('you')})` : member.email) },
          {
            header: 'role',
            cell: (member) => (
              <select
                aria-label={t('roleOf', { email: member.email })}
                value={member.role}
                disabled={action.busy}
                onChange={(e) => changeRole(member, e.target.value as Role)}
              >
                <option value="viewer">viewer</option>
                <option value="member">member</option>
                <option value="owner">owner</option>
              </select>
            ),
          },
          { header: 'joined', cell: (member) => when(member.joined_at) },
        ]}
        actions={(member) => (
          <button
            type="button"
            className="danger"
            aria-label={`${t('removeMember')} ${member.email}`}
            onClick={() => remove(member)}
          >
            {t('removeMember')}
          </button>
        )}
      />
      <h2 id="invitations-title">{t('pendingInvitations')}</h2>
      {link && (
        <div className="card" data-testid="invitation-link">
          <p>{t('invitationLinkOnce', { email: link.email })}</p>
          <code>{link.url}</code>
        </div>
      )}
      <ResourceTable
        rows={invitations.data}
        rowKey={(invitation) => invitation.id}
        rowData={(invitation) => ({ 'data-invitation': invitation.email })}
        columns={[
          { header: 'email', cell: (invitation) => invitation.email },
          { header: 'role', cell: (invitation) => invitation.role },
          { header: 'expires', cell: (invitation) => when(invitation.expires_at) },
        ]}
        actions={(invitation) => (
          <button type="button" className="danger" onClick={() => revoke(invitation)}>
            {t('revoke')}
          </button>
        )}
      />
      <form className="card" onSubmit={invite} aria-labelledby="new-invitation">
        <h2 id="new-invitation">{t('inviteSomeone')}</h2>
        <Field id="invite-email" label={t('email')}>
          <input
            id="invite-email"
            type="email"
            autoComplete="off"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </Field>
        <Field id="invite-role" label={t('role')}>
          <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="viewer">viewer</option>
            <option value="member">member</option>
            <option value="owner">owner</option>
          </select>
        </Field>
        <button type="submit" className="primary" disabled={action.busy}>
          {t('invite')}
        </button>
      </form>
      {dialog}
    </section>
  );
}
