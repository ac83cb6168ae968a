// The delivery part of the Settings form: where the restaurant is, the area it delivers
// to (distance bands with a fee each, a minimum order) and whether riders need the
// customer's delivery code (docs/API.md, "Delivery area and fees", "Proof of delivery").
// The form keeps text as typed; deliveryPatch() checks it and turns it into the fields
// of the one PATCH /api/restaurant the Save button sends.
import { formatMoneyPlain, parseMoney } from '../shared/format';
import type { DeliveryArea, Restaurant } from '../shared/types';
import { useMessages } from '../shared/i18n';
import { admin, type AdminMessages } from './messages';

/** kMaxDeliveryBands and kMaxDeliveryRadiusM on the server. */
export const MAX_BANDS = 10;
const MAX_KM = 100;
const MAX_MONEY_CENTS = 10_000_000;

export interface BandDraft {
  km: string;
  fee: string;
}

export interface DeliveryDraft {
  lat: string;
  lng: string;
  areaOn: boolean;
  bands: BandDraft[];
  minimum: string;
  codeRequired: boolean;
}

/** 3000 m → "3", 2500 m → "2.5". */
const kmText = (m: number) => String(m / 1000);

export function deliveryDraftOf(r: Restaurant): DeliveryDraft {
  const area = r.delivery_area;
  return {
    lat: r.location ? String(r.location.lat) : '',
    lng: r.location ? String(r.location.lng) : '',
    areaOn: area != null,
    bands: area ? area.bands.map((b) => ({ km: kmText(b.up_to_m), fee: formatMoneyPlain(b.fee_cents) })) : [{ km: '', fee: '' }],
    minimum: area && area.min_subtotal_cents > 0 ? formatMoneyPlain(area.min_subtotal_cents) : '',
    codeRequired: r.delivery_code_required,
  };
}

type DeliveryPatch = Pick<Restaurant, 'location' | 'delivery_area' | 'delivery_code_required'>;
/** What is wrong, in the catalog's language (said when shown, so it follows a language switch). */
export type Problem = (m: AdminMessages) => string;
export type DeliveryCheck = { ok: true; patch: DeliveryPatch } | { ok: false; message: Problem; field: string };

const MONEY = /^\d+([.,]\d{1,2})?$/;
const NUMBER = /^\d+([.,]\d+)?$/;

/** Checks the draft; the message says what to fix in plain words, `field` is the server's name of the field. */
export function deliveryPatch(d: DeliveryDraft): DeliveryCheck {
  const fail = (field: string, message: Problem): DeliveryCheck => ({ ok: false, field, message });
  const lat = d.lat.trim();
  const lng = d.lng.trim();
  let location: Restaurant['location'] = null;
  if (lat || lng) {
    if (!lat || !lng) return fail(lat ? 'location.lng' : 'location.lat', (m) => m.locationBoth);
    const la = Number(lat);
    const ln = Number(lng);
    if (!Number.isFinite(la) || la < -90 || la > 90) return fail('location.lat', (m) => m.latitudeRange);
    if (!Number.isFinite(ln) || ln < -180 || ln > 180) return fail('location.lng', (m) => m.longitudeRange);
    location = { lat: la, lng: ln };
  }

  let delivery_area: DeliveryArea | null = null;
  if (d.areaOn) {
    if (!location) return fail('location.lat', (m) => m.areaNeedsLocation);
    if (d.bands.length === 0) return fail('delivery_area.bands', (m) => m.oneBandAtLeast);
    if (d.bands.length > MAX_BANDS) return fail('delivery_area.bands', (m) => m.maxBands(MAX_BANDS));
    const bands: DeliveryArea['bands'] = [];
    for (const [i, b] of d.bands.entries()) {
      const n = i + 1;
      const km = b.km.trim();
      if (!NUMBER.test(km)) return fail(`delivery_area.bands[${i}].up_to_m`, (m) => m.bandKm(n));
      const up_to_m = Math.round(Number(km.replace(',', '.')) * 1000);
      if (up_to_m < 1) return fail(`delivery_area.bands[${i}].up_to_m`, (m) => m.bandPositive(n));
      if (up_to_m > MAX_KM * 1000) return fail(`delivery_area.bands[${i}].up_to_m`, (m) => m.bandMaxKm(n, MAX_KM));
      const prev = bands[i - 1];
      if (prev && up_to_m <= prev.up_to_m)
        return fail(`delivery_area.bands[${i}].up_to_m`, (m) => m.bandOrder(n, i, kmText(prev.up_to_m)));
      const fee = b.fee.trim();
      if (!MONEY.test(fee)) return fail(`delivery_area.bands[${i}].fee_cents`, (m) => m.bandFee(n));
      const fee_cents = parseMoney(fee) ?? 0;
      if (fee_cents > MAX_MONEY_CENTS) return fail(`delivery_area.bands[${i}].fee_cents`, (m) => m.bandFeeMax(n, formatMoneyPlain(MAX_MONEY_CENTS)));
      bands.push({ up_to_m, fee_cents });
    }
    const min = d.minimum.trim();
    if (min && !MONEY.test(min)) return fail('delivery_area.min_subtotal_cents', (m) => m.minimumAmount);
    const min_subtotal_cents = min ? parseMoney(min) ?? 0 : 0;
    if (min_subtotal_cents > MAX_MONEY_CENTS) return fail('delivery_area.min_subtotal_cents', (m) => m.minimumMax(formatMoneyPlain(MAX_MONEY_CENTS)));
    delivery_area = { bands, min_subtotal_cents };
  }
  return { ok: true, patch: { location, delivery_area, delivery_code_required: d.codeRequired } };
}

/** A server's `field` in the form's words: "delivery_area.bands[1].up_to_m" → "Band 2, distance". */
export function fieldLabel(field: string, m: AdminMessages): string {
  const band = field.match(/^delivery_area\.bands\[(\d+)\](?:\.(\w+))?/);
  if (band) {
    const n = Number(band[1]) + 1;
    return band[2] === 'fee_cents' ? m.bandFieldFee(n) : band[2] === 'up_to_m' ? m.bandFieldDistance(n) : m.band(n);
  }
  const labels = m.fields;
  if (Object.prototype.hasOwnProperty.call(labels, field)) return labels[field];
  const top = field.split(/[.[]/)[0];
  return Object.prototype.hasOwnProperty.call(labels, top) ? labels[top] : field;
}

interface FieldsProps {
  draft: DeliveryDraft;
  onChange: (patch: Partial<DeliveryDraft>) => void;
  /** The field the last check or the server refused (its input is marked invalid). */
  invalidField: string | null;
}

/** The delivery rows of the settings grid (label | input), as a fragment. */
export function DeliveryFields({ draft, onChange, invalidField }: FieldsProps) {
  const m = useMessages(admin);
  const bad = (field: string) => (invalidField === field ? true : undefined);
  const setBand = (i: number, patch: Partial<BandDraft>) => onChange({ bands: draft.bands.map((b, j) => (j === i ? { ...b, ...patch } : b)) });
  const full = draft.bands.length >= MAX_BANDS;
  return (
    <>
      <h3 className="settings-section">{m.delivery}</h3>
      <label htmlFor="set-lat">{m.latitude}</label>
      <input id="set-lat" type="number" step="any" min={-90} max={90} placeholder={m.none} aria-invalid={bad('location.lat') ?? bad('location')} value={draft.lat} onChange={(e) => onChange({ lat: e.target.value })} />
      <label htmlFor="set-lng">{m.longitude}</label>
      <input id="set-lng" type="number" step="any" min={-180} max={180} placeholder={m.none} aria-invalid={bad('location.lng') ?? bad('location')} value={draft.lng} onChange={(e) => onChange({ lng: e.target.value })} />
      <span className="settings-hint">{m.locationHint}</span>
      <label htmlFor="set-area">{m.areaOnly}</label>
      <input id="set-area" type="checkbox" checked={draft.areaOn} onChange={(e) => onChange({ areaOn: e.target.checked, bands: e.target.checked && draft.bands.length === 0 ? [{ km: '', fee: '' }] : draft.bands })} />
      {!draft.areaOn && <span className="settings-hint">{m.areaOffHint}</span>}
      {draft.areaOn && (
        <>
          {draft.bands.map((b, i) => (
            <BandRow
              key={i}
              index={i}
              band={b}
              last={draft.bands.length === 1}
              invalid={invalidField?.startsWith(`delivery_area.bands[${i}]`) ? invalidField : null}
              onChange={(patch) => setBand(i, patch)}
              onRemove={() => onChange({ bands: draft.bands.filter((_, j) => j !== i) })}
            />
          ))}
          <div className="settings-hint band-add">
            <button type="button" className="btn btn-small btn-ghost" data-testid="add-band" disabled={full} onClick={() => onChange({ bands: [...draft.bands, { km: '', fee: '' }] })}>
              {m.addBand}
            </button>
            <span>{full ? m.maxBandsShort(MAX_BANDS) : m.bandsHint}</span>
          </div>
          <label htmlFor="set-min">{m.minimumOrder}</label>
          <input id="set-min" inputMode="decimal" placeholder={m.none} aria-invalid={bad('delivery_area.min_subtotal_cents')} value={draft.minimum} onChange={(e) => onChange({ minimum: e.target.value })} />
          <span className="settings-hint">{m.minimumHint}</span>
        </>
      )}
      <label htmlFor="set-code">{m.codeRequired}</label>
      <input id="set-code" type="checkbox" checked={draft.codeRequired} onChange={(e) => onChange({ codeRequired: e.target.checked })} />
      <span className="settings-hint">{m.codeHint}</span>
    </>
  );
}

function BandRow({ index, band, last, invalid, onChange, onRemove }: { index: number; band: BandDraft; last: boolean; invalid: string | null; onChange: (p: Partial<BandDraft>) => void; onRemove: () => void }) {
  const m = useMessages(admin);
  const n = index + 1;
  return (
    <>
      <label htmlFor={`set-band-${index}-km`}>{m.band(n)}</label>
      <div className="band-row" data-testid="band" role="group" aria-label={m.bandAria(n)}>
        <span>{m.upTo}</span>
        <input
          id={`set-band-${index}-km`}
          inputMode="decimal"
          aria-label={m.bandKmAria(n)}
          aria-invalid={invalid?.endsWith('.up_to_m') || invalid === `delivery_area.bands[${index}]` ? true : undefined}
          value={band.km}
          onChange={(e) => onChange({ km: e.target.value })}
        />
        <span>{m.kmFee}</span>
        <input
          id={`set-band-${index}-fee`}
          inputMode="decimal"
          aria-label={m.bandFeeAria(n)}
          aria-invalid={invalid?.endsWith('.fee_cents') ? true : undefined}
          value={band.fee}
          onChange={(e) => onChange({ fee: e.target.value })}
        />
        <button type="button" className="btn btn-small btn-ghost" aria-label={m.removeBandAria(n)} data-testid="remove-band" disabled={last} onClick={onRemove}>
          {m.remove}
        </button>
      </div>
    </>
  );
}
