// Configuration area: three tabs. Jails lists every jail of fail2ban's configuration (running,
// stopped, inactive) with each setting's effective value and the file it comes from; admins edit
// settings (a diff preview with fail2ban's own configuration test comes before applying),
// activate and deactivate, and dismiss pending recoveries (automatic rollbacks); operators start
// stopped jails. Server holds fail2ban's server settings and flushing its logs (admins). Log shows
// the tail of fail2ban's own log with filters and live follow (admins).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queries, useApi, useRefreshAll } from '../api/queries';
import type { ApplyReport, EditPreview, JailConfigView, LogPage, ServerSettings, SettingView } from '../api/types';
import { useAuth } from '../auth';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { explainError, formatDuration, hasRole } from '../lib/format';
import { ConfigFilesTab } from './ConfigFiles';

type Tab = 'jails' | 'filters' | 'actions' | 'server' | 'log';

export function ConfigPage() {
  usePageTitle('Configuration');
  const { session } = useAuth();
  const isAdmin = hasRole(session?.role, 'admin');
  const [tab, setTab] = useState<Tab>('jails');
  const tabs: [Tab, string][] = isAdmin
    ? [['jails', 'Jails'], ['filters', 'Filters'], ['actions', 'Actions'], ['server', 'Server'], ['log', 'Log']]
    : [['jails', 'Jails'], ['filters', 'Filters'], ['actions', 'Actions']];
  return (
    <>
      <h1>Configuration</h1>
      <div role="tablist" aria-label="Configuration" className="row">
        {tabs.map(([id, label]) => (
          <button key={id} type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={tab === id ? `panel-${id}` : undefined}
            className={tab === id ? 'primary' : undefined} onClick={() => setTab(id)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'jails' && <JailsTab />}
        {tab === 'filters' && <ConfigFilesTab kind="filter" />}
        {tab === 'actions' && <ConfigFilesTab kind="action" />}
        {tab === 'server' && isAdmin && <ServerTab />}
        {tab === 'log' && isAdmin && <LogTab />}
      </div>
    </>
  );
}

/** A setting's value as text: lists one item per line. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(String).join('\n');
  return String(v);
}

const LIST_KEYS = new Set(['logpath', 'ignoreip', 'action']);

/**
 * The settings to send: only keys whose text differs from the effective value; lists become
 * arrays, an emptied field drops BanGUI's override (null).
 */
export function changedSettings(settings: SettingView[], drafts: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const draft = drafts[s.key];
    if (draft === undefined || draft.trim() === valueText(s.value).trim()) continue;
    if (draft.trim() === '') out[s.key] = null;
    else if (LIST_KEYS.has(s.key)) out[s.key] = draft.split(/\s*\n\s*/).map((l) => l.trim()).filter(Boolean);
    else out[s.key] = draft.trim();
  }
  return out;
}

function stateTag(state: JailConfigView['state']) {
  const text = { running: 'running', stopped: 'stopped (enabled, not running)', inactive: 'inactive (enabled = false)' }[state];
  return <span className={`tag tag-${state}`}>{text}</span>;
}

function Recoveries({ isAdmin }: { isAdmin: boolean }) {
  const pending = useApi(queries.pendingRecoveries());
  const toast = useToast();
  const refreshAll = useRefreshAll();
  if (!pending.data || pending.data.items.length === 0) return null;
  return (
    <section className="banner banner-error" role="alert" data-testid="pending-recoveries">
      <h2>Automatic rollbacks</h2>
      <ul className="plain">
        {pending.data.items.map((r) => (
          <li key={r.id}>
            <strong>{r.jail}</strong> ({r.at}): {r.message}. fail2ban {r.fail2ban_running ? 'runs' : 'is not running'}; the jail {r.jail_running ? 'runs' : 'does not run'}.
            {r.backup && <> Backup: <code>{r.backup}</code>.</>}
            {isAdmin && <button type="button" className="small" onClick={async () => {
              try { await api.dismissRecovery(r.id); refreshAll(); } catch (err) { toast(explainError(err), 'error'); }
            }}>Dismiss</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function JailsTab() {
  const { session } = useAuth();
  const isAdmin = hasRole(session?.role, 'admin');
  const isOperator = hasRole(session?.role, 'operator');
  const jails = useApi(queries.configJails());
  const refreshAll = useRefreshAll();
  const toast = useToast();
  const confirm = useConfirm();
  const [editing, setEditing] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const report = (r: ApplyReport) => {
    if (r.recovered) toast(`${r.jail}: ${r.message}`, 'error');
    else toast(`${r.jail}: ${r.message}${r.validation_warnings.length ? ` (warnings: ${r.validation_warnings.join('; ')})` : ''}`);
  };
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try { await fn(); } catch (err) { toast(explainError(err), 'error'); } finally { setBusy(false); refreshAll(); }
  };

  return (
    <section className="card" aria-labelledby="cfg-jails-h">
      <h2 id="cfg-jails-h">Jails of the configuration</h2>
      <p className="muted small">Changes made here are persisted in BanGUI's own file <code>jail.d/&lt;jail&gt;.local</code> and survive fail2ban restarts. Ban, unban, ignore-list and idle changes on the Jails page are runtime-only.</p>
      <Recoveries isAdmin={isAdmin} />
      <ErrorBanner error={jails.error} onRetry={jails.reload} />
      {jails.data && jails.data.problems.length > 0 && (
        <div className="banner" role="status">fail2ban reported while reading its configuration: {jails.data.problems.join('; ')}</div>
      )}
      {jails.loading && !jails.data ? <Loading label="Reading fail2ban's configuration…" /> : jails.data && (jails.data.items.length === 0
        ? <Empty>The configuration defines no jails.</Empty>
        : (
          <TableWrap label="Configured jails">
            <table className="data stackable" data-testid="config-jails">
              <thead><tr><th scope="col">Jail</th><th scope="col">State</th><th scope="col">Ban time</th><th scope="col">Max retry</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {jails.data.items.map((j) => {
                  const get = (k: string) => j.settings.find((s) => s.key === k)?.value;
                  const bantime = get('bantime');
                  return (
                    <tr key={j.name} data-jail={j.name}>
                      <th scope="row">{j.name}</th>
                      <td data-label="State">{stateTag(j.state)}</td>
                      <td data-label="Ban time">{typeof bantime === 'string' && /^-?\d+$/.test(bantime) ? formatDuration(Number(bantime)) : valueText(bantime)}</td>
                      <td data-label="Max retry">{valueText(get('maxretry'))}</td>
                      <td className="actions">
                        <button type="button" className="small" onClick={() => setEditing(editing === j.name ? null : j.name)}>{isAdmin ? 'Edit' : 'Details'}</button>
                        {isOperator && j.state === 'stopped' && (
                          <button type="button" className="small" disabled={busy} onClick={() => run(async () => { await api.jailAction(j.name, 'start'); toast(`Jail ${j.name} started.`); })}>Start</button>
                        )}
                        {isAdmin && j.state === 'inactive' && (
                          <button type="button" className="small" disabled={busy || j.foreign_file} onClick={() => run(async () => report(await api.setJailActive(j.name, true)))}>Activate</button>
                        )}
                        {isAdmin && j.state !== 'inactive' && (
                          <button type="button" className="small danger" disabled={busy || j.foreign_file} onClick={async () => {
                            if (await confirm(`Deactivate ${j.name}?`, 'BanGUI writes enabled = false into its file for this jail and stops it; its bans are lifted.', 'Deactivate'))
                              await run(async () => report(await api.setJailActive(j.name, false)));
                          }}>Deactivate</button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
        ))}
      {editing && jails.data && (() => {
        const jail = jails.data.items.find((j) => j.name === editing);
        return jail ? <JailEditor key={jail.name} jail={jail} canEdit={isAdmin} onApplied={(r) => { report(r); refreshAll(); }} /> : null;
      })()}
    </section>
  );
}

function JailEditor({ jail, canEdit, onApplied }: { jail: JailConfigView; canEdit: boolean; onApplied: (r: ApplyReport) => void }) {
  const toast = useToast();
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<EditPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const changes = changedSettings(jail.settings, drafts);
  const dirty = Object.keys(changes).length > 0;

  const doPreview = async () => {
    setBusy(true);
    try { setPreview(await api.previewJailConfig(jail.name, changes)); } catch (err) { toast(explainError(err), 'error'); } finally { setBusy(false); }
  };
  const apply = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await api.saveJailConfig(jail.name, changes);
      setPreview(null);
      setDrafts({});
      onApplied(r);
    } catch (err) { toast(explainError(err), 'error'); } finally { setBusy(false); }
  };

  return (
    <form className="card" aria-labelledby="editor-h" onSubmit={apply} data-testid="jail-editor">
      <h3 id="editor-h">{jail.name}: settings and where they come from</h3>
      {jail.foreign_file && <div className="banner banner-error" role="alert"><code>{jail.bangui_file}</code> exists and was not written by BanGUI, so BanGUI will not change it.</div>}
      <TableWrap label={`Settings of ${jail.name}`}>
        <table className="data">
          <thead><tr><th scope="col">Setting</th><th scope="col">Effective value</th><th scope="col">Comes from</th>{canEdit && <th scope="col">New value</th>}</tr></thead>
          <tbody>
            {jail.settings.map((s) => (
              <tr key={s.key}>
                <th scope="row"><code>{s.key}</code></th>
                <td><code className="block">{valueText(s.value) || '—'}</code>{!s.resolved && s.value !== null && <span className="muted small"> (as written; not resolved by fail2ban)</span>}</td>
                <td className="small">{s.source ? <><code>{s.source}</code>{s.from_default && ' [DEFAULT]'}</> : "fail2ban's default"}{s.set_by_bangui && <span className="tag">BanGUI</span>}</td>
                {canEdit && (
                  <td>
                    {LIST_KEYS.has(s.key)
                      ? <textarea aria-label={`New ${s.key}`} rows={2} value={drafts[s.key] ?? valueText(s.value)} onChange={(e) => setDrafts({ ...drafts, [s.key]: e.target.value })} />
                      : <input aria-label={`New ${s.key}`} value={drafts[s.key] ?? valueText(s.value)} onChange={(e) => setDrafts({ ...drafts, [s.key]: e.target.value })} />}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {canEdit && (
        <div className="row">
          <button type="button" disabled={!dirty || busy || jail.foreign_file} onClick={doPreview}>Preview changes</button>
          <button type="submit" className="primary" disabled={!dirty || busy || !preview || !preview.valid || jail.foreign_file}>Apply</button>
          <span className="muted small">{dirty ? `${Object.keys(changes).length} change(s); preview them first.` : 'No changes.'}</span>
        </div>
      )}
      {preview && (
        <div data-testid="config-preview">
          <p>{preview.valid ? "fail2ban's configuration test accepts the change." : "fail2ban's configuration test refuses the change:"}</p>
          {preview.errors.length > 0 && <ul>{preview.errors.map((e, i) => <li key={i}>{e}</li>)}</ul>}
          {preview.warnings.length > 0 && <p className="muted small">Warnings: {preview.warnings.join('; ')}</p>}
          <pre className="block" aria-label="Diff">{preview.diff || '(no change to the file)'}</pre>
        </div>
      )}
    </form>
  );
}

const LOG_LEVELS = ['CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG', 'TRACEDEBUG', 'HEAVYDEBUG'];
const DAY = 86_400;

function ServerTab() {
  const settings = useApi(queries.serverSettings());
  const toast = useToast();
  const refreshAll = useRefreshAll();
  const [form, setForm] = useState<ServerSettings | null>(null);
  useEffect(() => { if (settings.data) setForm(settings.data); }, [settings.data]);
  if (settings.error) return <ErrorBanner error={settings.error} onRetry={settings.reload} />;
  if (!form || !settings.data) return <Loading label="Loading server settings…" />;
  const before = settings.data;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const update: Record<string, unknown> = {};
    if (form.loglevel !== before.loglevel) update.loglevel = form.loglevel;
    if (form.logtarget !== before.logtarget) update.logtarget = form.logtarget;
    if (form.dbpurgeage !== before.dbpurgeage) update.dbpurgeage = form.dbpurgeage;
    if (form.dbmaxmatches !== before.dbmaxmatches) update.dbmaxmatches = form.dbmaxmatches;
    try {
      await api.saveServerSettings(update);
      toast('Server settings saved (runtime: fail2ban forgets them when it restarts).');
      refreshAll();
    } catch (err) { toast(explainError(err), 'error'); }
  };
  return (
    <form className="card" onSubmit={save} aria-labelledby="server-h">
      <h2 id="server-h">fail2ban server</h2>
      <p className="muted small">These changes apply to the running fail2ban only; put them into <code>fail2ban.local</code> to keep them across restarts.</p>
      <label>Log level
        <select value={form.loglevel} onChange={(e) => setForm({ ...form, loglevel: e.target.value })}>
          {[...new Set([form.loglevel, ...LOG_LEVELS])].map((l) => <option key={l}>{l}</option>)}
        </select>
      </label>
      <label>Log target (STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or a file in fail2ban's current log directory)
        <input value={form.logtarget} onChange={(e) => setForm({ ...form, logtarget: e.target.value })} />
      </label>
      <label>Database purge age (seconds)
        <input type="number" min={0} value={form.dbpurgeage} onChange={(e) => setForm({ ...form, dbpurgeage: Number(e.target.value) })} />
      </label>
      {form.dbpurgeage < DAY && (
        <div className="banner banner-error" role="alert" data-testid="purge-warning">
          Below one day ({formatDuration(form.dbpurgeage)}): fail2ban deletes its ban history that soon, and only what BanGUI has already archived is kept.
        </div>
      )}
      <label>Database max matches
        <input type="number" min={0} value={form.dbmaxmatches} onChange={(e) => setForm({ ...form, dbmaxmatches: Number(e.target.value) })} />
      </label>
      <p className="muted small">Database file: <code>{before.dbfile ?? 'none'}</code></p>
      <div className="row">
        <button type="submit" className="primary">Save</button>
        <button type="button" onClick={async () => {
          try { const r = await api.flushLogs(); toast(`Logs flushed: ${r.result}`); } catch (err) { toast(explainError(err), 'error'); }
        }}>Flush logs</button>
      </div>
    </form>
  );
}

const FOLLOW_MS = 2_000;
const MAX_SHOWN = 2_000;

function LogTab() {
  const [filters, setFilters] = useState({ lines: 200, level: '', jail: '', q: '' });
  const [page, setPage] = useState<LogPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(false);
  const end = useRef<number | null>(null);

  const load = async () => {
    try {
      const p = await api.fail2banLog({ lines: filters.lines, level: filters.level, jail: filters.jail, q: filters.q });
      setPage(p);
      end.current = p.end;
      setError(null);
    } catch (err) { setError(err); }
  };
  // The first page loads once; later ones on submit.
  const loaded = useRef(false);
  useEffect(() => { if (!loaded.current) { loaded.current = true; void load(); } });

  useEffect(() => {
    if (!follow) return;
    const t = setInterval(async () => {
      if (end.current === null) return;
      try {
        const more = await api.fail2banLog({ lines: MAX_SHOWN, level: filters.level, jail: filters.jail, q: filters.q, since: end.current });
        end.current = more.end;
        if (more.lines.length) setPage((p) => p && { ...p, end: more.end, lines: [...p.lines, ...more.lines].slice(-MAX_SHOWN) });
      } catch (err) { setError(err); }
    }, FOLLOW_MS);
    return () => clearInterval(t);
  }, [follow, filters.level, filters.jail, filters.q]);

  return (
    <section className="card" aria-labelledby="log-h">
      <h2 id="log-h">fail2ban's log</h2>
      <form className="row" onSubmit={(e) => { e.preventDefault(); void load(); }}>
        <label>Lines<input type="number" min={1} max={2000} value={filters.lines} onChange={(e) => setFilters({ ...filters, lines: Number(e.target.value) })} /></label>
        <label>Level at least
          <select value={filters.level} onChange={(e) => setFilters({ ...filters, level: e.target.value })}>
            <option value="">any</option>
            {['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'].map((l) => <option key={l}>{l}</option>)}
          </select>
        </label>
        <label>Jail<input value={filters.jail} onChange={(e) => setFilters({ ...filters, jail: e.target.value })} /></label>
        <label>Text<input value={filters.q} onChange={(e) => setFilters({ ...filters, q: e.target.value })} /></label>
        <button type="submit">Show</button>
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow (every {FOLLOW_MS / 1000} s)</label>
      </form>
      <ErrorBanner error={error} onRetry={load} />
      {page && (
        <>
          <p className="muted small"><code>{page.path}</code>{page.truncated && ' — only the last 1 MiB was read'}</p>
          {page.lines.length === 0 ? <Empty>No matching lines.</Empty>
            : <pre className="block log" data-testid="log-lines">{page.lines.map((l) => l.text).join('\n')}</pre>}
        </>
      )}
    </section>
  );
}
