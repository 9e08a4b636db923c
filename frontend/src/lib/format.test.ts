import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import {
  countryName, explainError, formatBans, formatCount, quantileThresholds, formatAsn, formatBanEnd, formatDateTime, formatDuration, hasRole, thresholdLevel,
} from './format';

describe('countryName', () => {
  it('prefers the name the server supplied', () => {
    expect(countryName('DE', 'Deutschland')).toBe('Deutschland');
  });
  it('falls back to the English name of the code', () => {
    expect(countryName('FR')).toBe('France');
  });
  it('says Unknown without a code', () => {
    expect(countryName(null)).toBe('Unknown');
  });
});

describe('formatDuration', () => {
  it('uses the largest sensible units', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(7500)).toBe('2 h 5 min');
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
  });
  it('calls negative durations permanent', () => {
    expect(formatDuration(-1)).toBe('permanent');
  });
});

describe('formatDateTime', () => {
  it('reads a number as seconds since the epoch, as the users API sends created_at', () => {
    const iso = '2026-03-04T05:06:00Z';
    expect(formatDateTime(Date.parse(iso) / 1000)).toBe(formatDateTime(iso));
    expect(formatDateTime(Date.parse(iso) / 1000)).toMatch(/2026/);
  });
  it('shows a dash for nothing', () => {
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime(undefined)).toBe('—');
  });
});

describe('formatBanEnd', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('calls a null end permanent', () => {
    expect(formatBanEnd(null, now)).toBe('permanent');
  });
  it('shows the time left for a running ban', () => {
    expect(formatBanEnd('2026-01-01T12:10:00Z', now)).toMatch(/\(in 10 min\)$/);
  });
  it('marks ends in the past as expired', () => {
    expect(formatBanEnd('2026-01-01T11:00:00Z', now)).toMatch(/\(expired\)$/);
  });
});

describe('formatAsn', () => {
  it('joins number and organisation', () => {
    expect(formatAsn(3320, 'Deutsche Telekom AG')).toBe('AS3320 Deutsche Telekom AG');
    expect(formatAsn(3320, null)).toBe('AS3320');
    expect(formatAsn(null, 'Org')).toBe('Org');
    expect(formatAsn(null, null)).toBe('—');
  });
});

describe('hasRole', () => {
  it('orders admin above operator above viewer', () => {
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'operator')).toBe(true);
    expect(hasRole('viewer', 'operator')).toBe(false);
    expect(hasRole(null, 'viewer')).toBe(false);
  });
});

describe('thresholdLevel', () => {
  const t: [number, number, number] = [10, 50, 200];
  it('gives zero bans no colour and grades the rest by the thresholds', () => {
    expect(thresholdLevel(0, t)).toBe(0);
    expect(thresholdLevel(1, t)).toBe(1);
    expect(thresholdLevel(10, t)).toBe(2);
    expect(thresholdLevel(49, t)).toBe(2);
    expect(thresholdLevel(50, t)).toBe(3);
    expect(thresholdLevel(200, t)).toBe(4);
  });
});

describe('explainError', () => {
  it('names the socket when fail2ban is offline and says what to do', () => {
    const e = new ApiError(502, 'fail2ban_unavailable', 'connect failed', { socket: '/run/f2b.sock' });
    const text = explainError(e);
    expect(text).toContain('/run/f2b.sock');
    expect(text).toMatch(/Start fail2ban-server/);
  });
  it('tells how long to wait when rate limited', () => {
    expect(explainError(new ApiError(429, 'rate_limited', 'Too many attempts.', null, 30))).toContain('in 30 s');
  });
  it('names the socket once although the server message names it too', () => {
    const e = new ApiError(502, 'fail2ban_unavailable', 'cannot connect to /run/f2b.sock: refused', { socket: '/run/f2b.sock' });
    expect(explainError(e).split('/run/f2b.sock')).toHaveLength(2);
  });
  it('does not repeat the wait when the server message already gives it', () => {
    const text = explainError(new ApiError(429, 'rate_limited', 'Too many attempts; retry in 1 s.', null, 1));
    expect(text).toBe('Too many attempts; retry in 1 s.');
  });
  it('passes other messages through', () => {
    expect(explainError(new ApiError(400, 'invalid_ip', 'not an IP'))).toBe('not an IP');
  });
});

describe('formatCount and formatBans', () => {
  it('formats every count with the same thousands separators', () => {
    expect(formatCount(50011)).toBe((50011).toLocaleString());
    expect(formatBans(1)).toBe('1 ban');
    expect(formatBans(8771)).toBe(`${(8771).toLocaleString()} bans`);
  });
});

describe('quantileThresholds', () => {
  it('scales with the data so that a busy year does not paint everything the top colour', () => {
    const year = Array.from({ length: 60 }, (_, i) => 100 + i * 50);
    const t = quantileThresholds(year);
    const top = year.filter((c) => thresholdLevel(c, t) === 4).length;
    expect(top).toBeLessThan(year.length / 4);
    expect(t[0]).toBeLessThan(t[1]);
    expect(t[1]).toBeLessThan(t[2]);
  });
  it('stays strictly ascending for tiny or empty data', () => {
    expect(quantileThresholds([])).toEqual([2, 3, 4]);
    expect(quantileThresholds([1, 1, 1])).toEqual([2, 3, 4]);
  });
});
