// The dashboard's "Top IPs" and "Top ASNs" cards: the most banned addresses of the selected
// range (bans, jails, country, last ban; each address links to its IP page) and the most banned
// networks by AS number (each links to History filtered by it). The lists are computed by a
// background job; their age is shown. Presentation only.
import { Link } from 'react-router-dom';
import type { TopIps } from '../api/types';
import { formatCount, formatDateTime } from '../lib/format';
import { CountryCell } from './BanTable';
import { Empty, TableWrap } from './feedback';
import { IpLink } from './IpLink';

export function TopIpsTable({ data }: { data: TopIps }) {
  if (data.ips.length === 0) return <Empty>{data.computed_at ? 'No bans in this range.' : 'The lists are being computed; they appear within a minute.'}</Empty>;
  return (
    <TableWrap label="Top IPs">
      <table className="data stackable" data-testid="top-ips">
        <thead>
          <tr>
            <th scope="col">IP</th>
            <th scope="col" className="num">Bans</th>
            <th scope="col">Jails</th>
            <th scope="col">Country</th>
            <th scope="col">Last ban</th>
          </tr>
        </thead>
        <tbody>
          {data.ips.map((t) => (
            <tr key={t.ip} data-ip={t.ip}>
              <td data-label="IP"><IpLink ip={t.ip} /></td>
              <td data-label="Bans" className="num">{formatCount(t.count)}</td>
              <td data-label="Jails">{t.jails.join(', ')}</td>
              <td data-label="Country"><CountryCell code={t.country_code} /></td>
              <td data-label="Last ban">{formatDateTime(t.last_seen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function TopAsnsList({ data, range }: { data: TopIps; range: string }) {
  if (data.asns.length === 0) return <Empty>No bans with a known AS number in this range.</Empty>;
  const max = Math.max(1, ...data.asns.map((a) => a.count));
  return (
    <ol className="toplist" data-testid="top-asns">
      {data.asns.map((a) => (
        <li key={a.asn}>
          <Link to={`/history?asn=${a.asn}&range=${encodeURIComponent(range)}`}>
            AS{a.asn} <span className="muted small">({formatCount(a.ips)} IP{a.ips === 1 ? '' : 's'})</span>
          </Link>
          <span className="barwrap" aria-hidden="true"><span className="hbar" style={{ width: `${(a.count / max) * 100}%` }} /></span>
          <span className="num">{formatCount(a.count)}</span>
        </li>
      ))}
    </ol>
  );
}

/** When the lists were made. */
export function ComputedAt({ at }: { at: string | null | undefined }) {
  if (!at) return null;
  return <p className="muted small">Computed {formatDateTime(at)}.</p>;
}
