// Blocklists: the sources BanGUI imports into fail2ban (name, URL, jail, schedule), their last and
// next run, a preview of what an import would do (nothing is banned to find out), "import now"
// for one source or all, and each source's run history and log with errors. Everyone signed in
// reads; admins change.
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queries, useApi } from '../api/queries';
import type { BlocklistPreview, BlocklistSource, BlocklistSourceRequest } from '../api/types';
import { useAuth } from '../auth';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { explainError, formatCount, formatDateTime, hasRole } from '../lib/format';

const SCHEDULES = ['manual', 'hourly', 'daily', 'weekly'] as const;

/** What the schedule field holds: a keyword, or a 6-field cron expression. */
export function scheduleProblem(value: string): string | null {
  const v = value.trim();
  if ((SCHEDULES as readonly string[]).includes(v)) return null;
  if (v.split(/\s+/).length !== 6) return 'Use manual, hourly, daily, weekly or a cron expression with 6 fields (seconds first).';
  return null;
}

const EMPTY: BlocklistSourceRequest = { name: '', url: '', enabled: true, jail: 'blocklist-import', schedule: 'daily', allow_internal: false };

export function BlocklistsPage() {
  usePageTitle('Blocklists');
  const { session } = useAuth();
  const admin = hasRole(session?.role, 'admin');
  const toast = useToast();
  const confirm = useConfirm();
  const sources = useApi(queries.blocklists());
  const [editing, setEditing] = useState<{ id: number | null; form: BlocklistSourceRequest } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [preview, setPreview] = useState<{ id: number; data: BlocklistPreview } | null>(null);

  const importNow = async (id: number | null) => {
    try {
      const r = await api.importBlocklist(id);
      const busy = r.already_running.length ? ` (${r.already_running.length} still running)` : '';
      toast(r.started.length ? `Import started for ${r.started.length} source(s)${busy}.` : `Nothing started${busy}.`);
      sources.reload();
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };
  const runPreview = async (id: number) => {
    setPreview(null);
    try {
      setPreview({ id, data: await api.previewBlocklist(id) });
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };
  const remove = async (s: BlocklistSource) => {
    if (!(await confirm(`Delete blocklist ${s.name}?`, `Its ${formatCount(s.members)} entries are unbanned from ${s.jail} (unless another source lists them).`, 'Delete source'))) return;
    try {
      const r = await api.deleteBlocklist(s.id);
      toast(`Blocklist ${s.name} deleted; ${formatCount(r.unbanned)} entries unbanned.`);
      if (selected === s.id) setSelected(null);
      sources.reload();
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };

  return (
    <>
      <h1>Blocklists</h1>
      <p className="muted small">Lists of addresses and networks imported into a fail2ban jail on a schedule. An import bans new entries and unbans the ones this source banned that left the list.</p>
      <section className="card" aria-labelledby="sources-h">
        <div className="row wrap">
          <h2 id="sources-h">Sources</h2>
          {admin && <button type="button" onClick={() => setEditing({ id: null, form: { ...EMPTY } })}>Add source…</button>}
          {admin && <button type="button" onClick={() => void importNow(null)}>Import all now</button>}
        </div>
        <ErrorBanner error={sources.error} onRetry={sources.reload} />
        {sources.loading && !sources.data ? <Loading /> : sources.data && (sources.data.items.length === 0 ? <Empty>No blocklist sources yet.</Empty> : (
          <TableWrap label="Blocklist sources">
            <table className="data stackable" data-testid="blocklists-table">
              <thead><tr><th scope="col">Name</th><th scope="col">Jail</th><th scope="col">Schedule</th><th scope="col">Entries</th><th scope="col">Last run</th><th scope="col">Next run</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {sources.data.items.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">{s.name}{!s.enabled && <span className="tag">disabled</span>}<div className="muted small"><code>{s.url}</code></div></th>
                    <td data-label="Jail">{s.jail}</td>
                    <td data-label="Schedule"><code>{s.schedule}</code></td>
                    <td data-label="Entries">{formatCount(s.members)}</td>
                    <td data-label="Last run">{s.last_run ? <>{s.last_run.state}{s.last_run.error_code && <> — <span className="field-error">{s.last_run.error_code}</span></>}<div className="muted small">{formatDateTime(s.last_run.started_at)}</div></> : 'never'}</td>
                    <td data-label="Next run">{s.next_run_at ? formatDateTime(s.next_run_at) : '—'}</td>
                    <td className="actions">
                      <button type="button" className="small" onClick={() => setSelected(s.id)}>Runs and log</button>
                      {admin && <>
                        <button type="button" className="small" onClick={() => void runPreview(s.id)}>Preview</button>
                        <button type="button" className="small" onClick={() => void importNow(s.id)}>Import now</button>
                        <button type="button" className="small" onClick={() => setEditing({ id: s.id, form: { name: s.name, url: s.url, enabled: s.enabled, jail: s.jail, schedule: s.schedule, allow_internal: s.allow_internal } })}>Edit…</button>
                        <button type="button" className="small danger" onClick={() => void remove(s)}>Delete</button>
                      </>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ))}
      </section>
      {editing && <SourceForm key={editing.id ?? 'new'} id={editing.id} initial={editing.form}
        onDone={(msg) => { setEditing(null); if (msg) { toast(msg); sources.reload(); } }} />}
      {preview && <PreviewCard preview={preview.data} name={sources.data?.items.find((s) => s.id === preview.id)?.name ?? ''} onClose={() => setPreview(null)} />}
      {selected !== null && <RunsCard id={selected} name={sources.data?.items.find((s) => s.id === selected)?.name ?? ''} />}
    </>
  );
}

function SourceForm({ id, initial, onDone }: { id: number | null; initial: BlocklistSourceRequest; onDone: (message: string | null) => void }) {
  const [form, setForm] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const problem = scheduleProblem(form.schedule ?? '');
  const set = (patch: Partial<BlocklistSourceRequest>) => setForm((f) => ({ ...f, ...patch }));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { ...form, name: form.name.trim(), url: form.url.trim(), schedule: (form.schedule ?? '').trim() };
      const s = id === null ? await api.createBlocklist(body) : await api.updateBlocklist(id, body);
      onDone(id === null ? `Blocklist ${s.name} added.` : `Blocklist ${s.name} saved.`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card" aria-labelledby="source-form-h">
      <h2 id="source-form-h">{id === null ? 'Add a blocklist source' : 'Edit blocklist source'}</h2>
      <ErrorBanner error={error} />
      <form className="row wrap" onSubmit={save}>
        <label>Name<input name="bl-name" required maxLength={100} value={form.name} onChange={(e) => set({ name: e.target.value })} /></label>
        <label>URL (http or https)<input name="bl-url" type="url" required value={form.url} onChange={(e) => set({ url: e.target.value })} /></label>
        <label>Jail<input name="bl-jail" value={form.jail ?? ''} onChange={(e) => set({ jail: e.target.value })} /></label>
        <label>Schedule<input name="bl-schedule" list="bl-schedules" value={form.schedule ?? ''} aria-invalid={!!problem}
          onChange={(e) => set({ schedule: e.target.value })} /></label>
        <datalist id="bl-schedules">{SCHEDULES.map((s) => <option key={s} value={s} />)}</datalist>
        <label><input name="bl-enabled" type="checkbox" checked={form.enabled ?? true} onChange={(e) => set({ enabled: e.target.checked })} /> Enabled</label>
        <label><input name="bl-internal" type="checkbox" checked={form.allow_internal ?? false} onChange={(e) => set({ allow_internal: e.target.checked })} /> Allow an internal address for this host</label>
        <button type="submit" disabled={!form.name.trim() || !form.url.trim() || !!problem}>{id === null ? 'Add source' : 'Save'}</button>
        <button type="button" className="link" onClick={() => onDone(null)}>Cancel</button>
        {problem && <span className="field-error">{problem}</span>}
      </form>
    </section>
  );
}

function PreviewCard({ preview, name, onClose }: { preview: BlocklistPreview; name: string; onClose: () => void }) {
  return (
    <section className="card" aria-labelledby="preview-h" data-testid="blocklist-preview">
      <div className="row wrap">
        <h2 id="preview-h">Preview of {name}</h2>
        <button type="button" className="link" onClick={onClose}>Close</button>
      </div>
      <p>HTTP {preview.http_status}, {formatCount(preview.fetched_bytes)} bytes: <strong>{formatCount(preview.entries)}</strong> entries
        ({formatCount(preview.networks)} networks), {formatCount(preview.invalid)} invalid lines, {formatCount(preview.refused)} refused.
        An import would ban <strong>{formatCount(preview.would_add)}</strong> and unban <strong>{formatCount(preview.would_remove)}</strong>.</p>
      <h3>First lines</h3>
      <pre className="small">{preview.first_lines.join('\n')}</pre>
      {preview.invalid_examples.length > 0 && <>
        <h3>Invalid lines</h3>
        <ul>{preview.invalid_examples.map((l) => <li key={l.line}>line {l.line}: <code>{l.text}</code> — {l.reason}</li>)}</ul>
      </>}
      {preview.refused_examples.length > 0 && <>
        <h3>Refused entries</h3>
        <ul>{preview.refused_examples.map((l) => <li key={l.line}>line {l.line}: {l.reason}</li>)}</ul>
      </>}
    </section>
  );
}

function RunsCard({ id, name }: { id: number; name: string }) {
  const runs = useApi(queries.blocklistRuns(id));
  const log = useApi(queries.blocklistLog(id));
  return (
    <section className="card" aria-labelledby="runs-h">
      <h2 id="runs-h">Runs of {name}</h2>
      <ErrorBanner error={runs.error} onRetry={runs.reload} />
      {runs.loading && !runs.data ? <Loading /> : runs.data && (runs.data.items.length === 0 ? <Empty>No runs yet.</Empty> : (
        <TableWrap label={`Runs of ${name}`}>
          <table className="data stackable" data-testid="blocklist-runs">
            <thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Entries</th><th scope="col">Added</th><th scope="col">Removed</th><th scope="col">Invalid</th><th scope="col">Error</th></tr></thead>
            <tbody>
              {runs.data.items.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{formatDateTime(r.started_at)}</th>
                  <td data-label="Trigger">{r.trigger}</td>
                  <td data-label="State">{r.state}</td>
                  <td data-label="Entries">{formatCount(r.entries)}</td>
                  <td data-label="Added">{formatCount(r.added)}</td>
                  <td data-label="Removed">{formatCount(r.removed)}</td>
                  <td data-label="Invalid">{formatCount(r.invalid)}</td>
                  <td data-label="Error">{r.error ? <span className="field-error">{r.error}</span> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ))}
      <h3>Log</h3>
      <ErrorBanner error={log.error} onRetry={log.reload} />
      {log.data && (log.data.items.length === 0 ? <Empty>Nothing logged yet.</Empty> : (
        <ul className="small" data-testid="blocklist-log">
          {log.data.items.map((l) => <li key={l.id} className={l.level === 'error' ? 'field-error' : undefined}>{formatDateTime(l.at)} [{l.level}] {l.message}</li>)}
        </ul>
      ))}
    </section>
  );
}
