// Jails page: jail table with counters and start/stop/reload (operators), ban and unban forms,
// unban-all with confirmation, and an IP lookup showing geo and the jails that ban the address.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import { queries, STATUS_POLL_MS, useApi, useRefreshAll } from '../api/queries';
import type { Lookup } from '../api/types';
import { useAuth } from '../auth';
import { CountryCell } from '../components/BanTable';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { explainError, formatAsn, formatCount, hasRole } from '../lib/format';

export function JailsPage() {
  usePageTitle('Jails');
  const { session } = useAuth();
  const canWrite = hasRole(session?.role, 'operator');
  const toast = useToast();
  const confirm = useConfirm();
  const jails = useApi(queries.jails());
  const refreshAll = useRefreshAll();
  const [busy, setBusy] = useState<string | null>(null);

  /** Runs an action; its outcome is one toast: `done`, or what `fn` returns as its own message. */
  const act = async (label: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(label);
    try {
      const said = await fn();
      toast(typeof said === 'string' ? said : done);
      refreshAll();
    } catch (err) {
      toast(explainError(err), 'error');
    } finally {
      setBusy(null);
    }
  };

  const names = jails.data?.items.map((j) => j.name) ?? [];

  return (
    <>
      <h1>Jails</h1>
      <section className="card" aria-labelledby="jails-h">
        <div className="row between">
          <h2 id="jails-h">Jails <span className="muted small">(refreshes every {STATUS_POLL_MS / 1000} s)</span></h2>
          {canWrite && (
            <div className="row">
              <button type="button" disabled={busy !== null} onClick={() => act('reload-all', () => api.reloadAll(), 'All jails reloaded.')}>Reload all</button>
              <button type="button" className="danger" disabled={busy !== null} onClick={async () => {
                if (await confirm('Unban every address?', 'This removes every active ban in every jail. Attackers can connect again immediately.', 'Unban all'))
                  await act('unban-all', async () => { const r = await api.unbanAll(); return `${formatCount(r.count)} address${r.count === 1 ? '' : 'es'} unbanned.`; }, 'Unban all finished.');
              }}>Unban all…</button>
            </div>
          )}
        </div>
        <ErrorBanner error={jails.error} onRetry={jails.reload} />
        {jails.loading && !jails.data ? <Loading label="Loading jails…" /> : jails.data && (jails.data.items.length === 0
          ? <Empty>fail2ban runs no jails. Enable a jail in its configuration and reload.</Empty>
          : (
            <TableWrap label="Jails">
              <table className="data stackable" data-testid="jails-table">
                <thead>
                  <tr>
                    <th scope="col">Jail</th>
                    <th scope="col" className="num">Failing now</th>
                    <th scope="col" className="num">Failed total</th>
                    <th scope="col" className="num">Banned now</th>
                    <th scope="col" className="num">Banned total</th>
                    {canWrite && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {jails.data.items.map((j) => (
                    <tr key={j.name} data-jail={j.name}>
                      <th scope="row"><Link to={`/jails/${encodeURIComponent(j.name)}`}>{j.name}</Link></th>
                      <td className="num" data-label="Failing now">{formatCount(j.currently_failed)}</td>
                      <td className="num" data-label="Failed total">{formatCount(j.total_failed)}</td>
                      <td className="num" data-label="Banned now">{formatCount(j.currently_banned)}</td>
                      <td className="num" data-label="Banned total">{formatCount(j.total_banned)}</td>
                      {canWrite && (
                        <td className="actions">
                          {(['reload', 'stop'] as const).map((a) => (
                            <button key={a} type="button" className="small" disabled={busy !== null}
                              onClick={async () => {
                                if (a === 'stop' && !(await confirm(`Stop jail ${j.name}?`, 'Its bans are lifted and it stops watching its logs until started again.', 'Stop jail'))) return;
                                await act(`${a}-${j.name}`, () => api.jailAction(j.name, a), `Jail ${j.name}: ${a} done.`);
                              }}>{a === 'reload' ? 'Reload' : 'Stop'}</button>
                          ))}
                          <button type="button" className="small danger" disabled={busy !== null} onClick={async () => {
                            if (await confirm(`Unban every address in ${j.name}?`, 'This lifts every active ban of this jail (runtime only). Those addresses can connect again immediately.', 'Clear bans'))
                              await act(`unban-all-${j.name}`, async () => { const r = await api.unbanAllInJail(j.name); return `${j.name}: ${formatCount(r.count)} address${r.count === 1 ? '' : 'es'} unbanned.`; }, 'Unban finished.');
                          }}>Clear bans…</button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ))}
        {canWrite && <StartJailForm onDone={(name) => act(`start-${name}`, () => api.jailAction(name, 'start'), `Jail ${name} started.`)} />}
      </section>
      {canWrite && (
        <div className="grid2">
          <BanForm jails={names} onChanged={refreshAll} />
          <UnbanForm jails={names} onChanged={refreshAll} />
        </div>
      )}
      <LookupForm />
    </>
  );
}

function StartJailForm({ onDone }: { onDone: (name: string) => void }) {
  const [name, setName] = useState('');
  return (
    <form className="row wrap" onSubmit={(e) => { e.preventDefault(); if (name.trim()) onDone(name.trim()); }}>
      <label>Start a stopped jail<input name="start-jail" value={name} onChange={(e) => setName(e.target.value)} placeholder="jail name" /></label>
      <button type="submit" disabled={!name.trim()}>Start</button>
    </form>
  );
}

function BanForm({ jails, onChanged }: { jails: string[]; onChanged: () => void }) {
  const toast = useToast();
  const [ip, setIp] = useState('');
  const [jail, setJail] = useState('');
  const [error, setError] = useState<unknown>(null);
  const chosen = jail || jails[0] || '';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.ban(ip.trim(), chosen);
      toast(r.newly_banned ? `${r.ip} banned in ${r.jail}.` : `${r.ip} was already banned in ${r.jail}.`);
      setIp('');
      onChanged();
    } catch (err) {
      // Said once, in the form's banner, next to the fields it is about.
      setError(err);
    }
  };
  return (
    <section className="card" aria-labelledby="ban-h">
      <h2 id="ban-h">Ban an address</h2>
      <ErrorBanner error={error} />
      <form className="stack" onSubmit={submit} aria-label="Ban an address">
        <label>IP address<input name="ban-ip" required value={ip} onChange={(e) => setIp(e.target.value)} placeholder="203.0.113.7" /></label>
        <label>Jail
          <select name="ban-jail" value={chosen} onChange={(e) => setJail(e.target.value)}>
            {jails.map((j) => <option key={j} value={j}>{j}</option>)}
          </select>
        </label>
        <button type="submit" className="primary" disabled={!ip.trim() || !chosen}>Ban</button>
      </form>
    </section>
  );
}

function UnbanForm({ jails, onChanged }: { jails: string[]; onChanged: () => void }) {
  const toast = useToast();
  const [ip, setIp] = useState('');
  const [jail, setJail] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.unban(ip.trim(), jail || null);
      toast(r.unbanned > 0 ? `${r.ip} unbanned from ${r.jails.join(', ')}.` : `${r.ip} was not banned.`);
      setIp('');
      onChanged();
    } catch (err) {
      // Said once, in the form's banner, next to the fields it is about.
      setError(err);
    }
  };
  return (
    <section className="card" aria-labelledby="unban-h">
      <h2 id="unban-h">Unban an address</h2>
      <ErrorBanner error={error} />
      <form className="stack" onSubmit={submit} aria-label="Unban an address">
        <label>IP address<input name="unban-ip" required value={ip} onChange={(e) => setIp(e.target.value)} placeholder="203.0.113.7" /></label>
        <label>Jail
          <select name="unban-jail" value={jail} onChange={(e) => setJail(e.target.value)}>
            <option value="">Every jail</option>
            {jails.map((j) => <option key={j} value={j}>{j}</option>)}
          </select>
        </label>
        <button type="submit" className="primary" disabled={!ip.trim()}>Unban</button>
      </form>
    </section>
  );
}

function LookupForm() {
  const [ip, setIp] = useState('');
  const [result, setResult] = useState<Lookup | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setResult(await api.lookup(ip.trim()));
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="lookup-h">
      <h2 id="lookup-h">IP lookup</h2>
      <form className="row wrap" onSubmit={submit}>
        <label>IP address<input name="lookup-ip" required value={ip} onChange={(e) => setIp(e.target.value)} /></label>
        <button type="submit" disabled={busy || !ip.trim()}>{busy ? 'Looking up…' : 'Look up'}</button>
      </form>
      <ErrorBanner error={error} />
      {result && (
        <dl className="kv" data-testid="lookup-result">
          <dt>Address</dt><dd><code>{result.ip}</code></dd>
          <dt>Country</dt><dd><CountryCell code={result.geo?.country_code} name={result.geo?.country_name} /></dd>
          <dt>ASN / Organisation</dt><dd>{formatAsn(result.geo?.asn, result.geo?.org)}</dd>
          <dt>Network</dt><dd>{result.geo?.network ?? '—'}</dd>
          <dt>Banned in</dt><dd>{result.banned_in.length ? result.banned_in.join(', ') : 'no jail'}</dd>
        </dl>
      )}
    </section>
  );
}
