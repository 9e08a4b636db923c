// Server status bar: fail2ban online/offline (naming the socket when offline) and the headline
// counters. Presentation of one Status value; the caller polls.
import type { Status } from '../api/types';
import { formatCount } from '../lib/format';

export function StatusBar({ status, intervalSeconds }: { status: Status; intervalSeconds: number }) {
  return (
    <section className="statusbar" aria-label="Server status" data-online={status.online}>
      <span className={`pill ${status.online ? 'ok' : 'bad'}`}>
        {status.online ? `fail2ban online${status.version ? ` (v${status.version})` : ''}` : 'fail2ban offline'}
      </span>
      {!status.online && (
        <span className="status-error" role="alert">
          Cannot reach fail2ban at <code>{status.socket}</code>
          {status.error ? `: ${status.error}` : ''}. Start fail2ban-server or fix BANGUI_FAIL2BAN_SOCKET.
        </span>
      )}
      <dl className="counters">
        <div><dt>Jails</dt><dd>{formatCount(status.jails)}</dd></div>
        <div><dt>Banned now</dt><dd data-testid="currently-banned">{formatCount(status.currently_banned)}</dd></div>
        <div><dt>Failing now</dt><dd>{formatCount(status.currently_failed)}</dd></div>
        <div><dt>Total banned</dt><dd>{formatCount(status.total_banned)}</dd></div>
        <div><dt>Total failed</dt><dd>{formatCount(status.total_failed)}</dd></div>
      </dl>
      <span className="muted small">Refreshes every {intervalSeconds} s</span>
    </section>
  );
}
