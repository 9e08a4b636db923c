// Session context: who is signed in, with which role, and the server version for the footer.
// Loads /setup, /auth/session and /health through the query client on start and on `refresh`;
// pages read it, they never refetch it themselves.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api } from './api/client';
import type { Health, Session } from './api/types';

export interface AuthState {
  ready: boolean;
  setupCompleted: boolean | null;
  session: Session | null;
  health: Health | null;
  bootError: unknown;
  refresh: () => Promise<void>;
  setSession: (s: Session | null) => void;
  setSetupCompleted: (v: boolean) => void;
}

const Ctx = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [setupCompleted, setSetupCompleted] = useState<boolean | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [bootError, setBootError] = useState<unknown>(null);
  const queryClient = useQueryClient();

  const refresh = useCallback(async () => {
    const fresh = <T,>(queryKey: string[], queryFn: () => Promise<T>) =>
      queryClient.fetchQuery({ queryKey, queryFn, staleTime: 0, retry: false });
    fresh(['health'], api.health).then(setHealth, () => setHealth(null));
    try {
      const s = await fresh(['setup'], api.setupState);
      setSetupCompleted(s.completed);
      setBootError(null);
      if (s.completed) {
        try {
          setSession(await fresh(['auth', 'session'], api.session));
        } catch {
          setSession(null);
        }
      } else {
        setSession(null);
      }
    } catch (e) {
      setBootError(e);
    } finally {
      setReady(true);
    }
  }, [queryClient]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <Ctx.Provider value={{ ready, setupCompleted, session, health, bootError, refresh, setSession, setSetupCompleted }}>
      {children}
    </Ctx.Provider>
  );
}

export function useAuth(): AuthState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
