// Setup wizard: creates the first admin account (POST /setup), then sends the user to sign in.
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useAuth } from '../auth';
import { ErrorBanner, usePageTitle, useToast } from '../components/feedback';

/** Mirrors the server's policy so the user sees problems before submitting. */
export function passwordProblem(pw: string): string | null {
  if (pw.length < 10) return 'Use at least 10 characters.';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  if (classes < 2) return 'Mix at least two kinds of characters (lower case, upper case, digits, symbols).';
  return null;
}

export function SetupPage() {
  usePageTitle('Set up');
  const auth = useAuth();
  const nav = useNavigate();
  const toast = useToast();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (auth.setupCompleted) return <Navigate to="/login" replace />;

  const problem = password ? passwordProblem(password) : null;
  const mismatch = repeat !== '' && repeat !== password;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (passwordProblem(password) || password !== repeat) return;
    setBusy(true);
    setError(null);
    try {
      await api.setup(username.trim(), password);
      auth.setSetupCompleted(true);
      toast(`Admin account “${username.trim()}” created. Please sign in.`);
      nav('/login', { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-card">
      <h1>Welcome to BanGUI</h1>
      <p>Create the first administrator account. You can add more users later.</p>
      <ErrorBanner error={error} />
      <form onSubmit={submit} className="stack">
        <label>Username<input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} /></label>
        <label>Password<input name="password" type="password" autoComplete="new-password" required value={password}
          aria-invalid={!!problem} aria-describedby="pw-help" onChange={(e) => setPassword(e.target.value)} /></label>
        <p id="pw-help" className={problem ? 'field-error' : 'muted small'}>{problem ?? 'At least 10 characters, mixing two kinds of characters.'}</p>
        <label>Repeat password<input name="repeat" type="password" autoComplete="new-password" required value={repeat}
          aria-invalid={mismatch} onChange={(e) => setRepeat(e.target.value)} /></label>
        {mismatch && <p className="field-error">The passwords differ.</p>}
        <button type="submit" className="primary" disabled={busy || !!problem || mismatch || !password}>
          {busy ? 'Creating…' : 'Create admin account'}
        </button>
      </form>
    </main>
  );
}
