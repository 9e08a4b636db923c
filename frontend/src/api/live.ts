// Live updates: one EventSource on /api/v1/events/stream per signed-in tab. Each event marks
// the cached reads it changes as stale (TanStack Query refetches the visible ones), so a ban
// shows up within seconds instead of at the next poll. While the stream is open, the queries'
// polling slows to a safety net (bans that simply expire send no event); when it is closed or
// unavailable (no EventSource, a proxy that buffers, an old server), the normal polling
// intervals apply again at once. Invalidations are batched (at most one flush per FLUSH_MS), so
// an attack of thousands of bans a minute costs a refetch a second, not one per ban.
import { useSyncExternalStore } from 'react';
import type { QueryClient, QueryKey } from '@tanstack/react-query';

export const STREAM_URL = '/api/v1/events/stream';
/** Polling while the stream is open: only a safety net for expiring bans. */
export const LIVE_SAFETY_POLL_MS = 60_000;
/** Invalidations are flushed at most this often. */
export const FLUSH_MS = 1_000;
/** After the stream failed for good (e.g. 401, 503), try a new one this much later. */
export const RECONNECT_MS = 30_000;

// --- live state (one per page; read by the queries' intervals and by the UI) ---------------

let live = false;
const listeners = new Set<() => void>();

export function isLive(): boolean {
  return live;
}

function setLive(value: boolean) {
  if (live === value) return;
  live = value;
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the live stream is open now (re-renders when it opens or closes). */
export function useLiveStatus(): boolean {
  return useSyncExternalStore(subscribe, isLive, () => false);
}

/** A query's `refetchInterval`: `ms` without the stream, the safety net with it. */
export function pollEvery(ms: number): () => number {
  return () => (live ? Math.max(ms, LIVE_SAFETY_POLL_MS) : ms);
}

// --- what each event changes ----------------------------------------------------------------

/** Event types the server sends (`event:` lines), and the reset that means "reload all". */
export const EVENT_TYPES = [
  'ban', 'unban', 'jail_started', 'jail_stopped', 'fail2ban_offline', 'fail2ban_online',
  'blocklist_import_failed', 'mmdb_reload_failed', 'config_applied', 'config_rolled_back',
] as const;

/** Query-key prefixes an event type makes stale; `'all'` for everything. */
export function keysFor(type: string): QueryKey[] | 'all' {
  switch (type) {
    case 'ban':
    case 'unban':
      return [['dashboard'], ['jails'], ['history']];
    case 'jail_started':
    case 'jail_stopped':
      return [['jails'], ['dashboard', 'status']];
    case 'fail2ban_offline':
    case 'fail2ban_online':
      return [['health'], ['jails'], ['dashboard', 'status']];
    case 'mmdb_reload_failed':
      return [['health']];
    case 'blocklist_import_failed':
      return [['blocklists']];
    case 'config_applied':
    case 'config_rolled_back':
      return [['jails'], ['server'], ['dashboard', 'status']];
    default:
      return 'all';
  }
}

// --- the connection -------------------------------------------------------------------------

export interface LiveOptions {
  url?: string;
  /** The EventSource implementation (tests pass a fake); none → polling only. */
  eventSource?: typeof EventSource;
  flushMs?: number;
  reconnectMs?: number;
}

/**
 * Opens the stream and keeps it open; returns the function that closes it. Without an
 * EventSource in the environment it does nothing and polling stays on.
 */
export function connectLiveUpdates(client: QueryClient, options: LiveOptions = {}): () => void {
  const Impl = options.eventSource ?? (typeof EventSource === 'undefined' ? undefined : EventSource);
  if (!Impl) return () => undefined;
  const url = options.url ?? STREAM_URL;
  const flushMs = options.flushMs ?? FLUSH_MS;
  const reconnectMs = options.reconnectMs ?? RECONNECT_MS;

  let source: EventSource | null = null;
  let lastId: string | null = null;
  let stopped = false;
  let reconnect: ReturnType<typeof setTimeout> | null = null;
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  let everything = false;
  const pending = new Map<string, QueryKey>();

  const flush = () => {
    flushTimer = null;
    if (everything) {
      void client.invalidateQueries();
    } else {
      for (const key of pending.values()) void client.invalidateQueries({ queryKey: key });
    }
    everything = false;
    pending.clear();
  };
  const mark = (keys: QueryKey[] | 'all') => {
    if (keys === 'all') everything = true;
    else for (const k of keys) pending.set(JSON.stringify(k), k);
    if (flushTimer === null) flushTimer = setTimeout(flush, flushMs);
  };

  // Going down: poll again now (a refetch re-reads each query's interval). Coming back: what
  // happened meanwhile was resumed by the server or announced with a reset.
  const down = () => {
    if (!live) return;
    setLive(false);
    void client.invalidateQueries();
  };

  const open = () => {
    if (stopped) return;
    const target = lastId === null ? url : `${url}?last_event_id=${encodeURIComponent(lastId)}`;
    const es = new Impl(target, { withCredentials: true });
    source = es;
    es.onopen = () => setLive(true);
    es.onerror = () => {
      down();
      // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up
      // (an HTTP error such as 401 or 503); try a new stream later, polling meanwhile.
      if (es.readyState === 2 && !stopped) {
        es.close();
        source = null;
        reconnect = setTimeout(open, reconnectMs);
      }
    };
    const onEvent = (e: MessageEvent) => {
      if (e.lastEventId) lastId = e.lastEventId;
      mark(keysFor(e.type));
    };
    for (const type of EVENT_TYPES) es.addEventListener(type, onEvent as EventListener);
    es.addEventListener('reset', () => mark('all'));
  };

  open();
  return () => {
    stopped = true;
    if (reconnect !== null) clearTimeout(reconnect);
    if (flushTimer !== null) clearTimeout(flushTimer);
    source?.close();
    source = null;
    setLive(false);
  };
}
