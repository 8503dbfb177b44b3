/**
 * A small line chart in SVG (no chart library; the console's CSP forbids inline styles, SVG attributes are
 * fine): one or two series over time, the axis scaled to the largest value, described for screen readers
 * by its title and the latest and highest values.
 */
import { useT } from './i18n.tsx';

export interface Series {
  label: string;
  points: [number, number][]; // [unix seconds, value]
}

const width = 560;
const height = 160;
const pad = { left: 48, right: 8, top: 10, bottom: 22 };

export function LineChart(props: { title: string; unit: string; series: Series[]; testId?: string }) {
  const { lang } = useT();
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const all = props.series.flatMap((s) => s.points);
  const fmt = (v: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: v < 10 ? 2 : 0 }).format(v);
  if (all.length === 0)
    return (
      <figure className="chart" data-testid={props.testId}>
        <figcaption>{props.title}</figcaption>
        <p className="muted">—</p>
      </figure>
    );
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const max = Math.max(...all.map((p) => p[1]), 1e-9);
  const x = (t: number) => pad.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - v / max) * (height - pad.top - pad.bottom);
  const time = (t: number) => new Date(t * 1000).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  const summary = props.series
    .map((s) => {
      const last = s.points.at(-1)?.[1] ?? 0;
      const peak = Math.max(...s.points.map((p) => p[1]), 0);
      return `${s.label}: ${fmt(last)} ${props.unit} (max ${fmt(peak)})`;
    })
    .join('; ');
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>
        {props.title} <span className="muted">({props.unit})</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}: ${summary}`}>
        <line className="axis" x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} />
        <line className="grid" x1={pad.left} x2={width - pad.right} y1={y(max)} y2={y(max)} />
        <text className="tick" x={pad.left - 4} y={y(max) + 4} textAnchor="end">
          {fmt(max)}
        </text>
        <text className="tick" x={pad.left - 4} y={y(0) + 4} textAnchor="end">
          0
        </text>
        <text className="tick" x={pad.left} y={height - 4}>
          {time(t0)}
        </text>
        <text className="tick" x={width - pad.right} y={height - 4} textAnchor="end">
          {time(t1)}
        </text>
        {props.series.map((s, i) => (
          <polyline
            key={s.label}
            className={`line line-${i}`}
            points={s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <p className="legend">
        {props.series.map((s, i) => (
          <span key={s.label} className={`key key-${i}`}>
            {s.label}
          </span>
        ))}
      </p>
    </figure>
  );
}
