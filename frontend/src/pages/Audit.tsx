// Audit log (admins): who did what, when, from where, with which result; paged. Addresses link
// to their IP pages.
import { useState } from 'react';
import { queries, useApi } from '../api/queries';
import { Empty, ErrorBanner, Loading, TableWrap, usePageTitle } from '../components/feedback';
import { IpLink } from '../components/IpLink';
import { Pager } from '../components/Pager';
import { formatDateTime } from '../lib/format';
import { isIp } from '../lib/search';

const PAGE_SIZE = 50;

export function AuditPage() {
  usePageTitle('Audit log');
  const [page, setPage] = useState(1);
  const audit = useApi(queries.audit(page, PAGE_SIZE));
  return (
    <>
      <h1>Audit log</h1>
      <section className="card">
        <div className="row between"><span className="muted small">Newest first.</span><button type="button" onClick={audit.reload}>Refresh</button></div>
        <ErrorBanner error={audit.error} onRetry={audit.reload} />
        {audit.loading && !audit.data ? <Loading /> : audit.data && (audit.data.items.length === 0 ? <Empty>No audited actions yet.</Empty> : (
          <>
            <TableWrap label="Audit log entries">
              <table className="data stackable" data-testid="audit-table">
                <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Via</th><th scope="col">Client</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Details</th></tr></thead>
                <tbody>
                  {audit.data.items.map((a) => (
                    <tr key={a.id}>
                      <td data-label="Time">{formatDateTime(a.at)}</td><td data-label="Actor">{a.actor ?? '—'}</td><td data-label="Via">{a.auth ?? '—'}</td><td data-label="Client">{a.client_ip && isIp(a.client_ip) ? <IpLink ip={a.client_ip} /> : <code>{a.client_ip ?? '—'}</code>}</td>
                      <td data-label="Action">{a.action}</td><td data-label="Target">{a.target && isIp(a.target) ? <IpLink ip={a.target} /> : a.target ?? '—'}</td>
                      <td data-label="Result"><span className={`pill ${a.result === 'ok' || a.result === 'success' ? 'ok' : 'bad'}`}>{a.result}</span></td>
                      <td className="details" data-label="Details">{a.details === null || a.details === undefined ? '—' : <code>{typeof a.details === 'string' ? a.details : JSON.stringify(a.details)}</code>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager page={page} pageSize={PAGE_SIZE} total={audit.data.total} onPage={setPage} />
          </>
        ))}
      </section>
    </>
  );
}
