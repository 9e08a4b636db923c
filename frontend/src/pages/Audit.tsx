// Audit log (admins): who did what, when, from where, with which result; paged.
import { useState } from 'react';
import { queries, useApi } from '../api/queries';
import { Empty, ErrorBanner, Loading } from '../components/feedback';
import { Pager } from '../components/Pager';
import { formatDateTime } from '../lib/format';

const PAGE_SIZE = 50;

export function AuditPage() {
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
            <div className="table-wrap">
              <table className="data" data-testid="audit-table">
                <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Via</th><th scope="col">Client</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Details</th></tr></thead>
                <tbody>
                  {audit.data.items.map((a) => (
                    <tr key={a.id}>
                      <td>{formatDateTime(a.at)}</td><td>{a.actor ?? '—'}</td><td>{a.auth ?? '—'}</td><td><code>{a.client_ip ?? '—'}</code></td>
                      <td>{a.action}</td><td>{a.target ?? '—'}</td>
                      <td><span className={`pill ${a.result === 'ok' || a.result === 'success' ? 'ok' : 'bad'}`}>{a.result}</span></td>
                      <td className="details">{a.details === null || a.details === undefined ? '—' : <code>{typeof a.details === 'string' ? a.details : JSON.stringify(a.details)}</code>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={page} pageSize={PAGE_SIZE} total={audit.data.total} onPage={setPage} />
          </>
        ))}
      </section>
    </>
  );
}
