import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api, ApiError } from '../shared/api';
import { formatMoney, formatTime, statusLabel } from '../shared/format';
import { useAction, useLive, useNow, useOrders, useRestaurant, useSession } from '../shared/hooks';
import type { LiveConnection } from '../shared/live';
import type { Order, User } from '../shared/types';
import { Brand, ConnectionBadge, ErrorBanner, LoginForm, OfflineBanner, Spinner, StatusPill } from '../shared/ui';
import { Icon } from '../shared/icons';
import { offerAlert, prepareAlert } from './alert';

const api = new Api('rider');
(window as any).__brigadeApi = api;
const ONLINE_KEY = 'brigade.rider.online';

export function RiderApp() {
  const session = useSession(api, 'rider');
  if (session.checking) return <Spinner label="Signing in…" />;
  if (!session.user)
    return (
      <div className="center-page rider-login">
        <Brand subtitle="Rider" />
        <OfflineBanner>Signing in needs the network.</OfflineBanner>
        <LoginForm api={api} role="rider" title="Rider sign in" subtitle="Your deliveries, with directions and live tracking." onSignedIn={session.signedIn} />
      </div>
    );
  return <RiderHome user={session.user} onSignOut={session.signOut} />;
}

function RiderHome({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const { orders, apply, replaceAll } = useOrders();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [online, setOnline] = useState<boolean>(() => localStorage.getItem(ONLINE_KEY) === 'true');
  const toggle = useAction();
  const [netOnline, setNetOnline] = useState(navigator.onLine);

  useEffect(() => {
    const up = () => setNetOnline(true);
    const down = () => setNetOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);

  const load = useCallback(async () => {
    try {
      replaceAll(await api.orders({ limit: 50 }, 2));
      setLoadError(null);
      setLoaded(true);
    } catch (e: any) {
      setLoadError(`Could not load your deliveries: ${e.message}`);
    }
  }, [replaceAll]);

  useEffect(() => {
    void load();
    // The server's word on availability (set from any device) wins over this one's memory.
    void toggle.run(async () => {
      const r = await api.riderMe();
      setOnline(r.online);
      localStorage.setItem(ONLINE_KEY, String(r.online));
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [load]);

  const restaurant = useRestaurant(api);
  const codeRequired = restaurant.restaurant?.delivery_code_required ?? false;
  const { state, live } = useLive(api, user, {
    reload: async () => {
      await Promise.all([load(), restaurant.reload()]);
    },
    restaurant: restaurant.apply,
    order: (c) => {
      if (c.order.rider_id !== user.id) apply(c.order, 'delete'); // unassigned: the job leaves the list
      else {
        const before = orders.get(c.order.id);
        // A new offer or assignment: sound and vibration (a notification when hidden).
        if (!before || before.rider_id !== user.id || (c.order.offer_expires_at && !before.offer_expires_at)) offerAlert(c.order);
        apply(c.order, c.op);
      }
    },
  });

  const mine = useMemo(() => [...orders.values()].filter((o) => o.rider_id === user.id), [orders, user.id]);
  const active = mine.filter((o) => ['accepted', 'preparing', 'ready', 'picked_up'].includes(o.status)).sort((a, b) => a.id - b.id);
  const doneToday = mine.filter((o) => o.status === 'delivered' && new Date(o.updated_at).toDateString() === new Date().toDateString());
  const carrying = active.some((o) => o.status === 'picked_up');
  const [confirmOffline, setConfirmOffline] = useState(false);
  // Optimistic: the switch moves at once and goes back if the server refuses.
  const setAvailability = async (value: boolean, sure = false) => {
    if (value) prepareAlert(); // a gesture: offers can sound (and notify) from now on
    // Holding a job: say so before going offline (the jobs stay assigned).
    if (!value && !sure && active.length > 0) return setConfirmOffline(true);
    setConfirmOffline(false);
    const before = online;
    setOnline(value);
    const r = await toggle.run(() => api.setOnline(value));
    if (r) {
      setOnline(r.online);
      localStorage.setItem(ONLINE_KEY, String(r.online));
    } else setOnline(before);
  };


  return (
    <div className="rider">
      <header className="rider-top">
        <Brand subtitle="Rider" />
        <ConnectionBadge state={state} />
      </header>

      <section className={`availability ${online ? 'is-online' : 'is-offline'}`}>
        <div>
          <div className="availability-title">{online ? "You're online" : "You're offline"}</div>
          <div className="availability-sub">{online ? 'The restaurant can assign you deliveries.' : 'Go online to receive deliveries.'}</div>
        </div>
        <label className="switch switch-large">
          <span className="sr-only">Available for deliveries</span>
          <input type="checkbox" role="switch" checked={online} disabled={toggle.busy} onChange={(e) => void setAvailability(e.target.checked)} data-testid="online-switch" />
        </label>
      </section>
      {confirmOffline && (
        <div className="notice confirm-offline" role="alertdialog" aria-label="Go offline?" data-testid="confirm-offline">
          <p>
            You still have {active.length} deliver{active.length === 1 ? 'y' : 'ies'}. They stay yours while you are offline.
          </p>
          <div className="row">
            <button type="button" className="btn btn-small btn-danger" onClick={() => void setAvailability(false, true)}>
              Go offline anyway
            </button>
            <button type="button" className="btn btn-small" onClick={() => setConfirmOffline(false)} autoFocus>
              Stay online
            </button>
          </div>
        </div>
      )}
      <ErrorBanner message={toggle.error} />

      {!netOnline && (
        <div className="net-offline" role="alert">
          <strong>No connection.</strong> Your deliveries are shown as last known; changes will appear when you're back online.
        </div>
      )}

      <LocationSharing live={live} active={carrying} />

      <main className="rider-main">
        <h1 className="section-title">
          Deliveries <span className="count">{active.length}</span>
        </h1>
        <ErrorBanner message={loadError} onRetry={load} />
        {!loaded && !loadError && <Spinner label="Loading deliveries…" />}
        {loaded && active.length === 0 && (
          <div className="empty card">
            <span className="big" aria-hidden="true">
              <Icon name={online ? 'bike' : 'moon'} size={40} />
            </span>
            {online ? 'No deliveries yet. New jobs appear here instantly.' : 'You are offline. Switch on to start receiving jobs.'}
          </div>
        )}
        {active.map((o) => (
          <DeliveryCard key={o.id} order={o} codeRequired={codeRequired} onChanged={(x) => apply(x)} />
        ))}
        {doneToday.length > 0 && <RiderDay done={doneToday} />}
      </main>
      <footer className="rider-foot">
        <span className="muted small">Signed in as {user.name}</span>
        <button type="button" className="btn btn-small btn-ghost" onClick={onSignOut}>
          Sign out
        </button>
      </footer>
    </div>
  );
}

/** The rider's day: deliveries, cash collected, distance to the customers. */
function RiderDay({ done }: { done: Order[] }) {
  const cash = done.filter((o) => o.payment.method === 'cash' && o.payment.status === 'paid').reduce((s, o) => s + o.total_cents, 0);
  const metres = done.reduce((s, o) => s + (o.delivery.distance_m ?? 0), 0);
  return (
    <p className="done-today muted small" data-testid="rider-day">
      ✓ {done.length} deliver{done.length === 1 ? 'y' : 'ies'} today · {formatMoney(cash)} cash collected
      {metres > 0 ? ` · ${(metres / 1000).toFixed(1)} km to customers` : ''}
    </p>
  );
}

/** An offer: the time left to answer it, Accept and Decline. */
function OfferBar({ order: o, onChanged }: { order: Order; onChanged: (o: Order) => void }) {
  const now = useNow(1000);
  const { busy, error, run } = useAction();
  const left = Math.max(0, Math.round((Date.parse(o.offer_expires_at!) - now) / 1000));
  const answer = (accept: boolean) =>
    run(async () => {
      const r = await api.request<Order>('POST', `/api/orders/${o.id}/offer`, { accept });
      onChanged(r);
    });
  return (
    <div className="offer-bar" role="group" aria-label={`Offer for order ${o.id}`} data-testid="offer">
      <strong>
        New offer — answer within <span className="num">{Math.floor(left / 60)}:{String(left % 60).padStart(2, '0')}</span>
      </strong>
      <div className="row">
        <button type="button" className="btn btn-ok" disabled={busy} onClick={() => void answer(true)} data-testid="accept-offer">
          Accept
        </button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void answer(false)} data-testid="decline-offer">
          Decline
        </button>
      </div>
      <ErrorBanner message={error} />
    </div>
  );
}

/** What the rider settles at the door, in words: never "paid" unless it is. */
function paymentText(o: Order): string {
  if (o.payment.status === 'paid') return `${formatMoney(o.total_cents)} · paid`;
  return o.payment.method === 'cash' ? `Collect ${formatMoney(o.total_cents)} in cash` : `Card terminal: ${formatMoney(o.total_cents)}`;
}

/** A maps link that opens the app on iPhone and Android alike: the point, or the address. */
function mapsLink(o: Order): string {
  const query = o.delivery.lat != null && o.delivery.lng != null ? `${o.delivery.lat},${o.delivery.lng}` : o.delivery.address;
  return `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(query)}`;
}

function deliverError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'code_locked') return 'Too many wrong codes: call the restaurant to confirm this delivery.';
    if (e.code === 'wrong_code') return `Wrong code — ${e.message.replace(/^.*\(/, '').replace(/\)$/, '')}. Ask the customer again.`;
    if (e.code === 'code_required') return 'Ask the customer for their 4-digit delivery code.';
    return e.message;
  }
  return String(e);
}

function DeliveryCard({ order: o, codeRequired, onChanged }: { order: Order; codeRequired: boolean; onChanged: (o: Order) => void }) {
  const { busy, error, setError, run } = useAction();
  const [code, setCode] = useState('');
  const [collected, setCollected] = useState(o.payment.status !== 'paid');
  const pickUp = () =>
    run(async () => {
      onChanged(await api.setStatus(o.id, { status: 'picked_up', if_version: o.version }));
    });
  const deliver = () =>
    run(async () => {
      try {
        const body: Parameters<typeof api.setStatus>[1] = { status: 'delivered', if_version: o.version };
        if (code) body.code = code;
        if (collected && o.payment.status !== 'paid') body.paid = true;
        onChanged(await api.setStatus(o.id, body));
      } catch (e) {
        setCode('');
        // A wrong code is counted on the order: the next try needs its new version.
        if (e instanceof ApiError && (e.code === 'wrong_code' || e.code === 'code_locked')) onChanged(await api.order(o.id));
        throw new Error(deliverError(e));
      }
    });
  const locked = o.code_attempts >= 5;
  return (
    <article className={`delivery card status-${o.status}`} data-testid="delivery" data-order-id={o.id} data-status={o.status} aria-label={`Delivery for order ${o.id}`}>
      <header className="delivery-head">
        <strong>Order #{o.id}</strong>
        <StatusPill status={o.status} />
      </header>
      <div className="delivery-address">
        <Icon name="pin" size={20} className="addr-icon" />
        <div>
          <div className="address">{o.delivery.address}</div>
          <a className="small" href={mapsLink(o)} target="_blank" rel="noreferrer">
            Open in maps
          </a>
        </div>
      </div>
      <ul className="delivery-items">
        {o.items.map((l, i) => (
          <li key={i}>
            <span className="qty">{l.quantity}×</span> {l.name}
            {l.options?.length > 0 && <span className="muted"> · {l.options.map((o) => o.name).join(', ')}</span>}
          </li>
        ))}
      </ul>
      {o.notes && <p className="delivery-notes">“{o.notes}”</p>}
      {o.offer_expires_at && <OfferBar order={o} onChanged={onChanged} />}
      <div className={`delivery-pay ${o.payment.status}`} data-testid="payment">
        <Icon name={o.payment.method === 'cash' ? 'cash' : 'card'} size={18} /> {paymentText(o)}
      </div>
      <div className="delivery-meta small muted">
        <span>{o.delivery.distance_m != null ? `${(o.delivery.distance_m / 1000).toFixed(1)} km from the restaurant` : ''}</span>
        <span>{o.prep_minutes != null && o.status !== 'picked_up' ? `Prep ${o.prep_minutes} min` : `Since ${formatTime(o.updated_at)}`}</span>
      </div>
      {o.status === 'picked_up' ? (
        <form
          className="deliver-form"
          onSubmit={(e) => {
            e.preventDefault();
            setError(null);
            void deliver();
          }}
        >
          {locked ? (
            <p className="notice" role="alert">
              Too many wrong codes: call the restaurant to confirm this delivery.
            </p>
          ) : (
            <label className="code-field">
              <span>{codeRequired ? "Customer's delivery code" : "Customer's delivery code (if they have it)"}</span>
              <input
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{4}"
                maxLength={4}
                required={codeRequired}
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
                data-testid="delivery-code-input"
              />
            </label>
          )}
          {o.payment.status !== 'paid' && (
            <label className="collected">
              <input type="checkbox" checked={collected} onChange={(e) => setCollected(e.target.checked)} data-testid="payment-collected" />{' '}
              {o.payment.method === 'cash' ? 'Cash collected' : 'Card payment taken'}
            </label>
          )}
          <button type="submit" className="btn btn-ok btn-large btn-block" disabled={busy || locked}>
            {busy ? 'Saving…' : '✓ Delivered'}
          </button>
        </form>
      ) : (
        <button type="button" className="btn btn-primary btn-large btn-block" disabled={busy || o.status !== 'ready'} onClick={() => void pickUp()}>
          {busy ? 'Saving…' : o.status === 'ready' ? 'Picked up' : `${statusLabel(o.status)} — not ready yet`}
        </button>
      )}
      <ErrorBanner message={error} />
    </article>
  );
}

/** While carrying an order: watch the position, send it at most once a second, keep the screen on. */
function LocationSharing({ live, active }: { live: LiveConnection | null; active: boolean }) {
  const [status, setStatus] = useState<{ kind: 'idle' | 'waiting' | 'sharing' | 'denied' | 'error'; text?: string }>({ kind: 'idle' });
  const [last, setLast] = useState<{ lat: number; lng: number; at: number } | null>(null);
  const pending = useRef<{ lat: number; lng: number; heading?: number; speed?: number } | null>(null);
  const lastSent = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!active || !live) {
      setStatus({ kind: 'idle' });
      return;
    }
    if (!('geolocation' in navigator)) {
      setStatus({ kind: 'error', text: 'This device cannot share its location.' });
      return;
    }
    setStatus({ kind: 'waiting' });
    const send = () => {
      timer.current = undefined;
      const p = pending.current;
      if (!p) return;
      const wait = lastSent.current + 1050 - Date.now();
      if (wait > 0) {
        timer.current = window.setTimeout(send, wait);
        return;
      }
      if (!live.socket.connected) {
        timer.current = window.setTimeout(send, 1000); // keep the fix until we are connected again
        return;
      }
      pending.current = null;
      lastSent.current = Date.now();
      live.socket.timeout(5000).emit('rider:location', p, (err: unknown, res: { ok: boolean; error?: { code: string; message: string } }) => {
        if (err) return;
        if (res?.ok) {
          setLast({ lat: p.lat, lng: p.lng, at: Date.now() });
          setStatus({ kind: 'sharing' });
        } else if (res?.error?.code !== 'rate_limited') setStatus({ kind: 'error', text: res?.error?.message ?? 'Location not accepted' });
      });
    };
    const id = navigator.geolocation.watchPosition(
      (pos) => {
        const c = pos.coords;
        pending.current = {
          lat: c.latitude,
          lng: c.longitude,
          ...(c.heading != null && Number.isFinite(c.heading) ? { heading: c.heading } : {}),
          ...(c.speed != null && Number.isFinite(c.speed) && c.speed >= 0 ? { speed: c.speed } : {}),
        };
        if (!timer.current) send();
      },
      (err) => setStatus(err.code === err.PERMISSION_DENIED ? { kind: 'denied' } : { kind: 'error', text: 'Waiting for a GPS fix…' }),
      { enableHighAccuracy: true, maximumAge: 1000, timeout: 20000 },
    );
    // Keep the screen on while delivering, where the browser allows it.
    let lock: any = null;
    const requestLock = async () => {
      try {
        if ('wakeLock' in navigator && document.visibilityState === 'visible') lock = await (navigator as any).wakeLock.request('screen');
      } catch {
        lock = null;
      }
    };
    void requestLock();
    const onVisible = () => document.visibilityState === 'visible' && void requestLock();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      navigator.geolocation.clearWatch(id);
      window.clearTimeout(timer.current);
      timer.current = undefined;
      document.removeEventListener('visibilitychange', onVisible);
      lock?.release?.().catch(() => {});
    };
  }, [active, live]);

  if (status.kind === 'idle') return null;
  return (
    <div className={`sharing sharing-${status.kind}`} role="status" data-testid="location-sharing" data-kind={status.kind}>
      <span className="sharing-dot" aria-hidden="true" />
      {status.kind === 'sharing' && last && (
        <span>
          Sharing your location · {last.lat.toFixed(4)}, {last.lng.toFixed(4)}
        </span>
      )}
      {status.kind === 'waiting' && <span>Starting location sharing…</span>}
      {status.kind === 'denied' && <span>Location is blocked. Allow it in the browser so the customer can follow you.</span>}
      {status.kind === 'error' && <span>{status.text}</span>}
    </div>
  );
}
