import { useMemo, useState } from 'react';
import type { Api } from '../shared/api';
import { dayIn, formatElapsed, formatMoney, formatTime, minutesSince, statusLabel } from '../shared/format';
import { useAction, useNow } from '../shared/hooks';
import type { Order, OrderStatus, Rider } from '../shared/types';
import { ErrorBanner, StatusPill } from '../shared/ui';
import { Icon } from '../shared/icons';
import { autoPrintWanted } from './Ticket';
import { useMessages } from '../shared/i18n';
import { admin, type AdminMessages } from './messages';

// The titles are the catalog's (m.columns[key]), read when the board renders.
const COLUMNS: { key: keyof AdminMessages['columns']; statuses: OrderStatus[] }[] = [
  { key: 'pending', statuses: ['pending'] },
  { key: 'accepted', statuses: ['accepted'] },
  { key: 'preparing', statuses: ['preparing'] },
  { key: 'ready', statuses: ['ready'] },
  { key: 'picked_up', statuses: ['picked_up'] },
  { key: 'done', statuses: ['delivered', 'rejected', 'cancelled'] },
];

interface BoardProps {
  api: Api;
  orders: Map<number, Order>;
  riders: Rider[];
  onChanged: (o: Order) => void;
  onAcknowledge: (orderId: number) => void;
  onRefreshRiders: () => void;
  /** The restaurant's auto_reject_after_s: pending cards count down to the server's rejection. */
  autoRejectAfterS?: number | null;
  /** The restaurant's time zone: "Done today" is its local day. */
  timeZone?: string;
  /** Prints an order's kitchen ticket (after an accept when automatic printing is on). */
  onPrint?: (o: Order) => void;
}

export function Board({ api, orders, riders, onChanged, onAcknowledge, onRefreshRiders, autoRejectAfterS, timeZone, onPrint }: BoardProps) {
  const m = useMessages(admin);
  const now = useNow(1000);
  const columns = useMemo(() => {
    const today = dayIn(new Date(), timeZone);
    return COLUMNS.map((col) => {
      let list = [...orders.values()].filter((o) => col.statuses.includes(o.status));
      if (col.key === 'done') {
        list = list.filter((o) => dayIn(o.updated_at, timeZone) === today).sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, 30);
      } else {
        list.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id); // oldest first: the most urgent
      }
      return { ...col, list };
    });
  }, [orders, timeZone]);
  const riderName = (id: number | null) => (id == null ? null : riders.find((r) => r.id === id)?.name ?? m.riderN(id));

  return (
    <div className="board" data-testid="board">
      {columns.map((col) => (
        <section key={col.key} className={`column column-${col.key}`} aria-labelledby={`col-${col.key}`} data-testid={`column-${col.key}`}>
          <h2 id={`col-${col.key}`} className="column-title">
            {m.columns[col.key]} <span className="count">{col.list.length}</span>
          </h2>
          <div className="column-body">
            {col.list.length === 0 && <p className="column-empty">{col.key === 'pending' ? m.noNewOrders : m.nothingHere}</p>}
            {col.list.map((o) => (
              <OrderCard
                key={o.id}
                api={api}
                order={o}
                now={now}
                riders={riders}
                riderName={riderName(o.rider_id)}
                onChanged={onChanged}
                onAcknowledge={onAcknowledge}
                onRefreshRiders={onRefreshRiders}
                autoRejectAfterS={autoRejectAfterS ?? null}
                onPrint={onPrint}
              />
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}

function urgency(o: Order, now: number): 'ok' | 'amber' | 'red' {
  if (['delivered', 'rejected', 'cancelled'].includes(o.status)) return 'ok';
  const m = minutesSince(o.created_at, now);
  // A new order should be answered within minutes; after that, the promise is prep time + delivery.
  const limit = o.status === 'pending' ? 5 : (o.prep_minutes ?? 20) + 15;
  if (m >= limit) return 'red';
  if (m >= limit * 0.7) return 'amber';
  return 'ok';
}

interface CardProps {
  api: Api;
  order: Order;
  now: number;
  riders: Rider[];
  riderName: string | null;
  onChanged: (o: Order) => void;
  onAcknowledge: (orderId: number) => void;
  onRefreshRiders: () => void;
  autoRejectAfterS: number | null;
  onPrint?: (o: Order) => void;
}

const PREP_CHOICES = [10, 15, 20, 30];

/** kMaxDeliveryCodeAttempts: after that many wrong codes the rider cannot mark the order delivered. */
const MAX_CODE_ATTEMPTS = 5;

function OrderCard({ api, order: o, now, riders, riderName, onChanged, onAcknowledge, onRefreshRiders, autoRejectAfterS, onPrint }: CardProps) {
  const m = useMessages(admin);
  const { busy, error, run } = useAction();
  const [prep, setPrep] = useState('15');
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [riderId, setRiderId] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [deliveredReason, setDeliveredReason] = useState('');
  const u = urgency(o, now);
  const final = ['delivered', 'rejected', 'cancelled'].includes(o.status);
  const online = riders.filter((r) => r.online);
  // Seconds until the server rejects this order as not answered (null: no such rule).
  const rejectIn = o.status === 'pending' && autoRejectAfterS ? Math.min(autoRejectAfterS, Math.max(0, Math.ceil((new Date(o.created_at).getTime() + autoRejectAfterS * 1000 - now) / 1000))) : null;
  const urgent = rejectIn != null && rejectIn <= 60;

  const move = (body: Parameters<Api['setStatus']>[1]) =>
    run(async () => {
      const updated = await api.setStatus(o.id, { ...body, if_version: o.version });
      onChanged(updated);
      onAcknowledge(o.id);
      if (body.status === 'accepted' && autoPrintWanted()) onPrint?.(updated);
    });

  // Only what the server says: "paid" when payment.status is paid, never otherwise.
  const paid = o.payment?.status === 'paid';
  const setPaid = (to: 'paid' | 'unpaid') =>
    run(async () => {
      onChanged(await api.setPayment(o.id, to));
    });
  const codeLocked = o.code_attempts >= MAX_CODE_ATTEMPTS;

  const assign = () =>
    run(async () => {
      const updated = await api.assign(o.id, Number(riderId));
      onChanged(updated);
      setRiderId('');
      onRefreshRiders();
    });

  return (
    <article className={`order-card urgency-${u}${urgent ? ' urgent' : ''}`} data-testid="order-card" data-order-id={o.id} data-status={o.status} aria-label={m.orderAria(o.id, statusLabel(o.status))}>
      <header className="order-head">
        <span className="order-id">#{o.id}</span>
        {final ? (
          <StatusPill status={o.status} />
        ) : (
          <span className={`elapsed elapsed-${u}`} title={m.placedAt(formatTime(o.created_at))}>
            <Icon name="clock" size={13} /> <span className="num">{formatElapsed(o.created_at, now)}</span>
          </span>
        )}
      </header>
      <ul className="order-items">
        {o.items.map((line, i) => (
          <li key={i}>
            <span className="qty">{line.quantity}×</span> {line.name}
            {line.options?.length > 0 && (
              <ul className="line-options" data-testid="line-options">
                {line.options.map((opt) => (
                  <li key={opt.id}>{opt.name}</li>
                ))}
              </ul>
            )}
            {line.notes && <em className="line-notes"> — {line.notes}</em>}
          </li>
        ))}
      </ul>
      {o.notes && <p className="order-notes">“{o.notes}”</p>}
      <div className="order-meta">
        <span className="order-customer">
          <Icon name="user" size={13} /> {o.customer_name || m.customerN(o.customer_id)}
        </span>
        <strong className="order-total num">{formatMoney(o.total_cents)}</strong>
      </div>
      {o.prep_minutes != null && !final && <div className="order-sub">{m.prepMinutes(o.prep_minutes)}</div>}
      <div className="order-address" title={o.delivery.address}>
        <Icon name="pin" size={13} /> {o.delivery.address}
      </div>
      {o.payment && (
        <div className="order-sub order-payment">
          <span data-testid="payment" data-payment-status={o.payment.status}>
            {m.method[o.payment.method] ?? o.payment.method} ·{' '}
            {(o.status === 'rejected' || o.status === 'cancelled') && !paid ? (
              <span className="pay-status">{m.nothingToPay}</span>
            ) : (
              <span className={`pay-status ${paid ? 'pay-paid' : 'pay-unpaid'}`}>{paid ? m.paid : m.unpaid}</span>
            )}
          </span>
          {(o.status === 'delivered' || o.status === 'picked_up') && (
            <button type="button" className="btn btn-link btn-small pay-toggle" disabled={busy} data-testid={paid ? 'mark-unpaid' : 'mark-paid'} onClick={() => void setPaid(paid ? 'unpaid' : 'paid')}>
              {paid ? m.markUnpaid : m.markPaid}
            </button>
          )}
        </div>
      )}
      {riderName && (
        <div className="order-sub order-rider" data-testid="rider-offer" data-offer={o.offer_expires_at ? 'offered' : o.rider_accepted_at ? 'accepted' : 'assigned'}>
          <Icon name="bike" size={14} /> {riderName}
          {o.offer_expires_at
            ? m.offered(Math.max(0, Math.round((Date.parse(o.offer_expires_at) - now) / 1000)))
            : o.rider_accepted_at
              ? m.riderAccepted
              : ''}
        </div>
      )}
      {o.declined_rider_ids?.length > 0 && !final && (
        <div className="order-sub muted" data-testid="declined">
          {m.declinedBy(o.declined_rider_ids.map((id) => riders.find((r) => r.id === id)?.name ?? m.riderN(id)).join(', '))}
        </div>
      )}
      {o.status_reason && <div className="order-sub">{m.reason(o.status_reason === 'not_answered' ? m.notAnswered : o.status_reason)}</div>}
      {rejectIn != null && (
        <div className="auto-reject" data-testid="auto-reject" role={urgent ? 'alert' : undefined}>
          {m.autoRejectIn} <span className="num">{Math.floor(rejectIn / 60)}:{String(rejectIn % 60).padStart(2, '0')}</span>
        </div>
      )}

      {o.status === 'pending' &&
        (rejecting ? (
          <form
            className="order-actions"
            onSubmit={(e) => {
              e.preventDefault();
              void move({ status: 'rejected', reason: reason.trim() });
            }}
          >
            <label className="sr-only" htmlFor={`reason-${o.id}`}>
              {m.rejectReasonLabel(o.id)}
            </label>
            <input id={`reason-${o.id}`} placeholder={m.rejectReasonPlaceholder} required value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
            <div className="row">
              <button type="submit" className="btn btn-small btn-danger" disabled={busy || !reason.trim()}>
                {m.rejectOrder}
              </button>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setRejecting(false)}>
                {m.back}
              </button>
            </div>
          </form>
        ) : (
          <form
            className="order-actions"
            onSubmit={(e) => {
              e.preventDefault();
              void move({ status: 'accepted', prep_minutes: Number(prep) });
            }}
          >
            <div className="prep-chips" role="group" aria-label={m.acceptWithPrep(o.id)}>
              {PREP_CHOICES.map((min) => (
                <button key={min} type="button" className="btn btn-small btn-ok" disabled={busy} data-testid={`accept-${min}`} onClick={() => void move({ status: 'accepted', prep_minutes: min })}>
                  {m.minutes(min)}
                </button>
              ))}
            </div>
            <div className="row">
              <label className="prep" htmlFor={`prep-${o.id}`}>
                {m.prep}
                <input id={`prep-${o.id}`} type="number" min={1} max={240} required value={prep} onChange={(e) => setPrep(e.target.value)} aria-label={m.prepMinutesFor(o.id)} />
                {m.min}
              </label>
              <button type="submit" className="btn btn-small btn-ok" disabled={busy}>
                {m.accept}
              </button>
              <button type="button" className="btn btn-small btn-danger" onClick={() => setRejecting(true)} disabled={busy}>
                {m.reject}
              </button>
            </div>
          </form>
        ))}

      {o.status === 'picked_up' && (
        <div className="order-sub order-code">
          {o.delivery_code && (
            <span data-testid="delivery-code" title={m.codeTitle}>
              {m.code} <strong className="num">{o.delivery_code}</strong>
            </span>
          )}
          {o.code_attempts > 0 && (
            <span data-testid="code-attempts" data-locked={codeLocked} className={codeLocked ? 'code-locked' : 'code-wrong'}>
              {codeLocked ? m.codeLocked : m.wrongCodes(o.code_attempts)}
            </span>
          )}
        </div>
      )}
      {o.status === 'picked_up' &&
        (confirming ? (
          <form
            className="order-actions"
            data-testid="confirm-delivered-form"
            onSubmit={(e) => {
              e.preventDefault();
              void move({ status: 'delivered', reason: deliveredReason.trim() });
            }}
          >
            <label className="sr-only" htmlFor={`delivered-reason-${o.id}`}>
              {m.deliveredReasonLabel(o.id)}
            </label>
            <input id={`delivered-reason-${o.id}`} placeholder={m.deliveredReasonPlaceholder} required value={deliveredReason} onChange={(e) => setDeliveredReason(e.target.value)} autoFocus />
            <div className="row">
              <button type="submit" className="btn btn-small btn-ok" disabled={busy || !deliveredReason.trim()} data-testid="confirm-delivered-submit">
                {m.confirmDelivered}
              </button>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)}>
                {m.back}
              </button>
            </div>
          </form>
        ) : (
          <div className="order-actions">
            <button type="button" className={`btn btn-small ${codeLocked ? 'btn-primary' : 'btn-ghost'}`} disabled={busy} data-testid="confirm-delivered" onClick={() => setConfirming(true)}>
              {m.confirmDelivered}
            </button>
          </div>
        ))}

      {['accepted', 'preparing', 'ready'].includes(o.status) && onPrint && (
        <button type="button" className="btn btn-link btn-small cancel-link" data-testid="print" onClick={() => onPrint(o)}>
          {m.printTicket}
        </button>
      )}
      {(o.status === 'accepted' || o.status === 'preparing') && (
        <div className="order-actions">
          <button type="button" className="btn btn-small btn-primary btn-block" disabled={busy} onClick={() => void move({ status: o.status === 'accepted' ? 'preparing' : 'ready' })}>
            {o.status === 'accepted' ? m.startPreparing : m.markReady}
          </button>
        </div>
      )}

      {['accepted', 'preparing', 'ready'].includes(o.status) && (
        <form
          className="order-actions assign"
          onSubmit={(e) => {
            e.preventDefault();
            if (riderId) void assign();
          }}
        >
          <label className="sr-only" htmlFor={`rider-${o.id}`}>
            {m.riderFor(o.id)}
          </label>
          <select id={`rider-${o.id}`} value={riderId} onChange={(e) => setRiderId(e.target.value)} onFocus={onRefreshRiders} disabled={busy}>
            <option value="">{online.length ? (o.rider_id ? m.reassignRider : m.assignRider) : m.noRiderOnline}</option>
            {online.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
                {r.active_order_ids.length ? m.activeOrders(r.active_order_ids.length) : ''}
              </option>
            ))}
          </select>
          <button type="submit" className="btn btn-small btn-dark" disabled={busy || !riderId}>
            {m.assign}
          </button>
        </form>
      )}

      {!final && o.status !== 'picked_up' && o.status !== 'pending' && (
        <button type="button" className="btn btn-link btn-small cancel-link" disabled={busy} onClick={() => confirm(m.cancelConfirm(o.id)) && void move({ status: 'cancelled', reason: m.cancelledByRestaurant })}>
          {m.cancelOrder}
        </button>
      )}
      <ErrorBanner message={error} />
    </article>
  );
}
