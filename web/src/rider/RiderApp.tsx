import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api, ApiError } from '../shared/api';
import { errorSentence, errorText } from '../shared/errors';
import { formatMoney, formatTime, statusLabel } from '../shared/format';
import { useAction, useLive, useNow, useOrders, useRestaurant, useSession } from '../shared/hooks';
import type { LiveConnection } from '../shared/live';
import type { Order, User } from '../shared/types';
import { intlLocale, messagesNow, useMessages } from '../shared/i18n';
import { Brand, ConnectionBadge, ErrorBanner, LanguageSwitch, LoginForm, OfflineBanner, Spinner, StatusPill } from '../shared/ui';
import { Icon } from '../shared/icons';
import { offerAlert, prepareAlert } from './alert';
import { rider, type RiderMessages } from './messages';

const api = new Api('rider');
(window as any).__brigadeApi = api;
const ONLINE_KEY = 'brigade.rider.online';

/** A distance in the panel's language: "2.5 km", "2.5km". */
function formatKm(metres: number): string {
  return new Intl.NumberFormat(intlLocale(), { style: 'unit', unit: 'kilometer', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(metres / 1000);
}

export function RiderApp() {
  const session = useSession(api, 'rider');
  const m = useMessages(rider);
  if (session.checking) return <Spinner label={m.signingIn} />;
  if (!session.user)
    return (
      <div className="center-page rider-login">
        <Brand subtitle={m.brandSub} />
        <LanguageSwitch />
        <OfflineBanner>{m.signInNeedsNetwork}</OfflineBanner>
        <LoginForm api={api} role="rider" title={m.loginTitle} subtitle={m.loginSubtitle} onSignedIn={session.signedIn} />
      </div>
    );
  return <RiderHome user={session.user} onSignOut={session.signOut} />;
}

function RiderHome({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const m = useMessages(rider);
  const { orders, apply, replaceAll } = useOrders();
  const [loaded, setLoaded] = useState(false);
  // The failure itself: its sentence is written at render, in the language of the moment.
  const [loadError, setLoadError] = useState<unknown>(null);
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
    } catch (e) {
      setLoadError(e);
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
        <Brand subtitle={m.brandSub} />
        <div className="rider-top-end">
          <LanguageSwitch />
          <ConnectionBadge state={state} />
        </div>
      </header>

      <section className={`availability ${online ? 'is-online' : 'is-offline'}`}>
        <div>
          <div className="availability-title">{online ? m.availability.online : m.availability.offline}</div>
          <div className="availability-sub">{online ? m.availability.onlineSub : m.availability.offlineSub}</div>
        </div>
        <label className="switch switch-large">
          <span className="sr-only">{m.availability.switchLabel}</span>
          <input type="checkbox" role="switch" checked={online} disabled={toggle.busy} onChange={(e) => void setAvailability(e.target.checked)} data-testid="online-switch" />
        </label>
      </section>
      {confirmOffline && (
        <div className="notice confirm-offline" role="alertdialog" aria-label={m.confirmOffline.label} data-testid="confirm-offline">
          <p>{m.confirmOffline.text(active.length)}</p>
          <div className="row">
            <button type="button" className="btn btn-small btn-danger" onClick={() => void setAvailability(false, true)}>
              {m.confirmOffline.goOffline}
            </button>
            <button type="button" className="btn btn-small" onClick={() => setConfirmOffline(false)} autoFocus>
              {m.confirmOffline.stay}
            </button>
          </div>
        </div>
      )}
      <ErrorBanner message={toggle.error} />

      {!netOnline && (
        <div className="net-offline" role="alert">
          <strong>{m.noConnection}</strong> {m.noConnectionText}
        </div>
      )}

      <LocationSharing live={live} active={carrying} />

      <main className="rider-main">
        <h1 className="section-title">
          {m.deliveries} <span className="count">{active.length}</span>
        </h1>
        <ErrorBanner message={loadError ? m.loadFailed(errorText(loadError)) : null} onRetry={load} />
        {!loaded && !loadError && <Spinner label={m.loadingDeliveries} />}
        {loaded && active.length === 0 && (
          <div className="empty card">
            <span className="big" aria-hidden="true">
              <Icon name={online ? 'bike' : 'moon'} size={40} />
            </span>
            {online ? m.emptyOnline : m.emptyOffline}
          </div>
        )}
        {active.map((o) => (
          <DeliveryCard key={o.id} order={o} codeRequired={codeRequired} onChanged={(x) => apply(x)} />
        ))}
        {doneToday.length > 0 && <RiderDay done={doneToday} />}
      </main>
      <footer className="rider-foot">
        <span className="muted small">{m.signedInAs(user.name)}</span>
        <button type="button" className="btn btn-small btn-ghost" onClick={onSignOut}>
          {m.signOut}
        </button>
      </footer>
    </div>
  );
}

/** The rider's day: deliveries, cash collected, distance to the customers. */
function RiderDay({ done }: { done: Order[] }) {
  const m = useMessages(rider);
  const cash = done.filter((o) => o.payment.method === 'cash' && o.payment.status === 'paid').reduce((s, o) => s + o.total_cents, 0);
  const metres = done.reduce((s, o) => s + (o.delivery.distance_m ?? 0), 0);
  return (
    <p className="done-today muted small" data-testid="rider-day">
      {m.day.summary(done.length, formatMoney(cash))}
      {metres > 0 ? m.day.distance(formatKm(metres)) : ''}
    </p>
  );
}

/** An offer: the time left to answer it, Accept and Decline. */
function OfferBar({ order: o, onChanged }: { order: Order; onChanged: (o: Order) => void }) {
  const m = useMessages(rider);
  const now = useNow(1000);
  const { busy, error, run } = useAction();
  const left = Math.max(0, Math.round((Date.parse(o.offer_expires_at!) - now) / 1000));
  const answer = (accept: boolean) =>
    run(async () => {
      const r = await api.request<Order>('POST', `/api/orders/${o.id}/offer`, { accept });
      onChanged(r);
    });
  return (
    <div className="offer-bar" role="group" aria-label={m.offer.label(o.id)} data-testid="offer">
      <strong>
        {m.offer.answerBefore}
        <span className="num">{Math.floor(left / 60)}:{String(left % 60).padStart(2, '0')}</span>
        {m.offer.answerAfter}
      </strong>
      <div className="row">
        <button type="button" className="btn btn-ok" disabled={busy} onClick={() => void answer(true)} data-testid="accept-offer">
          {m.offer.accept}
        </button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void answer(false)} data-testid="decline-offer">
          {m.offer.decline}
        </button>
      </div>
      <ErrorBanner message={error} />
    </div>
  );
}

/** What the rider settles at the door, in words: never "paid" unless it is. */
function paymentText(o: Order, m: RiderMessages): string {
  const money = formatMoney(o.total_cents);
  if (o.payment.status === 'paid') return m.payment.paid(money);
  return o.payment.method === 'cash' ? m.payment.cash(money) : m.payment.card(money);
}

/** A maps link that opens the app on iPhone and Android alike: the point, or the address. */
function mapsLink(o: Order): string {
  const query = o.delivery.lat != null && o.delivery.lng != null ? `${o.delivery.lat},${o.delivery.lng}` : o.delivery.address;
  return `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(query)}`;
}

/**
 * Why a delivery was refused, for the rider at the door. A wrong code says how many tries
 * are left, counted from the order read again after it (`fresh`; the server allows 5).
 */
function deliverError(e: unknown, m: RiderMessages, fresh: Order | null): string {
  if (e instanceof ApiError) {
    if (e.code === 'code_locked') return m.code.locked;
    if (e.code === 'wrong_code') return fresh ? m.code.wrong(Math.max(0, MAX_CODE_ATTEMPTS - fresh.code_attempts)) : m.code.wrongNoCount;
    if (e.code === 'code_required') return m.code.required;
  }
  return errorText(e);
}

/** Wrong delivery codes an order takes before it is locked (the server's kMaxDeliveryCodeAttempts). */
const MAX_CODE_ATTEMPTS = 5;

function DeliveryCard({ order: o, codeRequired, onChanged }: { order: Order; codeRequired: boolean; onChanged: (o: Order) => void }) {
  const m = useMessages(rider);
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
        let fresh: Order | null = null;
        if (e instanceof ApiError && (e.code === 'wrong_code' || e.code === 'code_locked')) {
          fresh = await api.order(o.id).catch(() => null);
          if (fresh) onChanged(fresh);
        }
        setError(deliverError(e, messagesNow(rider), fresh)); // run() cleared it before this try
      }
    });
  const locked = o.code_attempts >= 5;
  return (
    <article className={`delivery card status-${o.status}`} data-testid="delivery" data-order-id={o.id} data-status={o.status} aria-label={m.card.label(o.id)}>
      <header className="delivery-head">
        <strong>{m.card.order(o.id)}</strong>
        <StatusPill status={o.status} />
      </header>
      <div className="delivery-address">
        <Icon name="pin" size={20} className="addr-icon" />
        <div>
          <div className="address">{o.delivery.address}</div>
          <a className="small" href={mapsLink(o)} target="_blank" rel="noreferrer">
            {m.card.openInMaps}
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
        <Icon name={o.payment.method === 'cash' ? 'cash' : 'card'} size={18} /> {paymentText(o, m)}
      </div>
      <div className="delivery-meta small muted">
        <span>{o.delivery.distance_m != null ? m.card.fromRestaurant(formatKm(o.delivery.distance_m)) : ''}</span>
        <span>{o.prep_minutes != null && o.status !== 'picked_up' ? m.card.prep(o.prep_minutes) : m.card.since(formatTime(o.updated_at))}</span>
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
              {m.code.locked}
            </p>
          ) : (
            <label className="code-field">
              <span>{codeRequired ? m.card.codeRequired : m.card.codeOptional}</span>
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
              {o.payment.method === 'cash' ? m.card.cashCollected : m.card.cardTaken}
            </label>
          )}
          <button type="submit" className="btn btn-ok btn-large btn-block" disabled={busy || locked}>
            {busy ? m.card.saving : m.card.delivered}
          </button>
        </form>
      ) : (
        <button type="button" className="btn btn-primary btn-large btn-block" disabled={busy || o.status !== 'ready'} onClick={() => void pickUp()}>
          {busy ? m.card.saving : o.status === 'ready' ? m.card.pickedUp : m.card.notReady(statusLabel(o.status))}
        </button>
      )}
      <ErrorBanner message={error} />
    </article>
  );
}

/** How often the last position is sent again while standing still (the server hears the rider is there). */
const LOCATION_RESEND_MS = 15000;

/**
 * While carrying an order: watch the position, send it at most once a second (and again every
 * LOCATION_RESEND_MS while it does not change), keep the screen on, and say plainly when the
 * positions stop reaching the restaurant (no connection, no answer): the customer then sees
 * the last one.
 */
function LocationSharing({ live, active }: { live: LiveConnection | null; active: boolean }) {
  const m = useMessages(rider);
  // An error's sentence is chosen at render (the language may change): the device has no
  // geolocation, no GPS fix yet, or the server refused a position (its error code).
  const [status, setStatus] = useState<{ kind: 'idle' | 'waiting' | 'sharing' | 'stopped' | 'denied' | 'error'; reason?: 'unsupported' | 'noFix' | 'refused'; code?: string }>({
    kind: 'idle',
  });
  const [last, setLast] = useState<{ lat: number; lng: number; at: number } | null>(null);
  const pending = useRef<{ lat: number; lng: number; heading?: number; speed?: number } | null>(null);
  const latest = useRef<{ lat: number; lng: number; heading?: number; speed?: number } | null>(null);
  const lastSent = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!active || !live) {
      setStatus({ kind: 'idle' });
      return;
    }
    if (!('geolocation' in navigator)) {
      setStatus({ kind: 'error', reason: 'unsupported' });
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
        if (err) {
          setStatus((s) => (s.kind === 'sharing' || s.kind === 'waiting' ? { kind: 'stopped' } : s)); // no answer
          return;
        }
        if (res?.ok) {
          setLast({ lat: p.lat, lng: p.lng, at: Date.now() });
          setStatus({ kind: 'sharing' });
        } else if (res?.error?.code === 'rate_limited') {
          // Two fixes can reach the server closer together than they left (a busy network):
          // this one is sent again after the interval, unless a newer one is waiting.
          if (!pending.current) pending.current = p;
          if (!timer.current) timer.current = window.setTimeout(send, 1050);
        } else setStatus({ kind: 'error', reason: 'refused', code: res?.error?.code });
      });
    };
    const id = navigator.geolocation.watchPosition(
      (pos) => {
        const c = pos.coords;
        pending.current = latest.current = {
          lat: c.latitude,
          lng: c.longitude,
          ...(c.heading != null && Number.isFinite(c.heading) ? { heading: c.heading } : {}),
          ...(c.speed != null && Number.isFinite(c.speed) && c.speed >= 0 ? { speed: c.speed } : {}),
        };
        if (!timer.current) send();
      },
      (err) => setStatus(err.code === err.PERMISSION_DENIED ? { kind: 'denied' } : { kind: 'error', reason: 'noFix' }),
      { enableHighAccuracy: true, maximumAge: 1000, timeout: 20000 },
    );
    // Standing still: the same position again now and then; cut off: say so at once.
    const resend = window.setInterval(() => {
      if (latest.current && !pending.current && Date.now() - lastSent.current >= LOCATION_RESEND_MS) {
        pending.current = latest.current;
        if (!timer.current) send();
      }
    }, LOCATION_RESEND_MS / 3);
    const unsubscribe = live.subscribe((state) => {
      if (state === 'reconnecting' || state === 'offline') {
        setStatus((s) => (s.kind === 'sharing' ? { kind: 'stopped' } : s));
      } else if (state === 'live' && latest.current && !pending.current) {
        pending.current = latest.current; // back: the position at once
        if (!timer.current) send();
      }
    });
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
      window.clearInterval(resend);
      unsubscribe();
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
        <span>{m.location.sharing(last.lat.toFixed(4), last.lng.toFixed(4))}</span>
      )}
      {status.kind === 'waiting' && <span>{m.location.starting}</span>}
      {status.kind === 'stopped' && <span>{last ? m.location.stoppedSince(formatTime(new Date(last.at).toISOString())) : m.location.stopped}</span>}
      {status.kind === 'denied' && <span>{m.location.denied}</span>}
      {status.kind === 'error' && <span>{locationErrorText(status.reason, status.code, m)}</span>}
    </div>
  );
}

function locationErrorText(reason: 'unsupported' | 'noFix' | 'refused' | undefined, code: string | undefined, m: RiderMessages): string {
  if (reason === 'unsupported') return m.location.unsupported;
  if (reason === 'noFix') return m.location.noFix;
  return (code && errorSentence(code)) || m.location.refused;
}
