// Types of the BanGUI REST API v1 as documented in the contract. Pure declarations, no logic.

export type Role = 'admin' | 'operator' | 'viewer';
export type Range = '24h' | '7d' | '30d' | '365d';
export type Origin = 'all' | 'selfblock' | 'blocklist';

export interface Health {
  status: 'ok' | 'degraded' | 'unavailable';
  version: string;
  database: { state: string };
  fail2ban: { state: 'online' | 'offline'; socket: string; error: string | null };
  geoip: {
    state: 'loaded' | 'absent' | 'error';
    path: string | null;
    database_type: string | null;
    build_epoch: number | null;
    error: string | null;
  };
  scheduler: { state: string };
}

export interface Session {
  username: string;
  role: Role;
  expires_at: string;
  auth?: 'session' | 'token';
}

export interface Geo {
  country_code: string | null;
  country_name: string | null;
  geoname_id: number | null;
  continent: string | null;
  asn: number | null;
  org: string | null;
  network: string | null;
  source: 'mmdb' | 'ipapi' | null;
  db_version: string | null;
}

export interface Status {
  online: boolean;
  version: string | null;
  socket: string;
  jails: number;
  currently_banned: number;
  currently_failed: number;
  total_banned: number;
  total_failed: number;
  error: string | null;
}

export interface BanRow {
  ip: string;
  jail: string;
  banned_at: string;
  ban_ends_at: string | null;
  bantime_seconds: number;
  bancount: number;
  origin: 'selfblock' | 'blocklist';
  geo: Geo | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export interface ByCountry {
  countries: Record<string, number>;
  country_names: Record<string, string>;
  unresolved: number;
  total: number;
}

export interface Trend {
  range: Range;
  bucket_seconds: number;
  buckets: { start: string; count: number }[];
}

export interface ByJail {
  jails: { jail: string; count: number }[];
}

export interface JailSummary {
  name: string;
  currently_failed: number;
  total_failed: number;
  currently_banned: number;
  total_banned: number;
}

export interface JailDetail {
  name: string;
  counters: Omit<JailSummary, 'name'>;
  settings: {
    bantime: number;
    findtime: number;
    maxretry: number;
    maxmatches: number;
    logpath: string[];
    ignoreip: string[];
    ignoreself: boolean;
    failregex: string[];
    ignoreregex: string[];
    datepattern: string | null;
    actions: string[];
    backend: string;
  };
}

export interface JailBan {
  ip: string;
  banned_at: string;
  ban_ends_at: string | null;
  geo: Geo | null;
}

export interface Lookup {
  ip: string;
  geo: Geo | null;
  banned_in: string[];
}

export interface User {
  id: number;
  username: string;
  role: Role;
  created_at: string;
}

export interface Token {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  auth: string | null;
  client_ip: string | null;
  action: string;
  target: string | null;
  result: string;
  details: unknown;
}
