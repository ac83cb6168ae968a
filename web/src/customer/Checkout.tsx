import { useEffect, useState } from 'react';
import { ApiError, newIdempotencyKey } from '../shared/api';
import { formatMoney } from '../shared/format';
import { useAction } from '../shared/hooks';
import { Icon } from '../shared/icons';
import { DeliveryMap, type MapPoint } from '../shared/map';
import type { DeliveryQuote, MenuItem, Order, PaymentMethod } from '../shared/types';
import { ErrorBanner, Field } from '../shared/ui';
import { type Cart, cartLines, cartTotal } from './cart';
import { api } from './customerApi';
import { Stepper } from './Stepper';

// What the customer typed survives signing in or registering (the page goes away meanwhile).
const DRAFT_KEY = 'brigade.customer.checkout';
interface Draft {
  address: string;
  lat: string;
  lng: string;
  notes: string;
  payment: PaymentMethod;
}
function loadDraft(): Draft {
  const empty: Draft = { address: localStorage.getItem('brigade.customer.address') ?? '', lat: '', lng: '', notes: '', payment: 'cash' };
  try {
    return { ...empty, ...JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? '{}') };
  } catch {
    return empty;
  }
}

// Field limits of POST /api/orders (src/app/app.hpp).
const MAX_ADDRESS = 500;
const MAX_NOTES = 1000;

/** The quote's refusal in plain words. */
function refusalText(q: DeliveryQuote): string {
  switch (q.reason?.code) {
    case 'outside_delivery_area':
      return `Sorry, this address is outside our delivery area (${q.reason.message}).`;
    case 'below_minimum':
      return `The minimum order is ${formatMoney(q.min_subtotal_cents)} before delivery.`;
    case 'invalid':
      return 'Set the delivery point on the map, or use your location, so that we can price the delivery.';
    default:
      return q.reason?.message ?? 'We cannot deliver this order.';
  }
}

/** The cart, the delivery point and address, payment, the delivery fee and Place order. */
export function Checkout({
  cart,
  items,
  setQty,
  signedIn,
  closedNotice,
  onLogin,
  onPlaced,
  onBack,
}: {
  cart: Cart;
  items: Map<number, MenuItem>;
  setQty: (key: string, q: number) => void;
  signedIn: boolean;
  /** Why the restaurant takes no orders now (null: it does). */
  closedNotice: string | null;
  onLogin: () => void;
  onPlaced: (o: Order) => void;
  onBack: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(loadDraft);
  const { address, lat, lng, notes, payment } = draft;
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  useEffect(() => sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft)), [draft]);
  const setLat = (v: string) => set({ lat: v });
  const setLng = (v: string) => set({ lng: v });
  const [key, setKey] = useState(newIdempotencyKey); // one key per order: a double tap never orders twice
  // A request whose answer never came (the order may exist): sent again, as it was, first.
  const [unanswered, setUnanswered] = useState<{ key: string; body: Parameters<typeof api.placeOrder>[0] } | null>(null);
  const { busy, error, setError, run } = useAction();
  const [locating, setLocating] = useState(false);
  const lines = cartLines(cart, items);
  const unavailable = lines.filter((l) => !l.item || !l.item.available || l.missingOptions);
  const subtotal = cartTotal(cart, items);
  const point: MapPoint | null = lat.trim() && lng.trim() && Number.isFinite(Number(lat)) && Number.isFinite(Number(lng)) ? { lat: Number(lat), lng: Number(lng) } : null;

  // The fee as the server will charge it, asked again when the point or the subtotal moves.
  const [quote, setQuote] = useState<DeliveryQuote | null>(null);
  useEffect(() => {
    let live = true;
    const t = window.setTimeout(() => {
      api.quote({ lat: point?.lat, lng: point?.lng, subtotal_cents: subtotal }).then(
        (q) => live && setQuote(q),
        () => live && setQuote(null),
      );
    }, 250);
    return () => {
      live = false;
      window.clearTimeout(t);
    };
  }, [point?.lat, point?.lng, subtotal]);
  const fee = quote?.deliverable ? (quote.fee_cents ?? 0) : null;
  const refused = quote && !quote.deliverable ? refusalText(quote) : null;

  if (lines.length === 0)
    return (
      <div className="empty">
        <span className="big" aria-hidden="true">
          <Icon name="cart" size={40} />
        </span>
        Your cart is empty.
        <div>
          <button type="button" className="btn btn-primary" onClick={onBack} style={{ marginTop: 12 }}>
            Browse the menu
          </button>
        </div>
      </div>
    );

  const locate = () => {
    if (!navigator.geolocation) return setError('Location is not available in this browser.');
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLat(p.coords.latitude.toFixed(6));
        setLng(p.coords.longitude.toFixed(6));
        setLocating(false);
      },
      () => {
        setError('Could not get your location. Type the address instead.');
        setLocating(false);
      },
      { timeout: 8000 },
    );
  };

  const place = () =>
    run(async () => {
      localStorage.setItem('brigade.customer.address', address);
      if (unanswered) {
        // The last attempt's answer was lost: it may have placed the order. The same request
        // with the same key tells (the server answers the order it made, or makes it now).
        try {
          const order = await api.placeOrder(unanswered.body, unanswered.key);
          setUnanswered(null);
          return done(order);
        } catch (e) {
          if (e instanceof ApiError && e.status === 0) throw e; // still no answer
          setUnanswered(null);
          setKey(newIdempotencyKey()); // refused: this checkout starts afresh
        }
      }
      const body = {
        items: lines.map((l) => ({ item_id: l.itemId, quantity: l.q, ...(l.options.length ? { options: l.options.map((o) => o.id) } : {}) })),
        delivery: { address: address.trim(), ...(point ? { lat: point.lat, lng: point.lng } : {}) },
        notes: notes.trim() || undefined,
        payment_method: payment,
      };
      try {
        done(await api.placeOrder(body, key));
      } catch (e) {
        if (e instanceof ApiError && (e.status === 0 || e.status >= 500)) setUnanswered({ key, body });
        throw e instanceof ApiError ? new Error(placeError(e)) : e;
      }
    });
  const done = (order: Order) => {
    sessionStorage.removeItem(DRAFT_KEY);
    onPlaced(order);
  };

  return (
    <form
      className="checkout"
      onSubmit={(e) => {
        e.preventDefault();
        void place();
      }}
    >
      <button type="button" className="btn btn-link back" onClick={onBack}>
        ← Menu
      </button>
      <h1>Your order</h1>
      <ul className="cart-lines card">
        {lines.map((l) => (
          <li key={l.key} className={!l.item?.available || l.missingOptions ? 'gone' : ''} data-testid="cart-line">
            <div>
              <strong>{l.item?.name ?? `Item ${l.itemId}`}</strong>
              {!l.item?.available && <span className="gone-note"> — no longer available</span>}
              {l.item?.available && l.missingOptions && <span className="gone-note"> — an option is no longer available</span>}
              {l.options.length > 0 && <div className="line-options">{l.options.map((o) => o.name).join(', ')}</div>}
              <div className="muted small num">{l.item ? formatMoney(l.unitCents * l.q) : ''}</div>
            </div>
            <Stepper name={l.item?.name ?? 'item'} q={l.q} onChange={(n) => setQty(l.key, n)} />
          </li>
        ))}
        <li className="total-line">
          <span>Subtotal</span>
          <strong className="num">{formatMoney(subtotal)}</strong>
        </li>
        <li data-testid="delivery-fee">
          <span>
            Delivery{quote?.distance_m != null && <span className="muted small"> · {(quote.distance_m / 1000).toFixed(1)} km</span>}
          </span>
          <span className="num">{fee == null ? '—' : fee === 0 ? 'Free' : formatMoney(fee)}</span>
        </li>
        <li className="total-line">
          <span>Total</span>
          <strong className="num" data-testid="checkout-total">
            {formatMoney(subtotal + (fee ?? 0))}
          </strong>
        </li>
      </ul>
      {refused && (
        <div className="notice" role="alert" data-testid="not-deliverable">
          {refused}
        </div>
      )}

      <h2>Delivery</h2>
      <div className="card">
        <Field label="Address">
          {(id) => (
            <textarea
              id={id}
              name="address"
              required={signedIn}
              maxLength={MAX_ADDRESS}
              value={address}
              onChange={(e) => set({ address: e.target.value })}
              placeholder="Street, number, floor, city"
              autoComplete="street-address"
              rows={2}
            />
          )}
        </Field>
        <div className="coords">
          <Field label="Latitude">
            {(id) => <input id={id} name="lat" inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} placeholder="52.3702" />}
          </Field>
          <Field label="Longitude">
            {(id) => <input id={id} name="lng" inputMode="decimal" value={lng} onChange={(e) => setLng(e.target.value)} placeholder="4.8952" />}
          </Field>
        </div>
        <p className="hint coords-hint">The delivery point prices the delivery and puts a pin on the rider's map.</p>
        <button type="button" className="btn btn-small" onClick={locate} disabled={locating}>
          <Icon name="location" /> {locating ? 'Locating…' : 'Use my location'}
        </button>
        {point && (
          <div style={{ marginTop: 12 }}>
            <DeliveryMap
              destination={point}
              label="Delivery pin"
              onPick={(p) => {
                setLat(p.lat.toFixed(6));
                setLng(p.lng.toFixed(6));
              }}
            />
            <p className="hint">Tap the map to move the pin.</p>
          </div>
        )}
        <Field label="Notes for the kitchen or rider (optional)">
          {(id) => <textarea id={id} name="notes" rows={2} maxLength={MAX_NOTES} value={notes} onChange={(e) => set({ notes: e.target.value })} placeholder="Ring twice, no onions…" />}
        </Field>
      </div>

      <h2>Payment</h2>
      <fieldset className="card payment-choice" data-testid="payment-choice">
        <legend className="sr-only">Pay on delivery</legend>
        <p className="hint">You pay the rider when your order arrives.</p>
        <label>
          <input type="radio" name="payment" value="cash" checked={payment === 'cash'} onChange={() => set({ payment: 'cash' })} /> Cash on delivery
        </label>
        <label>
          <input type="radio" name="payment" value="card" checked={payment === 'card'} onChange={() => set({ payment: 'card' })} /> Card on delivery (the rider brings a terminal)
        </label>
      </fieldset>
      <ErrorBanner message={error} />
      {unavailable.length > 0 && <div className="notice">Remove the items that are no longer available to continue.</div>}
      {unanswered && <div className="notice">We did not hear back about your order. Place it again: if it went through, you will be taken to it.</div>}
      <div className="checkout-bar">
        {!signedIn ? (
          // Not a submit: nothing needs filling in before signing in, and it all stays.
          <button className="btn btn-primary btn-large btn-block" type="button" onClick={onLogin} data-testid="place-order">
            Sign in to order
          </button>
        ) : (
          <button className="btn btn-primary btn-large btn-block" type="submit" disabled={busy || unavailable.length > 0 || !!closedNotice || !!refused} data-testid="place-order">
            {busy ? 'Placing your order…' : closedNotice ? 'Ordering is closed' : `Place order · ${formatMoney(subtotal + (fee ?? 0))}`}
          </button>
        )}
      </div>
    </form>
  );
}

const FIELD_NAMES: Record<string, string> = {
  'delivery.address': 'The address',
  'delivery.lat': 'The delivery point',
  'delivery.lng': 'The delivery point',
  notes: 'The note',
  payment_method: 'The payment method',
};

/** A refused order in plain words, naming the field. */
function placeError(e: ApiError): string {
  if (e.code === 'outside_delivery_area') return `Sorry, this address is outside our delivery area (${e.message}).`;
  if (e.code === 'below_minimum') return `Your order is under the minimum: ${e.message}.`;
  if (e.code === 'network') return e.message;
  if (e.code === 'invalid' && e.field) {
    const name = FIELD_NAMES[e.field] ?? (e.field.startsWith('items') ? 'An item in your cart' : e.field);
    return `${name} ${e.message.replace(/bytes/, 'characters')}.`;
  }
  return e.message;
}
