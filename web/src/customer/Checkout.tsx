import { useState } from 'react';
import { newIdempotencyKey } from '../shared/api';
import { formatMoney } from '../shared/format';
import { useAction } from '../shared/hooks';
import { Icon } from '../shared/icons';
import { DeliveryMap, type MapPoint } from '../shared/map';
import type { MenuItem, Order } from '../shared/types';
import { ErrorBanner, Field } from '../shared/ui';
import { type Cart, cartLines, cartTotal } from './cart';
import { api } from './customerApi';
import { Stepper } from './Stepper';

/** The cart, the delivery point and address, and Place order. */
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
  const [address, setAddress] = useState(() => localStorage.getItem('brigade.customer.address') ?? '');
  const [lat, setLat] = useState('');
  const [lng, setLng] = useState('');
  const [notes, setNotes] = useState('');
  const [key] = useState(newIdempotencyKey); // one key per checkout: a double tap never orders twice
  const { busy, error, setError, run } = useAction();
  const [locating, setLocating] = useState(false);
  const lines = cartLines(cart, items);
  const unavailable = lines.filter((l) => !l.item || !l.item.available || l.missingOptions);
  const subtotal = cartTotal(cart, items);
  const point: MapPoint | null = lat.trim() && lng.trim() && Number.isFinite(Number(lat)) && Number.isFinite(Number(lng)) ? { lat: Number(lat), lng: Number(lng) } : null;

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
      const order = await api.placeOrder(
        {
          items: lines.map((l) => ({ item_id: l.itemId, quantity: l.q, ...(l.options.length ? { options: l.options.map((o) => o.id) } : {}) })),
          delivery: { address: address.trim(), ...(point ? { lat: point.lat, lng: point.lng } : {}) },
          notes: notes.trim() || undefined,
        },
        key,
      );
      onPlaced(order);
    });

  return (
    <form
      className="checkout"
      onSubmit={(e) => {
        e.preventDefault();
        if (!signedIn) onLogin();
        else void place();
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
        <li className="muted small">A delivery fee is added by the restaurant; you'll see the final total on your order.</li>
      </ul>

      <h2>Delivery</h2>
      <div className="card">
        <Field label="Address">
          {(id) => <textarea id={id} name="address" required value={address} onChange={(e) => setAddress(e.target.value)} placeholder="Street, number, floor, city" autoComplete="street-address" rows={2} />}
        </Field>
        <div className="coords">
          <Field label="Latitude">
            {(id) => <input id={id} name="lat" inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} placeholder="52.3702" />}
          </Field>
          <Field label="Longitude">
            {(id) => <input id={id} name="lng" inputMode="decimal" value={lng} onChange={(e) => setLng(e.target.value)} placeholder="4.8952" />}
          </Field>
        </div>
        <p className="hint coords-hint">Optional: coordinates put a pin on the rider's map.</p>
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
          {(id) => <input id={id} name="notes" value={notes} onChange={(e) => setNotes(e.target.value)} placeholder="Ring twice, no onions…" />}
        </Field>
      </div>
      <ErrorBanner message={error} />
      {unavailable.length > 0 && <div className="notice">Remove the items that are no longer available to continue.</div>}
      <div className="checkout-bar">
        <button className="btn btn-primary btn-large btn-block" type="submit" disabled={busy || unavailable.length > 0 || (signedIn && !!closedNotice)} data-testid="place-order">
          {busy ? 'Placing your order…' : !signedIn ? 'Sign in to order' : closedNotice ? 'Ordering is closed' : `Place order · ${formatMoney(subtotal)}`}
        </button>
      </div>
    </form>
  );
}
