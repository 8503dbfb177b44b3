/**
 * The create-server wizard: region, size (price per hour and monthly cap, live availability in the region
 * from the capacity API), image, details (name, SSH keys — the project's saved keys as checkboxes beside a
 * textarea of other public keys — user-data), networking & protection (the region's private networks and
 * the project's firewalls as checkboxes, sent in the create; the backup schedule, set after the create with
 * PUT backup-policy when changed from the default), and a review with the price before anything is created.
 */
import { useEffect, useState, type FormEvent } from 'react';
import {
  createServer,
  getCapacity,
  listImages,
  listProducts,
  listRegions,
  listSshKeys,
  listNetworks,
  listFirewalls,
  listPrices,
  setServerBackupPolicy,
  type Price,
  type Network,
  type Firewall,
  type CurrentPrincipal,
  type CustomerCapacity,
  type Image,
  type Product,
  type Region,
  type SshKey,
} from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { formatEuros, useT } from '../i18n.tsx';
import { ErrorNotice, Field } from '../components.tsx';
import { navigate } from '../router.ts';

const steps = ['chooseRegion', 'chooseProduct', 'chooseImage', 'details', 'networkingProtection', 'review'] as const;
/** The product default: every 5 h 30 (RPO under 6 h). */
const defaultBackupHours = '5.5';
const validHours = (text: string) => {
  const hours = Number(text.replace(',', '.'));
  return text.trim() !== '' && Number.isFinite(hours) && hours >= 1 && hours <= 168 && Number.isInteger(hours * 2);
};

/** The backup storage price in force in `region` now: the region's own version wins over `*`. */
function backupGibPrice(prices: readonly Price[], region: string, nowMs: number): Price | null {
  const inForce = (p: Price) => Date.parse(p.valid_from) <= nowMs;
  const newest = (list: Price[]) => list.sort((a, b) => Date.parse(b.valid_from) - Date.parse(a.valid_from))[0] ?? null;
  return (
    newest(prices.filter((p) => p.region === region && inForce(p))) ??
    newest(prices.filter((p) => p.region === '*' && inForce(p)))
  );
}

export function CreateServer({ me }: { me: CurrentPrincipal }) {
  const { t, lang } = useT();
  const [regions, setRegions] = useState<Region[]>([]);
  const [products, setProducts] = useState<Product[]>([]);
  const [images, setImages] = useState<Image[]>([]);
  const [capacity, setCapacity] = useState<CustomerCapacity[]>([]);
  const [step, setStep] = useState(0);
  const [region, setRegion] = useState('');
  const [product, setProduct] = useState('');
  const [image, setImage] = useState('');
  const [name, setName] = useState('');
  const [sshKeys, setSshKeys] = useState('');
  const [savedKeys, setSavedKeys] = useState<SshKey[] | null>(null);
  const [chosenKeys, setChosenKeys] = useState<string[]>([]);
  const [userData, setUserData] = useState('');
  const [networks, setNetworks] = useState<Network[] | null>(null);
  const [firewalls, setFirewalls] = useState<Firewall[] | null>(null);
  const [chosenNetworks, setChosenNetworks] = useState<string[]>([]);
  const [chosenFirewalls, setChosenFirewalls] = useState<string[]>([]);
  const [backupsOn, setBackupsOn] = useState(true);
  const [backupHours, setBackupHours] = useState(defaultBackupHours);
  const [keepDaily, setKeepDaily] = useState('');
  const [backupPrices, setBackupPrices] = useState<Price[]>([]);
  const [createdId, setCreatedId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all([api.call(listRegions), api.call(listProducts), api.call(listImages), api.call(getCapacity)])
      .then(([r, p, i, c]) => {
        setRegions(r.regions.filter((x) => x.status !== 'planned'));
        setProducts(p.products);
        setImages(i.images.filter((x) => x.status === 'available'));
        setCapacity(c.capacity as CustomerCapacity[]);
      })
      .catch(setError);
    api
      .call(listSshKeys, { query: { limit: '500' } })
      .then((k) => setSavedKeys(k.ssh_keys))
      .catch(() => setSavedKeys([]));
    api
      .call(listNetworks, { query: { limit: '500' } })
      .then((n) => setNetworks(n.networks))
      .catch(() => setNetworks([]));
    api
      .call(listFirewalls, { query: { limit: '500' } })
      .then((f) => setFirewalls(f.firewalls))
      .catch(() => setFirewalls([]));
    // What backups cost: billed by the GiB they store (docs/billing.md), not as a share of the server's price.
    api
      .call(listPrices, { query: { item: 'backup_gib' } })
      .then((p) => setBackupPrices(p.prices))
      .catch(() => setBackupPrices([]));
    // Availability changes while one chooses: refreshed every 15 s.
    const timer = setInterval(() => {
      api
        .call(getCapacity)
        .then((c) => setCapacity(c.capacity as CustomerCapacity[]))
        .catch(() => undefined);
    }, 15_000);
    return () => clearInterval(timer);
  }, []);

  if (me.project.role === 'viewer') return <p>{t('viewerNote')}</p>;
  const availability = (code: string) =>
    capacity.find((c) => c.region === region)?.products.find((p) => p.product === code)?.availability ?? 'none';
  const chosen = products.find((p) => p.code === product);
  const inRegion = products.filter((p) => p.regions.includes(region));
  const chosenImage = images.find((i) => i.slug === image);
  const usableImages = images.filter((i) => !i.requires_gpu || chosen?.gpu);
  const categories = [...new Set(usableImages.map((i) => i.category))];
  const regionNetworks = (networks ?? []).filter((n) => n.region === region);
  const pickedNetworks = regionNetworks.filter((n) => chosenNetworks.includes(n.id));
  const pickedFirewalls = (firewalls ?? []).filter((f) => chosenFirewalls.includes(f.id));
  const keepDailyValid = keepDaily.trim() === '' || /^\d{1,4}$/.test(keepDaily.trim());
  const backupChanged = !backupsOn || Number(backupHours.replace(',', '.')) !== 5.5 || keepDaily.trim() !== '';
  const canNext =
    [
      region !== '',
      product !== '' && availability(product) !== 'none',
      image !== '',
      /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(name),
      !backupsOn || (validHours(backupHours) && keepDailyValid),
    ][step] ?? true;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (step < steps.length - 1) {
      if (canNext) setStep(step + 1);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const keys = sshKeys
        .split('\n')
        .map((k) => k.trim())
        .filter(Boolean);
      keys.unshift(...chosenKeys);
      const created = await api.call(createServer, {
        body: {
          name,
          region,
          product,
          image,
          ...(keys.length ? { ssh_keys: keys } : {}),
          ...(userData ? { user_data: userData } : {}),
          ...(pickedNetworks.length ? { networks: pickedNetworks.map((n) => n.id) } : {}),
          ...(pickedFirewalls.length ? { firewalls: pickedFirewalls.map((f) => f.id) } : {}),
        },
      });
      if (backupChanged) {
        try {
          await api.call(setServerBackupPolicy, {
            params: { id: created.server.id },
            body: backupsOn
              ? {
                  enabled: true,
                  every_minutes: Math.round(Number(backupHours.replace(',', '.')) * 60),
                  ...(keepDaily.trim() !== '' ? { keep_daily: Number(keepDaily.trim()) } : {}),
                }
              : { enabled: false },
          });
        } catch (failure) {
          // The server exists: say so, and offer its page rather than a second create.
          setCreatedId(created.server.id);
          setError(failure);
          setBusy(false);
          return;
        }
      }
      navigate(`/servers/${created.server.id}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const backupPrice = backupGibPrice(backupPrices, region, Date.now());
  const backupPriceText =
    backupPrice?.monthly_cap_micros != null ? formatEuros(backupPrice.monthly_cap_micros / 10_000, lang) : null;
  const price = chosen
    ? t('priceSummary', {
        hour: formatEuros(chosen.price.hourly_cents, lang),
        month: formatEuros(chosen.price.monthly_cents, lang),
      })
    : '';

  return (
    <section aria-labelledby="create-title">
      <h1 id="create-title">{t('createServer')}</h1>
      <ol className="steps" aria-label={t('step', { n: step + 1, total: steps.length })}>
        {steps.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} className={i < step ? 'done' : ''}>
            {t(s)}
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <h2>
          {t('step', { n: step + 1, total: steps.length })} — {t(steps[step])}
        </h2>
        {step === 0 && (
          <fieldset className="choices">
            <legend>{t('chooseRegion')}</legend>
            {regions.map((r) => {
              const orderable = capacity.find((c) => c.region === r.code)?.orderable ?? false;
              return (
                <label key={r.code} className="choice">
                  <input
                    type="radio"
                    name="region"
                    value={r.code}
                    checked={region === r.code}
                    disabled={!orderable}
                    onChange={() => {
                      setRegion(r.code);
                      setProduct('');
                    }}
                  />
                  <span>
                    <strong>{r.code.toUpperCase()}</strong> {r.city}, {r.country}
                  </span>
                </label>
              );
            })}
          </fieldset>
        )}
        {step === 1 && (
          <fieldset className="choices">
            <legend>{t('chooseProduct')}</legend>
            {inRegion.map((p) => {
              const a = availability(p.code);
              return (
                <label key={p.code} className="choice product" data-product={p.code}>
                  <input
                    type="radio"
                    name="product"
                    value={p.code}
                    checked={product === p.code}
                    disabled={a === 'none'}
                    onChange={() => setProduct(p.code)}
                  />
                  <span>
                    <strong>{p.name}</strong> · {t('vcpus', { n: p.vcpus })} · {t('memory', { n: p.memory_mib / 1024 })}{' '}
                    · {t('disk', { n: p.disk_gib })}
                    {p.gpu ? ` · ${p.gpu.count}× ${p.gpu.model}` : ''}
                    <br />
                    {t('perHour', { price: formatEuros(p.price.hourly_cents, lang) })} ·{' '}
                    {t('perMonth', { price: formatEuros(p.price.monthly_cents, lang) })} ·{' '}
                    <span className={`avail avail-${a}`}>
                      {t(`availability_${a}`)} ({region.toUpperCase()})
                    </span>
                  </span>
                </label>
              );
            })}
          </fieldset>
        )}
        {step === 2 && (
          <div>
            {categories.map((category) => (
              <fieldset className="choices" key={category}>
                <legend>
                  {t('category')}: {category}
                </legend>
                {usableImages
                  .filter((i) => i.category === category)
                  .map((i) => (
                    <label key={i.slug} className="choice">
                      <input
                        type="radio"
                        name="image"
                        value={i.slug}
                        checked={image === i.slug}
                        onChange={() => setImage(i.slug)}
                      />
                      <span>{i.name}</span>
                    </label>
                  ))}
              </fieldset>
            ))}
          </div>
        )}
        {step === 3 && (
          <div>
            <Field id="server-name" label={t('serverName')} help={t('serverNameHelp')}>
              <input
                id="server-name"
                value={name}
                required
                maxLength={63}
                aria-describedby="server-name-help"
                onChange={(e) => setName(e.target.value)}
              />
            </Field>
            <fieldset className="choices" data-testid="saved-ssh-keys">
              <legend>{t('savedKeysPick')}</legend>
              {savedKeys !== null && savedKeys.length === 0 && <p className="muted">{t('savedKeysNone')}</p>}
              {(savedKeys ?? []).map((k) => (
                <label key={k.id} className="choice" data-ssh-key={k.name}>
                  <input
                    type="checkbox"
                    name="saved-ssh-key"
                    value={k.id}
                    checked={chosenKeys.includes(k.id)}
                    onChange={(e) =>
                      setChosenKeys(e.target.checked ? [...chosenKeys, k.id] : chosenKeys.filter((id) => id !== k.id))
                    }
                  />
                  <span>
                    <strong>{k.name}</strong> <code className="fingerprint">{k.fingerprint}</code>
                  </span>
                </label>
              ))}
            </fieldset>
            <Field id="ssh-keys" label={savedKeys && savedKeys.length > 0 ? t('inlineSshKeys') : t('sshKeys')}>
              <textarea id="ssh-keys" rows={3} value={sshKeys} onChange={(e) => setSshKeys(e.target.value)} />
            </Field>
            <Field id="user-data" label={t('userData')}>
              <textarea id="user-data" rows={5} value={userData} onChange={(e) => setUserData(e.target.value)} />
            </Field>
          </div>
        )}
        {step === 4 && (
          <div data-testid="protection-step">
            <fieldset className="choices" data-testid="wizard-networks">
              <legend>{t('wizardNetworks')}</legend>
              {networks !== null && regionNetworks.length === 0 && (
                <p className="muted">{t('wizardNetworksNone', { region: region.toUpperCase() })}</p>
              )}
              {regionNetworks.map((n) => (
                <label key={n.id} className="choice" data-network={n.name}>
                  <input
                    type="checkbox"
                    name="network"
                    value={n.id}
                    checked={chosenNetworks.includes(n.id)}
                    onChange={(e) =>
                      setChosenNetworks(
                        e.target.checked ? [...chosenNetworks, n.id] : chosenNetworks.filter((id) => id !== n.id),
                      )
                    }
                  />
                  <span>
                    <strong>{n.name}</strong> <code>{n.ip_range}</code>
                  </span>
                </label>
              ))}
            </fieldset>
            <fieldset className="choices" data-testid="wizard-firewalls" aria-describedby="wizard-firewalls-help">
              <legend>{t('wizardFirewalls')}</legend>
              <p id="wizard-firewalls-help" className="muted">
                {t('wizardFirewallsHelp')}
              </p>
              {firewalls !== null && firewalls.length === 0 && <p className="muted">{t('wizardFirewallsNone')}</p>}
              {(firewalls ?? []).map((f) => (
                <label key={f.id} className="choice" data-firewall={f.name}>
                  <input
                    type="checkbox"
                    name="firewall"
                    value={f.id}
                    checked={chosenFirewalls.includes(f.id)}
                    onChange={(e) =>
                      setChosenFirewalls(
                        e.target.checked ? [...chosenFirewalls, f.id] : chosenFirewalls.filter((id) => id !== f.id),
                      )
                    }
                  />
                  <span>
                    <strong>{f.name}</strong> · {t('wizardFirewallRules', { n: f.rules.length })}
                  </span>
                </label>
              ))}
            </fieldset>
            <fieldset data-testid="wizard-backups">
              <legend>{t('wizardBackups')}</legend>
              <label className="choice">
                <input
                  type="checkbox"
                  id="wizard-backups-on"
                  checked={backupsOn}
                  onChange={(e) => setBackupsOn(e.target.checked)}
                />
                <span>{t('wizardBackupsOn')}</span>
              </label>
              {backupsOn && (
                <>
                  <Field id="wizard-backup-hours" label={t('wizardBackupsEvery')} help={t('wizardBackupsEveryHelp')}>
                    <input
                      id="wizard-backup-hours"
                      inputMode="decimal"
                      value={backupHours}
                      aria-describedby="wizard-backup-hours-help"
                      aria-invalid={!validHours(backupHours)}
                      onChange={(e) => setBackupHours(e.target.value)}
                    />
                  </Field>
                  <Field
                    id="wizard-keep-daily"
                    label={t('wizardBackupsKeepDaily')}
                    help={t('wizardBackupsKeepDailyHelp')}
                  >
                    <input
                      id="wizard-keep-daily"
                      inputMode="numeric"
                      value={keepDaily}
                      aria-describedby="wizard-keep-daily-help"
                      aria-invalid={!keepDailyValid}
                      onChange={(e) => setKeepDaily(e.target.value)}
                    />
                  </Field>
                  {backupPriceText && (
                    <p className="help" data-testid="wizard-backup-price">
                      {t('wizardBackupsPrice', { price: backupPriceText })}
                    </p>
                  )}
                </>
              )}
            </fieldset>
          </div>
        )}
        {step === 5 && (
          <dl className="facts" data-testid="review">
            <dt>{t('serverName')}</dt>
            <dd>{name}</dd>
            <dt>{t('region')}</dt>
            <dd>{region.toUpperCase()}</dd>
            <dt>{t('product')}</dt>
            <dd>{chosen?.name}</dd>
            <dt>{t('image')}</dt>
            <dd>{chosenImage?.name}</dd>
            <dt>{t('reviewSshKeys')}</dt>
            <dd>
              {[
                ...(savedKeys ?? []).filter((k) => chosenKeys.includes(k.id)).map((k) => k.name),
                ...sshKeys
                  .split('\n')
                  .map((k) => k.trim())
                  .filter(Boolean)
                  .map((k) => k.split(/\s+/)[2] ?? `${k.slice(0, 24)}…`),
              ].join(', ') || t('reviewNoSshKeys')}
            </dd>
            <dt>{t('reviewNetworks')}</dt>
            <dd>{pickedNetworks.map((n) => n.name).join(', ') || t('reviewNone')}</dd>
            <dt>{t('reviewFirewalls')}</dt>
            <dd>{pickedFirewalls.map((f) => f.name).join(', ') || t('reviewNone')}</dd>
            <dt>{t('reviewBackups')}</dt>
            <dd data-testid="review-backups">
              {backupsOn
                ? [
                    t('reviewBackupsEvery', { hours: backupHours.replace('.', lang === 'fr' ? ',' : '.') }),
                    ...(keepDaily.trim() !== '' ? [t('reviewBackupsKeepDaily', { n: keepDaily.trim() })] : []),
                    ...(backupPriceText ? [t('reviewBackupsPrice', { price: backupPriceText })] : []),
                  ].join(' · ')
                : t('reviewBackupsOff')}
            </dd>
          </dl>
        )}
        {chosen && (
          <p className="price" aria-live="polite" data-testid="price">
            {price}
          </p>
        )}
        {createdId && <p className="notice">{t('wizardBackupFailed')}</p>}
        <ErrorNotice error={error} />
        {createdId && (
          <p>
            <a href={`/servers/${createdId}`}>{t('openServer')}</a>
          </p>
        )}
        <div className="row">
          {step > 0 && (
            <button type="button" onClick={() => setStep(step - 1)}>
              {t('back')}
            </button>
          )}
          <button type="submit" className="primary" disabled={!canNext || busy || createdId !== null}>
            {step < steps.length - 1 ? t('next') : busy ? t('creating') : t('createNow')}
          </button>
        </div>
      </form>
    </section>
  );
}
