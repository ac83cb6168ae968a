import { formatDateTime, formatMoney, itemsSummary } from '../shared/format';
import { useMessages } from '../shared/i18n';
import { Icon } from '../shared/icons';
import type { Order } from '../shared/types';
import { ErrorBanner, Spinner, StatusPill } from '../shared/ui';
import { customer } from './messages';

/** The customer's orders, newest first. */
export function History({ orders, loaded, error, onRetry, onReorder }: { orders: Order[]; loaded: boolean; error: string | null; onRetry: () => void; onReorder: (o: Order) => void }) {
  const all = useMessages(customer);
  const m = all.history;
  if (!loaded) return error ? <ErrorBanner message={m.couldNotLoad(error)} onRetry={onRetry} /> : <Spinner label={m.loading} />;
  const list = [...orders].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  return (
    <div className="history">
      <h1>{m.title}</h1>
      <ErrorBanner message={error} onRetry={onRetry} />
      {list.length === 0 && (
        <p className="empty">
          <span className="big" aria-hidden="true">
            <Icon name="plate" size={40} />
          </span>
          {m.none} <a href="#/">{m.browseMenu}</a>
        </p>
      )}
      <ul className="history-list">
        {list.map((o) => (
          <li key={o.id}>
            <a href={`#/orders/${o.id}`} className="card history-item" data-testid="history-item" data-order-id={o.id}>
              <div className="history-top">
                <strong>{all.order.number(o.id)}</strong>
                <StatusPill status={o.status} label={o.status === 'pending' ? all.order.placed : undefined} />
              </div>
              <div className="small muted">{itemsSummary(o.items)}</div>
              <div className="history-bottom">
                <span className="small muted">{formatDateTime(o.created_at)}</span>
                <strong className="num">{formatMoney(o.total_cents)}</strong>
              </div>
            </a>
            {['delivered', 'rejected', 'cancelled'].includes(o.status) && (
              <button type="button" className="btn btn-small btn-ghost reorder" data-testid="reorder" onClick={() => onReorder(o)}>
                {m.orderAgain}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
