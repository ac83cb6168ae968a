import { useEffect, useState } from 'react';
import { formatMoney, formatTime, statusLabel } from '../shared/format';
import { useAction, useNow } from '../shared/hooks';
import { useMessages } from '../shared/i18n';
import { DeliveryMap } from '../shared/map';
import type { Order, OrderStatus, RiderLocation } from '../shared/types';
import { ErrorBanner, Spinner, StatusPill } from '../shared/ui';
import { askNotificationPermission, notificationPermission, type NotifyPermission } from '../shared/pwa';
import { api } from './customerApi';
import { estimateArrival } from './eta';
import { type CustomerMessages, customer } from './messages';

/** The timeline's steps (their labels: customer/messages.ts, order.steps). */
const STEPS = ['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'delivered'] as const satisfies readonly OrderStatus[];

/** Why the order stopped, in the panel's language when it is a reason the panels give themselves. */
function reasonText(m: CustomerMessages['order'], reason: string | null | undefined): string {
  if (!reason) return '';
  const known = [customer.en.order.cancelledByCustomer, customer.en.order.cancelledByRestaurant];
  if (reason.toLowerCase() === known[0].toLowerCase()) return m.cancelledByCustomer;
  if (reason.toLowerCase() === known[1].toLowerCase()) return m.cancelledByRestaurant;
  return reason;
}

/**
 * "Notify me": asks for the system notifications of this order's progress (shown while the
 * tab is hidden, web/src/customer/CustomerApp.tsx) — only when the customer asks, never on
 * page load.
 */
function NotifyMe() {
  const m = useMessages(customer).order;
  const [permission, setPermission] = useState<NotifyPermission>(notificationPermission);
  if (permission === 'unsupported' || permission === 'granted') return null;
  if (permission === 'denied')
    return (
      <p className="small muted" data-testid="notify-blocked">
        {m.notifyBlocked}
      </p>
    );
  return (
    <div className="card notify-me" data-testid="notify-me">
      <span className="small">{m.notifyPitch}</span>
      <button type="button" className="btn btn-small" onClick={() => void askNotificationPermission().then(setPermission)}>
        {m.notifyMe}
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
  const m = useMessages(customer).order;
  const { busy, error, run } = useAction();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const now = useNow(15000);
  useEffect(() => {
    void run(async () => onLoaded(await api.order(id)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  if (!order) return error ? <ErrorBanner message={m.couldNotLoad(error)} onRetry={() => void run(async () => onLoaded(await api.order(id)))} /> : <Spinner label={m.loading} />;

  const reached = new Map(order.history.map((h) => [h.status, h.at]));
  const stopped = order.status === 'rejected' || order.status === 'cancelled';
  const currentIdx = STEPS.findIndex((s) => s === order.status);
  const acceptedAt = reached.get('accepted');
  const readyAt = acceptedAt && order.prep_minutes ? new Date(new Date(acceptedAt).getTime() + order.prep_minutes * 60000) : null;
  const dest = order.delivery.lat != null && order.delivery.lng != null ? { lat: order.delivery.lat, lng: order.delivery.lng } : null;
  const rider = location ? { lat: location.lat, lng: location.lng } : null;
  const showMap = order.status === 'picked_up' || (dest && !stopped && order.status !== 'delivered') || !!rider;

  const arrival = estimateArrival(order, location, now);
  const methodName = (m.paymentMethods as Record<string, string>)[order.payment.method] ?? order.payment.method;
  let headline: string;
  let sub = '';
  switch (order.status) {
    case 'pending':
      headline = m.waiting;
      sub = m.waitingSub;
      break;
    case 'accepted':
    case 'preparing': {
      headline = order.status === 'accepted' ? m.accepted : m.preparing;
      if (readyAt) {
        const mins = Math.max(0, Math.round((readyAt.getTime() - now) / 60000));
        sub = mins > 0 ? m.readyIn(mins, formatTime(readyAt.toISOString())) : m.almostReady;
      }
      break;
    }
    case 'ready':
      headline = m.ready;
      sub = order.rider_id ? m.riderHeading : m.riderSoon;
      break;
    case 'picked_up':
      headline = m.onTheWay;
      sub = rider ? m.lastSeen(formatTime(location!.at)) : m.livePositionSoon;
      break;
    case 'delivered':
      headline = m.delivered;
      break;
    case 'rejected':
      headline = m.rejected;
      sub = order.status_reason === 'not_answered' ? m.notAnswered : reasonText(m, order.status_reason);
      break;
    default:
      headline = m.cancelled;
      sub = reasonText(m, order.status_reason);
  }

  return (
    <div className="order-page" data-testid="order-page" data-status={order.status}>
      <a href="#/orders" className="btn btn-link back">
        ← {m.allOrders}
      </a>
      <div className={`status-hero status-${order.status}`}>
        <div className="status-hero-top">
          <span className="muted small">{m.number(order.id)}</span>
          <StatusPill status={order.status} label={order.status === 'pending' ? m.placed : undefined} />
        </div>
        <h1 data-testid="order-headline">{headline}</h1>
        {sub && (
          <p className="eta" data-testid="eta">
            {sub}
          </p>
        )}
        {arrival != null && (
          <p className="arrival" data-testid="arrival" data-at={new Date(arrival).toISOString()}>
            {m.arrivesBefore} <strong>{formatTime(new Date(arrival).toISOString())}</strong>
            {m.arrivesAfter}
          </p>
        )}
      </div>

      {!['delivered', 'rejected', 'cancelled'].includes(order.status) && <NotifyMe />}

      {order.delivery_code && ['accepted', 'preparing', 'ready', 'picked_up', 'pending'].includes(order.status) && (
        <div className="card delivery-code" data-testid="delivery-code">
          <div>
            <strong>{m.deliveryCode}</strong>
            <div className="small muted">{m.deliveryCodeHint}</div>
          </div>
          <span className="code" aria-label={m.deliveryCodeLabel(order.delivery_code.split('').join(' '))}>
            {order.delivery_code}
          </span>
        </div>
      )}

      {order.status === 'pending' && (
        <div className="order-actions-row">
          {confirmCancel ? (
            <>
              <span>{m.cancelQuestion}</span>
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
                {m.yesCancel}
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirmCancel(false)} autoFocus>
                {m.keep}
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-small" data-testid="cancel-order" onClick={() => setConfirmCancel(true)}>
              {m.cancel}
            </button>
          )}
        </div>
      )}

      {showMap && (
        <div className="track-map">
          <DeliveryMap destination={dest} rider={rider} label={rider ? m.riderAt(rider.lat.toFixed(4), rider.lng.toFixed(4)) : m.deliveryAddress} />
          <p className="small muted" data-testid="rider-position" data-lat={rider?.lat ?? ''} data-lng={rider?.lng ?? ''}>
            {rider ? m.riderAtTime(rider.lat.toFixed(5), rider.lng.toFixed(5), formatTime(location!.at)) : dest ? m.yourDeliveryAddress : ''}
          </p>
        </div>
      )}

      <ol className="timeline" aria-label={m.progress}>
        {STEPS.map((s, i) => {
          const at = reached.get(s);
          const done = !!at || (!stopped && i <= currentIdx);
          const current = !stopped && i === currentIdx;
          return (
            <li key={s} className={`${done ? 'done' : ''} ${current ? 'current' : ''}`} data-step={s} data-done={done ? 'true' : 'false'} aria-current={current ? 'step' : undefined}>
              <span className="dot" aria-hidden="true">
                {done && !current ? '✓' : ''}
              </span>
              <span className="step-label">{m.steps[s]}</span>
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

      <section className="card receipt" aria-label={m.receipt}>
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
            <span>{m.deliveryFee}</span>
            <span className="num">{formatMoney(order.delivery_fee_cents)}</span>
          </li>
          <li className="total-line">
            <span>{m.total}</span>
            <strong className="num">{formatMoney(order.total_cents)}</strong>
          </li>
        </ul>
        <p className="small muted">{m.deliverTo(order.delivery.address)}</p>
      </section>
      <p className="small muted" data-testid="payment">
        {order.payment.status === 'paid'
          ? m.paidBy(methodName, formatMoney(order.total_cents))
          : order.status === 'rejected' || order.status === 'cancelled'
            ? m.nothingToPay
            : m.toPay(methodName, formatMoney(order.total_cents))}
      </p>

      {['delivered', 'rejected', 'cancelled'].includes(order.status) && (
        <button type="button" className="btn" data-testid="reorder" onClick={() => onReorder(order)}>
          {m.orderAgain}
        </button>
      )}
      <ErrorBanner message={error} />
    </div>
  );
}
