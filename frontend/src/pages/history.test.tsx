import { configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import { NumberedPager } from './History';

// Generous waits: the suite also runs on a loaded two-core machine.
configure({ asyncUtilTimeout: 8_000 });
vi.setConfig({ testTimeout: 30_000 });

type Handler = (url: string, init: RequestInit) => [number, unknown] | null;
type Role = 'admin' | 'operator' | 'viewer';

const HEALTH = { status: 'ok', version: '9.9.9', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } };

/** A signed-in browser against a fake server: `handler` answers what the shell does not ask. */
function stubApi(role: Role, handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  localStorage.setItem('bangui.signed-in', '1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    let res: [number, unknown] | null = handler(url, init);
    if (!res) {
      if (url === '/api/v1/health') res = [200, HEALTH];
      else if (url === '/api/v1/setup') res = [200, { completed: true }];
      else if (url === '/api/v1/auth/session') res = [200, { username: 'u', role, expires_at: '2099-01-01T00:00:00Z', auth: 'session' }];
      else if (url === '/api/v1/jails') res = [200, { items: [{ name: 'sshd', currently_failed: 0, total_failed: 5, currently_banned: 1, total_banned: 3 }, { name: 'nginx', currently_failed: 0, total_failed: 0, currently_banned: 0, total_banned: 0 }] }];
      else res = [404, { error_code: 'not_found', message: 'nope', details: null }];
    }
    if (res[0] === -1) return new Promise<Response>(() => {});
    return new Response(JSON.stringify(res[1]), { status: res[0], headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

let location = '';
function LocationSpy() {
  const loc = useLocation();
  location = loc.pathname + loc.search;
  return null;
}

function renderAt(path: string) {
  return render(<MemoryRouter initialEntries={[path]} future={routerFuture}><Providers><LocationSpy /><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { vi.unstubAllGlobals(); localStorage.clear(); });

const item = (id: number, over: Record<string, unknown> = {}) => ({
  id, host: 'local', jail: 'sshd', ip: `198.51.100.${id}`, banned_at: '2026-01-01T00:00:00Z', ban_ends_at: '2026-01-01T00:10:00Z',
  bantime_seconds: 600, bancount: 1, failures: 5, origin: 'selfblock', state: 'expired', country_code: 'DE', country_name: 'Germany',
  asn: 64500, lifted_at: null, lifted_by: null, ...over,
});
const historyPage = (items: unknown[], over: Record<string, unknown> = {}) =>
  ({ items, next_cursor: null, page: 1, page_size: 50, total: items.length, total_exact: true, source: 'archive', ...over });
const params = (url: string) => new URL(url, 'http://x').searchParams;

describe('History page', () => {
  it('sends the filters of the URL, shows the rows with their state and links each IP to its page', async () => {
    const calls = stubApi('viewer', (url) => url.startsWith('/api/v1/history?')
      ? [200, historyPage([item(1), item(2, { state: 'lifted', lifted_at: '2026-01-01T00:05:00Z', lifted_by: 'bangui:admin' })])] : null);
    renderAt('/history?jail=sshd&range=7d&state=lifted');
    const table = await screen.findByTestId('history-table');
    const sent = params(calls.find((c) => c.url.startsWith('/api/v1/history?'))!.url);
    expect(sent.get('jail')).toBe('sshd');
    expect(sent.get('range')).toBe('7d');
    expect(sent.get('state')).toBe('lifted');
    expect(sent.get('page')).toBe('1');
    expect(within(table).getByRole('link', { name: '198.51.100.1' }).getAttribute('href')).toBe('/ip/198.51.100.1');
    expect(table.querySelector('[data-state="lifted"]')?.getAttribute('title')).toMatch(/by admin/);
    expect((screen.getByLabelText('Jail') as HTMLInputElement).value).toBe('sshd');
    expect(document.title).toBe('History · BanGUI');
  });

  it('keeps a new filter in the URL, marks the old rows as updating and offers exports of the same search', async () => {
    const calls = stubApi('viewer', (url) => {
      if (!url.startsWith('/api/v1/history?')) return null;
      return params(url).get('ip') === '203.0.113.0/24' ? [-1, null] : [200, historyPage([item(1)])];
    });
    renderAt('/history');
    await screen.findByTestId('history-table');
    fireEvent.change(screen.getByLabelText('IP or network'), { target: { value: '203.0.113.0/24' } });
    fireEvent.submit(screen.getByRole('form', { name: 'History filters' }));
    await waitFor(() => expect(location).toBe('/history?ip=203.0.113.0%2F24'));
    expect(await screen.findByTestId('updating')).toBeTruthy();
    expect(screen.getByTestId('history-table').closest('[aria-busy="true"]')).toBeTruthy();
    expect(calls.some((c) => params(c.url).get('ip') === '203.0.113.0/24')).toBe(true);
    const csv = screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href')!;
    expect(csv.startsWith('/api/v1/history/export?')).toBe(true);
    expect(params(csv).get('ip')).toBe('203.0.113.0/24');
    expect(params(csv).get('format')).toBe('csv');
    expect(params(screen.getByRole('link', { name: 'Export NDJSON' }).getAttribute('href')!).get('format')).toBe('ndjson');
  });

  it('applies a chosen order at once and clears every filter', async () => {
    stubApi('viewer', (url) => url.startsWith('/api/v1/history?') ? [200, historyPage([item(1)])] : null);
    renderAt('/history?jail=sshd');
    await screen.findByTestId('history-table');
    fireEvent.change(screen.getByLabelText('Order'), { target: { value: 'oldest' } });
    await waitFor(() => expect(location).toBe('/history?jail=sshd&order=oldest'));
    fireEvent.click(screen.getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(location).toBe('/history'));
  });

  it('names the refused filter from the error contract and marks its field', async () => {
    stubApi('viewer', (url) => url.startsWith('/api/v1/history?')
      ? [400, { error_code: 'invalid_ip', message: 'ip: "10.0.0.0/4": a network must be /8 or narrower', details: { field: 'ip', value: '10.0.0.0/4', reason: 'a network must be /8 or narrower' } }] : null);
    renderAt('/history?ip=10.0.0.0/4');
    const banner = await screen.findByTestId('filter-error');
    expect(banner.textContent).toMatch(/^IP or network: .*\/8 or narrower/);
    expect(screen.getByLabelText('IP or network').getAttribute('aria-invalid')).toBe('true');
    expect(screen.queryByTestId('history-table')).toBeNull();
  });

  it('numbers the pages, continues with the cursor and jumps to a typed page', async () => {
    const calls = stubApi('viewer', (url) => {
      if (!url.startsWith('/api/v1/history?')) return null;
      const p = Number(params(url).get('page') ?? '1');
      return [200, historyPage([item(p)], { page: p, total: 1000, total_exact: false, next_cursor: `c${p}` })];
    });
    renderAt('/history?jail=sshd');
    await screen.findByTestId('history-table');
    const pager = screen.getByRole('navigation', { name: 'History pages' });
    expect(within(pager).getByRole('button', { name: 'Page 1' }).getAttribute('aria-current')).toBe('page');
    fireEvent.click(within(pager).getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(location).toBe('/history?jail=sshd&page=2'));
    await screen.findByRole('link', { name: '198.51.100.2' });
    const second = calls.filter((c) => c.url.startsWith('/api/v1/history?')).map((c) => params(c.url)).find((p) => p.get('page') === '2')!;
    expect(second.get('cursor')).toBe('c1');
    fireEvent.change(screen.getByLabelText('Page'), { target: { value: '7' } });
    fireEvent.submit(screen.getByLabelText('Page').closest('form')!);
    await waitFor(() => expect(location).toBe('/history?jail=sshd&page=7'));
    await screen.findByRole('link', { name: '198.51.100.7' });
    const seventh = calls.map((c) => params(c.url)).find((p) => p.get('page') === '7')!;
    expect(seventh.get('cursor')).toBeNull();
  });
});

const STORY = {
  ip: '198.51.100.9', total_bans: 2, timeline_truncated: false,
  days: [{ day: '2026-01-01', bans: 1 }, { day: '2026-01-02', bans: 1 }],
  first_seen: '2026-01-01T00:00:00Z', last_seen: '2026-01-02T00:00:00Z',
  banned_in: ['sshd'], ignored_in: [], live_error: null,
  geo: { country_code: 'DE', country_name: 'Germany', asn: 64500, org: 'Demo Net', network: '198.51.100.0/24', source: 'mmdb' },
  jails: [{ host: 'local', jail: 'sshd', bans: 2, first_seen: '2026-01-01T00:00:00Z', last_seen: '2026-01-02T00:00:00Z' }],
  timeline: [
    { ...item(9, { state: 'active', ban_ends_at: null, bantime_seconds: -1, banned_at: '2026-01-02T00:00:00Z' }), ip: '198.51.100.9', matches: ['Jan  2 00:00:00 host sshd[1]: Failed password for root from 198.51.100.9', 'Jan  2 00:00:01 host sshd[1]: Failed password for root from 198.51.100.9'] },
    { ...item(8, { state: 'expired' }), ip: '198.51.100.9', matches: [] },
  ],
};

describe('IP page', () => {
  it("tells an address's story: live state, geo, per-jail totals, chart and bans with their matched lines", async () => {
    stubApi('viewer', (url) => url === '/api/v1/history/198.51.100.9' ? [200, STORY] : null);
    renderAt('/ip/198.51.100.9');
    expect(await screen.findByRole('heading', { name: 'IP 198.51.100.9' })).toBeTruthy();
    expect((await screen.findByTestId('banned-in')).textContent).toBe('sshd');
    expect(screen.getByTestId('ignored-in').textContent).toBe('no jail');
    const summary = screen.getByTestId('ip-summary').textContent ?? '';
    expect(summary).toContain('Germany');
    expect(summary).toContain('AS64500 Demo Net');
    expect(screen.getByTestId('ip-jails').textContent).toContain('sshd');
    expect(screen.getByTestId('ip-chart').getAttribute('aria-label')).toMatch(/^Bans of 198\.51\.100\.9: 2 bans/);
    const timeline = screen.getByTestId('ip-timeline');
    expect(timeline.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(timeline.querySelector('tr[data-state="active"]')?.textContent).toContain('permanent');
    const lines = within(timeline).getByText('2 lines');
    expect(lines.closest('details')?.open).toBe(false);
    fireEvent.click(lines);
    expect(within(timeline).getByTestId('matched-lines').textContent).toContain('Failed password for root from 198.51.100.9');
    expect(timeline.textContent).toContain('none stored');
    expect(document.title).toBe('IP 198.51.100.9 · BanGUI');
  });

  it('shows a viewer no ban, unban or ignore control', async () => {
    stubApi('viewer', (url) => url === '/api/v1/history/198.51.100.9' ? [200, STORY] : null);
    renderAt('/ip/198.51.100.9');
    await screen.findByTestId('ip-timeline');
    expect(screen.queryByRole('button', { name: /ban|ignore/i })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Ban this address' })).toBeNull();
  });

  it('lets an operator unban, ban and ignore the address through the existing endpoints', async () => {
    const calls = stubApi('operator', (url, init) => {
      if (url === '/api/v1/history/198.51.100.9') return [200, STORY];
      if (url === '/api/v1/bans' && init.method === 'DELETE') return [200, { ip: '198.51.100.9', jails: ['sshd'], unbanned: 1 }];
      if (url === '/api/v1/bans' && init.method === 'POST') return [200, { ip: '198.51.100.9', jail: 'nginx', newly_banned: true }];
      if (url === '/api/v1/jails/nginx/ignoreip' && init.method === 'POST') return [200, { items: ['198.51.100.9'] }];
      return null;
    });
    renderAt('/ip/198.51.100.9');
    fireEvent.click(await screen.findByRole('button', { name: 'Unban from sshd' }));
    expect(await screen.findByText('198.51.100.9 unbanned from sshd.')).toBeTruthy();
    const del = calls.find((c) => c.url === '/api/v1/bans' && c.init.method === 'DELETE')!;
    expect(JSON.parse(String(del.init.body))).toEqual({ ip: '198.51.100.9', jail: 'sshd' });
    expect((del.init.headers as Record<string, string>)['X-BanGUI-Request']).toBe('1');

    const banForm = screen.getByRole('form', { name: 'Ban this address' });
    await waitFor(() => expect(within(banForm).getAllByRole('option')).toHaveLength(2));
    fireEvent.change(within(banForm).getByLabelText('Ban in jail'), { target: { value: 'nginx' } });
    fireEvent.submit(banForm);
    expect(await screen.findByText('198.51.100.9 banned in nginx.')).toBeTruthy();
    const post = calls.find((c) => c.url === '/api/v1/bans' && c.init.method === 'POST')!;
    expect(JSON.parse(String(post.init.body))).toEqual({ ip: '198.51.100.9', jail: 'nginx' });

    const ignoreForm = screen.getByRole('form', { name: 'Add this address to an ignore list' });
    fireEvent.change(within(ignoreForm).getByLabelText('Ignore in jail'), { target: { value: 'nginx' } });
    fireEvent.submit(ignoreForm);
    expect(await screen.findByText('198.51.100.9 added to the ignore list of nginx.')).toBeTruthy();
    expect(calls.some((c) => c.url === '/api/v1/jails/nginx/ignoreip' && JSON.parse(String(c.init.body)).ip === '198.51.100.9')).toBe(true);
  });

  it('shows an address never banned as an empty story, not an error', async () => {
    stubApi('viewer', (url) => url === '/api/v1/history/192.0.2.1'
      ? [200, { ip: '192.0.2.1', total_bans: 0, timeline: [], timeline_truncated: false, days: [], jails: [], first_seen: null, last_seen: null, banned_in: [], ignored_in: [], geo: null, live_error: null }] : null);
    renderAt('/ip/192.0.2.1');
    expect(await screen.findByText('No ban of this address is archived.')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('banned-in').textContent).toBe('no jail');
  });
});

describe('IP page input', () => {
  it("shows the server's 400 for text that is no address", async () => {
    stubApi('viewer', (url) => url === '/api/v1/history/not-an-ip'
      ? [400, { error_code: 'invalid_ip', message: '"not-an-ip" is not an IP address', details: { field: 'ip', value: 'not-an-ip', reason: 'not an IP address' } }] : null);
    renderAt('/ip/not-an-ip');
    expect((await screen.findByRole('alert')).textContent).toContain('"not-an-ip" is not an IP address');
    expect(screen.queryByTestId('ip-timeline')).toBeNull();
  });
});

describe('header search', () => {
  const quiet: Handler = (url) => url.startsWith('/api/v1/history') ? [200, historyPage([])] : url.startsWith('/api/v1/dashboard') ? [-1, null] : null;

  it('opens the IP page of an address', async () => {
    stubApi('viewer', (url) => url.startsWith('/api/v1/history/') ? [200, { ...STORY, ip: '203.0.113.5' }] : quiet(url, {}));
    renderAt('/');
    const box = await screen.findByRole('searchbox', { name: 'Search IP, network or jail' });
    fireEvent.change(box, { target: { value: '203.0.113.5' } });
    fireEvent.submit(box.closest('form')!);
    await waitFor(() => expect(location).toBe('/ip/203.0.113.5'));
    expect(await screen.findByRole('heading', { name: 'IP 203.0.113.5' })).toBeTruthy();
  });

  it('opens History filtered by a network or by a jail', async () => {
    stubApi('viewer', quiet);
    renderAt('/');
    const box = await screen.findByRole('searchbox', { name: 'Search IP, network or jail' });
    fireEvent.change(box, { target: { value: '2001:db8::/48' } });
    fireEvent.submit(box.closest('form')!);
    await waitFor(() => expect(location).toBe('/history?ip=2001%3Adb8%3A%3A%2F48'));
    fireEvent.change(box, { target: { value: 'SSHD' } });
    fireEvent.submit(box.closest('form')!);
    await waitFor(() => expect(location).toBe('/history?jail=sshd'));
    await waitFor(() => expect((screen.getByLabelText('Jail') as HTMLInputElement).value).toBe('sshd'));
  });

  it('explains invalid input next to the box and stays on the page', async () => {
    stubApi('viewer', quiet);
    renderAt('/jails');
    const box = await screen.findByRole('searchbox', { name: 'Search IP, network or jail' });
    fireEvent.change(box, { target: { value: '10.0.0.0/4' } });
    fireEvent.submit(box.closest('form')!);
    const problem = await screen.findByText(/too wide to search/);
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(box.getAttribute('aria-describedby')).toBe(problem.id);
    fireEvent.change(box, { target: { value: 'no-such-jail' } });
    expect(screen.queryByText(/too wide/)).toBeNull();
    fireEvent.submit(box.closest('form')!);
    expect(await screen.findByText(/neither an IP address/)).toBeTruthy();
    expect(location).toBe('/jails');
  });
});

describe('dashboard additions', () => {
  const dashboard = (bans: (url: string) => [number, unknown]): Handler => (url) => {
    if (url === '/api/v1/dashboard/status') return [200, { online: true, version: '1.0.2', socket: '/s', jails: 1, currently_banned: 1, currently_failed: 0, total_banned: 1, total_failed: 1, error: null }];
    if (url.startsWith('/api/v1/dashboard/bans/by-country')) return [200, { countries: {}, country_names: {}, unresolved: 0, total: 0 }];
    if (url.startsWith('/api/v1/dashboard/bans/by-jail')) return [200, { jails: [] }];
    if (url.startsWith('/api/v1/dashboard/bans/trend')) return [200, { range: '24h', bucket_seconds: 3600, buckets: [] }];
    if (url.startsWith('/api/v1/dashboard/top-ips')) return [200, {
      range: '24h', origin: 'all', computed_at: '2026-01-01T00:00:00Z',
      ips: [{ ip: '198.51.100.9', count: 12, jails: ['sshd', 'nginx'], country_code: 'DE', asn: 64500, last_seen: '2026-01-01T00:00:00Z' }],
      asns: [{ asn: 64500, count: 12, ips: 1 }],
    }];
    if (url.startsWith('/api/v1/dashboard/bans')) return bans(url);
    return null;
  };
  const row = (ip: string, state: string) => ({ ip, jail: 'sshd', banned_at: '2026-01-01T00:00:00Z', ban_ends_at: '2099-01-01T00:00:00Z', bantime_seconds: 600, bancount: 1, origin: 'selfblock', geo: null, state });

  it('lists the top IPs and ASNs of the range, each leading further', async () => {
    const calls = stubApi('viewer', dashboard(() => [200, { items: [], total: 0, page: 1, page_size: 50 }]));
    renderAt('/?range=7d');
    const top = await screen.findByTestId('top-ips');
    expect(params(calls.find((c) => c.url.startsWith('/api/v1/dashboard/top-ips'))!.url).get('range')).toBe('7d');
    const tr = top.querySelector('tr[data-ip="198.51.100.9"]')!;
    expect(tr.textContent).toContain('12');
    expect(tr.textContent).toContain('sshd, nginx');
    expect(tr.textContent).toContain('Germany');
    expect(within(tr as HTMLElement).getByRole('link', { name: '198.51.100.9' }).getAttribute('href')).toBe('/ip/198.51.100.9');
    expect(within(screen.getByTestId('top-asns')).getByRole('link').getAttribute('href')).toBe('/history?asn=64500&range=7d');
  });

  it('shows only active bans when asked, keeps the switch in the URL and marks lifted bans as lifted', async () => {
    const calls = stubApi('viewer', dashboard((url) => params(url).get('state') === 'active'
      ? [200, { items: [row('198.51.100.1', 'active')], total: 1, page: 1, page_size: 50 }]
      : [200, { items: [row('198.51.100.1', 'active'), row('198.51.100.2', 'lifted')], total: 2, page: 1, page_size: 50 }]));
    renderAt('/');
    const table = await screen.findByTestId('ban-table');
    expect(table.querySelector('tr[data-ip="198.51.100.2"]')?.textContent).toContain('lifted');
    fireEvent.click(screen.getByLabelText('Active bans only'));
    await waitFor(() => expect(location).toBe('/?active=1'));
    await waitFor(() => expect(screen.getByTestId('ban-table').querySelector('tr[data-ip="198.51.100.2"]')).toBeNull());
    expect(calls.some((c) => c.url.startsWith('/api/v1/dashboard/bans?') && params(c.url).get('state') === 'active')).toBe(true);
    expect(screen.getByRole('heading', { name: /^Active bans/ })).toBeTruthy();
  });
});

describe('NumberedPager', () => {
  it('knows the last page of an exact total, links the pages around the current one and refuses a jump past the end', () => {
    const onPage = vi.fn();
    render(<NumberedPager page={5} pageSize={50} total={480} exact hasNext onPage={onPage} />);
    const labels = screen.getAllByRole('button', { name: /^Page \d+$/ }).map((b) => b.getAttribute('aria-label'));
    expect(labels).toEqual(['Page 1', 'Page 3', 'Page 4', 'Page 5', 'Page 6', 'Page 7', 'Page 10']);
    fireEvent.click(screen.getByRole('button', { name: 'Page 10' }));
    expect(onPage).toHaveBeenLastCalledWith(10);
    fireEvent.change(screen.getByLabelText('Page'), { target: { value: '11' } });
    fireEvent.submit(screen.getByLabelText('Page').closest('form')!);
    expect(onPage).toHaveBeenCalledTimes(1);
  });

  it('offers Next on an open-ended total only while the server has more', () => {
    const { rerender } = render(<NumberedPager page={20} pageSize={50} total={1000} exact={false} hasNext onPage={() => {}} />);
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByRole('button', { name: 'Page 21' })).toBeTruthy();
    rerender(<NumberedPager page={21} pageSize={50} total={1000} exact={false} hasNext={false} onPage={() => {}} />);
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
