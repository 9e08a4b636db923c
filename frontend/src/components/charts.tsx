// Own SVG charts: the ban trend (bar chart over zero-filled buckets) and the top-countries bar
// list. Pure presentation of API values; no library.
import type { Trend } from '../api/types';
import { countryName, flagEmoji, formatCount } from '../lib/format';

export function TrendChart({ trend }: { trend: Trend }) {
  const w = 640;
  const h = 160;
  const pad = { l: 36, r: 8, t: 8, b: 22 };
  const n = trend.buckets.length;
  const max = Math.max(1, ...trend.buckets.map((b) => b.count));
  const total = trend.buckets.reduce((s, b) => s + b.count, 0);
  const bw = n > 0 ? (w - pad.l - pad.r) / n : 0;
  const y = (c: number) => pad.t + (h - pad.t - pad.b) * (1 - c / max);
  const label = (iso: string | undefined) => {
    if (!iso) return '';
    const d = new Date(iso);
    return trend.bucket_seconds < 86400
      ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })
      : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  };
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`Ban trend: ${total} bans in ${n} buckets, peak ${max === 1 && total === 0 ? 0 : max}`} data-testid="trend-chart">
        <line x1={pad.l} x2={w - pad.r} y1={y(0)} y2={y(0)} className="axis" />
        <text x={pad.l - 4} y={y(max) + 4} textAnchor="end" className="tick">{max}</text>
        <text x={pad.l - 4} y={y(0)} textAnchor="end" className="tick">0</text>
        {trend.buckets.map((b, i) => (
          <rect key={b.start} x={pad.l + i * bw + bw * 0.1} width={Math.max(1, bw * 0.8)} y={y(b.count)}
            height={Math.max(0, y(0) - y(b.count))} className="bar" data-count={b.count}>
            <title>{`${new Date(b.start).toLocaleString()}: ${b.count} bans`}</title>
          </rect>
        ))}
        <text x={pad.l} y={h - 4} className="tick">{label(trend.buckets[0]?.start)}</text>
        <text x={w - pad.r} y={h - 4} textAnchor="end" className="tick">{label(trend.buckets[n - 1]?.start)}</text>
      </svg>
      <figcaption className="muted small">{formatCount(total)} bans; one bar per {Math.round(trend.bucket_seconds / 3600) >= 24 ? `${Math.round(trend.bucket_seconds / 86400)} day(s)` : `${Math.max(1, Math.round(trend.bucket_seconds / 3600))} hour(s)`}</figcaption>
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
              <span aria-hidden="true">{flagEmoji(cc)}</span> {countryName(cc, names[cc])}
            </button>
          ) : (
            <span><span aria-hidden="true">{flagEmoji(cc)}</span> {countryName(cc, names[cc])}</span>
          )}
          <span className="barwrap" aria-hidden="true"><span className="hbar" style={{ width: `${(count / max) * 100}%` }} /></span>
          <span className="num">{formatCount(count)}</span>
        </li>
      ))}
    </ol>
  );
}
