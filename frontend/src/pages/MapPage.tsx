// Map page: world choropleth of bans by country (thresholds from /settings/map, editable by
// admins) or scaled to the range's own counts (default), a ranked, paged country list beside it
// (the way to the same data on a phone or by keyboard), and the bans of the chosen country, paged.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { BANS_POLL_MS, queries, useApi } from '../api/queries';
import { useAuth } from '../auth';
import { BanTable } from '../components/BanTable';
import { Empty, ErrorBanner, Loading, TableWrap, usePageTitle, useToast } from '../components/feedback';
import { Pager } from '../components/Pager';
import { Flag } from '../lib/flags';
import { FilterBar, useFilters } from '../components/Filters';
import { WorldMap } from '../components/WorldMap';
import { countryName, explainError, formatBans, formatCount, hasRole, quantileThresholds } from '../lib/format';

type Thresholds = [number, number, number];
const DEFAULT_THRESHOLDS: Thresholds = [10, 50, 200];

/** The document types the thresholds as a list; the map needs exactly three. */
function asThresholds(list: number[] | undefined): Thresholds {
  const [a, b, c] = list ?? [];
  return a !== undefined && b !== undefined && c !== undefined ? [a, b, c] : DEFAULT_THRESHOLDS;
}

const COUNTRY_PAGE = 25;
const BAN_PAGE = 50;
type Scale = 'auto' | 'fixed';

export function MapPage() {
  usePageTitle('Map');
  const { session } = useAuth();
  const { range, origin, country, set } = useFilters();
  const byCountry = useApi(queries.byCountry({ range, origin }));
  const settings = useApi(queries.mapSettings());
  const [banPage, setBanPage] = useState(1);
  const [countryPage, setCountryPage] = useState(1);
  const [scale, setScale] = useState<Scale>('auto');
  const key = `${range}/${origin}/${country ?? ''}`;
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setBanPage(1);
    setCountryPage(1);
  }
  const bans = useApi({ ...queries.bans({ range, origin, country, page: banPage, page_size: BAN_PAGE }), enabled: country !== null });
  const fixed = useMemo(() => asThresholds(settings.data?.thresholds), [settings.data]);
  const counts = useMemo(() => byCountry.data?.countries ?? {}, [byCountry.data]);
  const names = byCountry.data?.country_names ?? {};
  const auto = useMemo(() => quantileThresholds(Object.values(counts)), [counts]);
  const thresholds = scale === 'auto' ? auto : fixed;
  const ranked = useMemo(() => Object.entries(counts).filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])), [counts]);

  return (
    <>
      <h1>Map</h1>
      <FilterBar names={names} updating={byCountry.updating || bans.updating} />
      <div className="map-layout">
        <section className="card map-card" aria-labelledby="map-h">
          <h2 id="map-h" className="sr-only">World map</h2>
          <ErrorBanner error={byCountry.error} onRetry={byCountry.reload} />
          {byCountry.loading && !byCountry.data ? <Loading label="Loading map data…" /> : (
            <div aria-busy={byCountry.updating} className={byCountry.updating ? 'is-updating' : undefined}>
              <WorldMap counts={counts} names={names} thresholds={thresholds} selected={country} onSelect={(cc) => set('country', cc)} />
            </div>
          )}
          <div className="row wrap between">
            <p className="muted small">Hover or focus a country for its count; click it, or press Enter on it, to list its bans. Refreshes every {BANS_POLL_MS / 1000} s.
              {byCountry.data && byCountry.data.unresolved > 0 && ` ${formatBans(byCountry.data.unresolved)} have no known country.`}</p>
            <label className="row small">Colours
              <select value={scale} onChange={(e) => setScale(e.target.value as Scale)} name="map-scale">
                <option value="auto">scaled to this range</option>
                <option value="fixed">fixed thresholds ({fixed.map(formatCount).join(' / ')})</option>
              </select>
            </label>
          </div>
        </section>
        <section className="card" aria-labelledby="countries-h">
          <h2 id="countries-h">Countries {byCountry.data && <span className="muted small">({formatCount(ranked.length)} with bans, {formatBans(byCountry.data.total)})</span>}</h2>
          {ranked.length === 0 ? <Empty>No bans with a known country in this range.</Empty> : (
            <>
              <TableWrap label="Countries with bans">
                <table className="data" data-testid="country-table">
                  <thead><tr><th scope="col">#</th><th scope="col">Country</th><th scope="col" className="num">Bans</th></tr></thead>
                  <tbody>
                    {ranked.slice((countryPage - 1) * COUNTRY_PAGE, countryPage * COUNTRY_PAGE).map(([cc, n], i) => (
                      <tr key={cc} data-country={cc} className={cc === country ? 'selected' : undefined}>
                        <td className="num">{formatCount((countryPage - 1) * COUNTRY_PAGE + i + 1)}</td>
                        <td><button type="button" className="link" aria-pressed={cc === country} onClick={() => set('country', cc)}>
                          <Flag code={cc} /> {countryName(cc, names[cc])}</button></td>
                        <td className="num">{formatCount(n)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <Pager page={countryPage} pageSize={COUNTRY_PAGE} total={ranked.length} onPage={setCountryPage} label="Country pages" />
            </>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="map-bans-h">
        <h2 id="map-bans-h">{country ? `Bans from ${countryName(country, names[country])}` : 'Select a country'}
          {country && bans.data && <span className="muted small"> ({formatCount(bans.data.total)} in this range)</span>}</h2>
        {!country ? <Empty>Choose a country on the map or in the list to see its bans.</Empty> : (
          <>
            <ErrorBanner error={bans.error} onRetry={bans.reload} />
            {bans.loading && !bans.data ? <Loading /> : bans.data && (bans.data.items.length === 0
              ? <Empty>No bans from this country in this range.</Empty>
              : <>
                  <BanTable rows={bans.data.items} label={`Bans from ${countryName(country, names[country])}`} />
                  <Pager page={banPage} pageSize={BAN_PAGE} total={bans.data.total} onPage={setBanPage} label="Ban pages" />
                </>)}
          </>
        )}
      </section>
      {hasRole(session?.role, 'admin') && settings.data && (
        <ThresholdForm initial={fixed} />
      )}
    </>
  );
}

function ThresholdForm({ initial }: { initial: Thresholds }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [vals, setVals] = useState<string[]>(initial.map(String));
  useEffect(() => setVals(initial.map(String)), [initial]);
  const nums = vals.map((v) => Number(v));
  const valid = nums.every((n) => Number.isInteger(n) && n > 0) && nums[0]! < nums[1]! && nums[1]! < nums[2]!;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    try {
      const saved = await api.setMapSettings(nums as Thresholds);
      queryClient.setQueryData(queries.mapSettings().queryKey, saved);
      toast('Map thresholds saved.');
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };
  const labels = ['Low from', 'Medium from', 'High from'];
  return (
    <section className="card" aria-labelledby="thr-h">
      <h2 id="thr-h">Fixed colour thresholds</h2>
      <form className="row wrap" onSubmit={save}>
        {labels.map((l, i) => (
          <label key={l}>{l}<input type="number" min={1} value={vals[i]} onChange={(e) => setVals(vals.map((v, j) => (j === i ? e.target.value : v)))} /></label>
        ))}
        <button type="submit" disabled={!valid}>Save thresholds</button>
        {!valid && <span className="field-error">Thresholds must be positive whole numbers in ascending order.</span>}
      </form>
    </section>
  );
}
