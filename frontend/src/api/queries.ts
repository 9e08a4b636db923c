// Every read of the backend goes through TanStack Query: one cache entry per query key (two
// components asking for the same data share one request), refreshes on an interval only while
// the tab is visible, a refetch when the tab comes back, and no retry of answers that cannot
// change by retrying (4xx). This module owns the query client's defaults, the query keys and the
// refresh intervals; pages ask for data with `useApi(queries.x(...))`. While the live event
// stream is open (`./live`), events invalidate what they change and these intervals slow to a
// safety net; without it they poll as written.
import { keepPreviousData, QueryClient, queryOptions, useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from '@tanstack/react-query';
import { api, ApiError, type Filters, type HistoryFilters } from './client';
import { pollEvery } from './live';
import type { BanState, ConfigKind } from './types';

/** Refresh intervals, shown to the user next to the data they refresh. */
export const STATUS_POLL_MS = 10_000;
export const BANS_POLL_MS = 15_000;
export const HEALTH_POLL_MS = 15_000;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A hidden tab does not poll; it refetches stale data when it is shown again.
        refetchIntervalInBackground: false,
        refetchOnWindowFocus: true,
        // Data a few seconds old is reused when another page or component asks for it.
        staleTime: 5_000,
        retry: (failures, error) =>
          failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
    },
  });
}

/** Dashboard aggregates: the filters, with an optional country (trend and by-jail of one country). */
export type AggregateFilters = Filters & { country?: string | null };

/**
 * Queries whose key changes with the filters keep showing the previous answer while the new one
 * loads (`placeholderData`), and the page marks it as updating (`ApiState.updating`), so changing
 * the range neither blanks the page nor leaves old numbers looking current.
 */
const keepWhileLoading = { placeholderData: keepPreviousData } as const;

/** Query keys and fetchers, one entry per backend read. */
export const queries = {
  health: () => queryOptions({ queryKey: ['health'], queryFn: api.health, refetchInterval: HEALTH_POLL_MS, retry: false }),
  status: () => queryOptions({ queryKey: ['dashboard', 'status'], queryFn: api.status, refetchInterval: pollEvery(STATUS_POLL_MS) }),
  bans: (q: Filters & { page: number; page_size: number; country: string | null; state?: BanState | null }) =>
    queryOptions({ queryKey: ['dashboard', 'bans', q], queryFn: () => api.bans(q), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  topIps: (f: Filters & { limit: number }) =>
    queryOptions({ queryKey: ['dashboard', 'top-ips', f.range, f.origin, f.limit], queryFn: () => api.topIps(f), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  /**
   * One page of a history search. `cursor` (the previous page's `next_cursor`, when known)
   * continues the keyset read instead of skipping rows; it is not part of the key, since it
   * names the same page.
   */
  history: (f: HistoryFilters, page: number, pageSize: number, cursor?: string | null) =>
    queryOptions({
      queryKey: ['history', f, page, pageSize],
      queryFn: () => api.history({ ...f, page, page_size: pageSize, cursor }),
      ...keepWhileLoading,
    }),
  ipHistory: (ip: string) => queryOptions({ queryKey: ['history', 'ip', ip], queryFn: () => api.ipHistory(ip), refetchInterval: pollEvery(BANS_POLL_MS) }),
  byCountry: (f: Filters) =>
    queryOptions({ queryKey: ['dashboard', 'by-country', f.range, f.origin], queryFn: () => api.byCountry(f), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  trend: (f: AggregateFilters) =>
    queryOptions({ queryKey: ['dashboard', 'trend', f.range, f.origin, f.country ?? null], queryFn: () => api.trend(f), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  byJail: (f: AggregateFilters) =>
    queryOptions({ queryKey: ['dashboard', 'by-jail', f.range, f.origin, f.country ?? null], queryFn: () => api.byJail(f), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  jails: () => queryOptions({ queryKey: ['jails'], queryFn: api.jails, refetchInterval: pollEvery(STATUS_POLL_MS) }),
  jail: (name: string) => queryOptions({ queryKey: ['jails', name], queryFn: () => api.jail(name) }),
  jailBanned: (name: string, q: { page: number; page_size: number; search?: string }) =>
    queryOptions({ queryKey: ['jails', name, 'banned', q], queryFn: () => api.jailBanned(name, q), refetchInterval: pollEvery(BANS_POLL_MS), ...keepWhileLoading }),
  users: () => queryOptions({ queryKey: ['users'], queryFn: api.users }),
  tokens: () => queryOptions({ queryKey: ['tokens'], queryFn: api.tokens }),
  audit: (page: number, pageSize: number) =>
    queryOptions({ queryKey: ['audit', page, pageSize], queryFn: () => api.audit(page, pageSize), ...keepWhileLoading }),
  mapSettings: () => queryOptions({ queryKey: ['settings', 'map'], queryFn: api.mapSettings }),
  configJails: () => queryOptions({ queryKey: ['config', 'jails'], queryFn: api.configJails }),
  pendingRecoveries: () => queryOptions({ queryKey: ['config', 'pending-recovery'], queryFn: api.pendingRecoveries, refetchInterval: STATUS_POLL_MS }),
  serverSettings: () => queryOptions({ queryKey: ['server', 'settings'], queryFn: api.serverSettings }),
  blocklists: () => queryOptions({ queryKey: ['blocklists'], queryFn: api.blocklists, refetchInterval: STATUS_POLL_MS }),
  blocklistRuns: (id: number) =>
    queryOptions({ queryKey: ['blocklists', id, 'runs'], queryFn: () => api.blocklistRuns(id), refetchInterval: STATUS_POLL_MS }),
  blocklistLog: (id: number) =>
    queryOptions({ queryKey: ['blocklists', id, 'log'], queryFn: () => api.blocklistLog(id), refetchInterval: STATUS_POLL_MS }),
  configFiles: (kind: ConfigKind) => queryOptions({ queryKey: ['config', kind], queryFn: () => api.configFiles(kind) }),
  configFile: (kind: ConfigKind, name: string) =>
    queryOptions({ queryKey: ['config', kind, name], queryFn: () => api.configFile(kind, name) }),
};

/** After a write: every cached read may have changed; visible ones refetch now, the rest when next shown. */
export function useRefreshAll(): () => void {
  const client = useQueryClient();
  return () => void client.invalidateQueries();
}

export interface ApiState<T> {
  data: T | null;
  error: unknown;
  /** True until the first answer (or error) for this key; refreshes keep the old data shown. */
  loading: boolean;
  /** The data shown belongs to the previous filters; the answer for the current ones is loading. */
  updating: boolean;
  reload: () => void;
}

/** `useQuery` in the shape the pages render: data or null, the error, first-load state, reload. */
export function useApi<T, K extends QueryKey>(options: UseQueryOptions<T, Error, T, K>): ApiState<T> {
  const q = useQuery(options);
  return {
    data: q.data ?? null,
    error: q.error,
    loading: q.isPending && q.fetchStatus !== 'idle',
    updating: q.isPlaceholderData,
    reload: () => void q.refetch(),
  };
}
