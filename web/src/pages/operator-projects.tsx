/**
 * The operator area's Projects tab: every project (`GET /v1/projects`, oldest first, a name filter) with its
 * owners, member count and usage against its quotas, and a quota editor that sends only the quotas changed
 * (`PATCH /v1/projects/{id}/quotas`, event `project.quotas_changed`).
 */
import { useState, type FormEvent } from 'react';
import type { createClient } from '../../../src/client/http.ts';
import {
  listProjects,
  setProjectQuotas,
  type OperatorProject,
  type ProjectCounts,
  type QuotasPatch,
} from '../../../src/contract/index.ts';
import { ErrorNotice, Field, ResourceTable } from '../components.tsx';
import { useAction, useFormat, useLoad } from '../hooks.tsx';
import type { MessageKey } from '../i18n.tsx';

const quotaKeys = ['servers', 'vcpus', 'gpus', 'volumes', 'volume_gib', 'custom_images'] as const;
const pageSize = 500;

export function OperatorProjects({ client }: { client: ReturnType<typeof createClient> }) {
  const { t, day } = useFormat();
  const [name, setName] = useState('');
  const [draftName, setDraftName] = useState('');
  const projects = useLoad(
    () => client.call(listProjects, { query: { limit: String(pageSize), ...(name ? { name } : {}) } }),
    [client, name],
  );
  const [editing, setEditing] = useState<OperatorProject | null>(null);
  const filter = (event: FormEvent) => {
    event.preventDefault();
    setName(draftName.trim());
  };
  const usage = (p: OperatorProject, key: keyof ProjectCounts) =>
    t('usageOf', { used: p.usage[key], quota: p.quotas[key] });
  return (
    <>
      <h2>{t('operatorProjectsTab')}</h2>
      <p className="help">{t('operatorProjectsHelp')}</p>
      <form className="row" onSubmit={filter} aria-label={t('operatorProjectsTab')}>
        <Field id="projects-name" label={t('projectNameContains')}>
          <input id="projects-name" value={draftName} onChange={(e) => setDraftName(e.target.value)} />
        </Field>
        <button type="submit">{t('applyFilter')}</button>
      </form>
      <ErrorNotice error={projects.error} />
      {editing && (
        <QuotaEditor
          key={editing.id}
          client={client}
          project={editing}
          onDone={async (saved) => {
            if (saved) await projects.reload();
            setEditing(null);
          }}
        />
      )}
      {!(projects.data === null && projects.error) && (
        <ResourceTable<OperatorProject>
          testId="operator-projects"
          rows={projects.data?.projects ?? null}
          rowKey={(p) => p.id}
          rowData={(p) => ({ 'data-project': p.name })}
          columns={[
            {
              header: 'name',
              cell: (p) => (
                <>
                  {p.name}
                  <div className="muted">
                    <code>{p.id}</code>
                  </div>
                </>
              ),
            },
            { header: 'projectOwners', cell: (p) => p.owners.map((o) => o.email).join(', ') || '—' },
            { header: 'projectMembers', cell: (p) => <span className="num">{p.members}</span> },
            { header: 'usageServers', cell: (p) => usage(p, 'servers') },
            { header: 'usageVcpus', cell: (p) => usage(p, 'vcpus') },
            { header: 'usageGpus', cell: (p) => usage(p, 'gpus') },
            { header: 'created', cell: (p) => day(p.created_at) },
          ]}
          actions={(p) => (
            <button
              type="button"
              aria-label={t('editQuotasOf', { name: p.name })}
              onClick={() => setEditing(p)}
              disabled={editing?.id === p.id}
            >
              {t('editQuotas')}
            </button>
          )}
        />
      )}
      {projects.data?.next_cursor && <p className="muted">{t('morePages', { n: pageSize })}</p>}
    </>
  );
}

/** The six quotas of one project; saving sends only those changed. */
function QuotaEditor(props: {
  client: ReturnType<typeof createClient>;
  project: OperatorProject;
  onDone: (saved: boolean) => Promise<void>;
}) {
  const { t } = useFormat();
  const { project } = props;
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(quotaKeys.map((k) => [k, String(project.quotas[k])])),
  );
  const action = useAction();
  const save = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const patch: QuotasPatch = {};
      for (const k of quotaKeys) {
        const text = values[k].trim();
        // Sent as typed: the API says what is wrong with a value (a negative one, a fraction, too large).
        if (text !== String(project.quotas[k])) patch[k] = text === '' ? Number.NaN : Number(text);
      }
      if (Object.keys(patch).length === 0) return t('quotasUnchanged');
      await props.client.call(setProjectQuotas, { params: { id: project.id }, body: patch });
      await props.onDone(true);
      return t('quotasSaved', { name: project.name });
    });
  };
  return (
    <form
      className="card"
      onSubmit={save}
      data-testid="quota-editor"
      aria-label={t('quotasOf', { name: project.name })}
    >
      <h3>{t('quotasOf', { name: project.name })}</h3>
      {action.view}
      <div className="grid">
        {quotaKeys.map((k) => (
          <Field
            key={k}
            id={`quota-${k}`}
            label={t(`quota_${k}` as MessageKey)}
            help={t('quotaUsedNow', { n: project.usage[k] })}
          >
            <input
              id={`quota-${k}`}
              inputMode="numeric"
              aria-describedby={`quota-${k}-help`}
              value={values[k]}
              onChange={(e) => setValues({ ...values, [k]: e.target.value })}
            />
          </Field>
        ))}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={action.busy}>
          {t('saveQuotas')}
        </button>
        <button type="button" onClick={() => void props.onDone(false)}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
