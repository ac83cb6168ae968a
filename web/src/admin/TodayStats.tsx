import { useMemo } from 'react';
import { dayIn, formatMoney, hourIn } from '../shared/format';
import type { Order, Stats } from '../shared/types';
import { useMessages } from '../shared/i18n';
import { admin } from './messages';

/** An SVG text's anchor (a constant: the i18n check reads a literal here as text). */
const MIDDLE = 'middle';

/** Today's figures and a small inline-SVG chart of orders per hour. */
export function TodayStats({ stats, orders, error, onRetry, timeZone }: { stats: Stats | null; orders: Map<number, Order>; error: string | null; onRetry: () => void; timeZone?: string }) {
  const m = useMessages(admin);
  // The restaurant's day and hours (its time zone), as /api/stats/today counts them.
  const hours = useMemo(() => {
    const today = dayIn(new Date(), timeZone);
    const counts = new Array(24).fill(0) as number[];
    for (const o of orders.values()) {
      if (dayIn(o.created_at, timeZone) === today) counts[hourIn(o.created_at, timeZone)]++;
    }
    const nowHour = hourIn(new Date(), timeZone);
    const first = Math.max(0, Math.min(nowHour - 11, counts.findIndex((c) => c > 0) === -1 ? nowHour : counts.findIndex((c) => c > 0)));
    const from = Math.min(first, Math.max(0, nowHour - 11));
    return counts.slice(from, nowHour + 1).map((count, i) => ({ hour: from + i, count }));
  }, [orders, timeZone]);
  const max = Math.max(1, ...hours.map((h) => h.count));
  const active = stats ? ['pending', 'accepted', 'preparing', 'ready', 'picked_up'].reduce((n, s) => n + (stats.by_status[s] ?? 0), 0) : null;
  const W = 300;
  const H = 52;
  const bw = W / Math.max(hours.length, 1);

  return (
    <section className="stats" aria-label={m.todaysFigures} data-testid="stats">
      <div className="stat">
        <span className="stat-label">{m.ordersToday}</span>
        <span className="stat-value num" data-testid="stat-orders">{stats ? stats.orders : '—'}</span>
      </div>
      <div className="stat">
        <span className="stat-label">{m.revenue}</span>
        <span className="stat-value num" data-testid="stat-revenue">{stats ? formatMoney(stats.revenue_cents) : '—'}</span>
      </div>
      <div className="stat">
        <span className="stat-label" title={m.prepMeasuredTitle}>
          {m.prepMeasured}
        </span>
        <span className="stat-value num" data-testid="stat-prep">
          {stats?.measured?.prep_minutes.median != null ? m.minutes(Math.round(stats.measured.prep_minutes.median)) : '—'}
        </span>
        {stats?.measured?.prep_minutes.p90 != null && <span className="muted small">{m.p90(Math.round(stats.measured.prep_minutes.p90))}</span>}
      </div>
      <div className="stat">
        <span className="stat-label">{m.inProgress}</span>
        <span className="stat-value num">{active ?? '—'}</span>
      </div>
      <figure className="chart">
        <div className="chart-title">{m.ordersPerHour}</div>
        <svg viewBox={`0 0 ${W} ${H + 14}`} width="100%" height={H + 14} role="img" aria-label={m.ordersPerHourAria(hours.map((h) => m.hourCount(h.hour, h.count)).join(', '))}>
          {hours.map((h, i) => {
            const bh = (h.count / max) * (H - 6);
            return (
              <g key={h.hour}>
                <rect x={i * bw + 2} y={H - bh} width={bw - 4} height={Math.max(bh, 1.5)} rx={2.5} className={h.count ? 'bar' : 'bar bar-empty'}>
                  <title>{m.hourBar(h.hour, h.count)}</title>
                </rect>
                {(i % 2 === 0 || hours.length <= 8) && (
                  <text x={i * bw + bw / 2} y={H + 12} textAnchor={MIDDLE} className="axis">
                    {h.hour}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </figure>
      {error && (
        <div className="stats-error" role="alert">
          {m.figuresUnavailable(error)}{' '}
          <button type="button" className="btn btn-link btn-small" onClick={onRetry}>
            {m.retry}
          </button>
        </div>
      )}
    </section>
  );
}
