import { useEffect, useState } from 'react';
import { ApiError, newIdempotencyKey } from '../shared/api';
import { errorSentence, errorText } from '../shared/errors';
import { formatMoney } from '../shared/format';
import { useAction } from '../shared/hooks';
import { intlLocale, useMessages } from '../shared/i18n';
import { Icon } from '../shared/icons';
import { DeliveryMap, type MapPoint } from '../shared/map';
import type { DeliveryArea, DeliveryQuote, MenuItem, Order, PaymentMethod } from '../shared/types';
import { ErrorBanner, Field } from '../shared/ui';
import { type Cart, cartLines, cartTotal } from './cart';
import { api } from './customerApi';
import { type CustomerMessages, customer } from './messages';
import { Stepper } from './Stepper';

type Words = CustomerMessages['checkout'];

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

/** A distance in kilometres, one decimal: "2.5 km". */
function formatKm(metres: number): string {
  return new Intl.NumberFormat(intlLocale(), { style: 'unit', unit: 'kilometer', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(metres / 1000);
}

/** Outside the area, with how far it reaches and how far the address is when known. */
function outsideText(m: Words, area: DeliveryArea | null, distance: number | null | undefined): string {
  const reach = area?.bands.length ? area.bands[area.bands.length - 1].up_to_m : null;
  return reach != null && distance != null ? m.outsideArea(formatKm(reach), formatKm(distance)) : m.outsideAreaShort;
}

/** The quote's refusal in plain words. */
function refusalText(q: DeliveryQuote, m: Words, area: DeliveryArea | null): string {
  switch (q.reason?.code) {
    case 'outside_delivery_area':
      return outsideText(m, area, q.distance_m);
    case 'below_minimum':
      return m.minimum(formatMoney(q.min_subtotal_cents));
    case 'invalid':
      return m.needPoint;
    default:
      return (q.reason && errorSentence(q.reason.code)) ?? m.cannotDeliver;
  }
}

/** The cart, the delivery point and address, payment, the delivery fee and Place order. */
export function Checkout({
  cart,
  items,
  setQty,
  signedIn,
  closedNotice,
  deliveryArea,
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
  /** The restaurant's delivery area (null: it has none, or it is not known yet). */
  deliveryArea: DeliveryArea | null;
  onLogin: () => void;
  onPlaced: (o: Order) => void;
  onBack: () => void;
}) {
  const m = useMessages(customer).checkout;
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
  // A refused order, put in words at render (naming the field, in the language shown).
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const [locating, setLocating] = useState(false);
  const lines = cartLines(cart, items);
  const unavailable = lines.filter((l) => !l.item || !l.item.available || l.missingOptions);
  const subtotal = cartTotal(cart, items);
  const point: MapPoint | null = lat.trim() && lng.trim() && Number.isFinite(Number(lat)) && Number.isFinite(Number(lng)) ? { lat: Number(lat), lng: Number(lng) } : null;

  // The fee as the server will charge it, asked again when the point or the subtotal moves.
  // Place order waits for the quote of what is on screen, so the total on the button is the
  // one the order will have (a quote that failed lets the order go: the server prices it).
  const quoteFor = `${point?.lat},${point?.lng},${subtotal}`;
  const [quoted, setQuoted] = useState<{ for: string; quote: DeliveryQuote | null } | null>(null);
  useEffect(() => {
    let live = true;
    const t = window.setTimeout(() => {
      api.quote({ lat: point?.lat, lng: point?.lng, subtotal_cents: subtotal }).then(
        (q) => live && setQuoted({ for: quoteFor, quote: q }),
        () => live && setQuoted({ for: quoteFor, quote: null }),
      );
    }, 250);
    return () => {
      live = false;
      window.clearTimeout(t);
    };
  }, [quoteFor]); // eslint-disable-line react-hooks/exhaustive-deps
  const quoting = quoted?.for !== quoteFor;
  const quote = quoted?.quote ?? null; // the last one: its refusal stays on screen while asking again
  const fee = !quoting && quote?.deliverable ? (quote.fee_cents ?? 0) : null;
  const refused = quote && !quote.deliverable ? refusalText(quote, m, deliveryArea) : null;

  if (lines.length === 0)
    return (
      <div className="empty">
        <span className="big" aria-hidden="true">
          <Icon name="cart" size={40} />
        </span>
        {m.empty}
        <div>
          <button type="button" className="btn btn-primary" onClick={onBack} style={{ marginTop: 12 }}>
            {m.browseMenu}
          </button>
        </div>
      </div>
    );

  const locate = () => {
    if (!navigator.geolocation) return setError(m.noGeolocation);
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLat(p.coords.latitude.toFixed(6));
        setLng(p.coords.longitude.toFixed(6));
        setLocating(false);
      },
      () => {
        setError(m.locationFailed);
        setLocating(false);
      },
      { timeout: 8000 },
    );
  };

  const place = () => {
    setRefusal(null);
    return run(async () => {
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
        if (e instanceof ApiError && e.status > 0 && e.status < 500) return setRefusal(e);
        throw e;
      }
    });
  };
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
        {m.backToMenu}
      </button>
      <h1>{m.title}</h1>
      <ul className="cart-lines card">
        {lines.map((l) => (
          <li key={l.key} className={!l.item?.available || l.missingOptions ? 'gone' : ''} data-testid="cart-line">
            <div>
              <strong>{l.item?.name ?? m.itemFallback(l.itemId)}</strong>
              {!l.item?.available && <span className="gone-note"> — {m.noLongerAvailable}</span>}
              {l.item?.available && l.missingOptions && <span className="gone-note"> — {m.optionNoLongerAvailable}</span>}
              {l.options.length > 0 && <div className="line-options">{l.options.map((o) => o.name).join(', ')}</div>}
              <div className="muted small num">{l.item ? formatMoney(l.unitCents * l.q) : ''}</div>
            </div>
            <Stepper name={l.item?.name ?? m.itemWord} q={l.q} onChange={(n) => setQty(l.key, n)} />
          </li>
        ))}
        <li className="total-line">
          <span>{m.subtotal}</span>
          <strong className="num">{formatMoney(subtotal)}</strong>
        </li>
        <li data-testid="delivery-fee">
          <span>
            {m.deliveryFee}
            {!quoting && quote?.distance_m != null && <span className="muted small"> · {formatKm(quote.distance_m)}</span>}
          </span>
          <span className="num">{fee == null ? '—' : fee === 0 ? m.free : formatMoney(fee)}</span>
        </li>
        <li className="total-line">
          <span>{m.total}</span>
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

      <h2>{m.deliveryHeading}</h2>
      <div className="card">
        <Field label={m.address}>
          {(id) => (
            <textarea
              id={id}
              name="address"
              required={signedIn}
              maxLength={MAX_ADDRESS}
              value={address}
              onChange={(e) => set({ address: e.target.value })}
              placeholder={m.addressPlaceholder}
              autoComplete="street-address"
              rows={2}
            />
          )}
        </Field>
        <div className="coords">
          <Field label={m.latitude}>
            {(id) => <input id={id} name="lat" inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} placeholder="52.3702" />}
          </Field>
          <Field label={m.longitude}>
            {(id) => <input id={id} name="lng" inputMode="decimal" value={lng} onChange={(e) => setLng(e.target.value)} placeholder="4.8952" />}
          </Field>
        </div>
        <p className="hint coords-hint">{m.coordsHint}</p>
        <button type="button" className="btn btn-small" onClick={locate} disabled={locating}>
          <Icon name="location" /> {locating ? m.locating : m.useMyLocation}
        </button>
        {point && (
          <div style={{ marginTop: 12 }}>
            <DeliveryMap
              destination={point}
              label={m.deliveryPin}
              onPick={(p) => {
                setLat(p.lat.toFixed(6));
                setLng(p.lng.toFixed(6));
              }}
            />
            <p className="hint">{m.tapMap}</p>
          </div>
        )}
        <Field label={m.notes}>
          {(id) => <textarea id={id} name="notes" rows={2} maxLength={MAX_NOTES} value={notes} onChange={(e) => set({ notes: e.target.value })} placeholder={m.notesPlaceholder} />}
        </Field>
      </div>

      <h2>{m.payment}</h2>
      <fieldset className="card payment-choice" data-testid="payment-choice">
        <legend className="sr-only">{m.payOnDelivery}</legend>
        <p className="hint">{m.payHint}</p>
        <label>
          <input type="radio" name="payment" value="cash" checked={payment === 'cash'} onChange={() => set({ payment: 'cash' })} /> {m.cash}
        </label>
        <label>
          <input type="radio" name="payment" value="card" checked={payment === 'card'} onChange={() => set({ payment: 'card' })} /> {m.card}
        </label>
      </fieldset>
      <ErrorBanner message={refusal ? placeError(refusal, m, { area: deliveryArea, distance: quote?.distance_m, min: quote?.min_subtotal_cents ?? deliveryArea?.min_subtotal_cents, subtotal, address, point: !!point }) : error} />
      {unavailable.length > 0 && <div className="notice">{m.removeUnavailable}</div>}
      {unanswered && <div className="notice">{m.unanswered}</div>}
      <div className="checkout-bar">
        {!signedIn ? (
          // Not a submit: nothing needs filling in before signing in, and it all stays.
          <button className="btn btn-primary btn-large btn-block" type="button" onClick={onLogin} data-testid="place-order">
            {m.signInToOrder}
          </button>
        ) : (
          <button className="btn btn-primary btn-large btn-block" type="submit" disabled={busy || quoting || unavailable.length > 0 || !!closedNotice || !!refused} aria-busy={quoting} data-testid="place-order">
            {busy ? m.placing : closedNotice ? m.orderingClosed : m.placeOrder(formatMoney(subtotal + (fee ?? 0)))}
          </button>
        )}
      </div>
    </form>
  );
}

/**
 * A refused order in plain words, naming the field: built from the error's code and field and
 * what the page knows (the area, the quote, the form), never from the server's English.
 */
function placeError(
  e: ApiError,
  m: Words,
  known: { area: DeliveryArea | null; distance: number | null | undefined; min: number | undefined; subtotal: number; address: string; point: boolean },
): string {
  if (e.code === 'outside_delivery_area') return outsideText(m, known.area, known.distance);
  if (e.code === 'below_minimum' && known.min != null) return m.underMinimum(formatMoney(known.min), formatMoney(known.subtotal));
  if (e.code === 'invalid' && e.field) {
    if (e.field === 'delivery.address' || e.field === 'delivery') return known.address.trim() ? m.addressTooLong : m.addressRequired;
    if (e.field === 'delivery.lat' || e.field === 'delivery.lng') return known.point ? m.pointInvalid : m.needPoint;
    if (e.field === 'notes') return m.notesTooLong;
    if (e.field === 'payment_method') return m.paymentInvalid;
    if (e.field.startsWith('items')) return m.itemInvalid;
  }
  return errorText(e);
}
