import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectLiveUpdates, isLive, keysFor, LIVE_SAFETY_POLL_MS, pollEvery } from './live';
import { queries } from './queries';

/** A stand-in for the browser's EventSource that the test drives. */
class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  constructor(public url: string, public init?: EventSourceInit) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  emit(type: string, id: number, data: unknown = {}) {
    const e = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: String(id) });
    for (const fn of this.listeners.get(type) ?? []) fn(e);
  }
  fail(closed: boolean) {
    this.readyState = closed ? 2 : 0;
    this.onerror?.();
  }
}

const ES = FakeEventSource as unknown as typeof EventSource;

function source(i: number): FakeEventSource {
  const es = FakeEventSource.instances[i];
  if (!es) throw new Error(`no EventSource #${i}`);
  return es;
}
const STATUS = { online: true, jails: 1, banned: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countFetches() {
  const urls: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    urls.push(url);
    return new Response(JSON.stringify(STATUS), { status: 200, headers: { 'Content-Type': 'application/json' } });
  }));
  return urls;
}

/** A client with the status query observed (as a mounted page would), first fetch done. */
async function observedStatus() {
  const client = new QueryClient();
  const observer = new QueryObserver(client, queries.status());
  const unsubscribe = observer.subscribe(() => undefined);
  await vi.waitFor(() => expect(observer.getCurrentResult().data).toEqual(STATUS));
  return { client, unsubscribe };
}

let disconnect: () => void = () => undefined;
afterEach(() => {
  disconnect();
  FakeEventSource.instances = [];
  vi.unstubAllGlobals();
});

describe('live updates', () => {
  it('refetches what a ban changes at once, batching a burst into one refetch', async () => {
    const urls = countFetches();
    const { client, unsubscribe } = await observedStatus();
    disconnect = connectLiveUpdates(client, { eventSource: ES, flushMs: 20 });
    const es = source(0);
    expect(es.url).toBe('/api/v1/events/stream');
    expect(es.init).toEqual({ withCredentials: true });
    es.open();
    expect(isLive()).toBe(true);
    expect(urls).toHaveLength(1);
    for (let id = 1; id <= 100; id++) es.emit('ban', id, { type: 'ban', ip: '203.0.113.7' });
    await vi.waitFor(() => expect(urls).toHaveLength(2));
    await sleep(60);
    expect(urls, '100 bans, one refetch').toHaveLength(2);
    expect(urls[1]).toBe('/api/v1/dashboard/status');
    unsubscribe();
  });

  it('slows polling to a safety net while live and polls again at once when the stream closes', async () => {
    const urls = countFetches();
    const { client, unsubscribe } = await observedStatus();
    const interval = pollEvery(10_000);
    disconnect = connectLiveUpdates(client, { eventSource: ES, flushMs: 20, reconnectMs: 30 });
    const first = source(0);
    first.open();
    first.emit('jail_stopped', 41);
    expect(interval()).toBe(LIVE_SAFETY_POLL_MS);

    first.fail(true); // e.g. 503 too many streams: the browser gives up
    expect(isLive()).toBe(false);
    expect(interval()).toBe(10_000);
    await vi.waitFor(() => expect(urls.length).toBeGreaterThanOrEqual(3));

    // A new stream later, resuming after the last event seen.
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(2));
    expect(source(1).url).toBe('/api/v1/events/stream?last_event_id=41');
    expect(first.closed).toBe(true);
    unsubscribe();
  });

  it('reloads everything on reset and stays on polling without EventSource', async () => {
    const urls = countFetches();
    const { client, unsubscribe } = await observedStatus();
    const none = connectLiveUpdates(client, { eventSource: undefined });
    if (typeof EventSource === 'undefined') expect(FakeEventSource.instances).toHaveLength(0);
    none();
    disconnect = connectLiveUpdates(client, { eventSource: ES, flushMs: 10 });
    const es = source(0);
    es.open();
    es.listeners.get('reset')?.forEach((fn) => fn(new MessageEvent('reset')));
    await vi.waitFor(() => expect(urls).toHaveLength(2));
    expect(keysFor('ban')).toContainEqual(['dashboard']);
    expect(keysFor('something-new')).toBe('all');
    unsubscribe();
  });
});
