import { fireEvent, render, screen, waitFor } from '@testing-library/react';
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
    return new Response(JSON.stringify(res[1]), { status: res[0], headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

function renderAt(path: string) {
  return render(<MemoryRouter initialEntries={[path]} future={routerFuture}><Providers><AppRoutes /></Providers></MemoryRouter>);
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
    expect(screen.queryAllByRole('button').map((b) => b.textContent)).toEqual(['Sign out']);
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('puts the server version in the footer', async () => {
    stubApi('viewer');
    renderAt('/jails');
    expect(await screen.findByText(/BanGUI v9\.9\.9/)).toBeTruthy();
  });
});
