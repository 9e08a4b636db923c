import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import { scheduleProblem } from './Blocklists';

type Handler = (url: string, init: RequestInit) => [number, unknown];

const SOURCE = {
  id: 7, name: 'Spamhaus DROP', url: 'https://www.spamhaus.org/drop/drop.txt', enabled: true, jail: 'blocklist-import',
  schedule: 'daily', allow_internal: false, next_run_at: '2026-11-30T03:07:00Z', members: 1234,
  created_at: '2026-11-29T10:00:00Z', updated_at: '2026-11-29T10:00:00Z',
  last_run: {
    id: 3, source_id: 7, trigger: 'schedule', state: 'failed', started_at: '2026-11-29T11:00:00Z', finished_at: '2026-11-29T11:00:01Z',
    http_status: 500, fetched_bytes: 0, entries: 0, added: 0, removed: 0, invalid: 0, refused: 0,
    error_code: 'http_status', error: 'the server answered 500 for https://www.spamhaus.org/drop/drop.txt',
  },
};

function stubApi(role: 'admin' | 'viewer', extra: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  localStorage.setItem('bangui.signed-in', '1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    let res: [number, unknown];
    if (url === '/api/v1/health') res = [200, { status: 'ok', version: '9.9.9', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } }];
    else if (url === '/api/v1/setup') res = [200, { completed: true }];
    else if (url === '/api/v1/auth/session') res = [200, { username: 'u', role, expires_at: '2099-01-01T00:00:00Z', auth: 'session' }];
    else res = extra(url, init);
    return new Response(JSON.stringify(res[1]), { status: res[0], headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

function renderAt(path: string) {
  return render(<MemoryRouter initialEntries={[path]} future={routerFuture}><Providers><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('scheduleProblem', () => {
  it('accepts keywords and 6-field cron expressions only', () => {
    expect(scheduleProblem('daily')).toBeNull();
    expect(scheduleProblem('0 */30 * * * *')).toBeNull();
    expect(scheduleProblem('*/5 * * * *')).toMatch(/6 fields/);
  });
});

describe('Blocklists page', () => {
  it('shows sources with their last error and next run, and viewers get no change buttons', async () => {
    stubApi('viewer', (url) => (url === '/api/v1/blocklists' ? [200, { items: [SOURCE] }] : [404, {}]));
    renderAt('/blocklists');
    const table = await screen.findByTestId('blocklists-table');
    expect(table.textContent).toContain('Spamhaus DROP');
    expect(table.textContent).toContain('http_status');
    expect(table.textContent).toContain('1,234');
    expect(screen.queryByText('Import now')).toBeNull();
    expect(screen.queryByText('Add source…')).toBeNull();
  });

  it('lets an admin preview, import now and read the run log with errors', async () => {
    const calls = stubApi('admin', (url, init) => {
      if (url === '/api/v1/blocklists') return [200, { items: [SOURCE] }];
      if (url === '/api/v1/blocklists/7/preview') return [200, {
        http_status: 200, fetched_bytes: 120, first_lines: ['; Spamhaus DROP', '1.2.3.0/24 ; SBL1'], entries: 2, networks: 1, duplicates: 0,
        invalid: 1, invalid_examples: [{ line: 3, text: 'garbage', reason: 'not an IP address or network' }], refused: 0, refused_examples: [],
        would_add: 2, would_remove: 0, add_examples: ['1.2.3.0/24', '5.6.7.8'], remove_examples: [],
      }];
      if (url === '/api/v1/blocklists/7/import' && init.method === 'POST') return [202, { started: [7], already_running: [] }];
      if (url.startsWith('/api/v1/blocklists/7/runs')) return [200, { items: [SOURCE.last_run] }];
      if (url.startsWith('/api/v1/blocklists/7/log')) return [200, { items: [{ id: 1, run_id: 3, at: '2026-11-29T11:00:01Z', level: 'error', message: 'the server answered 500' }] }];
      return [404, {}];
    });
    renderAt('/blocklists');
    fireEvent.click(await screen.findByText('Preview'));
    const preview = await screen.findByTestId('blocklist-preview');
    expect(preview.textContent).toContain('An import would ban 2 and unban 0');
    expect(preview.textContent).toContain('garbage');

    fireEvent.click(screen.getByText('Import now'));
    expect(await screen.findByText('Import started for 1 source(s).')).toBeTruthy();
    const post = calls.find((c) => c.url === '/api/v1/blocklists/7/import');
    expect(post?.init.method).toBe('POST');

    fireEvent.click(screen.getByText('Runs and log'));
    const log = await screen.findByTestId('blocklist-log');
    expect(log.textContent).toContain('[error] the server answered 500');
    await waitFor(() => expect(screen.getByTestId('blocklist-runs').textContent).toContain('failed'));
  });

  it('sends a new source as the API expects', async () => {
    const calls = stubApi('admin', (url, init) => {
      if (url === '/api/v1/blocklists' && init.method === 'POST') return [201, { ...SOURCE, id: 8, name: 'FireHOL level 1' }];
      if (url === '/api/v1/blocklists') return [200, { items: [] }];
      return [404, {}];
    });
    renderAt('/blocklists');
    fireEvent.click(await screen.findByText('Add source…'));
    fireEvent.change(document.querySelector('input[name="bl-name"]') as Element, { target: { value: ' FireHOL level 1 ' } });
    fireEvent.change(document.querySelector('input[name="bl-url"]') as Element, { target: { value: 'https://iplists.firehol.org/files/firehol_level1.netset' } });
    fireEvent.change(document.querySelector('input[name="bl-schedule"]') as Element, { target: { value: 'hourly' } });
    fireEvent.submit((document.querySelector('input[name="bl-name"]') as Element).closest('form') as Element);
    expect(await screen.findByText('Blocklist FireHOL level 1 added.')).toBeTruthy();
    const post = calls.find((c) => c.url === '/api/v1/blocklists' && c.init.method === 'POST');
    expect(JSON.parse(String(post?.init.body))).toEqual({
      name: 'FireHOL level 1', url: 'https://iplists.firehol.org/files/firehol_level1.netset', enabled: true,
      jail: 'blocklist-import', schedule: 'hourly', allow_internal: false,
    });
  });
});
