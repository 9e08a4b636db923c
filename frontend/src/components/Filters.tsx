// Time-range and origin filter controls, bound to the URL query (?range=&origin=&country=) so
// the dashboard and the map share them. No data loading here.
import { useSearchParams } from 'react-router-dom';
import type { Origin, Range } from '../api/types';
import { Flag } from '../lib/flags';
import { countryName } from '../lib/format';

const RANGES: { value: Range; label: string }[] = [
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '365d', label: 'Last year' },
];
const ORIGINS: { value: Origin; label: string }[] = [
  { value: 'all', label: 'All origins' },
  { value: 'selfblock', label: 'Detected here' },
  { value: 'blocklist', label: 'Blocklist imports' },
];

export function parseRange(v: string | null): Range {
  return v === '7d' || v === '30d' || v === '365d' ? v : '24h';
}
export function parseOrigin(v: string | null): Origin {
  return v === 'selfblock' || v === 'blocklist' ? v : 'all';
}
export function parseCountry(v: string | null): string | null {
  return v && /^[A-Za-z]{2}$/.test(v) ? v.toUpperCase() : null;
}

export function useFilters() {
  const [params, setParams] = useSearchParams();
  const range = parseRange(params.get('range'));
  const origin = parseOrigin(params.get('origin'));
  const country = parseCountry(params.get('country'));
  const set = (key: 'range' | 'origin' | 'country', value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null || (key === 'range' && value === '24h') || (key === 'origin' && value === 'all')) next.delete(key);
    else next.set(key, value);
    setParams(next, { replace: true });
  };
  return { range, origin, country, set };
}

/** `names`: the server's country names (the same the lists show), keyed by code. */
export function FilterBar({ names = {}, updating = false }: { names?: Record<string, string>; updating?: boolean }) {
  const { range, origin, country, set } = useFilters();
  return (
    <div className="filters" role="group" aria-label="Filters">
      <label>
        Time range{' '}
        <select value={range} onChange={(e) => set('range', e.target.value)}>
          {RANGES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
        </select>
      </label>
      <label>
        Origin{' '}
        <select value={origin} onChange={(e) => set('origin', e.target.value)}>
          {ORIGINS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </label>
      {country && (
        <span className="chip" data-testid="country-filter">
          <Flag code={country} /> {countryName(country, names[country])}
          <button type="button" className="link" aria-label={`Clear country filter ${countryName(country, names[country])}`}
            onClick={() => set('country', null)}>×</button>
        </span>
      )}
      {updating && <span className="updating" role="status" data-testid="updating">Updating…</span>}
    </div>
  );
}
