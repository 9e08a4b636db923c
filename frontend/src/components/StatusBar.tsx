// Server status bar: fail2ban online/offline (naming the socket when offline) and the headline
// counters. Presentation of one Status value; the caller polls. When fail2ban is offline the
// counters are "unknown", not 0 (its bans are still in the firewall); when the status could not be
// refreshed at all (BanGUI unreachable) the badge says so instead of keeping a stale "online".
// BanGUI answers from its last poll of fail2ban when fail2ban is too busy to answer at once (a
// bulk import); counters older than BUSY_AFTER_MS say when they were counted.
import type { Status } from '../api/types';
import { formatCount } from '../lib/format';

/** Counters older than this carry their time. */
export const BUSY_AFTER_MS = 15_000;

export function StatusBar({ status, stale = false, intervalSeconds, now = Date.now() }: { status: Status; stale?: boolean; intervalSeconds: number; now?: number }) {
  const known = status.online && !stale;
  const count = (n: number) => (known ? formatCount(n) : 'unknown');
  const asOf = status.as_of ? Date.parse(status.as_of) : NaN;
  const old = known && Number.isFinite(asOf) && now - asOf > BUSY_AFTER_MS;
  return (
    <section className="statusbar" aria-label="Server status" data-online={stale ? 'unknown' : status.online}>
      {stale ? (
        <span className="pill warn">status unknown</span>
      ) : (
        <span className={`pill ${status.online ? 'ok' : 'bad'}`}>
          {status.online ? `fail2ban online${status.version ? ` (v${status.version})` : ''}` : 'fail2ban offline'}
        </span>
      )}
      {!stale && !status.online && (
        <span className="status-error" role="alert">
          Cannot reach fail2ban at <code>{status.socket}</code>
          {status.error && !status.error.includes(status.socket) ? `: ${status.error}` : ''}. Start fail2ban-server or fix BANGUI_FAIL2BAN_SOCKET.
          Bans already in the firewall stay in force.
        </span>
      )}
      <dl className="counters">
        <div><dt>Jails</dt><dd>{count(status.jails)}</dd></div>
        <div><dt>Banned now</dt><dd data-testid="currently-banned">{count(status.currently_banned)}</dd></div>
        <div><dt>Failing now</dt><dd>{count(status.currently_failed)}</dd></div>
        <div title="Counted by fail2ban since it last started, in all jails"><dt>Banned since fail2ban start</dt><dd>{count(status.total_banned)}</dd></div>
        <div title="Counted by fail2ban since it last started, in all jails"><dt>Failed since fail2ban start</dt><dd>{count(status.total_failed)}</dd></div>
      </dl>
      {old ? (
        <span className="muted small" data-testid="counters-as-of">
          fail2ban is busy: counted at {new Date(asOf).toLocaleTimeString()}
        </span>
      ) : (
        <span className="muted small">Refreshes every {intervalSeconds} s</span>
      )}
    </section>
  );
}
