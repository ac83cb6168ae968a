import type { Api } from '../shared/api';
import { formatInZone } from '../shared/format';
import { useAction } from '../shared/hooks';
import type { Restaurant } from '../shared/types';
import { ErrorBanner } from '../shared/ui';
import { useState } from 'react';
import { autoPrintWanted, setAutoPrint } from './Ticket';
import { useMessages } from '../shared/i18n';
import { admin } from './messages';

const PAUSES = [15, 30, 60];
const BUSY = [0, 10, 20, 30];

/** One tap to pause ordering or add busy minutes; every panel hears it at once. */
export function KitchenControls({ api, restaurant, onChanged }: { api: Api; restaurant: Restaurant | null; onChanged: (r: Restaurant) => void }) {
  const m = useMessages(admin);
  const { busy, error, run } = useAction();
  const [autoPrint, setAuto] = useState(autoPrintWanted);
  if (!restaurant) return null;
  const r = restaurant;
  const update = (patch: Parameters<Api['updateRestaurant']>[0]) =>
    run(async () => onChanged(await api.updateRestaurant(patch)));
  let status: string;
  let tone: 'ok' | 'warn' | 'bad';
  if (r.paused_now) {
    status = r.paused_until ? m.pausedUntil(formatInZone(r.paused_until, r.timezone)) : m.paused;
    tone = 'bad';
  } else if (!r.open_now) {
    status = r.next_opening ? m.closedOpens(formatInZone(r.next_opening, r.timezone)) : m.closed;
    tone = 'warn';
  } else {
    status = r.closes_at ? m.takingOrdersCloses(formatInZone(r.closes_at, r.timezone)) : m.takingOrders;
    tone = 'ok';
  }
  return (
    <section className="kitchen-controls" aria-label={m.ordering} data-testid="kitchen-controls">
      <span className={`kitchen-status kitchen-${tone}`} data-testid="kitchen-status" role="status">
        {status}
      </span>
      <div className="kitchen-group" role="group" aria-label={m.pauseOrdering}>
        {r.paused_now ? (
          <button type="button" className="btn btn-small btn-ok" disabled={busy} data-testid="resume" onClick={() => void update({ paused: false })}>
            {m.resumeOrdering}
          </button>
        ) : (
          <>
            <span className="kitchen-label">{m.pause}</span>
            {PAUSES.map((min) => (
              <button key={min} type="button" className="btn btn-small" disabled={busy} data-testid={`pause-${min}`} onClick={() => void update({ pause_minutes: min })}>
                {m.minutes(min)}
              </button>
            ))}
          </>
        )}
      </div>
      <div className="kitchen-group" role="group" aria-label={m.busyAria}>
        <span className="kitchen-label">{m.busy}</span>
        {BUSY.map((min) => (
          <button
            key={min}
            type="button"
            className={r.busy_extra_minutes === min ? 'btn btn-small btn-dark' : 'btn btn-small'}
            aria-pressed={r.busy_extra_minutes === min}
            disabled={busy}
            data-testid={`busy-${min}`}
            onClick={() => void update({ busy_extra_minutes: min })}
          >
            {min === 0 ? m.busyOff : `+${min}`}
          </button>
        ))}
      </div>
      <label className="kitchen-group small">
        <input
          type="checkbox"
          checked={autoPrint}
          data-testid="auto-print"
          onChange={(e) => {
            setAutoPrint(e.target.checked);
            setAuto(e.target.checked);
          }}
          style={{ width: 'auto', minHeight: 0 }}
        />
        {m.printOnAccept}
      </label>
      <ErrorBanner message={error} />
    </section>
  );
}
