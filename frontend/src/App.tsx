// Application shell: providers, routes, the guard that sends visitors to /setup or /login, the
// role-aware navigation, the header's search box, the single "server unreachable" banner and the footer with the server
// version and health (a query refreshed every HEALTH_POLL_MS). Providers hold one TanStack Query
// client per mounted app.
import { QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { api, setRedirectHandler } from './api/client';
import { connectLiveUpdates, useLiveStatus } from './api/live';
import { createQueryClient, queries, useApi } from './api/queries';
import type { Role } from './api/types';
import { AuthProvider, useAuth } from './auth';
import { GlobalSearch } from './components/GlobalSearch';
import { ConfirmProvider, ErrorBanner, isNetworkError, Loading, NetworkErrorsShownAbove, ToastProvider, usePageTitle, useToast } from './components/feedback';
import { explainError, hasRole } from './lib/format';
import { AuditPage } from './pages/Audit';
import { ConfigPage } from './pages/Config';
import { BlocklistsPage } from './pages/Blocklists';
import { RegexTesterPage } from './pages/RegexTester';
import { DashboardPage } from './pages/Dashboard';
import { HistoryPage } from './pages/History';
import { IpPage } from './pages/IpPage';
import { JailDetailPage } from './pages/JailDetail';
import { JailsPage } from './pages/Jails';
import { LoginPage } from './pages/Login';
import { NotificationsPage } from './pages/Notifications';
import { SetupPage } from './pages/Setup';
import { UsersPage } from './pages/Users';

// The map page carries the world geometry; load it only when visited.
const MapPage = lazy(() => import('./pages/MapPage').then((m) => ({ default: m.MapPage })));

function RedirectBridge() {
  const nav = useNavigate();
  const auth = useAuth();
  useEffect(() => {
    setRedirectHandler((to) => {
      if (to === '/login') auth.setSession(null);
      if (to === '/setup') auth.setSetupCompleted(false);
      nav(to, { replace: true, state: to === '/login' ? { from: window.location.pathname + window.location.search } : undefined });
    });
  }, [nav, auth]);
  return null;
}

/** The live event stream while someone is signed in (one per tab, across page changes). */
function LiveUpdates() {
  const auth = useAuth();
  const client = useQueryClient();
  const signedIn = !!auth.session;
  useEffect(() => (signedIn ? connectLiveUpdates(client) : undefined), [signedIn, client]);
  return null;
}

function Guard({ children, role = 'viewer' }: { children: ReactNode; role?: Role }) {
  const auth = useAuth();
  const loc = useLocation();
  if (!auth.ready) return <Loading label="Starting…" />;
  if (auth.bootError) return <ErrorBanner error={auth.bootError} onRetry={() => void auth.refresh()} />;
  if (auth.setupCompleted === false) return <Navigate to="/setup" replace />;
  if (!auth.session) return <Navigate to="/login" replace state={{ from: loc.pathname + loc.search }} />;
  if (!hasRole(auth.session.role, role)) return <Shell><Forbidden role={role} has={auth.session.role} /></Shell>;
  return <Shell>{children}</Shell>;
}

function Forbidden({ role, has }: { role: Role; has: Role }) {
  usePageTitle('Not allowed');
  return (
    <>
      <h1>Not allowed</h1>
      <div className="banner banner-error" role="alert">This page needs the {role} role; you are signed in as {has}. Ask an administrator, or go back to the <NavLink to="/">dashboard</NavLink>.</div>
    </>
  );
}

function NotFound() {
  usePageTitle('Page not found');
  return <><h1>Page not found</h1><p><NavLink to="/">Back to the dashboard</NavLink></p></>;
}

function Shell({ children }: { children: ReactNode }) {
  const auth = useAuth();
  const nav = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  const health = useApi(queries.health());
  const live = useLiveStatus();
  const unreachable = isNetworkError(health.error);
  const h = unreachable ? null : health.data;
  const role = auth.session?.role;
  const logout = async () => {
    try {
      await api.logout();
    } catch (err) {
      toast(explainError(err), 'error');
    }
    auth.setSession(null);
    // The next user must not see this one's cached data.
    queryClient.clear();
    nav('/login', { replace: true });
  };
  return (
    <div className="app">
      <a href="#main" className="skip">Skip to content</a>
      <header className="topbar">
        <span className="brand">BanGUI</span>
        {auth.session && (
          <nav aria-label="Main">
            <NavLink to="/" end>Dashboard</NavLink>
            <NavLink to="/map">Map</NavLink>
            <NavLink to="/history">History</NavLink>
            <NavLink to="/jails">Jails</NavLink>
            <NavLink to="/config">Configuration</NavLink>
            <NavLink to="/blocklists">Blocklists</NavLink>
            {hasRole(role, 'operator') && <NavLink to="/regex">Regex tester</NavLink>}
            <NavLink to="/users">{hasRole(role, 'admin') ? 'Users' : 'Tokens'}</NavLink>
            {hasRole(role, 'admin') && <NavLink to="/audit">Audit</NavLink>}
            {hasRole(role, 'admin') && <NavLink to="/notifications">Notifications</NavLink>}
          </nav>
        )}
        {auth.session && <GlobalSearch />}
        {auth.session && (
          <span className="who">
            <span>{auth.session.username} <span className="tag">{auth.session.role}</span></span>
            <button type="button" className="small" onClick={logout}>Sign out</button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {unreachable && (
          <div className="banner banner-error" role="alert" data-testid="server-unreachable">
            <span>Cannot reach the BanGUI server. Everything shown is from before it went away; check that the bangui service is running. Retrying every {queries.health().refetchInterval as number / 1000} s.</span>
            <button type="button" onClick={health.reload}>Retry now</button>
          </div>
        )}
        <NetworkErrorsShownAbove.Provider value={true}>{children}</NetworkErrorsShownAbove.Provider>
      </main>
      <footer className="muted small" data-testid="footer-health">
        BanGUI v{h?.version ?? '?'}
        {h && h.fail2ban.state === 'offline' && <> · fail2ban offline at <code>{h.fail2ban.socket}</code></>}
        {h && h.fail2ban.state === 'online' && <> · fail2ban online</>}
        {h && h.fail2ban.state === 'unresponsive' && <> · fail2ban not answering at <code>{h.fail2ban.socket}</code>{h.fail2ban.error ? ` (${h.fail2ban.error})` : ''}</>}
        {h && h.geoip.state !== 'loaded' && <> · GeoIP {h.geoip.state}</>}
        <span data-testid="live-status"> · {live ? 'live updates' : 'updates by polling'}</span>
      </footer>
    </div>
  );
}

export function AppRoutes() {
  return (
    <>
      <RedirectBridge />
      <LiveUpdates />
      <Routes>
        <Route path="/setup" element={<SetupPage />} />
        <Route path="/login" element={<LoginPage />} />
        <Route path="/" element={<Guard><DashboardPage /></Guard>} />
        <Route path="/map" element={<Guard><Suspense fallback={<Loading label="Loading map…" />}><MapPage /></Suspense></Guard>} />
        <Route path="/history" element={<Guard><HistoryPage /></Guard>} />
        <Route path="/ip/:ip" element={<Guard><IpPage /></Guard>} />
        <Route path="/jails" element={<Guard><JailsPage /></Guard>} />
        <Route path="/jails/:name" element={<Guard><JailDetailPage /></Guard>} />
        <Route path="/config" element={<Guard><ConfigPage /></Guard>} />
        <Route path="/blocklists" element={<Guard><BlocklistsPage /></Guard>} />
        <Route path="/regex" element={<Guard role="operator"><RegexTesterPage /></Guard>} />
        <Route path="/users" element={<Guard><UsersPage /></Guard>} />
        <Route path="/audit" element={<Guard role="admin"><AuditPage /></Guard>} />
        <Route path="/notifications" element={<Guard role="admin"><NotificationsPage /></Guard>} />
        <Route path="*" element={<Guard><NotFound /></Guard>} />
      </Routes>
    </>
  );
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <ConfirmProvider>
          <AuthProvider>{children}</AuthProvider>
        </ConfirmProvider>
      </ToastProvider>
    </QueryClientProvider>
  );
}

/** React Router 6 with its v7 behaviour switched on (no upgrade warnings, same semantics as v7). */
export const routerFuture = { v7_startTransition: true, v7_relativeSplatPath: true } as const;

export function App() {
  return (
    <BrowserRouter future={routerFuture}>
      <Providers>
        <AppRoutes />
      </Providers>
    </BrowserRouter>
  );
}
