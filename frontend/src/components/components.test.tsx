import { act, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import type { BanRow, Status } from '../api/types';
import { BanTable, lacksAsnData } from './BanTable';
import { TopCountries, TrendChart } from './charts';
import { ConfirmProvider, ErrorBanner, Modal, ToastProvider, useConfirm, useToast } from './feedback';
import { StatusBar } from './StatusBar';
import { undrawableCodes, WorldMap } from './WorldMap';
import { MARKER_CENTROIDS } from '../lib/centroids';
import { alpha2ForFeature, NUMERIC_TO_ALPHA2 } from '../lib/countries';
import atlas from 'world-atlas/countries-110m.json';
import { ApiError } from '../api/client';

const row: BanRow = {
  ip: '203.0.113.7', jail: 'sshd', banned_at: '2026-01-01T10:00:00Z', ban_ends_at: null, bantime_seconds: -1,
  bancount: 1, origin: 'selfblock', state: 'active',
  geo: { country_code: 'DE', country_name: 'Germany', geoname_id: 1, continent: 'EU', asn: 3320, org: 'Telekom', network: '203.0.113.0/24', source: 'mmdb', db_version: null },
};

describe('BanTable', () => {
  it('shows the flag and country name, ASN and org, jail and a permanent end', () => {
    render(<MemoryRouter><BanTable rows={[row]} /></MemoryRouter>);
    const tr = screen.getByText('203.0.113.7').closest('tr');
    expect(tr?.textContent).toContain('Germany');
    // A bundled SVG image, not an emoji that Windows shows as an empty box.
    const flag = tr?.querySelector('img.flag');
    expect(flag?.getAttribute('src')).toMatch(/DE\.svg/);
    expect(tr?.textContent).not.toMatch(/\p{Regional_Indicator}/u);
    expect(tr?.textContent).toContain('AS3320 Telekom');
    expect(tr?.textContent).toContain('sshd');
    expect(tr?.textContent).toContain('permanent');
  });
  it('offers no unban button unless the caller allows writes', () => {
    render(<MemoryRouter><BanTable rows={[row]} /></MemoryRouter>);
    expect(screen.queryByRole('button', { name: /unban/i })).toBeNull();
  });
  it('calls back with the row when unban is pressed', () => {
    const onUnban = vi.fn();
    render(<MemoryRouter><BanTable rows={[row]} onUnban={onUnban} /></MemoryRouter>);
    fireEvent.click(screen.getByRole('button', { name: 'Unban 203.0.113.7 from sshd' }));
    expect(onUnban).toHaveBeenCalledWith(row);
  });
  it('links each IP to its IP page and says "lifted" instead of a running end for a lifted ban', () => {
    render(<MemoryRouter><BanTable rows={[{ ...row, ban_ends_at: '2099-01-01T00:00:00Z', state: 'lifted' }]} /></MemoryRouter>);
    expect(screen.getByRole('link', { name: '203.0.113.7' }).getAttribute('href')).toBe('/ip/203.0.113.7');
    const tr = screen.getByText('203.0.113.7').closest('tr');
    expect(tr?.querySelector('[data-state="lifted"]')).toBeTruthy();
    expect(tr?.textContent).not.toMatch(/\(in /);
  });
  it('says Unknown for rows without geo data', () => {
    render(<MemoryRouter><BanTable rows={[{ ...row, geo: null }]} /></MemoryRouter>);
    expect(screen.getByText('Unknown')).toBeTruthy();
  });
});

describe('StatusBar', () => {
  const status: Status = { online: false, version: null, socket: '/run/fail2ban/fail2ban.sock', jails: 0, currently_banned: 0,
    currently_failed: 0, total_banned: 0, total_failed: 0, error: 'connection refused' };
  it('names the socket and what to do when fail2ban is offline', () => {
    render(<StatusBar status={status} intervalSeconds={10} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('/run/fail2ban/fail2ban.sock');
    expect(alert.textContent).toContain('Start fail2ban-server');
    expect(screen.getByText(/Refreshes every 10 s/)).toBeTruthy();
  });
  it('shows the version and counters when online', () => {
    render(<StatusBar status={{ ...status, online: true, version: '1.0.2', currently_banned: 1234, error: null }} intervalSeconds={10} />);
    expect(screen.getByText('fail2ban online (v1.0.2)')).toBeTruthy();
    expect(screen.getByTestId('currently-banned').textContent).toBe((1234).toLocaleString());
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('WorldMap', () => {
  it('colours countries by count and leaves the others at level 0', () => {
    const { container } = render(<WorldMap counts={{ DE: 3, US: 60, CN: 500 }} thresholds={[10, 50, 200]} />);
    const de = container.querySelector('path[data-country="DE"]');
    expect(de?.getAttribute('data-count')).toBe('3');
    expect(de?.getAttribute('data-level')).toBe('1');
    expect(container.querySelector('path[data-country="US"]')?.getAttribute('data-level')).toBe('3');
    expect(container.querySelector('path[data-country="CN"]')?.getAttribute('data-level')).toBe('4');
    expect(container.querySelector('path[data-country="FR"]')?.getAttribute('data-count')).toBe('0');
  });
  it('selects a banned country by click and by keyboard, but not an empty one', () => {
    const onSelect = vi.fn();
    const { container } = render(<WorldMap counts={{ DE: 3 }} thresholds={[10, 50, 200]} onSelect={onSelect} />);
    const de = screen.getByRole('button', { name: 'Germany: 3 bans' });
    fireEvent.click(de);
    fireEvent.keyDown(de, { key: 'Enter' });
    fireEvent.click(container.querySelector('path[data-country="FR"]') as Element);
    expect(onSelect.mock.calls).toEqual([['DE'], ['DE']]);
  });
  it('shows a tooltip with name and count on hover', () => {
    const { container } = render(<WorldMap counts={{ JP: 2 }} thresholds={[10, 50, 200]} />);
    fireEvent.mouseMove(container.querySelector('path[data-country="JP"]') as Element, { clientX: 5, clientY: 5 });
    expect(screen.getByRole('tooltip').textContent).toBe('Japan: 2 bans');
  });
});

describe('charts', () => {
  it('draws one bar per trend bucket', () => {
    const buckets = [{ start: '2026-01-01T00:00:00Z', count: 0 }, { start: '2026-01-01T01:00:00Z', count: 4 }];
    const { container } = render(<TrendChart trend={{ range: '24h', bucket_seconds: 3600, buckets }} />);
    expect(container.querySelectorAll('rect.bar')).toHaveLength(2);
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('4 bans');
  });
  it('lists top countries by count, highest first', () => {
    render(<TopCountries countries={{ US: 2, DE: 5, FR: 1 }} names={{ DE: 'Germany' }} />);
    const items = screen.getAllByRole('listitem').map((li) => li.textContent);
    expect(items[0]).toContain('Germany');
    expect(items[2]).toContain('France');
  });
  it('says so when no country is known', () => {
    render(<TopCountries countries={{}} names={{}} />);
    expect(screen.getByText(/No bans with a known country/)).toBeTruthy();
  });
});

function AskButton({ onAnswer }: { onAnswer: (ok: boolean) => void }) {
  const confirm = useConfirm();
  return <button type="button" onClick={async () => onAnswer(await confirm('Unban every address?', 'Really?', 'Unban all'))}>ask</button>;
}

describe('confirmation dialog', () => {
  it('resolves true only when the destructive action is confirmed', async () => {
    const onAnswer = vi.fn();
    render(<ConfirmProvider><AskButton onAnswer={onAnswer} /></ConfirmProvider>);
    fireEvent.click(screen.getByText('ask'));
    expect(screen.getByRole('alertdialog').textContent).toContain('Unban every address?');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Unban all' })));
    fireEvent.click(screen.getByText('ask'));
    await act(async () => fireEvent.keyDown(screen.getByRole('alertdialog'), { key: 'Escape' }));
    expect(onAnswer.mock.calls).toEqual([[true], [false]]);
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
  it('focuses Cancel first so Enter does not destroy anything', () => {
    render(<ConfirmProvider><AskButton onAnswer={() => {}} /></ConfirmProvider>);
    fireEvent.click(screen.getByText('ask'));
    expect(document.activeElement?.textContent).toBe('Cancel');
  });
});

describe('ErrorBanner', () => {
  it('explains the error and offers a retry', () => {
    const retry = vi.fn();
    render(<ErrorBanner error={new ApiError(502, 'fail2ban_unavailable', 'down', { socket: '/s.sock' })} onRetry={retry} />);
    expect(screen.getByRole('alert').textContent).toContain('/s.sock');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(retry).toHaveBeenCalled();
  });
});

describe('StatusBar when fail2ban or BanGUI is unreachable', () => {
  const status: Status = { online: false, version: null, socket: '/s.sock', jails: 0, currently_banned: 0,
    currently_failed: 0, total_banned: 0, total_failed: 0, error: 'cannot connect to /s.sock' };
  it('shows unknown instead of 0 while fail2ban is offline (its bans are still in the firewall)', () => {
    render(<StatusBar status={status} intervalSeconds={10} />);
    expect(screen.getByTestId('currently-banned').textContent).toBe('unknown');
    expect(screen.queryByText('0')).toBeNull();
    expect(screen.getByRole('alert').textContent?.split('/s.sock')).toHaveLength(2);
  });
  it('drops the green online badge when the status could not be refreshed', () => {
    render(<StatusBar status={{ ...status, online: true, currently_banned: 5 }} stale intervalSeconds={10} />);
    expect(screen.queryByText(/fail2ban online/)).toBeNull();
    expect(screen.getByText('status unknown')).toBeTruthy();
    expect(screen.getByTestId('currently-banned').textContent).toBe('unknown');
  });
  it('says when the counters were counted while fail2ban is too busy to answer', () => {
    const asOf = '2026-11-29T12:00:00Z';
    const at = Date.parse(asOf);
    render(<StatusBar status={{ ...status, online: true, as_of: asOf }} intervalSeconds={10} now={at + 60_000} />);
    expect(screen.getByTestId('counters-as-of').textContent).toMatch(/fail2ban is busy: counted at/);
  });
  it('shows no time for counters from the last few seconds', () => {
    const asOf = '2026-11-29T12:00:00Z';
    render(<StatusBar status={{ ...status, online: true, as_of: asOf }} intervalSeconds={10} now={Date.parse(asOf) + 2_000} />);
    expect(screen.queryByTestId('counters-as-of')).toBeNull();
  });
  it('labels fail2ban\'s own totals as counted since it started', () => {
    render(<StatusBar status={{ ...status, online: true }} intervalSeconds={10} />);
    expect(screen.getByText('Banned since fail2ban start')).toBeTruthy();
  });
});

describe('WorldMap for every country', () => {
  type Geom = { id?: string | number; properties: { name: string } };
  const geoms = (atlas as unknown as { objects: { countries: { geometries: Geom[] } } }).objects.countries.geometries;
  it('has a marker position for every ISO code the atlas has no shape for (except Antarctica, which is listed)', () => {
    const shaped = new Set(geoms.map((g) => alpha2ForFeature(g.id, g.properties.name)));
    const lacking = Object.values(NUMERIC_TO_ALPHA2).filter((c) => !shaped.has(c) && c !== 'AQ');
    expect(lacking.filter((c) => !MARKER_CENTROIDS[c])).toEqual([]);
    expect(lacking).toEqual(expect.arrayContaining(['AD', 'AG', 'BH', 'CV', 'DM', 'GD', 'KI', 'LI', 'MU', 'MV', 'SC', 'SG', 'TO']));
  });
  it('draws small countries with bans as clickable dots and lists what it cannot draw', () => {
    const onSelect = vi.fn();
    const counts = { BH: 900, SG: 12, MT: 3, AQ: 2, EU: 1, DE: 5 };
    const { container } = render(<WorldMap counts={counts} thresholds={[10, 50, 200]} onSelect={onSelect} />);
    for (const cc of ['BH', 'SG', 'MT']) {
      const dot = container.querySelector(`circle[data-country="${cc}"]`);
      expect(dot?.getAttribute('data-count')).toBe(String(counts[cc as keyof typeof counts]));
    }
    fireEvent.click(container.querySelector('circle[data-country="BH"]') as Element);
    expect(onSelect).toHaveBeenCalledWith('BH');
    expect(undrawableCodes(counts)).toEqual(['AQ', 'EU']);
    const listed = screen.getByTestId('map-undrawn');
    expect(listed.querySelector('[data-country="AQ"]')).toBeTruthy();
    expect(listed.querySelector('[data-country="EU"]')).toBeTruthy();
  });
  it('is one tab stop; arrow keys move between countries with bans, most bans first', () => {
    const { container } = render(<WorldMap counts={{ DE: 5, CN: 50, BH: 7 }} thresholds={[10, 50, 200]} onSelect={() => {}} />);
    const stops = container.querySelectorAll('[tabindex="0"]');
    expect(stops).toHaveLength(1);
    expect(stops[0]?.getAttribute('data-country')).toBe('CN');
    fireEvent.keyDown(stops[0]!, { key: 'ArrowRight' });
    expect(container.querySelector('[tabindex="0"]')?.getAttribute('data-country')).toBe('BH');
    expect(document.activeElement?.getAttribute('data-country')).toBe('BH');
  });
});

describe('TrendChart labels and the running bucket', () => {
  it('gives hourly bars over several days their dates', () => {
    const start = Date.parse('2026-03-01T00:00:00Z');
    const buckets = Array.from({ length: 168 }, (_, i) => ({ start: new Date(start + i * 3600_000).toISOString(), count: 1 }));
    const { container } = render(<TrendChart trend={{ range: '7d', bucket_seconds: 3600, buckets }} now={new Date(start + 200 * 3600_000)} />);
    const first = container.querySelectorAll('text.tick')[2]?.textContent ?? '';
    expect(first).toContain(new Date(start).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }));
  });
  it('marks a partial last week as running instead of showing it like a collapse', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const week = 7 * 86400_000;
    const buckets = Array.from({ length: 53 }, (_, i) => ({ start: new Date(now.getTime() - (52 - i) * week - 2 * 86400_000).toISOString(), count: i === 52 ? 10 : 900 }));
    const { container } = render(<TrendChart trend={{ range: '365d', bucket_seconds: 7 * 86400, buckets }} now={now} />);
    const partial = container.querySelectorAll('rect[data-partial="true"]');
    expect(partial).toHaveLength(1);
    expect(partial[0]?.getAttribute('data-count')).toBe('10');
    expect(screen.getByText(/The last bar is this week so far/)).toBeTruthy();
  });
});

describe('Modal focus trap', () => {
  function Harness({ onClose }: { onClose: () => void }) {
    return (
      <Modal labelledBy="t" onClose={onClose}>
        <h2 id="t">Title</h2>
        <button type="button">One</button>
        <button type="button">Two</button>
      </Modal>
    );
  }
  it('keeps Tab inside the dialog and closes on Escape wherever focus is', () => {
    const onClose = vi.fn();
    render(<><button type="button">Outside</button><Harness onClose={onClose} /></>);
    const one = screen.getByRole('button', { name: 'One' });
    const two = screen.getByRole('button', { name: 'Two' });
    expect(document.activeElement).toBe(one);
    two.focus();
    fireEvent.keyDown(document.activeElement!, { key: 'Tab' });
    expect(document.activeElement).toBe(one);
    fireEvent.keyDown(document.activeElement!, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(two);
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe('tables and notices', () => {
  it('makes a wide table a labelled, focusable region so the keyboard can scroll it', () => {
    render(<MemoryRouter><BanTable rows={[row]} label="Bans in this range" /></MemoryRouter>);
    const region = screen.getByRole('region', { name: 'Bans in this range' });
    expect(region.getAttribute('tabindex')).toBe('0');
  });
  it('labels every cell for the phone layout', () => {
    const { container } = render(<MemoryRouter><BanTable rows={[row]} /></MemoryRouter>);
    const cells = [...container.querySelectorAll('tbody td')];
    expect(cells.every((td) => td.getAttribute('data-label'))).toBe(true);
  });
  it('says that no ASN database is configured instead of a silent dash', () => {
    const noAsn = { ...row, geo: { ...row.geo!, asn: null, org: null } };
    render(<MemoryRouter><BanTable rows={[noAsn]} /></MemoryRouter>);
    expect(screen.getByTestId('asn-note').textContent).toMatch(/no ASN database is configured/);
    expect(lacksAsnData([row.geo])).toBe(false);
    expect(lacksAsnData([null])).toBe(false);
  });
  it('keeps at most three toasts and shows a repeated message once', () => {
    let push: (t: string) => void = () => {};
    function Grab() { push = useToast(); return null; }
    render(<ToastProvider><Grab /></ToastProvider>);
    act(() => { for (const t of ['a', 'b', 'c', 'd', 'd']) push(t); });
    expect(screen.getAllByTestId('toast').map((t) => t.textContent?.replace('×', ''))).toEqual(['b', 'c', 'd']);
  });
});
