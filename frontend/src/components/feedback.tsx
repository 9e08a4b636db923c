// Shared feedback UI: toasts after actions, modal dialogs (confirmation, password entry) that
// keep the keyboard inside them, error banners that say what to do, loading/empty placeholders,
// keyboard-reachable scrolling table wrappers and the per-page document title. No API calls.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { ApiError } from '../api/client';
import { explainError } from '../lib/format';

type ToastKind = 'success' | 'error' | 'info';
interface Toast { id: number; kind: ToastKind; text: string }

/** At most this many toasts at once; older ones make room, so they never cover a whole form. */
const MAX_TOASTS = 3;

const ToastCtx = createContext<(text: string, kind?: ToastKind) => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const push = useCallback((text: string, kind: ToastKind = 'success') => {
    const id = next.current++;
    // The same message twice shows once (its timer restarts).
    setToasts((t) => [...t.filter((x) => x.text !== text), { id, kind, text }].slice(-MAX_TOASTS));
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);
  return (
    <ToastCtx.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast">
            <span>{t.text}</span>
            <button type="button" className="link" aria-label="Dismiss notification"
              onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}>×</button>
          </div>
        ))}
      </div>
    </ToastCtx.Provider>
  );
}

export function useToast() {
  return useContext(ToastCtx);
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: focus moves into it (to `initialFocus` or its first control), Tab and
 * Shift+Tab cycle inside it, Escape closes it wherever focus is, and focus returns to where it
 * was when it closes. The page behind is inert for the keyboard and for assistive technology.
 */
export function Modal({ labelledBy, describedBy, role = 'dialog', onClose, initialFocus, children }: {
  labelledBy: string; describedBy?: string; role?: 'dialog' | 'alertdialog'; onClose: () => void;
  initialFocus?: React.RefObject<HTMLElement | null>; children: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const root = document.getElementById('root');
    root?.setAttribute('inert', '');
    (initialFocus?.current ?? box.current?.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
        return;
      }
      if (e.key !== 'Tab' || !box.current) return;
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      const inside = box.current.contains(document.activeElement);
      if (e.shiftKey && (document.activeElement === first || !inside)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
        e.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      root?.removeAttribute('inert');
      prev?.focus?.();
    };
  }, [initialFocus]);
  // Rendered outside #root, which is inert while the dialog is open.
  return createPortal(
    <div className="modal-backdrop">
      <div ref={box} className="modal" role={role} aria-modal="true" aria-labelledby={labelledBy} aria-describedby={describedBy}>
        {children}
      </div>
    </div>,
    document.body,
  );
}

interface ConfirmRequest { title: string; body: string; confirmLabel: string; resolve: (ok: boolean) => void }
const ConfirmCtx = createContext<(title: string, body: string, confirmLabel?: string) => Promise<boolean>>(
  () => Promise.resolve(false),
);

export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  const ask = useCallback(
    (title: string, body: string, confirmLabel = 'Confirm') =>
      new Promise<boolean>((resolve) => setReq({ title, body, confirmLabel, resolve })),
    [],
  );
  const close = (ok: boolean) => {
    req?.resolve(ok);
    setReq(null);
  };
  return (
    <ConfirmCtx.Provider value={ask}>
      {children}
      {req && <ConfirmDialog req={req} onClose={close} />}
    </ConfirmCtx.Provider>
  );
}

function ConfirmDialog({ req, onClose }: { req: ConfirmRequest; onClose: (ok: boolean) => void }) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Modal role="alertdialog" labelledBy="confirm-title" describedBy="confirm-body" onClose={() => onClose(false)} initialFocus={cancelRef}>
      <h2 id="confirm-title">{req.title}</h2>
      <p id="confirm-body">{req.body}</p>
      <div className="row end">
        <button type="button" ref={cancelRef} onClick={() => onClose(false)}>Cancel</button>
        <button type="button" className="danger" onClick={() => onClose(true)}>{req.confirmLabel}</button>
      </div>
    </Modal>
  );
}

export function useConfirm() {
  return useContext(ConfirmCtx);
}

/**
 * Inside the signed-in shell, "cannot reach the BanGUI server" is said once, by the shell's own
 * banner; section banners stay quiet about it instead of repeating it per request.
 */
export const NetworkErrorsShownAbove = createContext(false);

export function isNetworkError(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'network_error';
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const shownAbove = useContext(NetworkErrorsShownAbove);
  if (!error) return null;
  if (shownAbove && isNetworkError(error)) return null;
  return (
    <div className="banner banner-error" role="alert">
      <span>{explainError(error)}</span>
      {onRetry && <button type="button" onClick={onRetry}>Retry</button>}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return <p className="muted loading" aria-busy="true">{label}</p>;
}

/** Shown beside data that belongs to the previous filters while the current ones load. */
export function Updating({ active }: { active: boolean }) {
  if (!active) return null;
  return <span className="updating" role="status" data-testid="updating">Updating…</span>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

/**
 * Horizontal scroll container for a wide table. It is a labelled, focusable region, so keyboard
 * users can reach and scroll what does not fit (WCAG 2.1.1).
 */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>{children}</div>;
}

/** Sets the document title to "<page> · BanGUI" while the page is shown. */
export function usePageTitle(page: string): void {
  useEffect(() => {
    document.title = page ? `${page} · BanGUI` : 'BanGUI';
  }, [page]);
}
