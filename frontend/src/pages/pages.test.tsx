import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import { passwordProblem } from './Setup';

type Handler = (url: string, init: RequestInit) => [number, unknown];

function stubApi(role: 'admin' | 'operator' | 'viewer' | null, extra: Handler = () => [404, { error_code: 'not_found', message: 'nope', details: null }]) {
  const calls: { url: string; init: RequestInit }[] = [];
  // A signed-in browser remembers that it has a session; a signed-out one does not probe.
  if (role) localStorage.setItem('bangui.signed-in', '1');
  else localStorage.removeItem('bangui.signed-in');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    let res: [number, unknown];
    if (url === '/api/v1/health') res = [200, { status: 'ok', version: '9.9.9', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } }];
    else if (url === '/api/v1/setup') res = [200, { completed: role !== null }];
    else if (url === '/api/v1/auth/session') res = role ? [200, { username: 'u', role, expires_at: '2099-01-01T00:00:00Z', auth: 'session' }] : [401, { error_code: 'unauthorized', message: 'no', details: null }];
    else if (url === '/api/v1/jails') res = [200, { items: [{ name: 'sshd', currently_failed: 1, total_failed: 5, currently_banned: 2, total_banned: 3 }] }];
    else if (url.startsWith('/api/v1/geo/lookup/')) res = [200, { ip: '5.1.1.1', geo: { country_code: 'DE', country_name: 'Germany', asn: 64500, org: 'Demo', network: '5.0.0.0/8' }, banned_in: ['sshd'] }];
    else res = extra(url, init);
    if (res[0] === -1) return new Promise<Response>(() => {});
    return new Response(JSON.stringify(res[1]), { status: res[0], headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

let lastClient: QueryClient | null = null;
function ClientSpy() {
  lastClient = useQueryClient();
  return null;
}
/** The query client of the app rendered last. */
function queryClientOf(): QueryClient {
  if (!lastClient) throw new Error('nothing rendered');
  return lastClient;
}

function renderAt(path: string) {
  return render(<MemoryRouter initialEntries={[path]} future={routerFuture}><Providers><ClientSpy /><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { vi.unstubAllGlobals(); localStorage.clear(); });

describe('passwordProblem', () => {
  it('mirrors the server policy: at least 10 characters of two kinds', () => {
    expect(passwordProblem('short1')).toMatch(/10 characters/);
    expect(passwordProblem('aaaaaaaaaaaa')).toMatch(/two kinds/);
    expect(passwordProblem('correct horse 9')).toBeNull();
  });
});

describe('routing and roles', () => {
  it('sends a fresh install to the setup wizard', async () => {
    stubApi(null);
    renderAt('/');
    expect(await screen.findByRole('heading', { name: 'Welcome to BanGUI' })).toBeTruthy();
  });

  it('sends a signed-out visitor to the login page', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/v1/setup') return new Response(JSON.stringify({ completed: true }), { status: 200 });
      return new Response(JSON.stringify({ error_code: 'unauthorized', message: 'no', details: null }), { status: 401 });
    }));
    renderAt('/jails');
    expect(await screen.findByRole('heading', { name: 'Sign in to BanGUI' })).toBeTruthy();
  });

  it('shows a viewer the jails without any write control', async () => {
    stubApi('viewer');
    renderAt('/jails');
    expect(await screen.findByRole('link', { name: 'sshd' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /stop|reload|unban|ban/i })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Ban an address' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Audit' })).toBeNull();
  });

  it('gives an operator start/stop/reload, ban and unban controls', async () => {
    stubApi('operator');
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();
    expect(screen.getByRole('form', { name: 'Ban an address' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Unban all…' })).toBeTruthy();
  });

  it('bans through the form with the CSRF header and confirms with a toast', async () => {
    const calls = stubApi('operator', (url, init) =>
      url === '/api/v1/bans' && init.method === 'POST' ? [200, { ip: '5.1.1.1', jail: 'sshd', newly_banned: true }] : [404, {}]);
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    const form = screen.getByRole('form', { name: 'Ban an address' });
    fireEvent.change(form.querySelector('input[name="ban-ip"]') as Element, { target: { value: '5.1.1.1' } });
    fireEvent.submit(form);
    expect(await screen.findByText('5.1.1.1 banned in sshd.')).toBeTruthy();
    const post = calls.find((c) => c.url === '/api/v1/bans');
    expect((post?.init.headers as Record<string, string>)['X-BanGUI-Request']).toBe('1');
  });

  it('asks before unbanning everything and does nothing on cancel', async () => {
    const calls = stubApi('admin');
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    fireEvent.click(screen.getByRole('button', { name: 'Unban all…' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls.some((c) => c.url === '/api/v1/bans/all')).toBe(false);
  });

  it('looks up an IP and shows its country and the jails that ban it', async () => {
    stubApi('viewer');
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    const input = document.querySelector('input[name="lookup-ip"]') as Element;
    fireEvent.change(input, { target: { value: '5.1.1.1' } });
    fireEvent.submit(input.closest('form') as Element);
    const result = await screen.findByTestId('lookup-result');
    expect(result.textContent).toContain('Germany');
    expect(result.textContent).toContain('AS64500 Demo');
    expect(result.textContent).toContain('sshd');
  });

  it('shows a viewer the jail detail with settings and bans but no write control', async () => {
    stubApi('viewer', (url) => {
      if (url === '/api/v1/jails/sshd') return [200, { name: 'sshd', counters: { currently_failed: 0, total_failed: 3, currently_banned: 1, total_banned: 1 }, settings: { bantime: 600, findtime: 600, maxretry: 3, maxmatches: 10, logpath: ['/var/log/auth.log'], ignoreip: ['10.0.0.0/8'], ignoreself: true, failregex: [], ignoreregex: [], datepattern: null, actions: ['dummy'], backend: 'polling' } }];
      if (url.startsWith('/api/v1/jails/sshd/banned')) return [200, { items: [{ ip: '5.6.7.8', banned_at: '2026-01-01T00:00:00Z', ban_ends_at: null, geo: null }], total: 1, page: 1, page_size: 25 }];
      return [404, {}];
    });
    renderAt('/jails/sshd');
    expect(await screen.findByText('5.6.7.8')).toBeTruthy();
    expect(await screen.findByText('10.0.0.0/8')).toBeTruthy();
    expect(screen.getAllByText('10 min', { selector: 'dd' })).toHaveLength(2);
    expect(screen.queryAllByRole('button').map((b) => b.textContent)).toEqual(['Search', 'Sign out']);
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('puts the server version in the footer', async () => {
    stubApi('viewer');
    renderAt('/jails');
    expect(await screen.findByText(/BanGUI v9\.9\.9/)).toBeTruthy();
  });
});

const DASH_STATUS = { online: true, version: '1.0.2', socket: '/s', jails: 1, currently_banned: 2, currently_failed: 0, total_banned: 50011, total_failed: 9, error: null };
const trendOf = (range: string, count: number) => ({ range, bucket_seconds: 3600, buckets: [{ start: '2026-01-01T00:00:00Z', count }] });

/** Dashboard reads: `slow` names range values whose trend answer never arrives. */
function dashboardHandler(slow: string[] = []): Handler {
  return (url) => {
    if (url === '/api/v1/dashboard/status') return [200, DASH_STATUS];
    if (url.startsWith('/api/v1/dashboard/bans/by-country')) return [200, { countries: { DE: 8771 }, country_names: { DE: 'Germany' }, unresolved: 0, total: 8771 }];
    if (url.startsWith('/api/v1/dashboard/bans/by-jail')) return [200, { jails: [{ jail: 'sshd', count: 8771 }] }];
    if (url.startsWith('/api/v1/dashboard/bans/trend')) {
      const range = new URL(url, 'http://x').searchParams.get('range') ?? '24h';
      if (slow.includes(range)) return [-1, null];
      return [200, trendOf(range, 8771)];
    }
    if (url.startsWith('/api/v1/dashboard/bans')) return [200, { items: [], total: 0, page: 1, page_size: 50 }];
    return [404, { error_code: 'not_found', message: 'nope', details: null }];
  };
}

describe('start-up, titles and outages', () => {
  it('asks for the session only in a browser that signed in, and together with the setup state', async () => {
    const calls = stubApi(null);
    localStorage.removeItem('bangui.signed-in');
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push({ url, init: {} });
      return new Response(JSON.stringify({ completed: true }), { status: 200 });
    }));
    renderAt('/');
    expect(await screen.findByRole('heading', { name: 'Sign in to BanGUI' })).toBeTruthy();
    expect(calls.some((c) => c.url === '/api/v1/auth/session')).toBe(false);

    cleanup();
    localStorage.setItem('bangui.signed-in', '1');
    const order: string[] = [];
    let releaseSetup: () => void = () => {};
    vi.stubGlobal('fetch', vi.fn((url: string) => {
      order.push(url);
      if (url === '/api/v1/setup') {
        return new Promise<Response>((res) => { releaseSetup = () => res(new Response(JSON.stringify({ completed: true }), { status: 200 })); });
      }
      if (url === '/api/v1/auth/session') return Promise.resolve(new Response(JSON.stringify({ username: 'u', role: 'viewer', expires_at: '2099-01-01T00:00:00Z', auth: 'session' }), { status: 200 }));
      return Promise.resolve(new Response(JSON.stringify({ items: [] }), { status: 200 }));
    }));
    renderAt('/jails');
    // The session probe went out while the setup answer was still pending.
    await waitFor(() => expect(order).toContain('/api/v1/auth/session'));
    releaseSetup();
    expect(await screen.findByRole('heading', { name: 'Jails' })).toBeTruthy();
  });

  it('gives every page a title of its own', async () => {
    stubApi('admin', dashboardHandler());
    renderAt('/jails');
    await screen.findByRole('heading', { name: 'Jails' });
    await waitFor(() => expect(document.title).toBe('Jails · BanGUI'));
  });

  it('shows a forbidden page inside the navigation, with sign-out and its own title', async () => {
    stubApi('viewer');
    renderAt('/audit');
    expect(await screen.findByRole('heading', { name: 'Not allowed' })).toBeTruthy();
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeTruthy();
    await waitFor(() => expect(document.title).toBe('Not allowed · BanGUI'));
  });

  it('says once that BanGUI is unreachable and drops the online badge', async () => {
    stubApi('admin', dashboardHandler());
    renderAt('/');
    await screen.findByText(/fail2ban online/);
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    await act(async () => { await queryClientOf().refetchQueries(); });
    await waitFor(() => expect(screen.getByTestId('server-unreachable')).toBeTruthy(), { timeout: 8000 });
    await waitFor(() => expect(screen.queryByText(/fail2ban online/)).toBeNull(), { timeout: 8000 });
    const banners = screen.getAllByRole('alert').filter((a) => /reach the BanGUI server/i.test(a.textContent ?? ''));
    expect(banners).toHaveLength(1);
  }, 15_000);

  it('marks old numbers as updating while a new range loads', async () => {
    stubApi('admin', dashboardHandler(['7d']));
    renderAt('/');
    await screen.findByTestId('trend-chart');
    expect(screen.queryByTestId('updating')).toBeNull();
    fireEvent.change(screen.getByLabelText('Time range'), { target: { value: '7d' } });
    expect(await screen.findByTestId('updating')).toBeTruthy();
    expect(screen.getByTestId('trend-chart').closest('[aria-busy="true"]')).toBeTruthy();
  });

  it('formats every count the same way', async () => {
    stubApi('admin', dashboardHandler());
    renderAt('/');
    await screen.findByTestId('trend-chart');
    const text = document.body.textContent ?? '';
    expect(text).toContain((50011).toLocaleString());
    expect(text).not.toMatch(/\b50011\b/);
    expect(text).not.toMatch(/\b8771\b/);
  });
});

describe('messages and forms', () => {
  it('shows a failed ban once, in the form, without a toast', async () => {
    stubApi('operator', (url, init) =>
      url === '/api/v1/bans' && init.method === 'POST' ? [400, { error_code: 'invalid_ip', message: 'not an IP address', details: null }] : [404, {}]);
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    const form = screen.getByRole('form', { name: 'Ban an address' });
    fireEvent.change(form.querySelector('input[name="ban-ip"]') as Element, { target: { value: 'nope' } });
    fireEvent.submit(form);
    await waitFor(() => expect(screen.getAllByText('not an IP address')).toHaveLength(1));
    expect(screen.queryByTestId('toast')).toBeNull();
  });

  it('confirms "Unban all" with exactly one toast', async () => {
    stubApi('admin', (url, init) => (url === '/api/v1/bans/all' && init.method === 'DELETE' ? [200, { count: 1234 }] : [404, {}]));
    renderAt('/jails');
    await screen.findByRole('link', { name: 'sshd' });
    fireEvent.click(screen.getByRole('button', { name: 'Unban all…' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Unban all' }));
    expect(await screen.findByText(`${(1234).toLocaleString()} addresses unbanned.`)).toBeTruthy();
    expect(screen.getAllByTestId('toast')).toHaveLength(1);
  });

  it('starts the next new user as a viewer again and resets passwords in a dialog, not a prompt', async () => {
    const prompt = vi.fn();
    vi.stubGlobal('prompt', prompt);
    const calls = stubApi('admin', (url, init) => {
      if (url === '/api/v1/users' && init.method === 'POST') return [201, { id: 2, username: 'op', role: 'operator', created_at: 1767225600 }];
      if (url === '/api/v1/users') return [200, { items: [{ id: 1, username: 'u', role: 'admin', created_at: 1767225600 }] }];
      if (url === '/api/v1/tokens') return [200, { items: [] }];
      if (url === '/api/v1/users/1') return [200, { id: 1, username: 'u', role: 'admin', created_at: 1767225600 }];
      return [404, {}];
    });
    renderAt('/users');
    await screen.findByText('Reset password…');
    // created_at in epoch seconds is a date in 2026, not in January 1970
    expect(screen.getByTestId('users-table').textContent).toMatch(/2026/);
    const roleSelect = document.querySelector('select[name="new-role"]') as HTMLSelectElement;
    fireEvent.change(document.querySelector('input[name="new-username"]') as Element, { target: { value: 'op' } });
    fireEvent.change(document.querySelector('input[name="new-password"]') as Element, { target: { value: 'Operator-Pass-1' } });
    fireEvent.change(roleSelect, { target: { value: 'operator' } });
    fireEvent.submit(roleSelect.closest('form') as Element);
    expect(await screen.findByText('User op created as operator.')).toBeTruthy();
    expect(roleSelect.value).toBe('viewer');

    fireEvent.click(screen.getByText('Reset password…'));
    const dialog = await screen.findByRole('dialog', { name: 'New password for u' });
    fireEvent.change(dialog.querySelector('input[name="reset-password"]') as Element, { target: { value: 'Another-Pass-2' } });
    fireEvent.change(dialog.querySelector('input[name="reset-repeat"]') as Element, { target: { value: 'Another-Pass-2' } });
    fireEvent.submit(dialog.querySelector('form') as Element);
    expect(await screen.findByText('Password of u changed.')).toBeTruthy();
    expect(prompt).not.toHaveBeenCalled();
    const patch = calls.find((c) => c.url === '/api/v1/users/1' && c.init.method === 'PATCH');
    expect(JSON.parse(String(patch?.init.body))).toEqual({ password: 'Another-Pass-2' });
  });
});
