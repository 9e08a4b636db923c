// Names the pages use for the API's JSON, all taken from `schema.d.ts`, which openapi-typescript
// generates from the OpenAPI document the backend serves (`openapi.json` beside it; both are
// regenerated and checked by scripts/checks/30-frontend-api-types). No shape is written here by
// hand except where the document has none (noted below).
import type { components } from './schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type Session = Schemas['SessionInfo'];
export type Geo = Schemas['GeoInfo'];
export type Status = Schemas['ServerStatus'];
export type BanRow = Schemas['BanRow'];
export type BanPage = Schemas['BanPage'];
export type ByCountry = Schemas['ByCountry'];
export type Trend = Schemas['Trend'];
export type ByJail = Schemas['ByJail'];
export type JailSummary = Schemas['JailSummary'];
export type JailDetail = Schemas['JailDetail'];
export type JailBans = Schemas['JailBans'];
export type JailBan = JailBans['items'][number];
export type ActiveBans = Schemas['ActiveBans'];
export type Lookup = Schemas['LookupResponse'];
export type User = Schemas['UserView'];
export type UserList = Schemas['UserList'];
export type Token = Schemas['TokenView'];
export type CreatedToken = Schemas['CreatedTokenView'];
export type TokenList = Schemas['TokenList'];
export type AuditEntry = Schemas['AuditEntry'];
export type AuditPage = Schemas['AuditPage'];
export type JailList = Schemas['JailList'];
export type JailAction = Schemas['JailAction'];
export type IgnoreList = Schemas['IgnoreList'];
export type MapSettings = Schemas['MapSettings'];
export type SetupStatus = Schemas['SetupStatus'];
export type BanResponse = Schemas['BanOutcome'];
export type UnbanResponse = Schemas['UnbanOutcome'];
export type UnbanAllResponse = Schemas['UnbanAllResponse'];
export type BanState = Schemas['BanState'];
export type HistoryItem = Schemas['HistoryItem'];
export type HistoryPage = Schemas['HistoryPage'];
export type IpHistory = Schemas['IpHistory'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type JailTotal = Schemas['JailTotal'];
export type TopIps = Schemas['TopIps'];
export type TopIp = Schemas['TopIp'];
export type TopAsn = Schemas['TopAsn'];
export type JailConfigList = Schemas['JailConfigList'];
export type JailConfigView = Schemas['JailConfigView'];
export type SettingView = Schemas['SettingView'];
export type ApplyReport = Schemas['ApplyReport'];
export type EditPreview = Schemas['EditPreview'];
export type PendingRecoveries = Schemas['PendingRecoveries'];
export type ServerSettings = Schemas['ServerSettings'];
export type ServerSettingsUpdate = Schemas['ServerSettingsUpdate'];
export type FlushResult = Schemas['FlushResult'];
export type LogPage = Schemas['LogPage'];
export type RegexTestBody = Schemas['RegexTestBody'];
export type RegexTestReport = Schemas['RegexTestReport'];
export type RegexMatch = Schemas['RegexMatch'];
export type LogPathBody = Schemas['LogPathBody'];
export type LogPathReport = Schemas['LogPathReport'];
export type ConfigKind = Schemas['ConfigKind'];
export type ConfigFileList = Schemas['ConfigFileList'];
export type ConfigFileSummary = Schemas['ConfigFileSummary'];
export type ConfigFileDetail = Schemas['ConfigFileDetail'];
export type ConfigWriteReport = Schemas['ConfigWriteReport'];
export type JailUnbanAll = Schemas['JailUnbanAll'];
export type BlocklistSource = Schemas['SourceView'];
export type BlocklistSourceList = Schemas['SourceList'];
export type BlocklistSourceRequest = Schemas['SourceRequest'];
export type BlocklistRun = Schemas['RunView'];
export type BlocklistRunList = Schemas['RunList'];
export type BlocklistLogList = Schemas['LogList'];
export type BlocklistPreview = Schemas['PreviewView'];
export type BlocklistImportStarted = Schemas['ImportStarted'];
export type BlocklistDeleted = Schemas['Deleted'];

// The document describes `range` and `origin` as free strings (their values are in the
// parameter descriptions); the dashboard offers exactly these.
export type Range = '24h' | '7d' | '30d' | '365d';
export type Origin = 'all' | 'selfblock' | 'blocklist';

// `GET /health` has no response schema in the document (its body is built by hand in
// routes/health.rs); this is its shape until the backend documents it.
export interface Health {
  status: 'ok' | 'degraded' | 'unavailable';
  version: string;
  database: { state: string };
  fail2ban: { state: 'online' | 'offline' | 'unresponsive'; socket: string; error: string | null };
  geoip: {
    state: 'loaded' | 'absent' | 'error';
    path: string | null;
    database_type: string | null;
    build_epoch: number | null;
    error: string | null;
  };
  scheduler: { state: string };
}
