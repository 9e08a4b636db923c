import { focusManager, QueryClientProvider } from '@tanstack/react-query';
import { renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createQueryClient, queries, useApi } from './queries';

const BY_COUNTRY = { countries: { DE: 3 }, country_names: { DE: 'Germany' }, unresolved: 0, total: 3 };

function stubFetch(body: unknown, status = 200) {
  const urls: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    urls.push(url);
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }));
  return urls;
}

function wrapper() {
  const client = createQueryClient();
  return ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.unstubAllGlobals();
  focusManager.setFocused(undefined);
});

describe('queries', () => {
  it('fetches by-country once when two parts of the page ask for the same filters', async () => {
    const urls = stubFetch(BY_COUNTRY);
    const { result } = renderHook(() => ({
      chart: useApi(queries.byCountry({ range: '7d', origin: 'all' })),
      map: useApi(queries.byCountry({ range: '7d', origin: 'all' })),
    }), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.map.data).toEqual(BY_COUNTRY));
    expect(result.current.chart.data).toEqual(BY_COUNTRY);
    expect(urls).toEqual(['/api/v1/dashboard/bans/by-country?range=7d&origin=all']);
  });

  it('polls on its interval while the tab is visible and not at all while it is hidden', async () => {
    const urls = stubFetch(BY_COUNTRY);
    const fast = { ...queries.byCountry({ range: '24h', origin: 'all' }), refetchInterval: 30 };
    focusManager.setFocused(false);
    const { result } = renderHook(() => useApi(fast), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.data).toEqual(BY_COUNTRY));
    await sleep(200);
    expect(urls).toHaveLength(1);

    focusManager.setFocused(true);
    await waitFor(() => expect(urls.length).toBeGreaterThanOrEqual(3));
  });

  it('reports a 4xx at once instead of retrying it', async () => {
    const urls = stubFetch({ error_code: 'forbidden', message: 'admins only', details: null }, 403);
    const { result } = renderHook(() => useApi(queries.users()), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.error).toBeTruthy());
    expect(result.current.loading).toBe(false);
    expect(result.current.data).toBeNull();
    expect(urls).toHaveLength(1);
  });

  it('does not fetch a disabled query and does not call it loading', async () => {
    const urls = stubFetch(BY_COUNTRY);
    const { result } = renderHook(
      () => useApi({ ...queries.bans({ range: '7d', origin: 'all', country: null, page: 1, page_size: 100 }), enabled: false }),
      { wrapper: wrapper() },
    );
    await sleep(50);
    expect(result.current.loading).toBe(false);
    expect(urls).toHaveLength(0);
  });
});
