import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { BanRow, Status } from '../api/types';
import { BanTable } from './BanTable';
import { TopCountries, TrendChart } from './charts';
import { ConfirmProvider, ErrorBanner, useConfirm } from './feedback';
import { StatusBar } from './StatusBar';
import { WorldMap } from './WorldMap';
import { ApiError } from '../api/client';

const row: BanRow = {
  ip: '203.0.113.7', jail: 'sshd', banned_at: '2026-01-01T10:00:00Z', ban_ends_at: null, bantime_seconds: -1,
  bancount: 1, origin: 'selfblock',
  geo: { country_code: 'DE', country_name: 'Germany', geoname_id: 1, continent: 'EU', asn: 3320, org: 'Telekom', network: '203.0.113.0/24', source: 'mmdb', db_version: null },
};

describe('BanTable', () => {
  it('shows the flag and country name, ASN and org, jail and a permanent end', () => {
    render(<BanTable rows={[row]} />);
    const tr = screen.getByText('203.0.113.7').closest('tr');
    expect(tr?.textContent).toContain('\u{1F1E9}\u{1F1EA} Germany');
    expect(tr?.textContent).toContain('AS3320 Telekom');
    expect(tr?.textContent).toContain('sshd');
    expect(tr?.textContent).toContain('permanent');
  });
  it('offers no unban button unless the caller allows writes', () => {
    render(<BanTable rows={[row]} />);
    expect(screen.queryByRole('button', { name: /unban/i })).toBeNull();
  });
  it('calls back with the row when unban is pressed', () => {
    const onUnban = vi.fn();
    render(<BanTable rows={[row]} onUnban={onUnban} />);
    fireEvent.click(screen.getByRole('button', { name: 'Unban 203.0.113.7 from sshd' }));
    expect(onUnban).toHaveBeenCalledWith(row);
  });
  it('says Unknown for rows without geo data', () => {
    render(<BanTable rows={[{ ...row, geo: null }]} />);
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
