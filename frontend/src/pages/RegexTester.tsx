// Regex tester: try a filter (by name) or a failregex/ignoreregex/datepattern typed in against
// pasted lines or the tail of a server log file. The backend runs fail2ban's own fail2ban-regex,
// so the counts are fail2ban's. When a typed regex works, admins save it as a new filter and
// attach it to a jail (through the jail configuration's test, apply and rollback). The log-path
// tester below checks what a jail's logpath glob resolves to and how many lines the filter matches.
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queries, useApi, useRefreshAll } from '../api/queries';
import type { LogPathReport, RegexTestBody, RegexTestReport } from '../api/types';
import { useAuth } from '../auth';
import { TableWrap, usePageTitle, useToast } from '../components/feedback';
import { explainError, hasRole } from '../lib/format';

/** A filter file holding the typed regexes (datepattern's `%` doubled, as filter files need). */
export function filterFileFor(failregex: string, ignoreregex: string, datepattern: string): string {
  const lines = ['[Definition]', `failregex = ${failregex.trim()}`, `ignoreregex = ${ignoreregex.trim()}`];
  if (datepattern.trim()) lines.push(`datepattern = ${datepattern.trim().replace(/%/g, '%%')}`);
  return `${lines.join('\n')}\n`;
}

/** The request body for the form's state; empty fields are left out. */
export function testBody(s: {
  useFilter: boolean; filter: string; failregex: string; ignoreregex: string; datepattern: string;
  fromLog: boolean; lines: string; logPath: string; tailLines: number;
}): RegexTestBody {
  const body: RegexTestBody = {};
  if (s.useFilter) body.filter = s.filter.trim();
  else {
    body.failregex = s.failregex;
    if (s.ignoreregex.trim()) body.ignoreregex = s.ignoreregex;
    if (s.datepattern.trim()) body.datepattern = s.datepattern;
  }
  if (s.fromLog) {
    body.log_path = s.logPath.trim();
    body.tail_lines = s.tailLines;
  } else body.lines = s.lines;
  return body;
}

export function RegexTesterPage() {
  usePageTitle('Regex tester');
  const { session } = useAuth();
  const isAdmin = hasRole(session?.role, 'admin');
  const toast = useToast();
  const filters = useApi(queries.configFiles('filter'));
  const [useFilter, setUseFilter] = useState(false);
  const [filter, setFilter] = useState('sshd');
  const [failregex, setFailregex] = useState('');
  const [ignoreregex, setIgnoreregex] = useState('');
  const [datepattern, setDatepattern] = useState('');
  const [fromLog, setFromLog] = useState(false);
  const [lines, setLines] = useState('');
  const [logPath, setLogPath] = useState('/var/log/auth.log');
  const [tailLines, setTailLines] = useState(1000);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RegexTestReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setResult(await api.regexTest(testBody({ useFilter, filter, failregex, ignoreregex, datepattern, fromLog, lines, logPath, tailLines })));
    } catch (err) {
      setResult(null);
      setError(explainError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Regex tester</h1>
      <form className="card" onSubmit={run} data-testid="regex-form" aria-label="Regex test">
        <fieldset>
          <legend>Regex</legend>
          <label><input type="radio" checked={!useFilter} onChange={() => setUseFilter(false)} /> Typed failregex</label>
          <label><input type="radio" checked={useFilter} onChange={() => setUseFilter(true)} /> A filter</label>
          {useFilter ? (
            <label>Filter
              <select value={filter} onChange={(e) => setFilter(e.target.value)}>
                {(filters.data?.items ?? [{ name: filter }]).map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
              </select>
            </label>
          ) : (
            <>
              <label>failregex <input className="mono" value={failregex} onChange={(e) => setFailregex(e.target.value)} placeholder="^Login failed for .* from <HOST>$" /></label>
              <label>ignoreregex <input className="mono" value={ignoreregex} onChange={(e) => setIgnoreregex(e.target.value)} /></label>
              <label>datepattern <input className="mono" value={datepattern} onChange={(e) => setDatepattern(e.target.value)} placeholder="{^LN-BEG}%Y-%m-%d %H:%M:%S" /></label>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Lines</legend>
          <label><input type="radio" checked={!fromLog} onChange={() => setFromLog(false)} /> Pasted</label>
          <label><input type="radio" checked={fromLog} onChange={() => setFromLog(true)} /> Tail of a log file on the server</label>
          {fromLog ? (
            <>
              <label>Log file <input className="mono" value={logPath} onChange={(e) => setLogPath(e.target.value)} /></label>
              <label>Last lines <input type="number" min={1} max={5000} value={tailLines} onChange={(e) => setTailLines(Number(e.target.value))} /></label>
            </>
          ) : (
            <label>Log lines <textarea rows={8} className="mono" value={lines} onChange={(e) => setLines(e.target.value)} /></label>
          )}
        </fieldset>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Testing…' : 'Test'}</button>
      </form>
      {error && <div className="banner banner-error" role="alert" data-testid="regex-error">{error}</div>}
      {result && <Result report={result} />}
      {result && isAdmin && !useFilter && result.counts.matched > 0 && (
        <SaveFilter content={filterFileFor(failregex, ignoreregex, datepattern)} onError={(m) => toast(m, 'error')} />
      )}
      <LogPathTester defaultFilter={useFilter ? filter : ''} />
    </>
  );
}

function Result({ report }: { report: RegexTestReport }) {
  const c = report.counts;
  return (
    <section className="card" aria-labelledby="regex-result-h" data-testid="regex-result">
      <h2 id="regex-result-h">Result</h2>
      <p data-testid="regex-counts">
        {c.lines} lines: <strong>{c.matched} matched</strong>, {c.missed} missed, {c.ignored} ignored
      </p>
      {report.date_templates.length > 0 && (
        <p className="muted small">Date template: {report.date_templates.map((t) => `${t.template} (${t.hits})`).join('; ')}</p>
      )}
      {report.matches.length > 0 && (
        <TableWrap label="Matches">
          <table className="data stackable">
            <thead><tr><th>Host</th><th>Time</th><th>Captures</th><th>Line</th></tr></thead>
            <tbody>
              {report.matches.map((m, i) => (
                <tr key={i}>
                  <td>{m.host}</td>
                  <td>{m.time ?? ''}</td>
                  <td className="mono">{Object.entries(m.captures as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}</td>
                  <td className="mono">{m.line ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {report.missed_lines.length > 0 && (
        <details><summary>Missed lines ({report.missed_lines.length})</summary><pre className="mono">{report.missed_lines.join('\n')}</pre></details>
      )}
      {report.ignored_lines.length > 0 && (
        <details><summary>Ignored lines ({report.ignored_lines.length})</summary><pre className="mono">{report.ignored_lines.join('\n')}</pre></details>
      )}
    </section>
  );
}

function SaveFilter({ content, onError }: { content: string; onError: (m: string) => void }) {
  const jails = useApi(queries.configJails());
  const refreshAll = useRefreshAll();
  const [name, setName] = useState('');
  const [jail, setJail] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await api.createConfigFile('filter', { name: name.trim(), content });
      let text = `Filter ${r.name} saved (${r.file}).`;
      if (jail) {
        const applied = await api.saveJailConfig(jail, { filter: name.trim() });
        text += ` Jail ${jail}: ${applied.message}.`;
      }
      setDone(text);
    } catch (err) {
      onError(explainError(err));
    } finally {
      setBusy(false);
      refreshAll();
    }
  };
  return (
    <form className="card" onSubmit={save} data-testid="save-filter" aria-label="Save as filter">
      <h2>Save as a filter</h2>
      <pre className="mono">{content}</pre>
      <label>Filter name <input required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label>Apply to jail (optional)
        <select value={jail} onChange={(e) => setJail(e.target.value)}>
          <option value="">—</option>
          {(jails.data?.items ?? []).map((j) => <option key={j.name} value={j.name}>{j.name}</option>)}
        </select>
      </label>
      <button type="submit" className="primary" disabled={busy || !name.trim()}>Save{jail ? ' and apply' : ''}</button>
      {done && <p role="status">{done}</p>}
    </form>
  );
}

function LogPathTester({ defaultFilter }: { defaultFilter: string }) {
  const [logpath, setLogpath] = useState('/var/log/*.log');
  const [filter, setFilter] = useState(defaultFilter);
  const [report, setReport] = useState<LogPathReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setReport(await api.logPathTest({ logpath: logpath.trim(), filter: filter.trim() || undefined }));
    } catch (err) {
      setError(explainError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="logpath-h">
      <h2 id="logpath-h">Log path</h2>
      <form onSubmit={run} aria-label="Log path test">
        <label>logpath (glob) <input className="mono" value={logpath} onChange={(e) => setLogpath(e.target.value)} /></label>
        <label>Filter (optional) <input value={filter} onChange={(e) => setFilter(e.target.value)} /></label>
        <button type="submit" disabled={busy}>Check</button>
      </form>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      {report && (
        <TableWrap label="Files">
          <table className="data stackable" data-testid="logpath-files">
            <thead><tr><th>File</th><th>Size</th><th>Matched</th><th>Last lines</th></tr></thead>
            <tbody>
              {report.files.map((f) => (
                <tr key={f.path}>
                  <td className="mono">{f.path}{f.problem && <div className="muted small">{f.problem}</div>}</td>
                  <td>{f.size ?? ''}</td>
                  <td>{f.matched ?? ''}</td>
                  <td><pre className="mono">{f.last_lines.slice(-5).join('\n')}</pre></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {report && report.files.length === 0 && <p>No file matches (allowed directories: {report.allowed_dirs.join(', ')}).</p>}
    </section>
  );
}
