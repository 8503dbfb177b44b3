/**
 * The server detail page's sections below its facts: metrics charts (CPU, network, disk over a chosen
 * window), traffic (24 h chart, this month's totals and 95th percentile), backups with restore, volumes,
 * and the server's recent events.
 */
import { useState } from 'react';
import {
  getServerMetrics,
  getServerTraffic,
  getTrafficSummary,
  listEvents,
  type CurrentPrincipal,
  type Server,
  type StreamEvent,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { LineChart, type Series } from '../chart.tsx';
import { ErrorNotice } from '../components.tsx';
import { useFormat, useLoad, useReloadOn } from '../hooks.tsx';
import { BackupTable } from './backups.tsx';
import { VolumeTable } from './volumes.tsx';

const windows = { '1h': 3_600, '6h': 6 * 3_600, '24h': 86_400, '7d': 7 * 86_400 } as const;
type Window = keyof typeof windows;

function series(
  data: Record<string, { values: (string | number)[][] }> | undefined,
  names: [string, string][],
  scale = 1,
): Series[] {
  return names.map(([name, label]) => ({
    label,
    points: (data?.[name]?.values ?? []).map(([t, v]) => [Number(t), Number(v) * scale] as [number, number]),
  }));
}

export function ServerMetrics({ server }: { server: Server }) {
  const { t } = useFormat();
  const [range, setRange] = useState<Window>('1h');
  const metrics = useLoad(
    () =>
      api.call(getServerMetrics, {
        params: { id: server.id },
        query: {
          type: 'cpu,disk,network',
          start: new Date(Date.now() - windows[range] * 1000).toISOString(),
          step: String(Math.max(60, Math.round(windows[range] / 120))),
        },
      }),
    [server.id, range],
  );
  const ts = metrics.data?.metrics.time_series;
  const simulated = Object.values(metrics.data?.sources ?? {}).includes('simulated');
  return (
    <section aria-labelledby="metrics-title">
      <div className="row between">
        <h2 id="metrics-title">{t('metrics')}</h2>
        <label className="inline">
          {t('window')}{' '}
          <select value={range} onChange={(e) => setRange(e.target.value as Window)}>
            {Object.keys(windows).map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
      </div>
      {simulated && <p className="help">{t('simulatedMetrics')}</p>}
      <ErrorNotice error={metrics.error} />
      {metrics.data && (
        <div className="charts">
          <LineChart title={t('cpu')} unit="%" series={series(ts, [['cpu', t('cpu')]])} testId="chart-cpu" />
          <LineChart
            title={t('networkBandwidth')}
            unit="Mbit/s"
            series={series(
              ts,
              [
                ['network.0.bandwidth.in', t('in')],
                ['network.0.bandwidth.out', t('out')],
              ],
              8 / 1e6,
            )}
            testId="chart-network"
          />
          <LineChart
            title={t('diskIops')}
            unit="IOPS"
            series={series(ts, [
              ['disk.0.iops.read', t('read')],
              ['disk.0.iops.write', t('write')],
            ])}
            testId="chart-disk"
          />
          <LineChart
            title={t('diskBandwidth')}
            unit="MB/s"
            series={series(
              ts,
              [
                ['disk.0.bandwidth.read', t('read')],
                ['disk.0.bandwidth.write', t('write')],
              ],
              1 / 1e6,
            )}
          />
        </div>
      )}
    </section>
  );
}

export function ServerTraffic({ server }: { server: Server }) {
  const { t, bytes, number } = useFormat();
  const traffic = useLoad(
    () => api.call(getServerTraffic, { params: { id: server.id }, query: { step: '1h' } }),
    [server.id],
  );
  const month = useLoad(
    async () => (await api.call(getTrafficSummary)).servers.find((s) => s.server_id === server.id) ?? null,
    [server.id],
  );
  const points = traffic.data?.points ?? [];
  const m = month.data;
  return (
    <section aria-labelledby="traffic-title">
      <h2 id="traffic-title">{t('traffic')}</h2>
      <ErrorNotice error={traffic.error ?? month.error} />
      <dl className="facts" data-testid="traffic-month">
        <dt>{t('trafficMonth')}</dt>
        <dd>{m ? `${bytes(m.rx_bytes)} ${t('in')} · ${bytes(m.tx_bytes)} ${t('out')}` : '—'}</dd>
        <dt>{t('billable')}</dt>
        <dd>{m ? `${bytes(m.billable_bytes)} / ${bytes(m.included_bytes)} ${t('included')}` : '—'}</dd>
        <dt>{t('p95')}</dt>
        <dd data-testid="p95">
          {m
            ? `${number(m.p95_mbps)} Mbit/s (${t('in')} ${number(m.p95_in_mbps)}, ${t('out')} ${number(m.p95_out_mbps)})`
            : '—'}
        </dd>
      </dl>
      <LineChart
        title={t('traffic24h')}
        unit="Mbit/s"
        testId="chart-traffic"
        series={[
          { label: t('in'), points: points.map((p) => [Date.parse(p.at) / 1000, p.in_mbps]) },
          { label: t('out'), points: points.map((p) => [Date.parse(p.at) / 1000, p.out_mbps]) },
        ]}
      />
    </section>
  );
}

/** The server's newest events: the stream filtered by the server (`GET /v1/events?resource_id=`), paged. */
export function ServerEvents({ server }: { server: Server }) {
  const { t, when } = useFormat();
  const events = useLoad(async () => {
    const mine: StreamEvent[] = [];
    let after = '0';
    for (let page = 0; page < 50; page += 1) {
      const answer = await api.call(listEvents, {
        query: { after, limit: '1000', resource_type: 'server', resource_id: server.id },
      });
      mine.push(...answer.events);
      if (mine.length > 30) mine.splice(0, mine.length - 30);
      if (answer.events.length < 1000) break;
      after = String(answer.last);
    }
    return mine.reverse();
  }, [server.id]);
  useReloadOn(['server'], events.reload);
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">{t('events')}</h2>
      <ErrorNotice error={events.error} />
      {events.data && events.data.length === 0 && <p className="muted">{t('noneYet')}</p>}
      {events.data && events.data.length > 0 && (
        <table className="list" data-testid="server-events">
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('eventType')}</th>
              <th scope="col">{t('details')}</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((event) => (
              <tr key={event.id}>
                <td>{when(event.at)}</td>
                <td>
                  <code>{event.type}</code>
                </td>
                <td className="muted">
                  {Object.entries(event.data)
                    .filter(([, v]) => typeof v !== 'object')
                    .slice(0, 4)
                    .map(([k, v]) => `${k}=${String(v)}`)
                    .join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ServerSections({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t } = useFormat();
  return (
    <>
      <ServerMetrics server={server} />
      <ServerTraffic server={server} />
      <section aria-labelledby="server-backups-title">
        <h2 id="server-backups-title">{t('backups')}</h2>
        <BackupTable me={me} serverId={server.id} />
      </section>
      <section aria-labelledby="server-volumes-title">
        <h2 id="server-volumes-title">{t('volumes')}</h2>
        <VolumeTable me={me} serverId={server.id} />
      </section>
      <ServerEvents server={server} />
    </>
  );
}
