// History: every archived ban, searchable. The filters (time range or from/to dates, jail, IP
// or CIDR, country, ASN, origin, state), the order and the page live in the URL, so a search can
// be bookmarked, shared and reached from the header's search box. Pages are numbered (with a
// jump to any page); moving one page on continues the server's keyset cursor. The export links
// stream the same search as CSV or NDJSON. A filter the server refuses (400) is named next to
// its field.
import { useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { ApiError, historyExportUrl, type HistoryFilters } from '../api/client';
import { queries, useApi } from '../api/queries';
import type { HistoryItem } from '../api/types';
import { BanStateBadge } from '../components/BanStateBadge';
import { CountryCell } from '../components/BanTable';
import { Empty, ErrorBanner, Loading, TableWrap, Updating, usePageTitle } from '../components/feedback';
import { IpLink } from '../components/IpLink';
import { explainError, formatAsn, formatCount, formatDateTime, formatDuration } from '../lib/format';

export const HISTORY_PAGE_SIZE = 50;

/** The URL parameters that are filters (sent to the API as they are). */
const FILTER_KEYS = ['range', 'from', 'to', 'jail', 'ip', 'country', 'asn', 'origin', 'state', 'order'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

const RANGES = [
  { value: '', label: 'All time' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '365d', label: 'Last year' },
  { value: 'custom', label: 'Between dates…' },
];

const LABELS: Record<FilterKey, string> = {
  range: 'Time range', from: 'From', to: 'To', jail: 'Jail', ip: 'IP or network', country: 'Country',
  asn: 'ASN', origin: 'Origin', state: 'State', order: 'Order',
};

/** The filters in the URL, without empty values. */
export function filtersFrom(params: URLSearchParams): HistoryFilters {
  const f: HistoryFilters = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

function pageFrom(params: URLSearchParams): number {
  const n = Number(params.get('page'));
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The parameter a 400 answer names (`details.field`), if any. */
function badField(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const d = error.details;
  return d && typeof d === 'object' && 'field' in d && typeof (d as { field: unknown }).field === 'string' ? (d as { field: string }).field : null;
}

export function HistoryPage() {
  usePageTitle('History');
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const page = pageFrom(params);
  const filterKey = JSON.stringify(filters);
  // next_cursor of each page seen for these filters: "Next" continues the keyset read.
  const cursors = useRef<{ key: string; next: Map<number, string> }>({ key: filterKey, next: new Map() });
  if (cursors.current.key !== filterKey) cursors.current = { key: filterKey, next: new Map() };
  const result = useApi(queries.history(filters, page, HISTORY_PAGE_SIZE, cursors.current.next.get(page - 1)));
  const data = result.data;
  if (data?.next_cursor && !result.updating) cursors.current.next.set(data.page, data.next_cursor);

  const apply = (next: HistoryFilters) => {
    const p = new URLSearchParams();
    for (const k of FILTER_KEYS) {
      const v = next[k]?.trim();
      if (v) p.set(k, v);
    }
    setParams(p);
  };
  const goTo = (n: number) => {
    const p = new URLSearchParams(params);
    if (n <= 1) p.delete('page');
    else p.set('page', String(n));
    setParams(p);
  };

  const field = badField(result.error);
  const rows = data?.items ?? [];
  return (
    <>
      <h1>History</h1>
      {/* Re-mounted when the URL changes elsewhere (header search, back button): the form shows the URL. */}
      <HistoryFilterForm key={filterKey} filters={filters} invalid={field} onApply={apply} updating={result.updating} />
      <section className="card" aria-labelledby="history-h">
        <div className="row between">
          <h2 id="history-h">
            Bans {data && <span className="muted small">({data.total_exact ? formatCount(data.total) : `more than ${formatCount(data.total)}`} found)</span>}
          </h2>
          <div className="row" role="group" aria-label="Export this search">
            <a className="button small" href={historyExportUrl('csv', filters)} download>Export CSV</a>
            <a className="button small" href={historyExportUrl('ndjson', filters)} download>Export NDJSON</a>
          </div>
        </div>
        {field ? (
          <div className="banner banner-error" role="alert" data-testid="filter-error">
            <span>{LABELS[field as FilterKey] ?? field}: {explainError(result.error)}</span>
          </div>
        ) : <ErrorBanner error={result.error} onRetry={result.reload} />}
        {result.loading && !data ? <Loading label="Searching the history…" /> : data && !field && (
          rows.length === 0
            ? <Empty>No archived ban matches these filters.</Empty>
            : (
              <div aria-busy={result.updating} className={result.updating ? 'is-updating' : undefined}>
                <HistoryTable rows={rows} />
                <NumberedPager page={page} pageSize={HISTORY_PAGE_SIZE} total={data.total} exact={data.total_exact}
                  hasNext={data.total_exact ? page * HISTORY_PAGE_SIZE < data.total : !!data.next_cursor} onPage={goTo} />
              </div>
            )
        )}
      </section>
    </>
  );
}

function HistoryFilterForm({ filters, invalid, onApply, updating }: {
  filters: HistoryFilters; invalid: string | null; onApply: (f: HistoryFilters) => void; updating: boolean;
}) {
  const [draft, setDraft] = useState<HistoryFilters>(filters);
  // The running jails as suggestions for the jail field (read once, not polled here).
  const jails = useApi({ ...queries.jails(), refetchInterval: false });
  const [custom, setCustom] = useState(!!(filters.from || filters.to));
  const set = (k: FilterKey, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  /** Selects apply at once; text fields when the form is submitted. */
  const pick = (k: FilterKey, v: string) => onApply({ ...draft, [k]: v });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(custom ? { ...draft, range: '' } : { ...draft, from: '', to: '' });
  };
  const inv = (k: FilterKey) => (invalid === k ? { 'aria-invalid': true as const } : {});
  return (
    <form className="filters history-filters" aria-label="History filters" onSubmit={submit}>
      <label>
        Time range
        <select name="range" value={custom ? 'custom' : draft.range ?? ''} {...inv('range')} onChange={(e) => {
          if (e.target.value === 'custom') setCustom(true);
          else { setCustom(false); onApply({ ...draft, range: e.target.value, from: '', to: '' }); }
        }}>
          {RANGES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
        </select>
      </label>
      {custom && (
        <>
          <label>From<input type="date" name="from" value={draft.from ?? ''} {...inv('from')} onChange={(e) => set('from', e.target.value)} /></label>
          <label>To<input type="date" name="to" value={draft.to ?? ''} {...inv('to')} onChange={(e) => set('to', e.target.value)} /></label>
        </>
      )}
      <label>Jail<input name="jail" list="history-jails" value={draft.jail ?? ''} {...inv('jail')} onChange={(e) => set('jail', e.target.value)} placeholder="sshd" size={10} /></label>
      <datalist id="history-jails">{jails.data?.items.map((j) => <option key={j.name} value={j.name} />)}</datalist>
      <label>IP or network<input name="ip" value={draft.ip ?? ''} {...inv('ip')} onChange={(e) => set('ip', e.target.value)} placeholder="203.0.113.0/24" size={16} /></label>
      <label>Country<input name="country" value={draft.country ?? ''} {...inv('country')} onChange={(e) => set('country', e.target.value)} placeholder="DE" size={3} maxLength={2} /></label>
      <label>ASN<input name="asn" value={draft.asn ?? ''} {...inv('asn')} onChange={(e) => set('asn', e.target.value)} placeholder="AS64496" size={9} /></label>
      <label>
        Origin
        <select name="origin" value={draft.origin ?? ''} {...inv('origin')} onChange={(e) => pick('origin', e.target.value)}>
          <option value="">All origins</option>
          <option value="selfblock">Detected here</option>
          <option value="blocklist">Blocklist imports</option>
        </select>
      </label>
      <label>
        State
        <select name="state" value={draft.state ?? ''} {...inv('state')} onChange={(e) => pick('state', e.target.value)}>
          <option value="">Any state</option>
          <option value="active">Active</option>
          <option value="expired">Expired</option>
          <option value="lifted">Lifted</option>
        </select>
      </label>
      <label>
        Order
        <select name="order" value={draft.order ?? ''} {...inv('order')} onChange={(e) => pick('order', e.target.value)}>
          <option value="">Newest first</option>
          <option value="oldest">Oldest first</option>
        </select>
      </label>
      <div className="row">
        <button type="submit" className="primary">Search</button>
        <button type="button" onClick={() => { setCustom(false); onApply({}); }}>Clear</button>
      </div>
      <Updating active={updating} />
    </form>
  );
}

export function HistoryTable({ rows }: { rows: HistoryItem[] }) {
  return (
    <TableWrap label="Archived bans">
      <table className="data stackable" data-testid="history-table">
        <thead>
          <tr>
            <th scope="col">IP</th>
            <th scope="col">Jail</th>
            <th scope="col">Banned at</th>
            <th scope="col">Ban time</th>
            <th scope="col">State</th>
            <th scope="col" className="num">Failures</th>
            <th scope="col" className="num">Ban count</th>
            <th scope="col">Country</th>
            <th scope="col">ASN</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.host}/${r.id}`} data-ip={r.ip} data-jail={r.jail}>
              <td data-label="IP"><IpLink ip={r.ip} />{r.origin === 'blocklist' && <span className="tag">blocklist</span>}</td>
              <td data-label="Jail">{r.jail}</td>
              <td data-label="Banned at">{formatDateTime(r.banned_at)}</td>
              <td data-label="Ban time">{formatDuration(r.bantime_seconds)}</td>
              <td data-label="State"><BanStateBadge state={r.state} liftedAt={r.lifted_at} liftedBy={r.lifted_by} /></td>
              <td data-label="Failures" className="num">{formatCount(r.failures)}</td>
              <td data-label="Ban count" className="num">{formatCount(r.bancount)}</td>
              <td data-label="Country"><CountryCell code={r.country_code} name={r.country_name} /></td>
              <td data-label="ASN">{formatAsn(r.asn, null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

/**
 * Previous / next, the pages around the current one, and a jump to any page. The total may be a
 * lower bound (`exact` false): then the last page is not known and "Next" follows the server.
 */
export function NumberedPager({ page, pageSize, total, exact, hasNext, onPage }: {
  page: number; pageSize: number; total: number; exact: boolean; hasNext: boolean; onPage: (p: number) => void;
}) {
  const known = Math.max(1, Math.ceil(total / pageSize));
  const last = exact ? known : Math.max(known, page + (hasNext ? 1 : 0));
  const [jump, setJump] = useState('');
  if (page === 1 && !hasNext) return null;
  const around = [...new Set([1, page - 2, page - 1, page, page + 1, page + 2, exact ? last : 0])]
    .filter((p) => p >= 1 && p <= last)
    .sort((a, b) => a - b);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(jump);
    if (Number.isInteger(n) && n >= 1 && (!exact || n <= last)) {
      onPage(n);
      setJump('');
    }
  };
  return (
    <nav className="pager numbered" aria-label="History pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>Previous</button>
      <ul className="pages">
        {around.map((p, i) => (
          <li key={p}>
            {i > 0 && p - around[i - 1]! > 1 && <span className="muted" aria-hidden="true">…</span>}
            <button type="button" className={p === page ? 'small current' : 'small'} aria-current={p === page ? 'page' : undefined}
              aria-label={`Page ${p}`} onClick={() => onPage(p)}>{formatCount(p)}</button>
          </li>
        ))}
        {!exact && <li><span className="muted">…</span></li>}
      </ul>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>Next</button>
      <form className="row" onSubmit={submit}>
        <label className="row">Page<input name="page-jump" type="number" min={1} max={exact ? last : undefined} value={jump}
          onChange={(e) => setJump(e.target.value)} size={4} /></label>
        <button type="submit" className="small" disabled={!jump}>Go</button>
      </form>
    </nav>
  );
}
