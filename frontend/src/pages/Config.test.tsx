import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import { changedSettings } from './Config';

type Call = { url: string; init: RequestInit };

const setting = (key: string, value: unknown, source: string | null = '/etc/fail2ban/jail.local') =>
  ({ key, value, source, from_default: false, resolved: true, set_by_bangui: false });

const jails = {
  fail2ban_running: true,
  problems: [],
  items: [
    { name: 'sshd', state: 'running', enabled: true, bangui_file: '/etc/fail2ban/jail.d/sshd.local', foreign_file: false,
      settings: [setting('bantime', '600'), setting('maxretry', 3), setting('logpath', ['/var/log/auth.log'])] },
    { name: 'nginx', state: 'inactive', enabled: false, bangui_file: '/etc/fail2ban/jail.d/nginx.local', foreign_file: false,
      settings: [setting('bantime', '1h'), setting('maxretry', '5')] },
  ],
};

function stub(role: 'admin' | 'viewer', extra: Record<string, unknown> = {}) {
  const calls: Call[] = [];
  localStorage.setItem('bangui.signed-in', '1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (url === '/api/v1/health') return json(200, { status: 'ok', version: '1', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } });
    if (url === '/api/v1/setup') return json(200, { completed: true });
    if (url === '/api/v1/auth/session') return json(200, { username: 'u', role, expires_at: '2099-01-01T00:00:00Z', auth: 'session' });
    if (url === '/api/v1/config/jails') return json(200, jails);
    if (url === '/api/v1/config/pending-recovery') return json(200, extra.pending ?? { items: [] });
    if (url === '/api/v1/config/jails/sshd/preview') return json(200, { jail: 'sshd', file: '/etc/fail2ban/jail.d/sshd.local', diff: '+bantime = 2h\n', valid: true, errors: [], warnings: [] });
    if (url === '/api/v1/config/jails/sshd') return json(200, { jail: 'sshd', changed: true, active: true, fail2ban_running: true, validation_warnings: [], recovered: false, message: 'saved and reloaded the jail', diff: '+bantime = 2h\n', file: 'x' });
    if (url === '/api/v1/server/settings') return json(200, { loglevel: 'INFO', logtarget: '/var/log/fail2ban.log', dbfile: '/var/lib/fail2ban/fail2ban.sqlite3', dbpurgeage: 3600, dbmaxmatches: 10, syslogsocket: 'auto' });
    if (url.startsWith('/api/v1/config/pending-recovery/')) return new Response(null, { status: 204 });
    return json(404, { error_code: 'not_found', message: 'nope', details: null });
  }));
  return calls;
}

function renderConfig() {
  return render(<MemoryRouter initialEntries={['/config']} future={routerFuture}><Providers><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('changedSettings', () => {
  it('sends only changed keys, lists as arrays and an emptied field as null', () => {
    const settings = [setting('bantime', '600'), setting('maxretry', 3), setting('logpath', ['/a']), setting('findtime', '10m')];
    expect(changedSettings(settings, { bantime: '600', maxretry: '5', logpath: '/a\n/b\n', findtime: '' }))
      .toEqual({ maxretry: '5', logpath: ['/a', '/b'], findtime: null });
  });
});

describe('configuration page', () => {
  it('shows viewers every jail with its state but no way to change it', async () => {
    stub('viewer');
    renderConfig();
    const table = await screen.findByTestId('config-jails');
    expect(within(table).getByText('running')).toBeTruthy();
    expect(within(table).getByText(/inactive/)).toBeTruthy();
    expect(within(table).queryByRole('button', { name: 'Activate' })).toBeNull();
    expect(screen.queryByRole('tab', { name: 'Server' })).toBeNull();
    fireEvent.click(within(table).getAllByRole('button', { name: 'Details' })[0]!);
    expect((await screen.findAllByText('/etc/fail2ban/jail.local')).length).toBeGreaterThan(0);
    expect(screen.queryByRole('button', { name: 'Apply' })).toBeNull();
  });

  it('lets an admin preview the diff before applying only the changed setting', async () => {
    const calls = stub('admin');
    renderConfig();
    const table = await screen.findByTestId('config-jails');
    expect(within(table).getByRole('button', { name: 'Activate' })).toBeTruthy();
    fireEvent.click(within(table).getAllByRole('button', { name: 'Edit' })[0]!);
    const apply = await screen.findByRole('button', { name: 'Apply' });
    expect((apply as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('New bantime'), { target: { value: '2h' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect((await screen.findByLabelText('Diff')).textContent).toContain('+bantime = 2h');
    await waitFor(() => expect((screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(calls.some((c) => c.init?.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.init?.method === 'PUT');
    expect(JSON.parse(String(put?.init.body))).toEqual({ settings: { bantime: '2h' } });
  });

  it('shows a pending recovery until an admin dismisses it', async () => {
    const calls = stub('admin', { pending: { items: [{ id: 7, at: '2026-01-01T00:00:00Z', jail: 'sshd', file: 'f', backup: null, message: 'the jail did not start', fail2ban_running: true, jail_running: true }] } });
    renderConfig();
    const banner = await screen.findByTestId('pending-recoveries');
    expect(banner.textContent).toContain('the jail did not start');
    fireEvent.click(within(banner).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(calls.some((c) => c.url === '/api/v1/config/pending-recovery/7' && c.init.method === 'DELETE')).toBe(true));
  });

  it('warns on the server tab when fail2ban purges its history within a day', async () => {
    stub('admin');
    renderConfig();
    fireEvent.click(await screen.findByRole('tab', { name: 'Server' }));
    expect((await screen.findByTestId('purge-warning')).textContent).toMatch(/Below one day/);
  });
});
