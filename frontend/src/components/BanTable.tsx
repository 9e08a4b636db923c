// Table of ban rows (each IP links to its IP page) with flag + country name, ASN/org, jail, time and end of ban ("lifted" for a ban unbanned before its end). Optional
// per-row unban button (shown only when the caller allows writes). On a phone each row becomes a
// labelled card (the cells' data-label), so no column is lost. Presentation only.
import type { BanRow, Geo } from '../api/types';
import { Flag } from '../lib/flags';
import { countryName, formatAsn, formatBanEnd, formatDateTime } from '../lib/format';
import { TableWrap } from './feedback';
import { BanStateBadge } from './BanStateBadge';
import { IpLink } from './IpLink';

export function CountryCell({ code, name }: { code: string | null | undefined; name?: string | null }) {
  if (!code) return <span className="muted">Unknown</span>;
  return (
    <span className="country">
      <Flag code={code} /> {countryName(code, name)}
    </span>
  );
}

/** True when rows were geolocated but none has ASN data: the ASN database is missing. */
export function lacksAsnData(geos: (Geo | null | undefined)[]): boolean {
  return geos.length > 0 && geos.some((g) => g) && geos.every((g) => !g || (g.asn == null && !g.org));
}

export function AsnNote({ geos }: { geos: (Geo | null | undefined)[] }) {
  if (!lacksAsnData(geos)) return null;
  return (
    <p className="muted small" data-testid="asn-note">
      No ASN / organisation is known for these addresses: no ASN database is configured (set BANGUI_GEOIP_ASN_DB_PATH to a GeoLite2-ASN file).
    </p>
  );
}

export function BanTable({ rows, onUnban, caption, label = 'Bans' }: {
  rows: BanRow[]; onUnban?: (row: BanRow) => void; caption?: string; label?: string;
}) {
  return (
    <>
      <TableWrap label={label}>
        <table className="data stackable" data-testid="ban-table">
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
                <td data-label="IP"><IpLink ip={r.ip} />{r.origin === 'blocklist' && <span className="tag">blocklist</span>}</td>
                <td data-label="Country"><CountryCell code={r.geo?.country_code} name={r.geo?.country_name} /></td>
                <td data-label="ASN">{formatAsn(r.geo?.asn, r.geo?.org)}</td>
                <td data-label="Jail">{r.jail}</td>
                <td data-label="Banned at">{formatDateTime(r.banned_at)}</td>
                <td data-label="Ban ends">{r.state === 'lifted' ? <BanStateBadge state="lifted" /> : formatBanEnd(r.ban_ends_at)}</td>
                {onUnban && (
                  <td><button type="button" className="small" onClick={() => onUnban(r)} aria-label={`Unban ${r.ip} from ${r.jail}`}>Unban</button></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <AsnNote geos={rows.map((r) => r.geo)} />
    </>
  );
}
