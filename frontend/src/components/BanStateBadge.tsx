// A ban's state as a labelled badge: active (still in force), expired (ran out) or lifted
// (unbanned before its end, with by whom and when in its tooltip). Presentation only.
import type { BanState } from '../api/types';
import { formatDateTime } from '../lib/format';

const CLASS: Record<BanState, string> = { active: 'pill bad', expired: 'pill', lifted: 'pill ok' };

export function BanStateBadge({ state, liftedAt, liftedBy }: { state: BanState; liftedAt?: string | null; liftedBy?: string | null }) {
  const title = state === 'lifted' && liftedAt
    ? `Lifted ${formatDateTime(liftedAt)}${liftedBy ? ` by ${liftedBy.replace(/^bangui:/, '')}` : ''}`
    : undefined;
  return <span className={CLASS[state]} data-state={state} title={title}>{state}</span>;
}
