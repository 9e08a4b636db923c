// Table of ban rows with flag + country name, ASN/org, jail, time and end of ban. Optional
// per-row unban button (shown only when the caller allows writes). Presentation only.
import type { BanRow } from '../api/types';
import { countryName, flagEmoji, formatAsn, formatBanEnd, formatDateTime } from '../lib/format';

export function CountryCell({ code, name }: { code: string | null | undefined; name?: string | null }) {
  if (!code) return <span className="muted">Unknown</span>;
  return (
    <span className="country">
      <span aria-hidden="true" className="flag">{flagEmoji(code)}</span> {countryName(code, name)}
    </span>
  );
}

export function BanTable({ rows, onUnban, caption }: { rows: BanRow[]; onUnban?: (row: BanRow) => void; caption?: string }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid="ban-table">
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            <th scope="col">IP</th>
            <th scope="col">Country</th>
            <th scope="col">ASN / Organisation</th>
            <th scope="col">Jail</th>
            <th scope="col">Banned at</th>
            <th scope="col">Ban ends</th>
            {onUnban && <th scope="col"><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.jail}/${r.ip}/${r.banned_at}`} data-ip={r.ip}>
              <td><code>{r.ip}</code>{r.origin === 'blocklist' && <span className="tag">blocklist</span>}</td>
              <td><CountryCell code={r.geo?.country_code} name={r.geo?.country_name} /></td>
              <td>{formatAsn(r.geo?.asn, r.geo?.org)}</td>
              <td>{r.jail}</td>
              <td>{formatDateTime(r.banned_at)}</td>
              <td>{formatBanEnd(r.ban_ends_at)}</td>
              {onUnban && (
                <td><button type="button" className="small" onClick={() => onUnban(r)} aria-label={`Unban ${r.ip} from ${r.jail}`}>Unban</button></td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
