// Jail detail: settings, ignore list add/remove, ignoreself toggle, banned IPs with prefix search,
// paging and per-row unban. Write controls only for operators and admins.
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import { BANS_POLL_MS, queries, useApi } from '../api/queries';
import { useAuth } from '../auth';
import { AsnNote, CountryCell } from '../components/BanTable';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { Pager } from '../components/Pager';
import { explainError, formatAsn, formatBanEnd, formatCount, formatDateTime, formatDuration, hasRole } from '../lib/format';

const PAGE_SIZE = 25;

function sameError(a: unknown, b: unknown): boolean {
  return a instanceof ApiError && b instanceof ApiError ? a.code === b.code : false;
}

export function JailDetailPage() {
  const { name = '' } = useParams();
  usePageTitle(`Jail ${name}`);
  const { session } = useAuth();
  const canWrite = hasRole(session?.role, 'operator');
  const isAdmin = hasRole(session?.role, 'admin');
  const toast = useToast();
  const confirm = useConfirm();
  const detail = useApi(queries.jail(name));
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState('');
  const banned = useApi(queries.jailBanned(name, { page, page_size: PAGE_SIZE, search: search.trim() || undefined }));
  const [newIgnore, setNewIgnore] = useState('');

  const run = async (fn: () => Promise<unknown>, done: string, after: () => void) => {
    try {
      await fn();
      toast(done);
      after();
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };

  const addIgnore = (e: FormEvent) => {
    e.preventDefault();
    const ip = newIgnore.trim();
    if (!ip) return;
    void run(() => api.addIgnore(name, ip), `${ip} added to the ignore list.`, () => { setNewIgnore(''); detail.reload(); });
  };

  const d = detail.data;
  return (
    <>
      <p><Link to="/jails">← All jails</Link></p>
      <h1>Jail {name}</h1>
      <ErrorBanner error={detail.error} onRetry={detail.reload} />
      {detail.loading && !d ? <Loading label="Loading jail…" /> : d && (
        <>
          {canWrite && (
            <div className="row">
              {(['start', 'stop', 'reload'] as const).map((a) => (
                <button key={a} type="button" onClick={async () => {
                  if (a === 'stop' && !(await confirm(`Stop jail ${name}?`, 'Its bans are lifted and it stops watching its logs.', 'Stop jail'))) return;
                  await run(() => api.jailAction(name, a), `Jail ${name}: ${a} done.`, detail.reload);
                }}>{a[0]!.toUpperCase() + a.slice(1)}</button>
              ))}
            </div>
          )}
          <div className="grid2">
            <section className="card" aria-labelledby="settings-h">
              <h2 id="settings-h">Settings</h2>
              <dl className="kv">
                <dt>Ban time</dt><dd>{formatDuration(d.settings.bantime)}</dd>
                <dt>Find time</dt><dd>{formatDuration(d.settings.findtime)}</dd>
                <dt>Max retry</dt><dd>{d.settings.maxretry}</dd>
                <dt>Max matches</dt><dd>{d.settings.maxmatches}</dd>
                <dt>Backend</dt><dd>{d.settings.backend}</dd>
                <dt>Date pattern</dt><dd>{d.settings.datepattern || '—'}</dd>
                <dt>Log paths</dt><dd>{d.settings.logpath.length ? d.settings.logpath.map((p) => <code key={p} className="block">{p}</code>) : '—'}</dd>
                <dt>Actions</dt><dd>{d.settings.actions.join(', ') || '—'}</dd>
                <dt>Fail regex</dt><dd>{d.settings.failregex.length ? d.settings.failregex.map((r, i) => <code key={i} className="block">{r}</code>) : '—'}</dd>
                <dt>Ignore regex</dt><dd>{d.settings.ignoreregex.length ? d.settings.ignoreregex.map((r, i) => <code key={i} className="block">{r}</code>) : '—'}</dd>
              </dl>
            </section>
            <section className="card" aria-labelledby="counters-h">
              <h2 id="counters-h">Counters</h2>
              <dl className="kv">
                <dt>Failing now</dt><dd>{formatCount(d.counters.currently_failed)}</dd>
                <dt>Failed total</dt><dd>{formatCount(d.counters.total_failed)}</dd>
                <dt>Banned now</dt><dd>{formatCount(d.counters.currently_banned)}</dd>
                <dt>Banned total</dt><dd>{formatCount(d.counters.total_banned)}</dd>
              </dl>
              <h2 id="ignore-h">Ignore list</h2>
              {canWrite ? (
                <label className="row">
                  <input type="checkbox" checked={d.settings.ignoreself}
                    onChange={(e) => { const on = e.target.checked; void run(() => api.setIgnoreSelf(name, on), `ignoreself ${on ? 'enabled' : 'disabled'}.`, detail.reload); }} />
                  Ignore this host's own addresses (ignoreself)
                </label>
              ) : (
                <p>Ignore this host's own addresses (ignoreself): <strong>{d.settings.ignoreself ? 'yes' : 'no'}</strong></p>
              )}
              {d.settings.ignoreip.length === 0 ? <Empty>No ignored addresses.</Empty> : (
                <ul className="plain" aria-labelledby="ignore-h">
                  {d.settings.ignoreip.map((ip) => (
                    <li key={ip} className="row between">
                      <code>{ip}</code>
                      {canWrite && <button type="button" className="small" aria-label={`Remove ${ip} from the ignore list`}
                        onClick={() => run(() => api.removeIgnore(name, ip), `${ip} removed from the ignore list.`, detail.reload)}>Remove</button>}
                    </li>
                  ))}
                </ul>
              )}
              {canWrite && (
                <form className="row wrap" onSubmit={addIgnore}>
                  <label>Add IP or CIDR<input name="ignore-ip" value={newIgnore} onChange={(e) => setNewIgnore(e.target.value)} placeholder="192.0.2.0/24" /></label>
                  <button type="submit" disabled={!newIgnore.trim()}>Add (runtime only)</button>
                  {isAdmin && (
                    <button type="button" disabled={!newIgnore.trim()} onClick={() => {
                      const ip = newIgnore.trim();
                      void run(async () => {
                        await api.addIgnore(name, ip);
                        const cfg = await api.configJail(name);
                        const current = cfg.settings.find((s) => s.key === 'ignoreip')?.value;
                        const list = Array.isArray(current) ? current.map(String) : [];
                        const r = await api.saveJailConfig(name, { ignoreip: [...new Set([...list, ip])] });
                        if (r.recovered) throw new Error(r.message);
                      }, `${ip} added and persisted in BanGUI's jail.d/${name}.local.`, () => { setNewIgnore(''); detail.reload(); });
                    }}>Add and persist</button>
                  )}
                </form>
              )}
              <p className="muted small">Entries added with “Add” live in the running fail2ban only and are lost when it restarts or reloads{isAdmin ? '; “Add and persist” also writes the ignore list into BanGUI’s jail file' : ''}.</p>
            </section>
          </div>
        </>
      )}
      <section className="card" aria-labelledby="banned-h">
        <h2 id="banned-h">Banned addresses {banned.data && <span className="muted small">({formatCount(banned.data.total)}, refreshes every {BANS_POLL_MS / 1000} s)</span>}</h2>
        <label>Search by prefix<input type="search" name="search" value={search} onChange={(e) => { setSearch(e.target.value); setPage(1); }} placeholder="203.0." /></label>
        {/* The same cause (fail2ban offline, jail stopped) is already shown above: say it once. */}
        {!(detail.error && banned.error && sameError(detail.error, banned.error)) && <ErrorBanner error={banned.error} onRetry={banned.reload} />}
        {banned.loading && !banned.data ? <Loading /> : banned.data && (banned.data.items.length === 0
          ? <Empty>{search ? 'No banned address matches this prefix.' : 'No address is banned in this jail.'}</Empty>
          : (
            <>
              <TableWrap label={`Addresses banned in ${name}`}>
                <table className="data stackable">
                  <thead><tr><th scope="col">IP</th><th scope="col">Country</th><th scope="col">ASN / Organisation</th><th scope="col">Banned at</th><th scope="col">Ban ends</th>{canWrite && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
                  <tbody>
                    {banned.data.items.map((b) => (
                      <tr key={b.ip} data-ip={b.ip}>
                        <td data-label="IP"><code>{b.ip}</code></td>
                        <td data-label="Country"><CountryCell code={b.geo?.country_code} name={b.geo?.country_name} /></td>
                        <td data-label="ASN">{formatAsn(b.geo?.asn, b.geo?.org)}</td>
                        <td data-label="Banned at">{formatDateTime(b.banned_at)}</td>
                        <td data-label="Ban ends">{formatBanEnd(b.ban_ends_at)}</td>
                        {canWrite && <td><button type="button" className="small" aria-label={`Unban ${b.ip}`}
                          onClick={() => run(() => api.unban(b.ip, name), `${b.ip} unbanned from ${name}.`, () => { banned.reload(); detail.reload(); })}>Unban</button></td>}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <AsnNote geos={banned.data.items.map((b) => b.geo)} />
              <Pager page={page} pageSize={PAGE_SIZE} total={banned.data.total} onPage={setPage} />
            </>
          ))}
      </section>
    </>
  );
}
