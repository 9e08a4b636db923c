// An IP address shown as a link to its IP page (/ip/<address>): every list that names an address
// uses it, so any IP anywhere leads to its whole story. Presentation only.
import { Link } from 'react-router-dom';

export function ipPath(ip: string): string {
  return `/ip/${encodeURIComponent(ip)}`;
}

export function IpLink({ ip }: { ip: string }) {
  return <Link to={ipPath(ip)} className="ip-link"><code>{ip}</code></Link>;
}
