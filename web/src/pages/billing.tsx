/** Billing: usage this month with the projection to its end, invoices with their PDF, the SLA report. */
import {
  getSlaReport,
  getUsage,
  listInvoices,
  type CurrentPrincipal,
  type UsageLine,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, StatusBadge } from '../components.tsx';
import { PageHeader, useFormat, useLoad } from '../hooks.tsx';

function Lines({ lines, testId }: { lines: UsageLine[]; testId: string }) {
  const { t, euros, number } = useFormat();
  if (lines.length === 0) return <p className="muted">{t('noneYet')}</p>;
  return (
    <table className="list" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{t('item')}</th>
          <th scope="col">{t('description')}</th>
          <th scope="col">{t('quantity')}</th>
          <th scope="col" className="num">
            {t('amount')}
          </th>
        </tr>
      </thead>
      <tbody>
        {lines.map((line, index) => (
          <tr key={`${line.kind}-${line.resource_id}-${index}`}>
            <td>
              {line.item}
              {line.region ? ` (${line.region.toUpperCase()})` : ''}
            </td>
            <td>
              {line.description}
              {line.capped && <span className="muted"> · {t('capped')}</span>}
            </td>
            <td>{line.hours !== null ? t('hoursN', { n: line.hours }) : number(line.quantity)}</td>
            <td className="num">{euros(line.amount_cents)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Usage(_props: { me: CurrentPrincipal }) {
  const { t, euros, when } = useFormat();
  const usage = useLoad(() => api.call(getUsage), []);
  const u = usage.data;
  return (
    <section aria-labelledby="usage-title">
      <PageHeader id="usage-title" title="usage" />
      <ErrorNotice error={usage.error} />
      {!u ? (
        !usage.error && <p>{t('loading')}</p>
      ) : (
        <>
          <dl className="facts">
            <dt>{t('month')}</dt>
            <dd>{u.month}</dd>
            <dt>{t('soFar')}</dt>
            <dd data-testid="so-far">{euros(u.so_far.subtotal_cents)}</dd>
            <dt>{t('projected')}</dt>
            <dd data-testid="projected">
              <strong>{euros(u.projected.subtotal_cents)}</strong>
            </dd>
            <dt>{t('asOf')}</dt>
            <dd>{when(u.as_of)}</dd>
          </dl>
          <p className="help">
            {t('vatExcluded')} {t('projectionNote')}
          </p>
          <h2>{t('soFar')}</h2>
          <Lines lines={u.so_far.lines} testId="usage-lines" />
          <h2>{t('projected')}</h2>
          <Lines lines={u.projected.lines} testId="projected-lines" />
        </>
      )}
    </section>
  );
}

export function Invoices(_props: { me: CurrentPrincipal }) {
  const { t, euros, day } = useFormat();
  const invoices = useLoad(async () => (await api.call(listInvoices, { query: { limit: '100' } })).invoices, []);
  return (
    <section aria-labelledby="invoices-title">
      <PageHeader id="invoices-title" title="invoices" />
      <ErrorNotice error={invoices.error} />
      {invoices.data === null ? (
        !invoices.error && <p>{t('loading')}</p>
      ) : invoices.data.length === 0 ? (
        <p>{t('noInvoices')}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t('number')}</th>
              <th scope="col">{t('period')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('issued')}</th>
              <th scope="col" className="num">
                {t('total')}
              </th>
              <th scope="col">PDF</th>
            </tr>
          </thead>
          <tbody>
            {invoices.data.map((invoice) => (
              <tr key={invoice.id} data-invoice={invoice.id}>
                <td>
                  {invoice.number ?? t('draft')}
                  {invoice.kind === 'credit_note' && <span className="muted"> · {t('creditNote')}</span>}
                </td>
                <td>{invoice.period}</td>
                <td>
                  <StatusBadge status={invoice.status} />
                </td>
                <td>{day(invoice.issued_at)}</td>
                <td className="num">{euros(invoice.total_cents)}</td>
                <td>
                  <a
                    href={`/v1/invoices/${encodeURIComponent(invoice.id)}/pdf`}
                    download={`${invoice.number ?? invoice.id}.pdf`}
                  >
                    {t('downloadPdf', { n: invoice.number ?? invoice.id })}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function SlaReport(_props: { me: CurrentPrincipal }) {
  const { t, euros, number, when } = useFormat();
  const report = useLoad(() => api.call(getSlaReport), []);
  const r = report.data;
  return (
    <section aria-labelledby="sla-title">
      <PageHeader id="sla-title" title="slaReport" />
      <ErrorNotice error={report.error} />
      {!r ? (
        !report.error && <p>{t('loading')}</p>
      ) : (
        <>
          <dl className="facts">
            <dt>{t('month')}</dt>
            <dd>{r.month}</dd>
            <dt>{t('tier')}</dt>
            <dd>{r.tier}</dd>
            <dt>{t('target')}</dt>
            <dd>{r.target_percent} %</dd>
            <dt>{t('breaches')}</dt>
            <dd>{r.breaches}</dd>
            <dt>{t('credits')}</dt>
            <dd>{euros(r.credits_cents)}</dd>
          </dl>
          {r.servers.length === 0 ? (
            <p className="muted">{t('noneYet')}</p>
          ) : (
            <table className="list" data-testid="sla-servers">
              <thead>
                <tr>
                  <th scope="col">{t('server')}</th>
                  <th scope="col">{t('region')}</th>
                  <th scope="col" className="num">
                    {t('availability')}
                  </th>
                  <th scope="col">{t('downtime')}</th>
                  <th scope="col" className="num">
                    {t('credits')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.servers.map((s) => (
                  <tr key={s.server_id} className={s.breached ? 'breached' : undefined}>
                    <td>
                      <code>{s.server_id}</code>
                    </td>
                    <td>{s.region.toUpperCase()}</td>
                    <td className="num">
                      {number(s.availability_percent, 3)} %{s.breached && ` · ${t('breached')}`}
                    </td>
                    <td>
                      {s.downtime.length === 0
                        ? '—'
                        : s.downtime.map((d) => `${when(d.from)} (${d.minutes} min, ${d.cause})`).join('; ')}
                    </td>
                    <td className="num">{euros(s.credit_cents)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
