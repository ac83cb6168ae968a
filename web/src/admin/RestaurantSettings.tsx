import { useEffect, useMemo, useState } from 'react';
import { ApiError, type Api } from '../shared/api';
import { useAction } from '../shared/hooks';
import { WEEKDAYS, type Restaurant, type Weekday } from '../shared/types';
import { ErrorBanner } from '../shared/ui';
import { errorText } from '../shared/errors';
import { useMessages } from '../shared/i18n';
import { DeliveryFields, deliveryDraftOf, deliveryPatch, fieldLabel, type DeliveryDraft, type Problem } from './DeliverySettings';
import { admin } from './messages';

/** "11:00-15:00, 17:00-22:00" ↔ [["11:00","15:00"],["17:00","22:00"]] */
function spansText(spans: [string, string][]): string {
  return spans.map(([a, b]) => `${a}-${b}`).join(', ');
}
function parseSpans(text: string): [string, string][] | null {
  if (!text.trim()) return [];
  const out: [string, string][] = [];
  for (const part of text.split(',')) {
    const m = part.trim().match(/^(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/);
    if (!m) return null;
    out.push([m[1], m[2]]);
  }
  return out;
}

interface Draft {
  name: string;
  timezone: string;
  currency: string;
  language: Restaurant['language'];
  alwaysOpen: boolean;
  hours: Record<Weekday, string>;
  closedDates: string;
  autoReject: string;
  pauseOnAutoReject: boolean;
  autoOffer: boolean;
  maxOrders: string;
  delivery: DeliveryDraft;
}

function draftOf(r: Restaurant): Draft {
  const hours = {} as Record<Weekday, string>;
  for (const d of WEEKDAYS) hours[d] = r.opening_hours ? spansText(r.opening_hours[d] ?? []) : '11:00-22:00';
  return {
    name: r.name,
    timezone: r.timezone,
    currency: r.currency,
    language: r.language,
    alwaysOpen: r.opening_hours == null,
    hours,
    closedDates: r.closed_dates.join(', '),
    autoReject: r.auto_reject_after_s == null ? '' : String(r.auto_reject_after_s),
    pauseOnAutoReject: r.pause_on_auto_reject,
    autoOffer: r.auto_offer,
    maxOrders: r.max_orders_per_15min == null ? '' : String(r.max_orders_per_15min),
    delivery: deliveryDraftOf(r),
  };
}

/** The restaurant's settings: name, time zone, hours, closed dates, the safety nets and delivery. */
export function RestaurantSettings({ api, restaurant, onChanged }: { api: Api; restaurant: Restaurant | null; onChanged: (r: Restaurant) => void }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saved, setSaved] = useState(false);
  const m = useMessages(admin);
  const { busy, run } = useAction();
  // What is wrong, said in the language on screen (it follows a switch).
  const [problem, setProblem] = useState<Problem | null>(null);
  const say = (p: Problem) => setProblem(() => p);
  // The field the form's check or the server's 422 named (its input is marked invalid).
  const [badField, setBadField] = useState<string | null>(null);
  useEffect(() => {
    if (restaurant && !draft) setDraft(draftOf(restaurant));
  }, [restaurant, draft]);
  const zones = useMemo(() => ((Intl as any).supportedValuesOf?.('timeZone') as string[] | undefined) ?? [], []);
  if (!restaurant || !draft) return null;
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };

  const save = () => {
    setBadField(null);
    setProblem(null);
    const opening_hours = {} as Record<Weekday, [string, string][]>;
    for (const d of WEEKDAYS) {
      const spans = parseSpans(draft.hours[d]);
      if (!spans) return say((t) => t.hoursFormat(t.day[d]));
      opening_hours[d] = spans;
    }
    const closed_dates = draft.closedDates.split(',').map((s) => s.trim()).filter(Boolean);
    const delivery = deliveryPatch(draft.delivery);
    if (!delivery.ok) {
      setBadField(delivery.field);
      return say(delivery.message);
    }
    void run(async () => {
      const r = await api.updateRestaurant({
        if_version: restaurant.version,
        name: draft.name.trim(),
        timezone: draft.timezone.trim(),
        currency: draft.currency.trim().toUpperCase(),
        language: draft.language,
        opening_hours: draft.alwaysOpen ? null : opening_hours,
        closed_dates,
        auto_reject_after_s: draft.autoReject ? Number(draft.autoReject) : null,
        pause_on_auto_reject: draft.pauseOnAutoReject,
        auto_offer: draft.autoOffer,
        max_orders_per_15min: draft.maxOrders ? Number(draft.maxOrders) : null,
        ...delivery.patch,
      }).catch((e: unknown) => {
        // A 422 names the field: say which setting, in the form's words.
        if (e instanceof ApiError && e.field) {
          const field = e.field;
          setBadField(field);
          say((t) => t.fieldInvalid(fieldLabel(field, t)));
        } else {
          say(() => errorText(e));
        }
        return null;
      });
      if (!r) return;
      onChanged(r);
      setDraft(draftOf(r));
      setSaved(true);
    });
  };

  return (
    <form
      className="settings card"
      data-testid="restaurant-settings"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <h2>{m.restaurant}</h2>
      <div className="settings-grid">
        <label htmlFor="set-name">{m.name}</label>
        <input id="set-name" required maxLength={200} value={draft.name} onChange={(e) => set({ name: e.target.value })} />
        <label htmlFor="set-tz">{m.timeZone}</label>
        <input id="set-tz" list="set-tz-list" required value={draft.timezone} onChange={(e) => set({ timezone: e.target.value })} />
        <datalist id="set-tz-list">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <span className="settings-hint">{m.timeZoneHint}</span>
        <label htmlFor="set-currency">{m.currency}</label>
        <input id="set-currency" required maxLength={3} value={draft.currency} onChange={(e) => set({ currency: e.target.value })} />
        <label htmlFor="set-language">{m.language}</label>
        <select id="set-language" value={draft.language} onChange={(e) => set({ language: e.target.value as Restaurant['language'] })}>
          <option value="en">{m.languageEn}</option>
          <option value="ko">{m.languageKo}</option>
        </select>
        <span className="settings-hint">{m.languageHint}</span>
        <label htmlFor="set-always">{m.alwaysOpen}</label>
        <input id="set-always" type="checkbox" checked={draft.alwaysOpen} onChange={(e) => set({ alwaysOpen: e.target.checked })} />
        {!draft.alwaysOpen &&
          WEEKDAYS.map((d) => (
            <DayRow key={d} day={d} value={draft.hours[d]} onChange={(v) => set({ hours: { ...draft.hours, [d]: v } })} />
          ))}
        <label htmlFor="set-closed">{m.closedDates}</label>
        <input id="set-closed" placeholder="2026-12-25, 2027-01-01" value={draft.closedDates} onChange={(e) => set({ closedDates: e.target.value })} />
        <label htmlFor="set-auto">{m.autoReject}</label>
        <input id="set-auto" type="number" min={30} max={3600} placeholder={m.autoRejectOff} value={draft.autoReject} onChange={(e) => set({ autoReject: e.target.value })} />
        <span className="settings-hint">{m.autoRejectHint}</span>
        <label htmlFor="set-pause-auto">{m.pauseOnAutoReject}</label>
        <input id="set-pause-auto" type="checkbox" checked={draft.pauseOnAutoReject} onChange={(e) => set({ pauseOnAutoReject: e.target.checked })} />
        <label htmlFor="set-auto-offer">{m.autoOffer}</label>
        <input id="set-auto-offer" type="checkbox" checked={draft.autoOffer} onChange={(e) => set({ autoOffer: e.target.checked })} />
        <span className="settings-hint">{m.autoOfferHint}</span>
        <label htmlFor="set-max">{m.maxOrders}</label>
        <input id="set-max" type="number" min={1} max={10000} placeholder={m.noLimit} value={draft.maxOrders} onChange={(e) => set({ maxOrders: e.target.value })} />
        <DeliveryFields draft={draft.delivery} invalidField={badField} onChange={(patch) => set({ delivery: { ...draft.delivery, ...patch } })} />
      </div>
      {problem && (
        <div data-testid="settings-error" data-field={badField ?? ''} title={badField ? fieldLabel(badField, m) : undefined}>
          <ErrorBanner message={problem(m)} />
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="save-settings">
          {m.save}
        </button>
        {saved && <span role="status">{m.saved}</span>}
      </div>
    </form>
  );
}

function DayRow({ day, value, onChange }: { day: Weekday; value: string; onChange: (v: string) => void }) {
  const m = useMessages(admin);
  return (
    <>
      <label htmlFor={`set-hours-${day}`}>{m.day[day]}</label>
      <input id={`set-hours-${day}`} placeholder={m.closedDay} value={value} onChange={(e) => onChange(e.target.value)} />
    </>
  );
}
