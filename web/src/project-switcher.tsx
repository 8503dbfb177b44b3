/**
 * The header's project switcher: a signed-in user who belongs to several projects moves the session to
 * another one (`POST /v1/auth/session/project`); the console then reloads who they are and opens the
 * server list of that project. Hidden for a single project and for tokens.
 */
import { useState } from 'react';
import { switchSessionProject, type CurrentPrincipal } from '../../src/contract/index.ts';
import { api } from './api.ts';
import { useT } from './i18n.tsx';
import { ErrorNotice } from './components.tsx';

export function ProjectSwitcher(props: { me: CurrentPrincipal; onSwitched: () => Promise<void> }) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (props.me.via !== 'session' || props.me.projects.length < 2) return null;
  const switchTo = async (projectId: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.call(switchSessionProject, { body: { project_id: projectId } });
      await props.onSwitched();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <label className="inline">
        <span className="sr-only">{t('switchProject')}</span>
        <select
          aria-label={t('switchProject')}
          data-testid="project-switcher"
          value={props.me.project.id}
          disabled={busy}
          onChange={(e) => void switchTo(e.target.value)}
        >
          {props.me.projects.map((project) => (
            <option key={project.id} value={project.id}>
              {project.name} ({project.role})
            </option>
          ))}
        </select>
      </label>
      <ErrorNotice error={error} />
    </>
  );
}
