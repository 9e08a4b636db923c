// Dashboard: status bar (polled), filters, ban table (polled, paged, country-filterable), trend
// chart, top countries. Reads filters from the URL so the map links straight here.
import { useState } from 'react';
import { BANS_POLL_MS, queries, STATUS_POLL_MS, useApi } from '../api/queries';
import { BanTable } from '../components/BanTable';
import { TopCountries, TrendChart } from '../components/charts';
import { Empty, ErrorBanner, Loading } from '../components/feedback';
import { FilterBar, useFilters } from '../components/Filters';
import { Pager } from '../components/Pager';
import { StatusBar } from '../components/StatusBar';
import { formatCount } from '../lib/format';

const PAGE_SIZE = 50;

export function StatusSection() {
  const st = useApi(queries.status());
  if (st.loading && !st.data) return <Loading label="Loading server status…" />;
  return (
    <>
      <ErrorBanner error={st.error} onRetry={st.reload} />
      {st.data && <StatusBar status={st.data} intervalSeconds={STATUS_POLL_MS / 1000} />}
    </>
  );
}

export function DashboardPage() {
  const { range, origin, country, set } = useFilters();
  const [page, setPage] = useState(1);
  const key = `${range}/${origin}/${country ?? ''}`;
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setPage(1);
  }
  const bans = useApi(queries.bans({ range, origin, country, page, page_size: PAGE_SIZE }));
  const trend = useApi(queries.trend({ range, origin }));
  const byCountry = useApi(queries.byCountry({ range, origin }));
  const byJail = useApi(queries.byJail({ range, origin }));

  return (
    <>
      <h1>Dashboard</h1>
      <StatusSection />
      <FilterBar />
      <div className="grid2">
        <section className="card" aria-labelledby="trend-h">
          <h2 id="trend-h">Ban trend</h2>
          <ErrorBanner error={trend.error} onRetry={trend.reload} />
          {trend.loading && !trend.data ? <Loading /> : trend.data && <TrendChart trend={trend.data} />}
        </section>
        <section className="card" aria-labelledby="top-h">
          <h2 id="top-h">Top countries</h2>
          <ErrorBanner error={byCountry.error} onRetry={byCountry.reload} />
          {byCountry.loading && !byCountry.data ? <Loading /> : byCountry.data && (
            <>
              <TopCountries countries={byCountry.data.countries} names={byCountry.data.country_names} onSelect={(cc) => set('country', cc)} />
              {byCountry.data.unresolved > 0 && <p className="muted small">{byCountry.data.unresolved} bans without a known country.</p>}
            </>
          )}
          {byJail.data && byJail.data.jails.length > 0 && (
            <>
              <h3 id="jail-h">By jail</h3>
              <ul className="plain" aria-labelledby="jail-h" data-testid="by-jail">
                {byJail.data.jails.map((j) => (
                  <li key={j.jail} className="row between"><span>{j.jail}</span><span>{formatCount(j.count)}</span></li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="bans-h">
        <h2 id="bans-h">Bans {bans.data && <span className="muted small">({bans.data.total} total, refreshes every {BANS_POLL_MS / 1000} s)</span>}</h2>
        <ErrorBanner error={bans.error} onRetry={bans.reload} />
        {bans.loading && !bans.data ? <Loading label="Loading bans…" /> : bans.data && (
          bans.data.items.length === 0
            ? <Empty>No bans in this time range{country ? ' for this country' : ''}. They appear here as soon as fail2ban bans an address.</Empty>
            : <>
                <BanTable rows={bans.data.items} />
                <Pager page={page} pageSize={PAGE_SIZE} total={bans.data.total} onPage={setPage} />
              </>
        )}
      </section>
    </>
  );
}
