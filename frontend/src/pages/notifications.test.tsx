import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import type { Channel } from '../api/notifications';
import { bodyOf, draftOf, emptyDraft } from './Notifications';

const webhook: Channel = {
  id: 7, name: 'ops hook', kind: 'webhook', enabled: true,
  config: { kind: 'webhook', url: 'https://hooks.example.org/in' },
  secrets: { signing_secret: true },
  rules: { events: ['ban'], jails: ['sshd'], countries: ['CN'], min_ban_count: 3, quiet_hours: { start: '22:00', end: '07:00' }, digest_interval_seconds: 300 },
  created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
};

/** A loaded machine renders slowly; wait for conditions, longer than the default second. */
const SLOW = { timeout: 8000 };

type Call = { url: string; method: string; body: unknown };

function stub(extra: (url: string, method: string) => [number, unknown] | null = () => null) {
  const calls: Call[] = [];
  localStorage.setItem('bangui.signed-in', '1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ url, method, body: init.body ? JSON.parse(String(init.body)) : undefined });
    let res: [number, unknown] | null = extra(url, method);
    if (!res) {
      if (url === '/api/v1/health') res = [200, { status: 'ok', version: '1', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } }];
      else if (url === '/api/v1/setup') res = [200, { completed: true }];
      else if (url === '/api/v1/auth/session') res = [200, { username: 'root', role: 'admin', expires_at: '2099-01-01T00:00:00Z', auth: 'session' }];
      else if (url === '/api/v1/notifications/channels' && method === 'GET') res = [200, { items: [webhook] }];
      else if (url.startsWith('/api/v1/notifications/channels/7/deliveries')) res = [200, { queued: 2, items: [{ id: 1, kind: 'digest', summary: 'digest of 40 events', notices: 40, status: 'retrying', attempts: 2, last_error: 'the receiver answered HTTP 500: boom', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }] }];
      else res = [404, { error_code: 'route_not_found', message: 'nope', details: null }];
    }
    return new Response(JSON.stringify(res[1]), { status: res[0], headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

function renderPage() {
  return render(<MemoryRouter initialEntries={['/notifications']} future={routerFuture}><Providers><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('channel form model', () => {
  it('sends no secret that was left empty, so the stored one is kept', () => {
    const body = bodyOf(draftOf(webhook));
    expect(body.secrets).toEqual({});
    expect(body.config).toEqual({ kind: 'webhook', url: 'https://hooks.example.org/in' });
    expect(body.rules).toEqual(webhook.rules);
  });

  it('normalises lists, drops half-filled quiet hours and builds the e-mail configuration', () => {
    const d = emptyDraft();
    d.name = ' mail ';
    d.kind = 'email';
    d.fields = { ...d.fields, host: 'smtp.example.org', port: '465', security: 'tls', from: 'b@example.org', to: 'a@example.org, c@example.org' };
    d.secrets = { password: ' pw ' };
    d.countries = 'cn ru';
    d.quietStart = '22:00';
    const body = bodyOf(d);
    expect(body.name).toBe('mail');
    expect(body.config).toEqual({ kind: 'email', host: 'smtp.example.org', port: 465, security: 'tls', username: null, from: 'b@example.org', to: ['a@example.org', 'c@example.org'] });
    expect(body.secrets).toEqual({ password: 'pw' });
    expect(body.rules?.countries).toEqual(['CN', 'RU']);
    expect(body.rules?.quiet_hours).toBeNull();
  });
});

describe('Notifications page', () => {
  it('lists channels with their secrets as set or unset and their rules', async () => {
    stub();
    renderPage();
    const table = await screen.findByTestId('channels-table', {}, SLOW);
    expect(table.textContent).toContain('ops hook');
    expect(table.textContent).toContain('signing_secret: set');
    expect(table.textContent).toContain('from 3 bans');
    expect(table.textContent).toContain('quiet 22:00–07:00 UTC');
  });

  it('sends a test message and reports the failure the server names', async () => {
    const calls = stub((url, method) => url === '/api/v1/notifications/channels/7/test' && method === 'POST'
      ? [200, { delivered: false, delivery_id: 3, error: 'the receiver answered HTTP 401: no' }] : null);
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Send test' }, SLOW));
    expect(await screen.findByText(/Test to ops hook failed: the receiver answered HTTP 401/, {}, SLOW)).toBeTruthy();
    expect(calls.some((c) => c.url === '/api/v1/notifications/channels/7/test' && c.method === 'POST')).toBe(true);
  });

  it('shows the delivery log with retries and their last error', async () => {
    stub();
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Delivery log' }, SLOW));
    const log = await screen.findByTestId('delivery-log', {}, SLOW);
    expect(log.textContent).toContain('digest of 40 events');
    expect(log.textContent).toContain('retrying');
    expect(log.textContent).toContain('HTTP 500');
    expect(screen.getByText(/2 message\(s\) waiting/)).toBeTruthy();
  });

  it('edits a channel without resending its secret', async () => {
    const calls = stub((url, method) => url === '/api/v1/notifications/channels/7' && method === 'PUT' ? [200, webhook] : null);
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }, SLOW));
    expect(screen.getByText(/set; leave empty to keep/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/At most one message every/), { target: { value: '60' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save channel' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true), SLOW);
    const put = calls.find((c) => c.method === 'PUT')?.body as { secrets: object; rules: { digest_interval_seconds: number } };
    expect(put.secrets).toEqual({});
    expect(put.rules.digest_interval_seconds).toBe(60);
  });
});
