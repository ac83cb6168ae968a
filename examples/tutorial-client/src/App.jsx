// Around the tutorial's component: a sign-in (Brigade hands out a token; only admins
// receive statusChanged) and a word about the restaurant's language, since the tutorial
// filters on the Korean label.
import { useEffect, useState } from 'react';
import Orders from './Orders.jsx';

async function request(method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function SignIn({ onToken }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    try {
      const { token, user } = await request('POST', '/api/auth/login', { email, password });
      onToken(token, user);
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <form onSubmit={submit}>
      <h2>Sign in as staff</h2>
      <label>
        Email <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password <input type="password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit">Sign in</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

function LanguageNote({ token, user }) {
  const [restaurant, setRestaurant] = useState(null);
  useEffect(() => {
    request('GET', '/api/restaurant').then(setRestaurant, () => {});
  }, []);
  if (!restaurant || restaurant.language === 'ko') return null;
  const toKorean = async () => {
    setRestaurant(await request('PATCH', '/api/restaurant', { language: 'ko' }, token));
  };
  return (
    <p data-testid="language-note">
      The restaurant speaks {restaurant.language}: statuses arrive as “New”, not “보류 중”, so the tutorial’s filter finds
      nothing.{' '}
      {user.role === 'admin' && (
        <button type="button" onClick={toKorean}>
          Switch the restaurant to Korean
        </button>
      )}
    </p>
  );
}

export default function App() {
  const [session, setSession] = useState(null);
  return (
    <main>
      <h1>The tutorial’s client, on Brigade</h1>
      {session ? (
        <>
          {session.user.role !== 'admin' && (
            <p role="alert">Signed in as a {session.user.role}: only admins receive statusChanged.</p>
          )}
          <LanguageNote token={session.token} user={session.user} />
          <Orders token={session.token} />
        </>
      ) : (
        <SignIn onToken={(token, user) => setSession({ token, user })} />
      )}
    </main>
  );
}
