// Dashboard: status bar (polled), filters, ban table (polled, paged, country-filterable, with an
// "active bans only" switch kept in the URL as ?active=1), trend chart, top countries, top IPs
// and top ASNs. Reads filters from the URL so the map links straight here.
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { BANS_POLL_MS, queries, STATUS_POLL_MS, useApi } from '../api/queries';
import { BanTable } from '../components/BanTable';
import { TopCountries, TrendChart } from '../components/charts';
import { Empty, ErrorBanner, Loading, usePageTitle } from '../components/feedback';
import { FilterBar, useFilters } from '../components/Filters';
import { Pager } from '../components/Pager';
import { StatusBar } from '../components/StatusBar';
import { ComputedAt, TopAsnsList, TopIpsTable } from '../components/TopOffenders';
import { formatBans, formatCount } from '../lib/format';

const PAGE_SIZE = 50;
const TOP_LIMIT = 10;

export function StatusSection() {
  const st = useApi(queries.status());
  if (st.loading && !st.data) return <Loading label="Loading server status…" />;
  return (
    <>
      <ErrorBanner error={st.error} onRetry={st.reload} />
      {st.data && <StatusBar status={st.data} stale={!!st.error} intervalSeconds={STATUS_POLL_MS / 1000} />}
    </>
  );
}

export function DashboardPage() {
  usePageTitle('Dashboard');
  const { range, origin, country, set } = useFilters();
  const [params, setParams] = useSearchParams();
  const activeOnly = params.get('active') === '1';
  const setActiveOnly = (on: boolean) => {
    const next = new URLSearchParams(params);
    if (on) next.set('active', '1');
    else next.delete('active');
    setParams(next, { replace: true });
  };
  const [page, setPage] = useState(1);
  const key = `${range}/${origin}/${country ?? ''}/${activeOnly}`;
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setPage(1);
  }
  const bans = useApi(queries.bans({ range, origin, country, page, page_size: PAGE_SIZE, state: activeOnly ? 'active' : null }));
  // Trend and per-jail counts follow the country filter; the country ranking shows every country.
  const trend = useApi(queries.trend({ range, origin, country }));
  const byCountry = useApi(queries.byCountry({ range, origin }));
  const byJail = useApi(queries.byJail({ range, origin, country }));
  const top = useApi(queries.topIps({ range, origin, limit: TOP_LIMIT }));
  const updating = bans.updating || trend.updating || byCountry.updating || byJail.updating || top.updating;
  const busy = (u: boolean) => ({ 'aria-busy': u, className: u ? 'is-updating' : undefined });

  return (
    <>
      <h1>Dashboard</h1>
      <StatusSection />
      <FilterBar names={byCountry.data?.country_names} updating={updating} />
      <div className="grid2">
        <section className="card" aria-labelledby="trend-h">
          <h2 id="trend-h">Ban trend{country ? ` (${country})` : ''}</h2>
          <ErrorBanner error={trend.error} onRetry={trend.reload} />
          {trend.loading && !trend.data ? <Loading /> : trend.data && <div {...busy(trend.updating)}><TrendChart trend={trend.data} /></div>}
        </section>
        <section className="card" aria-labelledby="top-h">
          <h2 id="top-h">Top countries</h2>
          <ErrorBanner error={byCountry.error} onRetry={byCountry.reload} />
          {byCountry.loading && !byCountry.data ? <Loading /> : byCountry.data && (
            <div {...busy(byCountry.updating)}>
              <TopCountries countries={byCountry.data.countries} names={byCountry.data.country_names} onSelect={(cc) => set('country', cc)} />
              {byCountry.data.unresolved > 0 && <p className="muted small">{formatBans(byCountry.data.unresolved)} without a known country.</p>}
            </div>
          )}
          {byJail.data && byJail.data.jails.length > 0 && (
            <>
              <h3 id="jail-h">By jail{country ? ` (${country})` : ''}</h3>
              <ul className="plain" aria-labelledby="jail-h" data-testid="by-jail">
                {byJail.data.jails.map((j) => (
                  <li key={j.jail} className="row between"><span>{j.jail}</span><span>{formatCount(j.count)}</span></li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
      <div className="grid2">
        <section className="card" aria-labelledby="top-ips-h">
          <h2 id="top-ips-h">Top IPs</h2>
          <ErrorBanner error={top.error} onRetry={top.reload} />
          {top.loading && !top.data ? <Loading /> : top.data && (
            <div {...busy(top.updating)}>
              <TopIpsTable data={top.data} />
              <ComputedAt at={top.data.computed_at} />
            </div>
          )}
        </section>
        <section className="card" aria-labelledby="top-asns-h">
          <h2 id="top-asns-h">Top ASNs</h2>
          {top.loading && !top.data ? <Loading /> : top.data && <div {...busy(top.updating)}><TopAsnsList data={top.data} range={range} /></div>}
        </section>
      </div>
      <section className="card" aria-labelledby="bans-h">
        <div className="row between">
          <h2 id="bans-h">{activeOnly ? 'Active bans' : 'Bans'} {bans.data && <span className="muted small">({formatCount(bans.data.total)} in this range, refreshes every {BANS_POLL_MS / 1000} s)</span>}</h2>
          <label className="row">
            <input type="checkbox" name="active-only" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} />
            Active bans only
          </label>
        </div>
        <ErrorBanner error={bans.error} onRetry={bans.reload} />
        {bans.loading && !bans.data ? <Loading label="Loading bans…" /> : bans.data && (
          bans.data.items.length === 0
            ? <Empty>{activeOnly
                ? `No ban of this time range${country ? ' for this country' : ''} is still in force.`
                : `No bans in this time range${country ? ' for this country' : ''}. They appear here as soon as fail2ban bans an address.`}</Empty>
            : <div {...busy(bans.updating)}>
                <BanTable rows={bans.data.items} label="Bans in this range" />
                <Pager page={page} pageSize={PAGE_SIZE} total={bans.data.total} onPage={setPage} />
              </div>
        )}
      </section>
    </>
  );
}
