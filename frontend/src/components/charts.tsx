// Own SVG charts: the ban trend (bar chart over zero-filled buckets) and the top-countries bar
// list. Pure presentation of API values; no library. Buckets are whole hours/days/weeks ending
// with the current one, so the last bucket is usually still running: it is drawn hatched and
// named "so far", so a partial week does not look like a collapse.
import type { Trend } from '../api/types';
import { Flag } from '../lib/flags';
import { countryName, formatBans, formatCount } from '../lib/format';

function bucketLabel(iso: string, bucketSeconds: number, spanSeconds: number): string {
  const d = new Date(iso);
  if (bucketSeconds >= 86400) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  // More than a day of hourly bars: the time alone would be ambiguous.
  return spanSeconds > 86400 ? `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}` : time;
}

function unitName(bucketSeconds: number): string {
  if (bucketSeconds >= 7 * 86400) return 'week';
  if (bucketSeconds >= 86400) return 'day';
  return 'hour';
}

/** `title` and `testId` name the chart (the dashboard's ban trend by default). */
export function TrendChart({ trend, now = new Date(), title = 'Ban trend', testId = 'trend-chart' }: {
  trend: Omit<Trend, 'range'> & { range?: string }; now?: Date; title?: string; testId?: string;
}) {
  const w = 640;
  const h = 160;
  const pad = { l: 44, r: 8, t: 8, b: 22 };
  const n = trend.buckets.length;
  const max = Math.max(1, ...trend.buckets.map((b) => b.count));
  const total = trend.buckets.reduce((s, b) => s + b.count, 0);
  const bw = n > 0 ? (w - pad.l - pad.r) / n : 0;
  const y = (c: number) => pad.t + (h - pad.t - pad.b) * (1 - c / max);
  const span = n * trend.bucket_seconds;
  const last = trend.buckets[n - 1];
  const lastPartial = !!last && new Date(last.start).getTime() + trend.bucket_seconds * 1000 > now.getTime();
  const unit = unitName(trend.bucket_seconds);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${title}: ${formatBans(total)} in ${n} ${unit}s, peak ${formatCount(total === 0 ? 0 : max)}${lastPartial ? `; the last ${unit} is still running` : ''}`} data-testid={testId}>
        <defs>
          <pattern id="partial-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="hatch-bg" />
            <line x1="0" y1="0" x2="0" y2="6" className="hatch-line" strokeWidth="3" />
          </pattern>
        </defs>
        <line x1={pad.l} x2={w - pad.r} y1={y(0)} y2={y(0)} className="axis" />
        <text x={pad.l - 4} y={y(max) + 4} textAnchor="end" className="tick">{formatCount(max)}</text>
        <text x={pad.l - 4} y={y(0)} textAnchor="end" className="tick">0</text>
        {trend.buckets.map((b, i) => {
          const partial = lastPartial && i === n - 1;
          return (
            <rect key={b.start} x={pad.l + i * bw + bw * 0.1} width={Math.max(1, bw * 0.8)} y={y(b.count)}
              height={Math.max(0, y(0) - y(b.count))} className={partial ? 'bar partial' : 'bar'} data-count={b.count}
              data-partial={partial ? 'true' : undefined}>
              <title>{`${new Date(b.start).toLocaleString()}: ${formatBans(b.count)}${partial ? ` (this ${unit} so far)` : ''}`}</title>
            </rect>
          );
        })}
        {last && <text x={pad.l} y={h - 4} className="tick">{bucketLabel(trend.buckets[0]!.start, trend.bucket_seconds, span)}</text>}
        {last && <text x={w - pad.r} y={h - 4} textAnchor="end" className="tick">{bucketLabel(last.start, trend.bucket_seconds, span)}</text>}
      </svg>
      <figcaption className="muted small">
        {formatBans(total)}; one bar per {unit}.
        {lastPartial && <> <span className="partial-key" aria-hidden="true" /> The last bar is this {unit} so far.</>}
      </figcaption>
    </figure>
  );
}

export function TopCountries({ countries, names, limit = 10, onSelect }: {
  countries: Record<string, number>; names: Record<string, string>; limit?: number; onSelect?: (cc: string) => void;
}) {
  const top = Object.entries(countries).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
  const max = Math.max(1, ...top.map(([, c]) => c));
  if (top.length === 0) return <p className="muted empty">No bans with a known country in this range.</p>;
  return (
    <ol className="toplist" data-testid="top-countries">
      {top.map(([cc, count]) => (
        <li key={cc}>
          {onSelect ? (
            <button type="button" className="link" onClick={() => onSelect(cc)} aria-label={`Show bans from ${countryName(cc, names[cc])}`}>
              <Flag code={cc} /> {countryName(cc, names[cc])}
            </button>
          ) : (
            <span><Flag code={cc} /> {countryName(cc, names[cc])}</span>
          )}
          <span className="barwrap" aria-hidden="true"><span className="hbar" style={{ width: `${(count / max) * 100}%` }} /></span>
          <span className="num">{formatCount(count)}</span>
        </li>
      ))}
    </ol>
  );
}
