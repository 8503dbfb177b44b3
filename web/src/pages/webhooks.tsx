/**
 * Webhooks: create (the signing secret shown once), enable/disable, delete (confirmed); one webhook with its
 * delivery log (each attempt: status code, latency, error), a test delivery, resending a delivery, replaying
 * the events since a time, rotating the signing secret (confirmed; the new secret shown once), and editing
 * its URL, event filters and description (`PATCH /v1/webhooks/{id}`, the URL checked as at creation).
 */
import { useEffect, useState, type FormEvent } from 'react';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  replayWebhook,
  retryWebhookDelivery,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
  type CurrentPrincipal,
  type Webhook,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice, ResourceTable, Field, Link, StatusBadge } from '../components.tsx';
import { PageHeader, canChange, useAction, useConfirm, useFormat, useLoad } from '../hooks.tsx';

/** Event filters typed as a list separated by commas or spaces. */
const filtersOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((e) => e.trim())
    .filter(Boolean);

export function Webhooks({ me }: { me: CurrentPrincipal }) {
  const { t, when } = useFormat();
  const list = useLoad(async () => (await api.call(listWebhooks, { query: { limit: '100' } })).webhooks, []);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const may = canChange(me);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const filters = filtersOf(events);
      const answer = await api.call(createWebhook, {
        body: {
          url: url.trim(),
          ...(filters.length ? { events: filters } : {}),
          ...(description.trim() ? { description: description.trim() } : {}),
        },
      });
      setSecret(answer.secret);
      setUrl('');
      setDescription('');
      await list.reload();
    });
  };
  const toggle = (hook: Webhook) =>
    void action.run(async () => {
      await api.call(updateWebhook, { params: { id: hook.id }, body: { enabled: !hook.enabled } });
      await list.reload();
      return t('saved');
    });
  const remove = (hook: Webhook) =>
    ask(
      t('deleteWebhook'),
      t('confirmDeleteWebhook', { url: hook.url }),
      () =>
        void action.run(async () => {
          await api.call(deleteWebhook, { params: { id: hook.id } });
          await list.reload();
          return t('deletedThing', { name: hook.url });
        }),
    );

  return (
    <section aria-labelledby="webhooks-title">
      <PageHeader id="webhooks-title" title="webhooks" />
      <ErrorNotice error={list.error} />
      {action.view}
      {secret && (
        <div className="card" data-testid="webhook-secret">
          <p>{t('secretOnce')}</p>
          <code>{secret}</code>
        </div>
      )}
      <ResourceTable
        rows={list.data}
        rowKey={(hook) => hook.id}
        rowData={(hook) => ({ 'data-webhook': hook.url })}
        columns={[
          {
            header: { text: 'URL' },
            cell: (hook) => (
              <>
                <Link href={`/webhooks/${hook.id}`}>{hook.url}</Link>
                {hook.description && <div className="muted">{hook.description}</div>}
              </>
            ),
          },
          { header: 'eventTypes', cell: (hook) => hook.events.join(', ') },
          {
            header: 'status',
            cell: (hook) => (
              <>
                <StatusBadge status={hook.enabled ? 'enabled' : 'disabled'} />
                {hook.disabled_reason && <div className="muted">{hook.disabled_reason}</div>}
              </>
            ),
          },
          { header: 'created', cell: (hook) => when(hook.created_at) },
        ]}
        actions={
          may
            ? (hook) => (
                <div className="row">
                  <button type="button" onClick={() => toggle(hook)}>
                    {hook.enabled ? t('disable') : t('enable')}
                  </button>
                  <button type="button" className="danger" onClick={() => remove(hook)}>
                    {t('delete')}
                  </button>
                </div>
              )
            : undefined
        }
      />
      {may && (
        <form className="card" onSubmit={create} aria-labelledby="new-webhook">
          <h2 id="new-webhook">{t('createWebhook')}</h2>
          <Field id="webhook-url" label="URL">
            <input
              id="webhook-url"
              type="url"
              required
              placeholder="https://example.com/hooks/vmcloud"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          </Field>
          <Field id="webhook-events" label={t('eventTypes')} help={t('eventTypesHelp')}>
            <input id="webhook-events" value={events} onChange={(e) => setEvents(e.target.value)} />
          </Field>
          <Field id="webhook-description" label={t('description')}>
            <input id="webhook-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
          <button type="submit" className="primary" disabled={action.busy}>
            {t('create')}
          </button>
        </form>
      )}
      {dialog}
    </section>
  );
}

export function WebhookDetail({ me, id }: { me: CurrentPrincipal; id: string }) {
  const { t, when } = useFormat();
  const hook = useLoad(async () => (await api.call(getWebhook, { params: { id } })).webhook, [id]);
  const deliveries = useLoad(
    async () => (await api.call(listWebhookDeliveries, { params: { id }, query: { limit: '50' } })).deliveries,
    [id],
  );
  // Deliveries are not events of the stream: while one is pending, the log is polled.
  const pending = (deliveries.data ?? []).some((d) => d.status === 'pending');
  const { reload } = deliveries;
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void reload(), 2000);
    return () => clearInterval(timer);
  }, [pending, reload]);
  const action = useAction();
  const { ask, dialog } = useConfirm();
  const [open, setOpen] = useState<string | null>(null);
  const [newSecret, setNewSecret] = useState<string | null>(null);
  const [overlap, setOverlap] = useState('86400');
  const [since, setSince] = useState('');
  const [edit, setEdit] = useState<{ url: string; events: string; description: string } | null>(null);
  useEffect(() => {
    if (hook.data)
      setEdit({ url: hook.data.url, events: hook.data.events.join(', '), description: hook.data.description });
  }, [hook.data]);
  const may = canChange(me);

  if (!hook.data) return hook.error ? <ErrorNotice error={hook.error} /> : <p>{t('loading')}</p>;
  const sendTest = () =>
    void action.run(async () => {
      const { delivery } = await api.call(testWebhook, { params: { id } });
      await deliveries.reload();
      return t('testQueued', { id: delivery.id });
    });
  const retry = (deliveryId: string) =>
    void action.run(async () => {
      await api.call(retryWebhookDelivery, { params: { id, delivery_id: deliveryId } });
      await deliveries.reload();
      return t('requestAccepted');
    });

  const rotate = () =>
    ask(
      t('rotateSecret'),
      t('confirmRotateSecret', { seconds: overlap || '0' }),
      () =>
        void action.run(async () => {
          const answer = await api.call(rotateWebhookSecret, {
            params: { id },
            body: { overlap_seconds: overlap.trim() === '' ? Number.NaN : Number(overlap) },
          });
          setNewSecret(answer.secret);
          await hook.reload();
          return t('secretRotated');
        }),
    );
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (!edit) return;
    void action.run(async () => {
      await api.call(updateWebhook, {
        params: { id },
        body: { url: edit.url.trim(), events: filtersOf(edit.events), description: edit.description.trim() },
      });
      await hook.reload();
      return t('webhookUpdated');
    });
  };
  const replay = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const answer = await api.call(replayWebhook, { params: { id }, body: { since: new Date(since).toISOString() } });
      await deliveries.reload();
      return t(answer.truncated ? 'replayQueuedTruncated' : 'replayQueued', { count: answer.queued });
    });
  };

  return (
    <section aria-labelledby="webhook-title">
      <p>
        <Link href="/webhooks">← {t('webhooks')}</Link>
      </p>
      <h1 id="webhook-title">{hook.data.url}</h1>
      <p className="muted">
        <code>{hook.data.id}</code> · {hook.data.events.join(', ')} · {hook.data.enabled ? t('enabled') : t('disabled')}
        {hook.data.failing_since && ` · ${t('failingSince', { when: when(hook.data.failing_since) })}`}
        {hook.data.previous_secret_expires_at &&
          ` · ${t('previousSecretUntil', { when: when(hook.data.previous_secret_expires_at) })}`}
      </p>
      {action.view}
      {newSecret && (
        <div className="card" data-testid="webhook-secret">
          <p>{t('secretOnce')}</p>
          <code>{newSecret}</code>
        </div>
      )}
      {may && edit && (
        <form className="card" onSubmit={save} aria-labelledby="edit-webhook-title">
          <h2 id="edit-webhook-title">{t('editWebhook')}</h2>
          <Field id="edit-webhook-url" label="URL">
            <input
              id="edit-webhook-url"
              type="url"
              required
              value={edit.url}
              onChange={(e) => setEdit({ ...edit, url: e.target.value })}
            />
          </Field>
          <Field id="edit-webhook-events" label={t('eventTypes')} help={t('eventTypesHelp')}>
            <input
              id="edit-webhook-events"
              required
              aria-describedby="edit-webhook-events-help"
              value={edit.events}
              onChange={(e) => setEdit({ ...edit, events: e.target.value })}
            />
          </Field>
          <Field id="edit-webhook-description" label={t('description')}>
            <input
              id="edit-webhook-description"
              value={edit.description}
              onChange={(e) => setEdit({ ...edit, description: e.target.value })}
            />
          </Field>
          <button type="submit" className="primary" disabled={action.busy}>
            {t('save')}
          </button>
        </form>
      )}
      {may && (
        <div className="row">
          <form className="card" onSubmit={(e) => (e.preventDefault(), rotate())} aria-labelledby="rotate-title">
            <h2 id="rotate-title">{t('rotateSecret')}</h2>
            <Field id="rotate-overlap" label={t('overlapSeconds')} help={t('overlapHelp')}>
              <input
                id="rotate-overlap"
                type="number"
                min={0}
                max={604800}
                aria-describedby="rotate-overlap-help"
                value={overlap}
                onChange={(e) => setOverlap(e.target.value)}
              />
            </Field>
            <button type="submit" disabled={action.busy}>
              {t('rotateSecret')}
            </button>
          </form>
          <form className="card" onSubmit={replay} aria-labelledby="replay-title">
            <h2 id="replay-title">{t('replayEvents')}</h2>
            <Field id="replay-since" label={t('replaySince')} help={t('replayHelp')}>
              <input
                id="replay-since"
                type="datetime-local"
                required
                aria-describedby="replay-since-help"
                value={since}
                onChange={(e) => setSince(e.target.value)}
              />
            </Field>
            <button type="submit" disabled={action.busy || !since}>
              {t('replay')}
            </button>
          </form>
        </div>
      )}
      <div className="row between">
        <h2>{t('deliveryLog')}</h2>
        {may && (
          <button type="button" onClick={sendTest} disabled={action.busy}>
            {t('sendTest')}
          </button>
        )}
      </div>
      <ErrorNotice error={deliveries.error} />
      {deliveries.data === null ? (
        <p>{t('loading')}</p>
      ) : deliveries.data.length === 0 ? (
        <p>{t('noneYet')}</p>
      ) : (
        <table className="list" data-testid="deliveries">
          <thead>
            <tr>
              <th scope="col">{t('created')}</th>
              <th scope="col">{t('eventType')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('attempts')}</th>
              <th scope="col">{t('lastAnswer')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.map((delivery) => (
              <tr key={delivery.id} data-delivery={delivery.id}>
                <td>{when(delivery.created_at)}</td>
                <td>
                  {delivery.event_type}
                  <div className="muted">
                    {delivery.resource.type} {delivery.resource.id}
                  </div>
                </td>
                <td>
                  <StatusBadge status={delivery.status} />
                </td>
                <td>{delivery.attempts}</td>
                <td>{delivery.last_status_code ?? delivery.last_error ?? '—'}</td>
                <td>
                  <div className="row">
                    <button
                      type="button"
                      aria-expanded={open === delivery.id}
                      onClick={() => setOpen(open === delivery.id ? null : delivery.id)}
                    >
                      {t('attemptLog')}
                    </button>
                    {may && delivery.status === 'failed' && (
                      <button type="button" onClick={() => retry(delivery.id)}>
                        {t('retry')}
                      </button>
                    )}
                    {may && delivery.status === 'succeeded' && (
                      <button type="button" onClick={() => retry(delivery.id)}>
                        {t('resend')}
                      </button>
                    )}
                  </div>
                  {open === delivery.id && (
                    <ol className="attempts">
                      {delivery.attempt_log.map((attempt) => (
                        <li key={attempt.attempt}>
                          {when(attempt.at)} · {attempt.status_code ?? '—'} · {attempt.latency_ms} ms
                          {attempt.error && ` · ${attempt.error}`}
                          {attempt.response && <pre>{attempt.response}</pre>}
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog}
    </section>
  );
}
