// The header's search box: an IP address opens its IP page, a CIDR network opens History
// filtered by that prefix, a jail's name opens History filtered by that jail. Anything else is
// refused next to the box (said once, tied to the input for screen readers). Jail names are
// fetched only when the text could be one.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { queries } from '../api/queries';
import { classifySearch, isIp } from '../lib/search';
import { ipPath } from './IpLink';

export function GlobalSearch() {
  const nav = useNavigate();
  const client = useQueryClient();
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    // The jail names are asked for only when the text may be one (cached data is reused).
    const maybeJail = t !== '' && !isIp(t) && !t.includes('/');
    const jails = maybeJail ? await client.ensureQueryData(queries.jails()).catch(() => null) : null;
    const target = classifySearch(t, jails ? jails.items.map((j) => j.name) : maybeJail ? null : []);
    if (target.kind === 'invalid') {
      setProblem(target.message);
      return;
    }
    setProblem(null);
    setText('');
    if (target.kind === 'ip') nav(ipPath(target.ip));
    else if (target.kind === 'cidr') nav(`/history?ip=${encodeURIComponent(target.cidr)}`);
    else nav(`/history?jail=${encodeURIComponent(target.jail)}`);
  };
  return (
    <form role="search" aria-label="Search IP, network or jail" className="global-search" onSubmit={(e) => void submit(e)} noValidate>
      <label className="sr-only" htmlFor="global-search">Search IP, network or jail</label>
      <input id="global-search" name="q" type="search" value={text} placeholder="IP, CIDR or jail"
        onChange={(e) => { setText(e.target.value); if (problem) setProblem(null); }}
        aria-invalid={problem ? true : undefined} aria-describedby={problem ? 'global-search-problem' : undefined} />
      <button type="submit" className="small">Search</button>
      {problem && <p id="global-search-problem" className="field-error search-problem" role="alert">{problem}</p>}
    </form>
  );
}
