// Pure formatting helpers for the dashboard: flags, country names, dates, durations, counts and
// the user-facing explanation of API errors. No React, no I/O.
import { ApiError } from '../api/client';
import type { Role } from '../api/types';

/** English country name for an alpha-2 code, preferring a name the server supplied. */
export function countryName(code: string | null | undefined, supplied?: string | null): string {
  if (supplied) return supplied;
  if (!code) return 'Unknown';
  try {
    const dn = new Intl.DisplayNames(['en'], { type: 'region' });
    return dn.of(code.toUpperCase()) ?? code.toUpperCase();
  } catch {
    return code.toUpperCase();
  }
}

/**
 * Date and time in the browser's locale, 24-hour clock; "—" when absent or invalid. Takes an
 * RFC 3339 string or, as some API fields carry, a number of seconds since the Unix epoch.
 */
export function formatDateTime(when: string | number | null | undefined): string {
  if (when === null || when === undefined || when === '') return '—';
  const d = new Date(typeof when === 'number' ? when * 1000 : when);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(undefined, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });
}

/** Human duration from seconds: 45 s, 10 min, 2 h 5 min, 3 d 4 h; negative means permanent. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  if (seconds < 0) return 'permanent';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  if (h < 24) return rm ? `${h} h ${rm} min` : `${h} h`;
  const d = Math.floor(h / 24);
  const rh = h % 24;
  return rh ? `${d} d ${rh} h` : `${d} d`;
}

/** End of a ban: "permanent" for null, otherwise the date plus the time left relative to `now`. */
export function formatBanEnd(iso: string | null | undefined, now: Date = new Date()): string {
  if (iso === null || iso === undefined) return 'permanent';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const left = (d.getTime() - now.getTime()) / 1000;
  if (left <= 0) return `${formatDateTime(iso)} (expired)`;
  return `${formatDateTime(iso)} (in ${formatDuration(left)})`;
}

/** Thousands separators in the browser's locale; every count on every page goes through this. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n.toLocaleString();
}

/** "1 ban", "8,771 bans". */
export function formatBans(n: number): string {
  return `${formatCount(n)} ban${n === 1 ? '' : 's'}`;
}

/** "AS3320 Deutsche Telekom AG", "AS3320", the org alone, or "—". */
export function formatAsn(asn: number | null | undefined, org: string | null | undefined): string {
  if (asn && org) return `AS${asn} ${org}`;
  if (asn) return `AS${asn}`;
  return org || '—';
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` is at least `needed` (admin > operator > viewer). */
export function hasRole(role: Role | null | undefined, needed: Role): boolean {
  if (!role) return false;
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

/** What went wrong and what to do about it, for error banners and toasts. */
export function explainError(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'fail2ban_unavailable': {
        const socket = socketOf(err.details);
        const head = `fail2ban is not reachable${socket ? ` at socket ${socket}` : ''}.`;
        // The server's message usually names the socket too; say it once.
        const cause = socket && err.message.includes(socket) ? '' : ` (${err.message})`;
        return `${head} Start fail2ban-server and check that BanGUI may access the socket.${cause}`;
      }
      case 'network_error':
        return `${err.message} Check that the bangui service is running, then reload the page.`;
      case 'forbidden':
        return `${err.message} Your role does not allow this action; ask an administrator.`;
      case 'csrf_required':
        return `${err.message} Reload the page and try again.`;
      case 'rate_limited':
        // The server's message may already say when; add the wait only when it does not.
        if (/\b(retry|try again)\b/i.test(err.message)) return err.message;
        return `${err.message} Try again${err.retryAfter !== null ? ` in ${err.retryAfter} s` : ' later'}.`;
      case 'jail_not_found':
        return `${err.message} The jail may be stopped; start it on the Jails page.`;
      case 'unauthorized':
        return `${err.message} Please sign in again.`;
      default:
        return err.message;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function socketOf(details: unknown): string | null {
  if (details && typeof details === 'object' && 'socket' in details) {
    const s = (details as { socket: unknown }).socket;
    if (typeof s === 'string') return s;
  }
  return null;
}

/**
 * Colour level for a ban count against ascending thresholds [low, medium, high]:
 * 0 = no bans, 1 = below low, 2 = low (>= t0), 3 = medium (>= t1), 4 = high (>= t2).
 */
export function thresholdLevel(count: number, thresholds: readonly [number, number, number]): 0 | 1 | 2 | 3 | 4 {
  if (count <= 0) return 0;
  if (count >= thresholds[2]) return 4;
  if (count >= thresholds[1]) return 3;
  if (count >= thresholds[0]) return 2;
  return 1;
}

/**
 * Thresholds that fit the data instead of fixed numbers: the 50th, 80th and 95th percentiles of
 * the non-zero counts (strictly ascending, at least 2, 3, 4), so a year of bans does not turn
 * every country into the top colour and a quiet day still shows differences.
 */
export function quantileThresholds(counts: readonly number[]): [number, number, number] {
  const xs = counts.filter((c) => c > 0).sort((a, b) => a - b);
  if (xs.length === 0) return [2, 3, 4];
  const q = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!;
  const t0 = Math.max(2, q(0.5));
  const t1 = Math.max(t0 + 1, q(0.8));
  const t2 = Math.max(t1 + 1, q(0.95));
  return [t0, t1, t2];
}
