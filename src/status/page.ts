/**
 * The public status page as server-rendered HTML: no JavaScript, light and dark (prefers-color-scheme),
 * French and English (Accept-Language, `?lang=`). Status is always written in words beside its colour.
 */
import type { ComponentStatus, Incident, PromiseMeasure } from '../contract/index.ts';
import { escapeHtml as h } from './html.ts';
import type { DayBar } from './derive.ts';
import type { StatusSnapshot } from './service.ts';

export type Language = 'en' | 'fr';

/** `?lang=` wins; else the first of Accept-Language's languages we speak (by quality); else English. */
export function pickLanguage(query: string | undefined, acceptLanguage: string | undefined): Language {
  if (query === 'fr' || query === 'en') return query;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.split('-')[0], q: q === undefined ? 1 : Number(q), index };
    })
    .filter((l) => (l.lang === 'fr' || l.lang === 'en') && l.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (ranked[0]?.lang as Language | undefined) ?? 'en';
}

const text = {
  en: {
    title: 'VMCloud status',
    language: 'Language',
    updated: 'Updated',
    overall: {
      none: 'All systems operational',
      minor: 'Minor service disruption',
      major: 'Partial system outage',
      critical: 'Major service outage',
      maintenance: 'Maintenance in progress',
    },
    status: {
      operational: 'Operational',
      under_maintenance: 'Under maintenance',
      degraded_performance: 'Degraded performance',
      partial_outage: 'Partial outage',
      major_outage: 'Major outage',
    },
    incidentStatus: {
      investigating: 'Investigating',
      identified: 'Identified',
      monitoring: 'Monitoring',
      resolved: 'Resolved',
    },
    impact: { none: 'No impact', minor: 'Minor', major: 'Major', critical: 'Critical' },
    maintenanceStatus: {
      scheduled: 'Scheduled',
      in_progress: 'In progress',
      completed: 'Completed',
      cancelled: 'Cancelled',
    },
    activeIncidents: 'Active incidents',
    noActiveIncident: 'No active incident.',
    maintenances: 'Scheduled maintenance',
    noMaintenance: 'No maintenance scheduled.',
    regionMaintenance: (code: string) =>
      `Region ${code.toUpperCase()} is in maintenance: no new servers there; running servers keep running.`,
    components: 'Components',
    global: 'Global',
    uptime90: (value: string) => `Uptime over 90 days: ${value}`,
    noData: 'no data',
    dayBar: (day: string, value: string) => `${day}: ${value}`,
    promises: 'Our promises, measured',
    promisesIntro:
      'Each figure VMCloud promises, beside what the platform measures itself. “Simulated” figures come from the simulated fleet.',
    claim: 'Promise (as published)',
    measured: 'Measured',
    window: 'Window',
    holds: 'Holds',
    method: 'How it is measured',
    yes: 'yes',
    no: 'no',
    notMeasured: 'not measured',
    simulated: 'simulated',
    affected: 'Affected',
    colon: ':',
    window_: (from: string, to: string) => `From ${from} to ${to}`,
    pastIncidents: 'Resolved in the last 14 days',
    noPastIncident: 'No incident in the last 14 days.',
    feeds: 'Machine-readable',
    kinds: {
      compute: 'Compute',
      network: 'Network',
      storage: 'Storage',
      api: 'API',
      console: 'Console',
      billing: 'Billing',
    },
  },
  fr: {
    title: 'État des services VMCloud',
    language: 'Langue',
    updated: 'Mis à jour',
    overall: {
      none: 'Tous les services fonctionnent normalement',
      minor: 'Perturbation mineure',
      major: 'Panne partielle',
      critical: 'Panne majeure',
      maintenance: 'Maintenance en cours',
    },
    status: {
      operational: 'Opérationnel',
      under_maintenance: 'En maintenance',
      degraded_performance: 'Performances dégradées',
      partial_outage: 'Panne partielle',
      major_outage: 'Panne majeure',
    },
    incidentStatus: {
      investigating: 'Analyse en cours',
      identified: 'Cause identifiée',
      monitoring: 'Sous surveillance',
      resolved: 'Résolu',
    },
    impact: { none: 'Sans impact', minor: 'Mineur', major: 'Majeur', critical: 'Critique' },
    maintenanceStatus: { scheduled: 'Planifiée', in_progress: 'En cours', completed: 'Terminée', cancelled: 'Annulée' },
    activeIncidents: 'Incidents en cours',
    noActiveIncident: 'Aucun incident en cours.',
    maintenances: 'Maintenances planifiées',
    noMaintenance: 'Aucune maintenance planifiée.',
    regionMaintenance: (code: string) =>
      `La région ${code.toUpperCase()} est en maintenance : pas de nouveaux serveurs ; les serveurs existants continuent de tourner.`,
    components: 'Composants',
    global: 'Global',
    uptime90: (value: string) => `Disponibilité sur 90 jours : ${value}`,
    noData: 'pas de données',
    dayBar: (day: string, value: string) => `${day} : ${value}`,
    promises: 'Nos engagements, mesurés',
    promisesIntro:
      'Chaque chiffre promis par VMCloud, à côté de ce que la plateforme mesure elle-même. Les chiffres « simulés » viennent de la flotte simulée.',
    claim: 'Engagement (tel que publié)',
    measured: 'Mesuré',
    window: 'Période',
    holds: 'Tenu',
    method: 'Méthode de mesure',
    yes: 'oui',
    no: 'non',
    notMeasured: 'non mesuré',
    simulated: 'simulé',
    affected: 'Composants touchés',
    colon: ' :',
    window_: (from: string, to: string) => `Du ${from} au ${to}`,
    pastIncidents: 'Résolus ces 14 derniers jours',
    noPastIncident: 'Aucun incident ces 14 derniers jours.',
    feeds: 'Formats lisibles par machine',
    kinds: {
      compute: 'Calcul',
      network: 'Réseau',
      storage: 'Stockage',
      api: 'API',
      console: 'Console',
      billing: 'Facturation',
    },
  },
} as const;

type Text = (typeof text)[Language];

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

function percent(value: number | null, t: Text): string {
  if (value === null) return t.noData;
  const digits = value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  return `${digits} %`;
}

function formatMeasure(p: PromiseMeasure, t: Text): string {
  if (p.measured === null) return t.notMeasured;
  const v = p.measured;
  switch (p.unit) {
    case 'percent':
      return `${v} %`;
    case 'seconds':
      return v >= 3600
        ? `${Math.floor(v / 3600)} h ${Math.round((v % 3600) / 60)} min`
        : v >= 60
          ? `${Math.round(v / 60)} min`
          : `${v} s`;
    case 'minutes':
      return `${v} min`;
    case 'milliseconds':
      return `${v} ms`;
    default:
      return `${v} ${p.unit}`;
  }
}

const componentName = (c: { group: string; kind: string }, t: Text) =>
  `${c.group === 'global' ? t.global : c.group.toUpperCase()} · ${t.kinds[c.kind as keyof Text['kinds']] ?? c.kind}`;

function badge(status: ComponentStatus, t: Text): string {
  return `<span class="badge s-${status}">${h(t.status[status])}</span>`;
}

function bars(days: readonly DayBar[], uptime: number | null, t: Text): string {
  const spans = days
    .map(
      (d) =>
        `<span class="bar s-${d.worst ?? 'none'}" title="${h(t.dayBar(d.day, percent(d.uptimePercent, t)))}"></span>`,
    )
    .join('');
  return `<div class="bars" role="img" aria-label="${h(t.uptime90(percent(uptime, t)))}">${spans}</div>`;
}

function incidentArticle(i: Incident, t: Text, nameOf: (id: string) => string): string {
  const updates = i.updates
    .map(
      (u) =>
        `<li><p class="meta"><strong>${h(t.incidentStatus[u.status])}</strong> · <time datetime="${h(u.at)}">${h(when(u.at))}</time></p><p class="body">${h(u.body)}</p></li>`,
    )
    .join('');
  return `<article class="incident impact-${i.impact}" id="${h(i.id)}" aria-labelledby="${h(i.id)}-title">
<h3 id="${h(i.id)}-title">${h(i.title)}</h3>
<p class="meta">${h(t.impact[i.impact])} · ${h(t.incidentStatus[i.status])} · ${h(t.affected)}${t.colon} ${h(i.components.map(nameOf).join(', '))}</p>
<ol class="updates">${updates}</ol>
</article>`;
}

const styles = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1b1f24;--muted:#4a5360;--card:#f4f6f8;--line:#d0d7de;--link:#0b57d0;
--ok:#1a7f37;--maint:#0969da;--degraded:#9a6700;--partial:#bc4c00;--major:#cf222e;--none:#8c959f}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#a8b3bf;--card:#161b22;--line:#30363d;--link:#6cb6ff;
--ok:#3fb950;--maint:#58a6ff;--degraded:#d29922;--partial:#f0883e;--major:#f85149;--none:#484f58}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--link)}
header,main,footer{max-width:60rem;margin:0 auto;padding:1rem}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:1rem}
h1{font-size:1.6rem;margin:0}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
h3{font-size:1.05rem;margin:.25rem 0}
.banner{padding:1rem;border-radius:.5rem;background:var(--card);border-left:.5rem solid var(--ok);font-size:1.2rem;margin:0}
.banner.i-minor{border-color:var(--degraded)}.banner.i-major{border-color:var(--partial)}.banner.i-critical{border-color:var(--major)}.banner.i-maintenance{border-color:var(--maint)}
.meta{color:var(--muted);margin:.25rem 0}
.body{white-space:pre-line;margin:.25rem 0 .75rem}
.incident{background:var(--card);border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0;border-left:.4rem solid var(--degraded)}
.incident.impact-major{border-color:var(--partial)}.incident.impact-critical{border-color:var(--major)}.incident.impact-none{border-color:var(--line)}
.updates{list-style:none;padding:0;margin:0}
.group{border:1px solid var(--line);border-radius:.5rem;margin:1rem 0;padding:.25rem 1rem}
.group ul{list-style:none;padding:0;margin:0}
.component{padding:.6rem 0;border-top:1px solid var(--line)}
.group li:first-child{border-top:0}
.row{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
.badge{font-weight:600;padding-left:.9rem;position:relative}
.badge::before{content:"";position:absolute;left:0;top:.45em;width:.6rem;height:.6rem;border-radius:50%;background:var(--ok)}
.badge.s-under_maintenance::before{background:var(--maint)}.badge.s-degraded_performance::before{background:var(--degraded)}
.badge.s-partial_outage::before{background:var(--partial)}.badge.s-major_outage::before{background:var(--major)}
.bars{display:flex;gap:1px;height:1.6rem;margin-top:.35rem}
.bar{flex:1;border-radius:1px;background:var(--ok)}
.bar.s-none{background:var(--none)}.bar.s-under_maintenance{background:var(--maint)}.bar.s-degraded_performance{background:var(--degraded)}
.bar.s-partial_outage{background:var(--partial)}.bar.s-major_outage{background:var(--major)}
.uptime{color:var(--muted);font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line)}
caption{text-align:left;color:var(--muted);padding-bottom:.5rem}
.holds-yes{color:var(--ok);font-weight:600}.holds-no{color:var(--major);font-weight:600}
.reason{display:block;color:var(--muted);font-size:.85rem}
.tag{font-size:.8rem;border:1px solid var(--line);border-radius:.25rem;padding:0 .3rem;margin-left:.3rem}
footer{color:var(--muted);font-size:.9rem}
`;

export function renderStatusPage(snapshot: StatusSnapshot, lang: Language): string {
  const t = text[lang];
  const names = new Map(snapshot.groups.flatMap((g) => g.components.map((c) => [c.id, componentName(c, t)] as const)));
  const nameOf = (id: string) => names.get(id) ?? id;

  const active =
    snapshot.activeIncidents.length === 0
      ? `<p>${h(t.noActiveIncident)}</p>`
      : snapshot.activeIncidents.map((i) => incidentArticle(i, t, nameOf)).join('\n');
  const maintenanceItems = [
    ...snapshot.regionsInMaintenance.map(
      (r) => `<li><p><strong>${h(r.code.toUpperCase())}</strong> · ${h(t.regionMaintenance(r.code))}</p></li>`,
    ),
    ...snapshot.maintenances.map(
      (m) =>
        `<li id="${h(m.id)}"><h3>${h(m.title)}</h3><p class="meta">${h(t.maintenanceStatus[m.status])} · ${h(t.window_(when(m.starts_at), when(m.ends_at)))} · ${h(t.affected)}${t.colon} ${h(m.components.map(nameOf).join(', '))}</p>${m.body ? `<p class="body">${h(m.body)}</p>` : ''}</li>`,
    ),
  ];
  const maintenances =
    maintenanceItems.length === 0
      ? `<p>${h(t.noMaintenance)}</p>`
      : `<ul class="updates">${maintenanceItems.join('')}</ul>`;
  const groups = snapshot.groups
    .map((g) => {
      const title = g.id === 'global' ? t.global : g.name;
      const items = g.components
        .map(
          (c) => `<li class="component" data-component="${h(c.id)}" data-status="${h(c.status)}">
<div class="row"><span>${h(componentName(c, t))}</span>${badge(c.status, t)}</div>
${bars(c.bars, c.uptime_90d_percent, t)}
<div class="row uptime"><span>${h(t.uptime90(percent(c.uptime_90d_percent, t)))}</span></div>
</li>`,
        )
        .join('\n');
      return `<section class="group" aria-labelledby="g-${h(g.id)}"><h3 id="g-${h(g.id)}">${h(title)}</h3><ul>${items}</ul></section>`;
    })
    .join('\n');
  const promiseRows = snapshot.promises.promises
    .map((p) => {
      const holds =
        p.holds === null ? '—' : `<span class="holds-${p.holds ? 'yes' : 'no'}">${h(p.holds ? t.yes : t.no)}</span>`;
      const measured = `${h(formatMeasure(p, t))}${p.simulated && p.measured !== null ? `<span class="tag">${h(t.simulated)}</span>` : ''}${p.reason ? `<span class="reason">${h(p.reason)}</span>` : ''}${p.regions && p.regions.length > 0 ? `<span class="reason" data-regions>${h(p.regions.map((r) => `${r.region.toUpperCase()} ${formatMeasure({ ...p, measured: r.measured }, t)}${r.simulated ? ` (${t.simulated})` : ''}`).join(' · '))}</span>` : ''}`;
      return `<tr data-promise="${h(p.id)}"><th scope="row" lang="fr">${h(p.claim)}</th><td>${measured}</td><td>${h(p.window)}</td><td>${holds}</td><td>${h(p.method)}</td></tr>`;
    })
    .join('\n');
  const past =
    snapshot.recentIncidents.length === 0
      ? `<p>${h(t.noPastIncident)}</p>`
      : snapshot.recentIncidents.map((i) => incidentArticle(i, t, nameOf)).join('\n');
  const other = lang === 'fr' ? { code: 'en', name: 'English' } : { code: 'fr', name: 'Français' };

  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${h(t.title)}</title>
<link rel="alternate" type="application/atom+xml" title="Atom" href="/status/history.atom">
<style>${styles}</style>
</head>
<body>
<header>
<h1>${h(t.title)}</h1>
<nav aria-label="${h(t.language)}"><a href="/status?lang=${other.code}" hreflang="${other.code}" lang="${other.code}">${other.name}</a></nav>
</header>
<main>
<section aria-labelledby="overall">
<h2 id="overall" class="banner i-${snapshot.indicator}">${h(t.overall[snapshot.indicator])}</h2>
<p class="meta">${h(t.updated)} <time datetime="${h(snapshot.generatedAt)}">${h(when(snapshot.generatedAt))}</time></p>
</section>
<section aria-labelledby="incidents"><h2 id="incidents">${h(t.activeIncidents)}</h2>
${active}
</section>
<section aria-labelledby="maintenances"><h2 id="maintenances">${h(t.maintenances)}</h2>
${maintenances}
</section>
<section aria-labelledby="components"><h2 id="components">${h(t.components)}</h2>
${groups}
</section>
<section aria-labelledby="promises"><h2 id="promises">${h(t.promises)}</h2>
<table>
<caption>${h(t.promisesIntro)}</caption>
<thead><tr><th scope="col">${h(t.claim)}</th><th scope="col">${h(t.measured)}</th><th scope="col">${h(t.window)}</th><th scope="col">${h(t.holds)}</th><th scope="col">${h(t.method)}</th></tr></thead>
<tbody>
${promiseRows}
</tbody>
</table>
</section>
<section aria-labelledby="history"><h2 id="history">${h(t.pastIncidents)}</h2>
${past}
</section>
</main>
<footer>
<p>${h(t.feeds)}${t.colon} <a href="/status/api/v2/summary.json">summary.json</a> · <a href="/status/api/v2/components.json">components.json</a> · <a href="/status/api/v2/incidents.json">incidents.json</a> · <a href="/status/history.atom">Atom</a> · <a href="/v1/promises">/v1/promises</a></p>
</footer>
</body>
</html>
`;
}
