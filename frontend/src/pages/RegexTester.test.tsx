import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes, Providers, routerFuture } from '../App';
import { overrideTemplate } from './ConfigFiles';
import { filterFileFor, testBody } from './RegexTester';

type Call = { url: string; init: RequestInit };

const report = {
  counts: { lines: 2, matched: 1, missed: 1, ignored: 0 },
  matches: [{ line: '2026-03-01 10:00:00 DENIED from 192.0.2.7 user=eve', host: '192.0.2.7', time: '2026-03-01T10:00:00Z', captures: { user: 'eve' } }],
  matched_lines: ['2026-03-01 10:00:00 DENIED from 192.0.2.7 user=eve'],
  missed_lines: ['2026-03-01 10:00:01 OK'],
  ignored_lines: [],
  failregex_hits: [{ hits: 1, regex: 'DENIED from <HOST>' }],
  ignoreregex_hits: [],
  date_templates: [{ hits: 2, template: '{^LN-BEG}ExYear-Month-Day 24hour:Minute:Second' }],
  datepattern: null,
  source: { kind: 'pasted', path: null, lines_sent: 2, truncated: false },
};

const filters = {
  kind: 'filter',
  items: [
    { name: 'sshd', has_conf: true, has_local: false, bangui_owned: false, jails: ['sshd'] },
    { name: 'portal', has_conf: false, has_local: true, bangui_owned: true, jails: [] },
  ],
};

const portal = {
  kind: 'filter' as const, name: 'portal', has_conf: false, has_local: true, bangui_owned: true, jails: [],
  includes: {}, definition: { failregex: 'DENIED from <HOST>' }, init: {},
  conf_path: '/etc/fail2ban/filter.d/portal.conf', local_path: '/etc/fail2ban/filter.d/portal.local',
  conf_text: null, local_text: '# Managed by BanGUI (filter)\n[Definition]\nfailregex = DENIED from <HOST>\n',
};

function stub(role: 'admin' | 'operator' | 'viewer') {
  const calls: Call[] = [];
  localStorage.setItem('bangui.signed-in', '1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (url === '/api/v1/health') return json(200, { status: 'ok', version: '1', database: { state: 'ok' }, fail2ban: { state: 'online', socket: '/s', error: null }, geoip: { state: 'loaded', path: null, database_type: null, build_epoch: null, error: null }, scheduler: { state: 'running' } });
    if (url === '/api/v1/setup') return json(200, { completed: true });
    if (url === '/api/v1/auth/session') return json(200, { username: 'u', role, expires_at: '2099-01-01T00:00:00Z', auth: 'session' });
    if (url === '/api/v1/filters') return json(200, filters);
    if (url === '/api/v1/filters/portal' && (init?.method ?? 'GET') === 'GET') return json(200, portal);
    if (url === '/api/v1/filters/portal') return json(200, { kind: 'filter', name: 'portal', file: portal.local_path, changed: true, reloaded_jails: [], recovered: false, message: 'saved; no running jail uses it', diff: '', warnings: [] });
    if (url === '/api/v1/config/jails') return json(200, { fail2ban_running: true, problems: [], items: [] });
    if (url === '/api/v1/config/pending-recovery') return json(200, { items: [] });
    if (url === '/api/v1/regex/test') {
      const body = JSON.parse(String(init.body)) as { failregex?: string };
      if (body.failregex === '(') return json(400, { error_code: 'regex_invalid', message: "ERROR: Unable to compile regular expression '('", details: null });
      return json(200, report);
    }
    return json(404, { error_code: 'not_found', message: 'nope', details: null });
  }));
  return calls;
}

function renderAt(path: string) {
  return render(<MemoryRouter initialEntries={[path]} future={routerFuture}><Providers><AppRoutes /></Providers></MemoryRouter>);
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('regex tester helpers', () => {
  it('builds a filter file with the datepattern escaped as filter files need', () => {
    expect(filterFileFor(' DENIED from <HOST> ', '', '{^LN-BEG}%Y-%m-%d')).toBe(
      '[Definition]\nfailregex = DENIED from <HOST>\nignoreregex = \ndatepattern = {^LN-BEG}%%Y-%%m-%%d\n');
  });

  it('sends a filter or typed regexes, and pasted lines or a log tail', () => {
    const base = { useFilter: false, filter: 'sshd', failregex: 'x <HOST>', ignoreregex: '', datepattern: '', fromLog: false, lines: 'a', logPath: '/var/log/a', tailLines: 10 };
    expect(testBody(base)).toEqual({ failregex: 'x <HOST>', lines: 'a' });
    expect(testBody({ ...base, useFilter: true, fromLog: true })).toEqual({ filter: 'sshd', log_path: '/var/log/a', tail_lines: 10 });
  });

  it('starts an override from the packaged definition, commented out', () => {
    const text = overrideTemplate({ ...portal, local_text: null, has_conf: true, definition: { failregex: 'a\nb' } });
    expect(text).toBe('[Definition]\n# failregex = a\n#     b\n');
    expect(overrideTemplate(portal)).toBe('[Definition]\nfailregex = DENIED from <HOST>\n');
  });
});

describe('regex tester page', () => {
  it('shows fail2ban-regex counts and each match with host and captures', async () => {
    const calls = stub('operator');
    renderAt('/regex');
    const form = await screen.findByTestId('regex-form');
    fireEvent.change(within(form).getByLabelText('failregex'), { target: { value: 'DENIED from <HOST> user=<F-USER>\\S+</F-USER>' } });
    fireEvent.change(within(form).getByLabelText('Log lines'), { target: { value: 'x\ny' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Test' }));
    expect((await screen.findByTestId('regex-counts')).textContent).toContain('1 matched');
    const result = screen.getByTestId('regex-result');
    expect(within(result).getByText('192.0.2.7')).toBeTruthy();
    expect(within(result).getByText('user="eve"')).toBeTruthy();
    const sent = JSON.parse(String(calls.find((c) => c.url === '/api/v1/regex/test')!.init.body));
    expect(sent).toEqual({ failregex: 'DENIED from <HOST> user=<F-USER>\\S+</F-USER>', lines: 'x\ny' });
    expect(screen.queryByTestId('save-filter')).toBeNull();
  });

  it("shows fail2ban's error for a regex that does not compile", async () => {
    stub('admin');
    renderAt('/regex');
    const form = await screen.findByTestId('regex-form');
    fireEvent.change(within(form).getByLabelText('failregex'), { target: { value: '(' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Test' }));
    expect((await screen.findByTestId('regex-error')).textContent).toContain('Unable to compile');
  });

  it('offers admins to save a working regex as a filter', async () => {
    stub('admin');
    renderAt('/regex');
    const form = await screen.findByTestId('regex-form');
    fireEvent.change(within(form).getByLabelText('failregex'), { target: { value: 'DENIED from <HOST>' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Test' }));
    const save = await screen.findByTestId('save-filter');
    expect(save.textContent).toContain('failregex = DENIED from <HOST>');
  });
});

describe('filters tab', () => {
  it('lists filters with their jails and lets an admin edit and delete BanGUI files', async () => {
    const calls = stub('admin');
    renderAt('/config');
    fireEvent.click(await screen.findByRole('tab', { name: 'Filters' }));
    const table = await screen.findByTestId('config-filters');
    expect(within(table).getAllByText('sshd', { selector: 'td' })).toHaveLength(2);
    expect(within(table).getByText('.local (BanGUI)')).toBeTruthy();
    fireEvent.click(within(table).getAllByRole('button', { name: 'View' })[1]!);
    const view = await screen.findByTestId('config-file');
    expect(within(view).getByRole('button', { name: 'Delete portal.local' })).toBeTruthy();
    fireEvent.change(within(view).getByLabelText('portal.local'), { target: { value: '[Definition]\nfailregex = NO from <HOST>\n' } });
    fireEvent.click(within(view).getByRole('button', { name: 'Save' }));
    await screen.findByText(/saved; no running jail uses it/);
    const put = calls.find((c) => c.url === '/api/v1/filters/portal' && c.init?.method === 'PUT')!;
    expect(JSON.parse(String(put.init.body))).toEqual({ content: '[Definition]\nfailregex = NO from <HOST>\n' });
  });

  it('shows viewers the filters without editors', async () => {
    stub('viewer');
    renderAt('/config');
    fireEvent.click(await screen.findByRole('tab', { name: 'Filters' }));
    const table = await screen.findByTestId('config-filters');
    fireEvent.click(within(table).getAllByRole('button', { name: 'View' })[1]!);
    const view = await screen.findByTestId('config-file');
    expect(within(view).queryByRole('button', { name: /Save/ })).toBeNull();
    expect(screen.queryByText('New filter')).toBeNull();
  });
});
