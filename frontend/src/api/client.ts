// The only module that talks HTTP to the BanGUI backend: a fetch wrapper that sends the CSRF
// header on writes, keeps cookies same-origin, turns the error contract into a typed ApiError and
// routes the user to /setup (503 setup_required) or /login (401). It holds no UI state; pages call
// the typed `api` functions below.
import type {
  ActiveBans, AuditPage, BanPage, BanResponse, BanState, ByCountry, ByJail, CreatedToken, Health, HistoryPage, IgnoreList,
  IpHistory, JailAction, JailBans, JailDetail, JailList, Lookup, MapSettings, Origin, Range, Role, Session, SetupStatus,
  Status, TokenList, TopIps, Trend, UnbanAllResponse, UnbanResponse, User, UserList,
  ApplyReport, EditPreview, FlushResult, JailConfigList, JailConfigView, JailUnbanAll, LogPage, PendingRecoveries,
  ServerSettings, ServerSettingsUpdate,
  BlocklistDeleted, BlocklistImportStarted, BlocklistLogList, BlocklistPreview, BlocklistRunList, BlocklistSource,
  BlocklistSourceList, BlocklistSourceRequest,
  ConfigFileDetail, ConfigFileList, ConfigKind, ConfigWriteReport, LogPathBody, LogPathReport, RegexTestBody,
  RegexTestReport,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: unknown = null, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export type RedirectTarget = '/setup' | '/login';
type RedirectHandler = (to: RedirectTarget) => void;

let redirectHandler: RedirectHandler = (to) => {
  if (typeof window !== 'undefined' && window.location.pathname !== to) window.location.assign(to);
};

/** Lets the router replace the default full-page redirect with client-side navigation. */
export function setRedirectHandler(handler: RedirectHandler): void {
  redirectHandler = handler;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | null | undefined>;
  /** Do not redirect on 401/503 (login form, session probe). */
  noRedirect?: boolean;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

/** Builds an ApiError from a non-2xx response, tolerating bodies that are not the contract. */
export async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `Request failed with status ${res.status}`;
  let details: unknown = null;
  try {
    const body: unknown = await res.json();
    if (body && typeof body === 'object') {
      const b = body as Record<string, unknown>;
      if (typeof b.error_code === 'string') code = b.error_code;
      if (typeof b.message === 'string') message = b.message;
      details = b.details ?? null;
    }
  } catch {
    // Not JSON: keep the HTTP status text.
  }
  const ra = res.headers.get('Retry-After');
  const retryAfter = ra !== null && /^\d+$/.test(ra) ? Number(ra) : null;
  return new ApiError(res.status, code, message, details, retryAfter);
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (WRITE_METHODS.has(method)) headers['X-BanGUI-Request'] = '1';
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, 'network_error', `Cannot reach the BanGUI server (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (!opts.noRedirect) {
      if (res.status === 503 && err.code === 'setup_required') redirectHandler('/setup');
      else if (res.status === 401) redirectHandler('/login');
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Filters {
  range: Range;
  origin: Origin;
}

/**
 * The filters of a history search as the URL and the API spell them (every value optional text;
 * the server parses and, when one is bad, answers 400 naming it).
 */
export interface HistoryFilters {
  range?: string;
  from?: string;
  to?: string;
  jail?: string;
  ip?: string;
  country?: string;
  asn?: string;
  origin?: string;
  state?: string;
  order?: string;
}

/** Link to the streamed export of a history search (the session cookie authenticates it). */
export function historyExportUrl(format: 'csv' | 'ndjson', f: HistoryFilters): string {
  return buildUrl('/history/export', { ...f, format });
}

export const api = {
  health: () => request<Health>('/health', { noRedirect: true }),
  setupState: () => request<SetupStatus>('/setup', { noRedirect: true }),
  setup: (username: string, password: string) =>
    request<User>('/setup', { method: 'POST', body: { username, password }, noRedirect: true }),
  login: (username: string, password: string) =>
    request<Session>('/auth/login', { method: 'POST', body: { username, password }, noRedirect: true }),
  logout: () => request<void>('/auth/logout', { method: 'POST', noRedirect: true }),
  session: () => request<Session>('/auth/session', { noRedirect: true }),

  status: () => request<Status>('/dashboard/status'),
  bans: (f: Filters & { page?: number; page_size?: number; country?: string | null; state?: BanState | null }) =>
    request<BanPage>('/dashboard/bans', { query: { ...f } }),
  topIps: (f: Filters & { limit?: number }) => request<TopIps>('/dashboard/top-ips', { query: { ...f } }),

  history: (f: HistoryFilters & { page?: number; page_size?: number; cursor?: string | null }) =>
    request<HistoryPage>('/history', { query: { ...f } }),
  ipHistory: (ip: string) => request<IpHistory>(`/history/${encodeURIComponent(ip)}`),
  byCountry: (f: Filters) => request<ByCountry>('/dashboard/bans/by-country', { query: { ...f } }),
  trend: (f: Filters & { country?: string | null }) => request<Trend>('/dashboard/bans/trend', { query: { ...f } }),
  byJail: (f: Filters & { country?: string | null }) => request<ByJail>('/dashboard/bans/by-jail', { query: { ...f } }),

  activeBans: () => request<ActiveBans>('/bans/active'),
  ban: (ip: string, jail: string) =>
    request<BanResponse>('/bans', { method: 'POST', body: { ip, jail } }),
  unban: (ip: string, jail: string | null) =>
    request<UnbanResponse>('/bans', { method: 'DELETE', body: { ip, jail } }),
  unbanAll: () => request<UnbanAllResponse>('/bans/all', { method: 'DELETE' }),

  jails: () => request<JailList>('/jails'),
  jail: (name: string) => request<JailDetail>(`/jails/${encodeURIComponent(name)}`),
  jailAction: (name: string, action: 'start' | 'stop' | 'reload') =>
    request<JailAction>(`/jails/${encodeURIComponent(name)}/${action}`, { method: 'POST' }),
  reloadAll: () => request<JailAction>('/jails/reload-all', { method: 'POST' }),
  addIgnore: (name: string, ip: string) =>
    request<IgnoreList>(`/jails/${encodeURIComponent(name)}/ignoreip`, { method: 'POST', body: { ip } }),
  removeIgnore: (name: string, ip: string) =>
    request<IgnoreList>(`/jails/${encodeURIComponent(name)}/ignoreip`, { method: 'DELETE', body: { ip } }),
  setIdle: (name: string, on: boolean) =>
    request<JailAction>(`/jails/${encodeURIComponent(name)}/idle`, { method: 'POST', body: { on } }),
  setIgnoreSelf: (name: string, enabled: boolean) =>
    request<JailAction>(`/jails/${encodeURIComponent(name)}/ignoreself`, { method: 'POST', body: { enabled } }),
  unbanAllInJail: (name: string) =>
    request<JailUnbanAll>(`/jails/${encodeURIComponent(name)}/unban-all`, { method: 'POST' }),
  configJails: () => request<JailConfigList>('/config/jails'),
  configJail: (name: string) => request<JailConfigView>(`/config/jails/${encodeURIComponent(name)}`),
  previewJailConfig: (name: string, settings: Record<string, unknown>) =>
    request<EditPreview>(`/config/jails/${encodeURIComponent(name)}/preview`, { method: 'POST', body: { settings } }),
  saveJailConfig: (name: string, settings: Record<string, unknown>) =>
    request<ApplyReport>(`/config/jails/${encodeURIComponent(name)}`, { method: 'PUT', body: { settings } }),
  setJailActive: (name: string, on: boolean) =>
    request<ApplyReport>(`/config/jails/${encodeURIComponent(name)}/${on ? 'activate' : 'deactivate'}`, { method: 'POST' }),
  pendingRecoveries: () => request<PendingRecoveries>('/config/pending-recovery'),
  dismissRecovery: (id: number) => request<void>(`/config/pending-recovery/${id}`, { method: 'DELETE' }),
  serverSettings: () => request<ServerSettings>('/server/settings'),
  saveServerSettings: (update: ServerSettingsUpdate) =>
    request<ServerSettings>('/server/settings', { method: 'PUT', body: update }),
  flushLogs: () => request<FlushResult>('/server/flush-logs', { method: 'POST' }),
  fail2banLog: (q: { lines?: number; level?: string; jail?: string; q?: string; since?: number }) =>
    request<LogPage>('/server/log', { query: { ...q } }),
  regexTest: (body: RegexTestBody) => request<RegexTestReport>('/regex/test', { method: 'POST', body }),
  logPathTest: (body: LogPathBody) => request<LogPathReport>('/regex/logpath', { method: 'POST', body }),
  configFiles: (kind: ConfigKind) => request<ConfigFileList>(`/${kind}s`),
  configFile: (kind: ConfigKind, name: string) => request<ConfigFileDetail>(`/${kind}s/${encodeURIComponent(name)}`),
  createConfigFile: (kind: ConfigKind, body: { name: string; content?: string; copy_from?: string }) =>
    request<ConfigWriteReport>(`/${kind}s`, { method: 'POST', body }),
  saveConfigFile: (kind: ConfigKind, name: string, content: string) =>
    request<ConfigWriteReport>(`/${kind}s/${encodeURIComponent(name)}`, { method: 'PUT', body: { content } }),
  deleteConfigFile: (kind: ConfigKind, name: string) =>
    request<ConfigWriteReport>(`/${kind}s/${encodeURIComponent(name)}`, { method: 'DELETE' }),
  jailBanned: (name: string, q: { page: number; page_size: number; search?: string }) =>
    request<JailBans>(`/jails/${encodeURIComponent(name)}/banned`, { query: { ...q } }),

  lookup: (ip: string) => request<Lookup>(`/geo/lookup/${encodeURIComponent(ip)}`),

  users: () => request<UserList>('/users'),
  createUser: (username: string, password: string, role: Role) =>
    request<User>('/users', { method: 'POST', body: { username, password, role } }),
  updateUser: (id: number, patch: { role?: Role; password?: string }) =>
    request<User>(`/users/${id}`, { method: 'PATCH', body: patch }),
  deleteUser: (id: number) => request<void>(`/users/${id}`, { method: 'DELETE' }),

  blocklists: () => request<BlocklistSourceList>('/blocklists'),
  createBlocklist: (body: BlocklistSourceRequest) => request<BlocklistSource>('/blocklists', { method: 'POST', body }),
  updateBlocklist: (id: number, body: BlocklistSourceRequest) =>
    request<BlocklistSource>(`/blocklists/${id}`, { method: 'PUT', body }),
  deleteBlocklist: (id: number) => request<BlocklistDeleted>(`/blocklists/${id}`, { method: 'DELETE' }),
  previewBlocklist: (id: number) => request<BlocklistPreview>(`/blocklists/${id}/preview`, { method: 'POST' }),
  importBlocklist: (id: number | null) =>
    request<BlocklistImportStarted>(id === null ? '/blocklists/import' : `/blocklists/${id}/import`, { method: 'POST' }),
  blocklistRuns: (id: number) => request<BlocklistRunList>(`/blocklists/${id}/runs`, { query: { limit: 20 } }),
  blocklistLog: (id: number) => request<BlocklistLogList>(`/blocklists/${id}/log`, { query: { limit: 100 } }),

  tokens: () => request<TokenList>('/tokens'),
  createToken: (name: string, role: Role | undefined, expires_in_days: number | undefined) =>
    request<CreatedToken>('/tokens', { method: 'POST', body: { name, role, expires_in_days } }),
  deleteToken: (id: number) => request<void>(`/tokens/${id}`, { method: 'DELETE' }),

  audit: (page: number, page_size: number) => request<AuditPage>('/audit', { query: { page, page_size } }),

  mapSettings: () => request<MapSettings>('/settings/map'),
  setMapSettings: (thresholds: [number, number, number]) =>
    request<MapSettings>('/settings/map', { method: 'PUT', body: { thresholds } }),
};
