// Filters and Actions tabs of the Configuration area: every file of filter.d or action.d with the
// jails that use it and whether a .local override exists; one file parsed ([INCLUDES],
// [Definition], [Init]) and raw. Admins create a file (from scratch or as a copy), edit BanGUI's
// NAME.local (an override of a packaged file, or BanGUI's own file) and delete BanGUI's files.
// The backend tests every write with fail2ban first and reloads the jails that use the file,
// restoring the previous file if one does not come back.
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queries, useApi, useRefreshAll } from '../api/queries';
import type { ConfigFileDetail, ConfigKind, ConfigWriteReport } from '../api/types';
import { useAuth } from '../auth';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, useToast } from '../components/feedback';
import { explainError, hasRole } from '../lib/format';

/** The text an override starts from: the packaged file's [Definition] keys, commented out. */
export function overrideTemplate(detail: ConfigFileDetail): string {
  if (detail.local_text) return detail.local_text.replace(/^# Managed by BanGUI[^\n]*\n/, '');
  const lines = ['[Definition]'];
  for (const [k, v] of Object.entries(detail.definition)) {
    lines.push(`# ${k} = ${v.split('\n').join('\n#     ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function ConfigFilesTab({ kind }: { kind: ConfigKind }) {
  const { session } = useAuth();
  const isAdmin = hasRole(session?.role, 'admin');
  const list = useApi(queries.configFiles(kind));
  const [open, setOpen] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const plural = kind === 'filter' ? 'Filters' : 'Actions';
  const items = (list.data?.items ?? []).filter((i) => i.name.includes(filter.trim()));
  return (
    <section className="card" aria-labelledby={`cfg-${kind}-h`}>
      <h2 id={`cfg-${kind}-h`}>{plural}</h2>
      <p className="muted small">
        Files of <code>{kind}.d</code>. BanGUI writes only <code>NAME.local</code> files it created (first line
        <code> # Managed by BanGUI</code>); packaged <code>.conf</code> files are never changed.
      </p>
      {isAdmin && <CreateForm kind={kind} onCreated={(name) => setOpen(name)} />}
      <label>Search <input value={filter} onChange={(e) => setFilter(e.target.value)} aria-label={`Search ${plural.toLowerCase()}`} /></label>
      {list.error ? <ErrorBanner error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data && <Loading />}
      {list.data && items.length === 0 && <Empty>No {plural.toLowerCase()}.</Empty>}
      {items.length > 0 && (
        <TableWrap label={plural}>
          <table className="data stackable" data-testid={`config-${kind}s`}>
            <thead><tr><th>Name</th><th>Used by</th><th>Files</th><th /></tr></thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.name}>
                  <td>{i.name}</td>
                  <td>{i.jails.length ? i.jails.join(', ') : <span className="muted">no jail</span>}</td>
                  <td>
                    {i.has_conf && <span className="tag">.conf</span>} {i.has_local && <span className="tag">{i.bangui_owned ? '.local (BanGUI)' : '.local'}</span>}
                  </td>
                  <td className="actions">
                    <button type="button" className="small" onClick={() => setOpen(open === i.name ? null : i.name)}>{open === i.name ? 'Close' : 'View'}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {open && <FileView key={`${kind}-${open}`} kind={kind} name={open} canEdit={isAdmin} onClosed={() => setOpen(null)} />}
    </section>
  );
}

function useReport() {
  const toast = useToast();
  return (r: ConfigWriteReport) => {
    const jails = r.reloaded_jails.length ? ` (reloaded: ${r.reloaded_jails.join(', ')})` : '';
    toast(`${r.name}: ${r.message}${jails}`, r.recovered ? 'error' : undefined);
  };
}

function CreateForm({ kind, onCreated }: { kind: ConfigKind; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [copyFrom, setCopyFrom] = useState('');
  const [content, setContent] = useState(kind === 'filter' ? '[Definition]\nfailregex = \nignoreregex = \n' : '[Definition]\nactionban = \nactionunban = \n');
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const report = useReport();
  const refreshAll = useRefreshAll();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const body = copyFrom.trim() ? { name: name.trim(), copy_from: copyFrom.trim() } : { name: name.trim(), content };
      report(await api.createConfigFile(kind, body));
      onCreated(name.trim());
      setName('');
    } catch (err) {
      toast(explainError(err), 'error');
    } finally {
      setBusy(false);
      refreshAll();
    }
  };
  return (
    <details>
      <summary>New {kind}</summary>
      <form onSubmit={submit} data-testid={`create-${kind}`}>
        <label>Name <input required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Copy of (optional) <input maxLength={64} value={copyFrom} onChange={(e) => setCopyFrom(e.target.value)} /></label>
        {!copyFrom.trim() && (
          <label>Content <textarea rows={8} className="mono" value={content} onChange={(e) => setContent(e.target.value)} /></label>
        )}
        <button type="submit" className="primary" disabled={busy || !name.trim()}>Create</button>
      </form>
    </details>
  );
}

function Values({ title, values }: { title: string; values: Record<string, string> }) {
  const entries = Object.entries(values);
  if (!entries.length) return null;
  return (
    <>
      <h4>{title}</h4>
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd><pre className="mono">{v}</pre></dd></div>
        ))}
      </dl>
    </>
  );
}

function FileView({ kind, name, canEdit, onClosed }: { kind: ConfigKind; name: string; canEdit: boolean; onClosed: () => void }) {
  const file = useApi(queries.configFile(kind, name));
  const [draft, setDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const confirm = useConfirm();
  const report = useReport();
  const refreshAll = useRefreshAll();
  if (file.error) return <ErrorBanner error={file.error} onRetry={file.reload} />;
  if (!file.data) return <Loading />;
  const d = file.data;
  const text = draft ?? overrideTemplate(d);
  const foreign = d.has_local && !d.bangui_owned;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    try { await fn(); } catch (err) { toast(explainError(err), 'error'); } finally { setBusy(false); refreshAll(); }
  };
  return (
    <article className="card" data-testid="config-file" aria-label={`${kind} ${name}`}>
      <h3>{kind} {name}</h3>
      <p className="muted small">Used by: {d.jails.length ? d.jails.join(', ') : 'no jail'}</p>
      <Values title="[INCLUDES]" values={d.includes} />
      <Values title="[Definition]" values={d.definition} />
      <Values title="[Init]" values={d.init} />
      {d.conf_text !== null && d.conf_text !== undefined && (
        <details><summary>Raw {d.conf_path}</summary><pre className="mono">{d.conf_text}</pre></details>
      )}
      {canEdit && !foreign && (
        <form onSubmit={(e) => { e.preventDefault(); void run(async () => { report(await api.saveConfigFile(kind, name, text)); setDraft(null); }); }}>
          <label>
            {d.has_conf ? 'Override' : 'File'} <code>{d.local_path}</code>
            <textarea rows={12} className="mono" value={text} onChange={(e) => setDraft(e.target.value)} aria-label={`${name}.local`} />
          </label>
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>Save{d.jails.length ? ' and reload its jails' : ''}</button>
            {d.bangui_owned && (
              <button type="button" className="danger" disabled={busy} onClick={async () => {
                const ok = await confirm(`Delete ${name}.local?`, d.has_conf ? 'The packaged file stays; its override is removed.' : `The ${kind} is removed.`, 'Delete');
                if (ok) await run(async () => { report(await api.deleteConfigFile(kind, name)); onClosed(); });
              }}>Delete {name}.local</button>
            )}
          </div>
        </form>
      )}
      {foreign && <p className="banner">{d.local_path} was not written by BanGUI, so BanGUI will not change it.</p>}
      {d.local_text && !canEdit && <details><summary>Raw {d.local_path}</summary><pre className="mono">{d.local_text}</pre></details>}
    </article>
  );
}
