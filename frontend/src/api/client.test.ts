import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, request, setRedirectHandler } from './client';

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), {
    status, headers: { 'Content-Type': 'application/json', ...headers },
  }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setRedirectHandler(() => {});
});

describe('request', () => {
  it('sends the CSRF header and same-origin credentials on writes', async () => {
    const f = respond(200, { ip: '203.0.113.7', jail: 'sshd', newly_banned: true });
    vi.stubGlobal('fetch', f);
    await api.ban('203.0.113.7', 'sshd');
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/bans');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['X-BanGUI-Request']).toBe('1');
    expect(JSON.parse(init.body as string)).toEqual({ ip: '203.0.113.7', jail: 'sshd' });
  });

  it('does not send the CSRF header on reads and encodes the query', async () => {
    const f = respond(200, { items: [], total: 0, page: 1, page_size: 100 });
    vi.stubGlobal('fetch', f);
    await api.bans({ range: '7d', origin: 'all', country: 'DE', page: 2 });
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/dashboard/bans?range=7d&origin=all&country=DE&page=2');
    expect((init.headers as Record<string, string>)['X-BanGUI-Request']).toBeUndefined();
  });

  it('parses the error contract into a typed ApiError', async () => {
    vi.stubGlobal('fetch', respond(502, { error_code: 'fail2ban_unavailable', message: 'no socket', details: { socket: '/x.sock' } }));
    const err = await request('/dashboard/status').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: 'fail2ban_unavailable', message: 'no socket', details: { socket: '/x.sock' } });
  });

  it('reads Retry-After on rate limiting', async () => {
    vi.stubGlobal('fetch', respond(429, { error_code: 'rate_limited', message: 'slow down', details: null }, { 'Retry-After': '12' }));
    const err = (await api.login('a', 'b').catch((e: unknown) => e)) as ApiError;
    expect(err.retryAfter).toBe(12);
  });

  it('redirects to /setup on setup_required and to /login on 401', async () => {
    const seen: string[] = [];
    setRedirectHandler((to) => seen.push(to));
    vi.stubGlobal('fetch', respond(503, { error_code: 'setup_required', message: 'setup first', details: null }));
    await api.status().catch(() => {});
    vi.stubGlobal('fetch', respond(401, { error_code: 'unauthorized', message: 'sign in', details: null }));
    await api.jails().catch(() => {});
    expect(seen).toEqual(['/setup', '/login']);
  });

  it('does not redirect when the login itself is refused', async () => {
    const seen: string[] = [];
    setRedirectHandler((to) => seen.push(to));
    vi.stubGlobal('fetch', respond(401, { error_code: 'invalid_credentials', message: 'wrong', details: null }));
    await expect(api.login('a', 'b')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(seen).toEqual([]);
  });

  it('turns a non-JSON failure into an ApiError with the HTTP status', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('oops', { status: 500, statusText: 'Internal Server Error' })));
    await expect(api.jails()).rejects.toMatchObject({ status: 500, code: 'http_500' });
  });

  it('reports an unreachable server as network_error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    await expect(api.jails()).rejects.toMatchObject({ code: 'network_error' });
  });

  it('returns undefined for 204 responses', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    await expect(api.logout()).resolves.toBeUndefined();
  });
});
