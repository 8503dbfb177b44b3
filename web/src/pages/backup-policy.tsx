/**
 * The backup policy form, shared by a server's policy (the server page) and the project's default policy
 * (the Backups page): on/off, every N minutes, keep last/hourly/daily/weekly/monthly, the remote copy's
 * region and days. The caller loads the policy, says who may change it and saves the body it is handed.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { BackupPolicy, SetBackupPolicyBody } from '../../../src/contract/index.ts';
import { Field } from '../components.tsx';
import { useFormat } from '../hooks.tsx';
import { useRegions } from '../pickers.tsx';

type PolicyForm = {
  enabled: boolean;
  every_minutes: string;
  keep_last: string;
  keep_hourly: string;
  keep_daily: string;
  keep_weekly: string;
  keep_monthly: string;
  remote_region: string;
  remote_keep_days: string;
};
const keepFields = ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly'] as const;

function formOf(policy: BackupPolicy): PolicyForm {
  return {
    enabled: policy.enabled,
    every_minutes: String(policy.every_minutes),
    keep_last: String(policy.keep_last),
    keep_hourly: String(policy.keep_hourly),
    keep_daily: String(policy.keep_daily),
    keep_weekly: String(policy.keep_weekly),
    keep_monthly: String(policy.keep_monthly),
    remote_region: policy.remote_region ?? '',
    remote_keep_days: String(policy.remote_keep_days),
  };
}

/** An empty field is sent as NaN, so that the API refuses it (`invalid`) rather than the page guessing. */
const numberOf = (value: string) => (value.trim() === '' ? Number.NaN : Number(value));

function bodyOf(form: PolicyForm): SetBackupPolicyBody {
  return {
    enabled: form.enabled,
    every_minutes: numberOf(form.every_minutes),
    keep_last: numberOf(form.keep_last),
    keep_hourly: numberOf(form.keep_hourly),
    keep_daily: numberOf(form.keep_daily),
    keep_weekly: numberOf(form.keep_weekly),
    keep_monthly: numberOf(form.keep_monthly),
    remote_region: form.remote_region || null,
    remote_keep_days: numberOf(form.remote_keep_days),
  };
}

export function BackupPolicyForm(props: {
  policy: BackupPolicy;
  /** The role may change it: else the fields are disabled and there is no button. */
  may: boolean;
  busy: boolean;
  onSave: (body: SetBackupPolicyBody) => void;
  /** The id of the heading that names the form; field ids start with `idPrefix`. */
  labelledBy: string;
  idPrefix: string;
  /** A server's own region is no place for its remote copy. */
  excludeRegion?: string;
}) {
  const { t } = useFormat();
  const regions = useRegions();
  const [form, setForm] = useState<PolicyForm>(() => formOf(props.policy));
  useEffect(() => setForm(formOf(props.policy)), [props.policy]);
  const set = (key: keyof PolicyForm, value: string | boolean) => setForm({ ...form, [key]: value });
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const save = (event: FormEvent) => {
    event.preventDefault();
    props.onSave(bodyOf(form));
  };
  return (
    <form className="card" onSubmit={save} aria-labelledby={props.labelledBy}>
      <fieldset disabled={!props.may}>
        <legend className="sr-only">{t('backupPolicy')}</legend>
        <label className="inline">
          <input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />{' '}
          {t('scheduledBackups')}
        </label>
        <Field id={id('every')} label={t('everyMinutes')} help={t('everyMinutesHelp')}>
          <input
            id={id('every')}
            type="number"
            min={60}
            max={10080}
            aria-describedby={`${id('every')}-help`}
            value={form.every_minutes}
            onChange={(e) => set('every_minutes', e.target.value)}
          />
        </Field>
        <div className="row">
          {keepFields.map((key) => (
            <Field key={key} id={id(key)} label={t(key)}>
              <input
                id={id(key)}
                type="number"
                min={0}
                max={1000}
                size={5}
                value={form[key]}
                onChange={(e) => set(key, e.target.value)}
              />
            </Field>
          ))}
        </div>
        <Field id={id('remote')} label={t('remoteRegion')}>
          <select id={id('remote')} value={form.remote_region} onChange={(e) => set('remote_region', e.target.value)}>
            <option value="">{t('noRemoteCopy')}</option>
            {(regions.data ?? [])
              .filter((r) => r.code !== props.excludeRegion)
              .map((r) => (
                <option key={r.code} value={r.code}>
                  {r.code.toUpperCase()} — {r.city}
                </option>
              ))}
          </select>
        </Field>
        <Field id={id('remote-days')} label={t('remoteKeepDays')}>
          <input
            id={id('remote-days')}
            type="number"
            min={1}
            max={3650}
            value={form.remote_keep_days}
            onChange={(e) => set('remote_keep_days', e.target.value)}
          />
        </Field>
        {props.may && (
          <button type="submit" className="primary" disabled={props.busy}>
            {t('savePolicy')}
          </button>
        )}
      </fieldset>
    </form>
  );
}
