import type { Api } from '../shared/api';
import { formatInZone } from '../shared/format';
import { useAction } from '../shared/hooks';
import type { Restaurant } from '../shared/types';
import { ErrorBanner } from '../shared/ui';
import { useState } from 'react';
import { autoPrintWanted, setAutoPrint } from './Ticket';

const PAUSES = [15, 30, 60];
const BUSY = [0, 10, 20, 30];

/** One tap to pause ordering or add busy minutes; every panel hears it at once. */
export function KitchenControls({ api, restaurant, onChanged }: { api: Api; restaurant: Restaurant | null; onChanged: (r: Restaurant) => void }) {
  const { busy, error, run } = useAction();
  const [autoPrint, setAuto] = useState(autoPrintWanted);
  if (!restaurant) return null;
  const r = restaurant;
  const update = (patch: Parameters<Api['updateRestaurant']>[0]) =>
    run(async () => onChanged(await api.updateRestaurant(patch)));
  let status: string;
  let tone: 'ok' | 'warn' | 'bad';
  if (r.paused_now) {
    status = r.paused_until ? `Paused until ${formatInZone(r.paused_until, r.timezone)}` : 'Paused';
    tone = 'bad';
  } else if (!r.open_now) {
    status = r.next_opening ? `Closed · opens ${formatInZone(r.next_opening, r.timezone)}` : 'Closed';
    tone = 'warn';
  } else {
    status = r.closes_at ? `Taking orders · closes ${formatInZone(r.closes_at, r.timezone)}` : 'Taking orders';
    tone = 'ok';
  }
  return (
    <section className="kitchen-controls" aria-label="Ordering" data-testid="kitchen-controls">
      <span className={`kitchen-status kitchen-${tone}`} data-testid="kitchen-status" role="status">
        {status}
      </span>
      <div className="kitchen-group" role="group" aria-label="Pause ordering">
        {r.paused_now ? (
          <button type="button" className="btn btn-small btn-ok" disabled={busy} data-testid="resume" onClick={() => void update({ paused: false })}>
            Resume ordering
          </button>
        ) : (
          <>
            <span className="kitchen-label">Pause</span>
            {PAUSES.map((m) => (
              <button key={m} type="button" className="btn btn-small" disabled={busy} data-testid={`pause-${m}`} onClick={() => void update({ pause_minutes: m })}>
                {m} min
              </button>
            ))}
          </>
        )}
      </div>
      <div className="kitchen-group" role="group" aria-label="Busy: extra minutes on every quote">
        <span className="kitchen-label">Busy</span>
        {BUSY.map((m) => (
          <button
            key={m}
            type="button"
            className={r.busy_extra_minutes === m ? 'btn btn-small btn-dark' : 'btn btn-small'}
            aria-pressed={r.busy_extra_minutes === m}
            disabled={busy}
            data-testid={`busy-${m}`}
            onClick={() => void update({ busy_extra_minutes: m })}
          >
            {m === 0 ? 'Off' : `+${m}`}
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
        Print ticket on accept
      </label>
      <ErrorBanner message={error} />
    </section>
  );
}
