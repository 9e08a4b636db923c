// Session context: whether setup is done, who is signed in and with which role. On start it asks
// /setup and /auth/session at the same time (the health report is a separate, refreshing query
// of the shell), so the app renders after one round trip. Pages read it, they never refetch it.
//
// A browser that signed out (or never signed in) does not probe /auth/session at all: the probe
// would answer 401, which every browser logs as a console error. A hint in localStorage records
// that this browser holds a session cookie; it is set on sign-in and cleared on sign-out or on any
// 401. The hint only saves a request: the cookie alone decides what the server allows.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api } from './api/client';
import type { Session } from './api/types';

export interface AuthState {
  ready: boolean;
  setupCompleted: boolean | null;
  session: Session | null;
  bootError: unknown;
  refresh: () => Promise<void>;
  setSession: (s: Session | null) => void;
  setSetupCompleted: (v: boolean) => void;
}

const Ctx = createContext<AuthState | null>(null);

const HINT_KEY = 'bangui.signed-in';

/** Whether this browser signed in and has not signed out since. */
export function hasSessionHint(): boolean {
  try {
    return window.localStorage.getItem(HINT_KEY) === '1';
  } catch {
    return true; // storage blocked: probe, as before
  }
}

function setSessionHint(on: boolean): void {
  try {
    if (on) window.localStorage.setItem(HINT_KEY, '1');
    else window.localStorage.removeItem(HINT_KEY);
  } catch {
    // storage blocked: nothing to remember
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [setupCompleted, setSetupCompleted] = useState<boolean | null>(null);
  const [session, setSessionState] = useState<Session | null>(null);
  const [bootError, setBootError] = useState<unknown>(null);
  const queryClient = useQueryClient();

  const setSession = useCallback((s: Session | null) => {
    setSessionHint(s !== null);
    setSessionState(s);
  }, []);

  const refresh = useCallback(async () => {
    const fresh = <T,>(queryKey: string[], queryFn: () => Promise<T>) =>
      queryClient.fetchQuery({ queryKey, queryFn, staleTime: 0, retry: false });
    // Both at once: the session probe does not wait for the setup answer.
    const setupP = fresh(['setup'], api.setupState);
    const sessionP: Promise<Session | null> = hasSessionHint()
      ? fresh(['auth', 'session'], api.session).catch(() => null)
      : Promise.resolve(null);
    try {
      const [s, sess] = await Promise.all([setupP, sessionP]);
      setSetupCompleted(s.completed);
      setBootError(null);
      setSession(s.completed ? sess : null);
    } catch (e) {
      setBootError(e);
    } finally {
      setReady(true);
    }
  }, [queryClient, setSession]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <Ctx.Provider value={{ ready, setupCompleted, session, bootError, refresh, setSession, setSetupCompleted }}>
      {children}
    </Ctx.Provider>
  );
}

export function useAuth(): AuthState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
