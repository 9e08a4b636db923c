// Map page: world choropleth of bans by country (thresholds from /settings/map, editable by
// admins), click a country to filter the table below.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { BANS_POLL_MS, queries, useApi } from '../api/queries';
import { useAuth } from '../auth';
import { BanTable } from '../components/BanTable';
import { Empty, ErrorBanner, Loading, useToast } from '../components/feedback';
import { FilterBar, useFilters } from '../components/Filters';
import { WorldMap } from '../components/WorldMap';
import { countryName, explainError, hasRole } from '../lib/format';

type Thresholds = [number, number, number];
const DEFAULT_THRESHOLDS: Thresholds = [10, 50, 200];

/** The document types the thresholds as a list; the map needs exactly three. */
function asThresholds(list: number[] | undefined): Thresholds {
  const [a, b, c] = list ?? [];
  return a !== undefined && b !== undefined && c !== undefined ? [a, b, c] : DEFAULT_THRESHOLDS;
}

export function MapPage() {
  const { session } = useAuth();
  const { range, origin, country, set } = useFilters();
  const byCountry = useApi(queries.byCountry({ range, origin }));
  const settings = useApi(queries.mapSettings());
  const bans = useApi({ ...queries.bans({ range, origin, country, page: 1, page_size: 100 }), enabled: country !== null });
  const thresholds = useMemo(() => asThresholds(settings.data?.thresholds), [settings.data]);

  return (
    <>
      <h1>Map</h1>
      <FilterBar />
      <section className="card" aria-label="Bans by country">
        <ErrorBanner error={byCountry.error} onRetry={byCountry.reload} />
        {byCountry.loading && !byCountry.data ? <Loading label="Loading map data…" /> : (
          <WorldMap counts={byCountry.data?.countries ?? {}} names={byCountry.data?.country_names ?? {}}
            thresholds={thresholds} selected={country} onSelect={(cc) => set('country', cc)} />
        )}
        <p className="muted small">Hover or focus a country for its count; click or press Enter on a coloured country to list its bans. Refreshes every {BANS_POLL_MS / 1000} s.
          {byCountry.data && byCountry.data.unresolved > 0 && ` ${byCountry.data.unresolved} bans have no known country.`}</p>
      </section>
      <section className="card" aria-labelledby="map-bans-h">
        <h2 id="map-bans-h">{country ? `Bans from ${countryName(country, byCountry.data?.country_names[country])}` : 'Select a country'}</h2>
        {!country ? <Empty>Click a coloured country on the map to list its bans.</Empty> : (
          <>
            <ErrorBanner error={bans.error} onRetry={bans.reload} />
            {bans.loading && !bans.data ? <Loading /> : bans.data && (bans.data.items.length === 0
              ? <Empty>No bans from this country in this range.</Empty>
              : <BanTable rows={bans.data.items} />)}
          </>
        )}
      </section>
      {hasRole(session?.role, 'admin') && settings.data && (
        <ThresholdForm initial={thresholds} />
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
      <h2 id="thr-h">Colour thresholds</h2>
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
