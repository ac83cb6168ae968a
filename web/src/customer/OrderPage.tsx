import { useEffect, useState } from 'react';
import { formatMoney, formatTime, statusLabel } from '../shared/format';
import { useAction, useNow } from '../shared/hooks';
import { DeliveryMap } from '../shared/map';
import type { Order, OrderStatus, RiderLocation } from '../shared/types';
import { ErrorBanner, Spinner, StatusPill } from '../shared/ui';
import { askNotificationPermission, notificationPermission, type NotifyPermission } from '../shared/pwa';
import { api } from './customerApi';
import { estimateArrival } from './eta';

const STEPS: { status: OrderStatus; label: string }[] = [
  { status: 'pending', label: 'Order placed' },
  { status: 'accepted', label: 'Accepted by the restaurant' },
  { status: 'preparing', label: 'Being prepared' },
  { status: 'ready', label: 'Ready for pickup' },
  { status: 'picked_up', label: 'On the way' },
  { status: 'delivered', label: 'Delivered' },
];

/**
 * "Notify me": asks for the system notifications of this order's progress (shown while the
 * tab is hidden, web/src/customer/CustomerApp.tsx) — only when the customer asks, never on
 * page load.
 */
function NotifyMe() {
  const [permission, setPermission] = useState<NotifyPermission>(notificationPermission);
  if (permission === 'unsupported' || permission === 'granted') return null;
  if (permission === 'denied')
    return (
      <p className="small muted" data-testid="notify-blocked">
        Notifications are blocked for this site in your browser's settings.
      </p>
    );
  return (
    <div className="card notify-me" data-testid="notify-me">
      <span className="small">Get a notification when your order moves on, even with this tab in the background.</span>
      <button type="button" className="btn btn-small" onClick={() => void askNotificationPermission().then(setPermission)}>
        Notify me
      </button>
    </div>
  );
}

/** One order, live: where it stands, the map, the timeline, the receipt. */
export function OrderPage({
  id,
  order,
  onLoaded,
  location,
  onReorder,
}: {
  id: number;
  order: Order | undefined;
  onLoaded: (o: Order) => void;
  location?: RiderLocation;
  onReorder: (o: Order) => void;
}) {
  const { busy, error, run } = useAction();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const now = useNow(15000);
  useEffect(() => {
    void run(async () => onLoaded(await api.order(id)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  if (!order) return error ? <ErrorBanner message={`Could not load the order: ${error}`} onRetry={() => void run(async () => onLoaded(await api.order(id)))} /> : <Spinner label="Loading your order…" />;

  const reached = new Map(order.history.map((h) => [h.status, h.at]));
  const stopped = order.status === 'rejected' || order.status === 'cancelled';
  const currentIdx = STEPS.findIndex((s) => s.status === order.status);
  const acceptedAt = reached.get('accepted');
  const readyAt = acceptedAt && order.prep_minutes ? new Date(new Date(acceptedAt).getTime() + order.prep_minutes * 60000) : null;
  const dest = order.delivery.lat != null && order.delivery.lng != null ? { lat: order.delivery.lat, lng: order.delivery.lng } : null;
  const rider = location ? { lat: location.lat, lng: location.lng } : null;
  const showMap = order.status === 'picked_up' || (dest && !stopped && order.status !== 'delivered') || !!rider;

  const arrival = estimateArrival(order, location, now);
  let headline: string;
  let sub = '';
  switch (order.status) {
    case 'pending':
      headline = 'Waiting for the restaurant';
      sub = 'They usually answer within a couple of minutes.';
      break;
    case 'accepted':
    case 'preparing': {
      headline = order.status === 'accepted' ? 'Order accepted' : 'Your food is being prepared';
      if (readyAt) {
        const mins = Math.max(0, Math.round((readyAt.getTime() - now) / 60000));
        sub = mins > 0 ? `Ready in about ${mins} min (around ${formatTime(readyAt.toISOString())})` : 'Almost ready';
      }
      break;
    }
    case 'ready':
      headline = 'Ready — waiting for the rider';
      sub = order.rider_id ? 'Your rider is heading to the restaurant.' : 'A rider will be assigned shortly.';
      break;
    case 'picked_up':
      headline = 'Your rider is on the way';
      sub = rider ? `Last seen ${formatTime(location!.at)}` : 'Live position appears as soon as the rider shares it.';
      break;
    case 'delivered':
      headline = 'Delivered — enjoy your meal!';
      break;
    case 'rejected':
      headline = 'The restaurant could not take this order';
      sub = order.status_reason === 'not_answered' ? 'The kitchen did not answer in time, so the order was not accepted.' : (order.status_reason ?? '');
      break;
    default:
      headline = 'Order cancelled';
      sub = order.status_reason ?? '';
  }

  return (
    <div className="order-page" data-testid="order-page" data-status={order.status}>
      <a href="#/orders" className="btn btn-link back">
        ← All orders
      </a>
      <div className={`status-hero status-${order.status}`}>
        <div className="status-hero-top">
          <span className="muted small">Order #{order.id}</span>
          <StatusPill status={order.status} label={order.status === 'pending' ? 'Placed' : undefined} />
        </div>
        <h1 data-testid="order-headline">{headline}</h1>
        {sub && (
          <p className="eta" data-testid="eta">
            {sub}
          </p>
        )}
        {arrival != null && (
          <p className="arrival" data-testid="arrival" data-at={new Date(arrival).toISOString()}>
            Arrives around <strong>{formatTime(new Date(arrival).toISOString())}</strong>
          </p>
        )}
      </div>

      {!['delivered', 'rejected', 'cancelled'].includes(order.status) && <NotifyMe />}

      {order.delivery_code && ['accepted', 'preparing', 'ready', 'picked_up', 'pending'].includes(order.status) && (
        <div className="card delivery-code" data-testid="delivery-code">
          <div>
            <strong>Your delivery code</strong>
            <div className="small muted">Tell it to the rider when your order arrives.</div>
          </div>
          <span className="code" aria-label={`Delivery code ${order.delivery_code.split('').join(' ')}`}>
            {order.delivery_code}
          </span>
        </div>
      )}

      {order.status === 'pending' && (
        <div className="order-actions-row">
          {confirmCancel ? (
            <>
              <span>Cancel this order?</span>
              <button
                type="button"
                className="btn btn-small btn-danger"
                data-testid="confirm-cancel"
                disabled={busy}
                onClick={() =>
                  void run(async () => {
                    onLoaded(await api.setStatus(order.id, { status: 'cancelled', reason: 'cancelled by the customer' }));
                    setConfirmCancel(false);
                  })
                }
              >
                Yes, cancel it
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirmCancel(false)} autoFocus>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-small" data-testid="cancel-order" onClick={() => setConfirmCancel(true)}>
              Cancel order
            </button>
          )}
        </div>
      )}

      {showMap && (
        <div className="track-map">
          <DeliveryMap destination={dest} rider={rider} label={rider ? `Rider at ${rider.lat.toFixed(4)}, ${rider.lng.toFixed(4)}` : 'Delivery address'} />
          <p className="small muted" data-testid="rider-position" data-lat={rider?.lat ?? ''} data-lng={rider?.lng ?? ''}>
            {rider ? `Rider at ${rider.lat.toFixed(5)}, ${rider.lng.toFixed(5)} · ${formatTime(location!.at)}` : dest ? 'Your delivery address' : ''}
          </p>
        </div>
      )}

      <ol className="timeline" aria-label="Order progress">
        {STEPS.map((s, i) => {
          const at = reached.get(s.status);
          const done = !!at || (!stopped && i <= currentIdx);
          const current = !stopped && i === currentIdx;
          return (
            <li key={s.status} className={`${done ? 'done' : ''} ${current ? 'current' : ''}`} data-step={s.status} data-done={done ? 'true' : 'false'} aria-current={current ? 'step' : undefined}>
              <span className="dot" aria-hidden="true">
                {done && !current ? '✓' : ''}
              </span>
              <span className="step-label">{s.label}</span>
              <span className="step-time num">{at ? formatTime(at) : ''}</span>
            </li>
          );
        })}
        {stopped && (
          <li className="done stopped" data-step={order.status}>
            <span className="dot" aria-hidden="true">
              ✕
            </span>
            <span className="step-label">{statusLabel(order.status)}</span>
            <span className="step-time num">{reached.get(order.status) ? formatTime(reached.get(order.status)!) : ''}</span>
          </li>
        )}
      </ol>

      <section className="card receipt" aria-label="Receipt">
        <ul>
          {order.items.map((l, i) => (
            <li key={i}>
              <span>
                {l.quantity}× {l.name}
                {l.options?.length > 0 && <span className="line-options"> · {l.options.map((o) => o.name).join(', ')}</span>}
              </span>
              <span className="num">{formatMoney(l.unit_price_cents * l.quantity)}</span>
            </li>
          ))}
          <li className="muted">
            <span>Delivery</span>
            <span className="num">{formatMoney(order.delivery_fee_cents)}</span>
          </li>
          <li className="total-line">
            <span>Total</span>
            <strong className="num">{formatMoney(order.total_cents)}</strong>
          </li>
        </ul>
        <p className="small muted">Deliver to: {order.delivery.address}</p>
      </section>
      <p className="small muted" data-testid="payment">
        {order.payment.status === 'paid'
          ? `Paid by ${order.payment.method} · ${formatMoney(order.total_cents)}`
          : order.status === 'rejected' || order.status === 'cancelled'
            ? 'Nothing to pay.'
            : `To pay on delivery by ${order.payment.method}: ${formatMoney(order.total_cents)}`}
      </p>

      {['delivered', 'rejected', 'cancelled'].includes(order.status) && (
        <button type="button" className="btn" data-testid="reorder" onClick={() => onReorder(order)}>
          Order this again
        </button>
      )}
      <ErrorBanner message={error} />
    </div>
  );
}
