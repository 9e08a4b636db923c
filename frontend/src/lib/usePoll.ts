// React hook that loads data and, optionally, refreshes it on a fixed interval. Owns loading and
// error state for one request; knows nothing about which endpoint it calls.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface PollState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now, whenever `deps` change, and every `intervalMs` (0 = never) while mounted. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs = 0): PollState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);

  const run = useCallback(() => {
    const my = ++seq.current;
    loadRef.current().then(
      (d) => {
        if (my !== seq.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (my !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => {
    setLoading(true);
    run();
    if (intervalMs > 0) {
      const t = setInterval(run, intervalMs);
      return () => {
        clearInterval(t);
        seq.current++;
      };
    }
    return () => {
      seq.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, intervalMs, run]);

  return { data, error, loading, reload: run };
}

/** Refresh intervals, shown to the user next to the data they refresh. */
export const STATUS_POLL_MS = 10_000;
export const BANS_POLL_MS = 15_000;
