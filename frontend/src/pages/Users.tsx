// Users (admins: list, create, change role, reset password, delete) and the signed-in user's own
// API tokens (list, create with the secret shown once, revoke).
import { useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queries, useApi } from '../api/queries';
import type { Role, User } from '../api/types';
import { useAuth } from '../auth';
import { Empty, ErrorBanner, Loading, Modal, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { explainError, formatDateTime, hasRole } from '../lib/format';
import { passwordProblem } from './Setup';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export function UsersPage() {
  const { session } = useAuth();
  usePageTitle(hasRole(session?.role, 'admin') ? 'Users and API tokens' : 'API tokens');
  return (
    <>
      <h1>{hasRole(session?.role, 'admin') ? 'Users and API tokens' : 'API tokens'}</h1>
      {hasRole(session?.role, 'admin') && <UsersSection me={session?.username ?? ''} />}
      <TokensSection myRole={session?.role ?? 'viewer'} />
    </>
  );
}

function UsersSection({ me }: { me: string }) {
  const toast = useToast();
  const confirm = useConfirm();
  const users = useApi(queries.users());
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [error, setError] = useState<unknown>(null);
  const [resetFor, setResetFor] = useState<User | null>(null);
  const problem = password ? passwordProblem(password) : null;

  const run = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      toast(done);
      users.reload();
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.createUser(username.trim(), password, role);
      toast(`User ${username.trim()} created as ${role}.`);
      setUsername('');
      setPassword('');
      // The next user starts from the least privileged role again, never from the last one chosen.
      setRole('viewer');
      users.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="card" aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <ErrorBanner error={users.error} onRetry={users.reload} />
      {users.loading && !users.data ? <Loading /> : users.data && (users.data.items.length === 0 ? <Empty>No users.</Empty> : (
        <TableWrap label="Users">
          <table className="data stackable" data-testid="users-table">
            <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id}>
                  <th scope="row">{u.username}{u.username === me && <span className="tag">you</span>}</th>
                  <td data-label="Role">
                    <select aria-label={`Role of ${u.username}`} value={u.role} disabled={u.username === me}
                      onChange={(e) => run(() => api.updateUser(u.id, { role: e.target.value as Role }), `${u.username} is now ${e.target.value}.`)}>
                      {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  </td>
                  <td data-label="Created">{formatDateTime(u.created_at)}</td>
                  <td className="actions">
                    <button type="button" className="small" onClick={() => setResetFor(u)}>Reset password…</button>
                    <button type="button" className="small danger" disabled={u.username === me} onClick={async () => {
                      if (await confirm(`Delete user ${u.username}?`, 'The user can no longer sign in; their API tokens stop working.', 'Delete user'))
                        await run(() => api.deleteUser(u.id), `User ${u.username} deleted.`);
                    }}>Delete</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ))}
      {resetFor && <PasswordDialog user={resetFor} onClose={() => setResetFor(null)}
        onSave={(pw) => run(() => api.updateUser(resetFor.id, { password: pw }), `Password of ${resetFor.username} changed.`)} />}
      <h3>Add a user</h3>
      <ErrorBanner error={error} />
      <form className="row wrap" onSubmit={create}>
        <label>Username<input name="new-username" required value={username} onChange={(e) => setUsername(e.target.value)} /></label>
        <label>Password<input name="new-password" type="password" autoComplete="new-password" required value={password}
          aria-invalid={!!problem} onChange={(e) => setPassword(e.target.value)} /></label>
        <label>Role<select name="new-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>{ROLES.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
        <button type="submit" disabled={!username.trim() || !!problem || !password}>Add user</button>
        {problem && <span className="field-error">{problem}</span>}
      </form>
    </section>
  );
}

function TokensSection({ myRole }: { myRole: Role }) {
  const toast = useToast();
  const confirm = useConfirm();
  const tokens = useApi(queries.tokens());
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(myRole);
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const allowed = ROLES.filter((r) => hasRole(myRole, r));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const t = await api.createToken(name.trim(), role, days ? Number(days) : undefined);
      setSecret(t.token);
      setName('');
      toast(`Token ${t.name} created. Copy it now; it is shown only once.`);
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="card" aria-labelledby="tokens-h">
      <h2 id="tokens-h">My API tokens</h2>
      <p className="muted small">Send a token as <code>Authorization: Bearer &lt;token&gt;</code>. A token never has more rights than its owner.</p>
      <ErrorBanner error={tokens.error} onRetry={tokens.reload} />
      {secret && (
        <div className="banner banner-info" role="status">
          <span>New token (shown once): <code data-testid="new-token">{secret}</code></span>
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(secret).then(() => toast('Token copied.')); }}>Copy</button>
          <button type="button" className="link" onClick={() => setSecret(null)}>Hide</button>
        </div>
      )}
      {tokens.loading && !tokens.data ? <Loading /> : tokens.data && (tokens.data.items.length === 0 ? <Empty>You have no API tokens.</Empty> : (
        <TableWrap label="My API tokens">
          <table className="data stackable">
            <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {tokens.data.items.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th><td data-label="Role">{t.role}</td><td data-label="Prefix"><code>{t.prefix}…</code></td>
                  <td data-label="Created">{formatDateTime(t.created_at)}</td><td data-label="Expires">{t.expires_at ? formatDateTime(t.expires_at) : 'never'}</td>
                  <td data-label="Last used">{t.last_used_at ? formatDateTime(t.last_used_at) : 'never'}</td>
                  <td><button type="button" className="small danger" onClick={async () => {
                    if (!(await confirm(`Revoke token ${t.name}?`, 'Scripts using it stop working immediately.', 'Revoke'))) return;
                    try { await api.deleteToken(t.id); toast(`Token ${t.name} revoked.`); tokens.reload(); } catch (err) { toast(explainError(err), 'error'); }
                  }}>Revoke</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ))}
      <form className="row wrap" onSubmit={create}>
        <label>Token name<input name="token-name" required value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Role<select name="token-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>{allowed.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
        <label>Expires in days<input name="token-days" type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" /></label>
        <button type="submit" disabled={!name.trim()}>Create token</button>
      </form>
      <ErrorBanner error={error} />
    </section>
  );
}

/** Asks for a new password in a dialog (never `window.prompt`), checked against the policy. */
function PasswordDialog({ user, onClose, onSave }: { user: User; onClose: () => void; onSave: (pw: string) => Promise<void> }) {
  const [pw, setPw] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const problem = pw ? passwordProblem(pw) : null;
  const mismatch = repeat !== '' && repeat !== pw;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!pw || problem || pw !== repeat) return;
    setBusy(true);
    await onSave(pw);
    setBusy(false);
    onClose();
  };
  return (
    <Modal labelledBy="pw-title" describedBy="pw-rules" onClose={onClose} initialFocus={first}>
      <h2 id="pw-title">New password for {user.username}</h2>
      <form className="stack" onSubmit={submit}>
        <label>New password<input ref={first} name="reset-password" type="password" autoComplete="new-password" required value={pw}
          aria-invalid={!!problem} aria-describedby="pw-rules" onChange={(e) => setPw(e.target.value)} /></label>
        <p id="pw-rules" className={problem ? 'field-error' : 'muted small'}>{problem ?? 'At least 10 characters, mixing two kinds of characters.'}</p>
        <label>Repeat password<input name="reset-repeat" type="password" autoComplete="new-password" required value={repeat}
          aria-invalid={mismatch} onChange={(e) => setRepeat(e.target.value)} /></label>
        {mismatch && <p className="field-error">The passwords differ.</p>}
        <div className="row end">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy || !pw || !!problem || pw !== repeat}>Set password</button>
        </div>
      </form>
    </Modal>
  );
}
