// Previous/next pager with "x–y of n"; stateless.
import { formatCount } from '../lib/format';

export function Pager({ page, pageSize, total, onPage, label = 'Pagination' }: {
  page: number; pageSize: number; total: number; onPage: (p: number) => void; label?: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (total <= pageSize && page === 1) return null;
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>Previous</button>
      <span>{formatCount(first)}–{formatCount(last)} of {formatCount(total)} (page {formatCount(page)} of {formatCount(pages)})</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>Next</button>
    </nav>
  );
}
