/** Selects shared by the pages: a region (orderable ones), a server of the project. */
import { listRegions, listServers, type Region, type Server } from '../../src/contract/index.ts';
import { api } from './api.ts';
import { useLoad } from './hooks.tsx';
import { useT } from './i18n.tsx';

export function useRegions() {
  return useLoad<Region[]>(async () => (await api.call(listRegions)).regions.filter((r) => r.orderable), []);
}

export function useServers() {
  return useLoad<Server[]>(async () => (await api.call(listServers, { query: { limit: '200' } })).servers, []);
}

export function RegionSelect(props: {
  id: string;
  value: string;
  onChange: (code: string) => void;
  regions: Region[] | null;
}) {
  return (
    <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} required>
      <option value="" disabled>
        —
      </option>
      {(props.regions ?? []).map((r) => (
        <option key={r.code} value={r.code}>
          {r.code.toUpperCase()} — {r.city}
        </option>
      ))}
    </select>
  );
}

export function ServerSelect(props: {
  id?: string;
  label: string;
  value: string;
  onChange: (id: string) => void;
  servers: Server[] | null;
  region?: string;
}) {
  const { t } = useT();
  return (
    <select
      id={props.id}
      aria-label={props.id ? undefined : props.label}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
    >
      <option value="">{t('chooseServer')}</option>
      {(props.servers ?? [])
        .filter((s) => !props.region || s.region === props.region)
        .map((s) => (
          <option key={s.id} value={s.id}>
            {s.name} ({s.region.toUpperCase()})
          </option>
        ))}
    </select>
  );
}
