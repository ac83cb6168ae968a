import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import type { Api } from './api';
import type { LiveState } from './live';
import type { OrderStatus, User } from './types';
import { errorText } from './errors';
import { statusLabel } from './format';
import { LanguageSelect, useMessages } from './i18n';
import { shared } from './messages';

export function ConnectionBadge({ state }: { state: LiveState }) {
  const m = useMessages(shared);
  return (
    <span className={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      <span className="conn-dot" aria-hidden="true" />
      {m.live[state]}
    </span>
  );
}

/** The device's network (navigator.onLine), live: false also when the panel started from its cached copy. */
export function useNetworkOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    setOnline(navigator.onLine);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return online;
}

/** Says plainly that the device is offline (the panel may be showing its cached copy). */
export function OfflineBanner({ children }: { children: ReactNode }) {
  const online = useNetworkOnline();
  const m = useMessages(shared);
  if (online) return null;
  return (
    <div className="net-offline-banner" role="alert" data-testid="net-offline">
      <strong>{m.offline}</strong> {children}
    </div>
  );
}

export function StatusPill({ status, label }: { status: OrderStatus; label?: string }) {
  useMessages(shared); // re-rendered when the language changes
  return <span className={`pill pill-${status}`}>{label ?? statusLabel(status)}</span>;
}

export function Spinner({ label }: { label?: string }) {
  const m = useMessages(shared);
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? m.loading}</span>
    </div>
  );
}

export function ErrorBanner({ message, onRetry }: { message: string | null | undefined; onRetry?: () => void }) {
  const m = useMessages(shared);
  if (!message) return null;
  return (
    <div className="error-banner" role="alert">
      <span>{message}</span>
      {onRetry && (
        <button type="button" className="btn btn-small btn-ghost" onClick={onRetry}>
          {m.retry}
        </button>
      )}
    </div>
  );
}

export function Field({ label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <small className="hint">{hint}</small>}
    </div>
  );
}

export function Brand({ subtitle }: { subtitle?: string }) {
  return (
    <div className="brand">
      <span className="brand-mark" aria-hidden="true" />
      <span className="brand-name">Brigade</span>
      {subtitle && <span className="brand-sub">{subtitle}</span>}
    </div>
  );
}

interface LoginProps {
  api: Api;
  role: User['role'];
  title: string;
  subtitle: string;
  onSignedIn: (u: User) => void;
  allowRegister?: boolean;
  onCancel?: () => void;
}

export function LoginForm({ api, role, title, subtitle, onSignedIn, allowRegister, onCancel }: LoginProps) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const m = useMessages(shared);
  const t = m.login;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = mode === 'login' ? await api.login(email, password) : await api.register(email, password, name);
      if (r.user.role !== role) {
        api.setToken(null);
        setError(t.wrongRole(role));
        return;
      }
      onSignedIn(r.user);
    } catch (err: any) {
      if (err.status === 401) setError(t.wrong);
      else if (err.status === 429) setError(t.tooMany);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card login" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">{mode === 'login' ? title : t.createTitle}</h1>
      <p className="muted">{mode === 'login' ? subtitle : t.createSubtitle}</p>
      {mode === 'register' && (
        <Field label={t.name}>
          {(id) => <input id={id} name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
      )}
      <Field label={t.email}>
        {(id) => (
          <input id={id} name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        )}
      </Field>
      <Field label={t.password} hint={mode === 'register' ? t.passwordHint : undefined}>
        {(id) => (
          <input
            id={id}
            name="password"
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            minLength={mode === 'register' ? 8 : undefined}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <ErrorBanner message={error} />
      <button className="btn btn-primary btn-block" type="submit" disabled={busy}>
        {busy ? t.wait : mode === 'login' ? t.signIn : t.create}
      </button>
      {allowRegister && (
        <button type="button" className="btn btn-link" onClick={() => setMode(mode === 'login' ? 'register' : 'login')}>
          {mode === 'login' ? t.toRegister : t.toLogin}
        </button>
      )}
      {onCancel && (
        <button type="button" className="btn btn-link" onClick={onCancel}>
          {m.back}
        </button>
      )}
    </form>
  );
}

/** The language switch of a panel's header (shared/i18n.tsx). */
export function LanguageSwitch() {
  const m = useMessages(shared);
  return <LanguageSelect label={m.language} />;
}
