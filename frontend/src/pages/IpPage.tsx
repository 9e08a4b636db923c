// One IP's whole story (/ip/:ip): where it is banned now and which ignore lists cover it (live),
// its country, network and ASN, first and last ban, bans per jail, a chart of its bans over time
// and every archived ban with its state and the log lines that caused it. Operators and admins
// can ban it, unban it and add it to a jail's ignore list here. An address never banned has an
// empty story, not an error; text that is no address is refused by the server (400), said here.
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { BANS_POLL_MS, queries, useApi, useRefreshAll } from '../api/queries';
import type { IpHistory, TimelineEntry } from '../api/types';
import { useAuth } from '../auth';
import { BanStateBadge } from '../components/BanStateBadge';
import { CountryCell } from '../components/BanTable';
import { TrendChart } from '../components/charts';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { formatAsn, formatBanEnd, formatBans, formatCount, formatDateTime, formatDuration, hasRole } from '../lib/format';
import { dayBuckets } from '../lib/timeline';

export function IpPage() {
  const { ip = '' } = useParams();
  usePageTitle(`IP ${ip}`);
  const { session } = useAuth();
  const canWrite = hasRole(session?.role, 'operator');
  const story = useApi(queries.ipHistory(ip));
  const d = story.data;
  return (
    <>
      <p><Link to="/history">← History</Link></p>
      <h1>IP {ip}</h1>
      <ErrorBanner error={story.error} onRetry={story.reload} />
      {story.loading && !d ? <Loading label="Loading the history of this address…" /> : d && (
        <>
          <div className="grid2">
            <Summary story={d} />
            {canWrite ? <Actions story={d} /> : <PerJail story={d} />}
          </div>
          {canWrite && <PerJail story={d} />}
          <section className="card" aria-labelledby="ip-chart-h">
            <h2 id="ip-chart-h">Bans over time</h2>
            {d.days.length === 0
              ? <Empty>No ban of this address is archived.</Empty>
              : <TrendChart trend={dayBuckets(d.days)} title={`Bans of ${d.ip}`} testId="ip-chart" />}
          </section>
          <section className="card" aria-labelledby="ip-timeline-h">
            <h2 id="ip-timeline-h">Every ban <span className="muted small">(newest first, refreshes every {BANS_POLL_MS / 1000} s)</span></h2>
            {d.timeline_truncated && <p className="muted small">Only the newest {formatCount(d.timeline.length)} of {formatBans(d.total_bans)} are listed; <Link to={`/history?ip=${encodeURIComponent(d.ip)}`}>History</Link> has every one.</p>}
            {d.timeline.length === 0 ? <Empty>BanGUI has not archived any ban of {d.ip}.</Empty> : <Timeline rows={d.timeline} />}
          </section>
        </>
      )}
    </>
  );
}

function Summary({ story: d }: { story: IpHistory }) {
  return (
    <section className="card" aria-labelledby="ip-summary-h">
      <h2 id="ip-summary-h">Summary</h2>
      <dl className="kv" data-testid="ip-summary">
        <dt>Banned now in</dt>
        <dd data-testid="banned-in">
          {d.banned_in == null ? <span className="muted">unknown{d.live_error ? ` (${d.live_error})` : ''}</span>
            : d.banned_in.length ? d.banned_in.map((j) => <span key={j} className="pill bad jail-pill">{j}</span>) : 'no jail'}
        </dd>
        <dt>Ignored by</dt>
        <dd data-testid="ignored-in">{d.ignored_in == null ? <span className="muted">unknown</span> : d.ignored_in.length ? d.ignored_in.join(', ') : 'no jail'}</dd>
        <dt>Country</dt><dd><CountryCell code={d.geo?.country_code} name={d.geo?.country_name} /></dd>
        <dt>ASN / Organisation</dt>
        <dd>{d.geo?.asn ? <Link to={`/history?asn=${d.geo.asn}`}>{formatAsn(d.geo.asn, d.geo.org)}</Link> : formatAsn(d.geo?.asn, d.geo?.org)}</dd>
        <dt>Network</dt><dd>{d.geo?.network ? <Link to={`/history?ip=${encodeURIComponent(d.geo.network)}`}>{d.geo.network}</Link> : '—'}</dd>
        <dt>Bans archived</dt><dd>{formatCount(d.total_bans)}</dd>
        <dt>First ban</dt><dd>{formatDateTime(d.first_seen)}</dd>
        <dt>Last ban</dt><dd>{formatDateTime(d.last_seen)}</dd>
      </dl>
    </section>
  );
}

function PerJail({ story: d }: { story: IpHistory }) {
  return (
    <section className="card" aria-labelledby="ip-jails-h">
      <h2 id="ip-jails-h">Bans per jail</h2>
      {d.jails.length === 0 ? <Empty>No jail has banned this address.</Empty> : (
        <TableWrap label="Bans per jail">
          <table className="data stackable" data-testid="ip-jails">
            <thead><tr><th scope="col">Jail</th><th scope="col" className="num">Bans</th><th scope="col">First ban</th><th scope="col">Last ban</th></tr></thead>
            <tbody>
              {d.jails.map((j) => (
                <tr key={`${j.host}/${j.jail}`} data-jail={j.jail}>
                  <td data-label="Jail"><Link to={`/history?jail=${encodeURIComponent(j.jail)}&ip=${encodeURIComponent(d.ip)}`}>{j.jail}</Link>{j.host !== 'local' && <span className="tag">{j.host}</span>}</td>
                  <td data-label="Bans" className="num">{formatCount(j.bans)}</td>
                  <td data-label="First ban">{formatDateTime(j.first_seen)}</td>
                  <td data-label="Last ban">{formatDateTime(j.last_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

/** Ban, unban and ignore-list controls (operators and admins only; the caller checks the role). */
function Actions({ story: d }: { story: IpHistory }) {
  const toast = useToast();
  const confirm = useConfirm();
  const refreshAll = useRefreshAll();
  const jails = useApi(queries.jails());
  const names = jails.data?.items.map((j) => j.name) ?? [];
  const [banJail, setBanJail] = useState('');
  const [ignoreJail, setIgnoreJail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const bannedIn = d.banned_in ?? [];

  const run = async (fn: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      toast(await fn());
      refreshAll();
    } catch (err) {
      // Said once, here, next to the buttons it is about.
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const ban = (e: FormEvent) => {
    e.preventDefault();
    const jail = banJail || names[0];
    if (!jail) return;
    void run(async () => {
      const r = await api.ban(d.ip, jail);
      return r.newly_banned ? `${r.ip} banned in ${r.jail}.` : `${r.ip} was already banned in ${r.jail}.`;
    });
  };
  const unban = async (jail: string | null) => {
    if (jail === null && !(await confirm(`Unban ${d.ip} everywhere?`, `This lifts its bans in ${bannedIn.join(', ')}.`, 'Unban'))) return;
    await run(async () => {
      const r = await api.unban(d.ip, jail);
      return r.unbanned > 0 ? `${r.ip} unbanned from ${r.jails.join(', ')}.` : `${r.ip} was not banned.`;
    });
  };
  const ignore = (e: FormEvent) => {
    e.preventDefault();
    const jail = ignoreJail || names[0];
    if (!jail) return;
    void run(async () => {
      await api.addIgnore(jail, d.ip);
      return `${d.ip} added to the ignore list of ${jail}.`;
    });
  };
  return (
    <section className="card" aria-labelledby="ip-actions-h">
      <h2 id="ip-actions-h">Actions</h2>
      <ErrorBanner error={error} />
      <ErrorBanner error={jails.error} onRetry={jails.reload} />
      {bannedIn.length > 0 && (
        <div className="row wrap ip-unban">
          {bannedIn.map((j) => (
            <button key={j} type="button" disabled={busy} onClick={() => void unban(j)}>Unban from {j}</button>
          ))}
          {bannedIn.length > 1 && <button type="button" className="danger" disabled={busy} onClick={() => void unban(null)}>Unban everywhere…</button>}
        </div>
      )}
      <form className="row wrap" aria-label="Ban this address" onSubmit={ban}>
        <label>Ban in jail
          <select name="ip-ban-jail" value={banJail || names[0] || ''} onChange={(e) => setBanJail(e.target.value)}>
            {names.map((j) => <option key={j} value={j}>{j}</option>)}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || names.length === 0}>Ban</button>
      </form>
      <form className="row wrap" aria-label="Add this address to an ignore list" onSubmit={ignore}>
        <label>Ignore in jail
          <select name="ip-ignore-jail" value={ignoreJail || names[0] || ''} onChange={(e) => setIgnoreJail(e.target.value)}>
            {names.map((j) => <option key={j} value={j}>{j}</option>)}
          </select>
        </label>
        <button type="submit" disabled={busy || names.length === 0}>Add to ignore list</button>
      </form>
    </section>
  );
}

function Timeline({ rows }: { rows: TimelineEntry[] }) {
  return (
    <TableWrap label="Every ban of this address">
      <table className="data stackable" data-testid="ip-timeline">
        <thead>
          <tr>
            <th scope="col">Jail</th>
            <th scope="col">Banned at</th>
            <th scope="col">Ends</th>
            <th scope="col">Ban time</th>
            <th scope="col" className="num">Ban count</th>
            <th scope="col" className="num">Failures</th>
            <th scope="col">State</th>
            <th scope="col">Matched lines</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.host}/${r.id}`} data-jail={r.jail} data-state={r.state}>
              <td data-label="Jail">{r.jail}{r.origin === 'blocklist' && <span className="tag">blocklist</span>}</td>
              <td data-label="Banned at">{formatDateTime(r.banned_at)}</td>
              <td data-label="Ends">{r.state === 'lifted' ? `lifted ${formatDateTime(r.lifted_at)}` : formatBanEnd(r.ban_ends_at)}</td>
              <td data-label="Ban time">{formatDuration(r.bantime_seconds)}</td>
              <td data-label="Ban count" className="num">{formatCount(r.bancount)}</td>
              <td data-label="Failures" className="num">{formatCount(r.failures)}</td>
              <td data-label="State"><BanStateBadge state={r.state} liftedAt={r.lifted_at} liftedBy={r.lifted_by} /></td>
              <td data-label="Matched lines" className="matches">
                {r.matches.length === 0 ? <span className="muted">none stored</span> : (
                  <details>
                    <summary>{formatCount(r.matches.length)} line{r.matches.length === 1 ? '' : 's'}</summary>
                    <pre className="log-lines" data-testid="matched-lines">{r.matches.join('\n')}</pre>
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
