// Dates, times and money through Intl, in the panel's language (shared/i18n.tsx) and the
// restaurant's currency and time zone.
import { intlLocale, messagesNow } from './i18n';
import { shared } from './messages';
import type { OrderStatus } from './types';

const CURRENCY_KEY = 'brigade.currency';
let currency = readCurrency();

function readCurrency(): string {
  try {
    return localStorage.getItem(CURRENCY_KEY) ?? 'EUR';
  } catch {
    return 'EUR';
  }
}

/** The restaurant's currency (ISO 4217), remembered for the next start. */
export function setCurrency(code: string) {
  if (!code || code === currency) return;
  currency = code;
  try {
    localStorage.setItem(CURRENCY_KEY, code);
  } catch {
    /* used, not remembered */
  }
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function formatMoney(cents: number): string {
  const locale = intlLocale();
  const key = `${locale}|${currency}`;
  let f = moneyFormats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' }); // an unknown code
    }
    moneyFormats.set(key, f);
  }
  return f.format(cents / 100);
}

/** An amount for an editor: "2.00", no currency sign. */
export function formatMoneyPlain(cents: number): string {
  return (cents / 100).toFixed(2);
}

export function parseMoney(text: string): number | null {
  const n = Number(text.replace(',', '.').replace(/[^0-9.]/g, ''));
  if (!text.trim() || !Number.isFinite(n) || n < 0) return null;
  return Math.round(n * 100);
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(intlLocale(), { hour: '2-digit', minute: '2-digit' });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(intlLocale(), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function minutesSince(iso: string, now = Date.now()): number {
  return Math.max(0, (now - new Date(iso).getTime()) / 60000);
}

export function formatElapsed(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  const e = messagesNow(shared).elapsed;
  if (s < 60) return e.seconds(s);
  const m = Math.floor(s / 60);
  if (m < 60) return e.minutes(m, String(s % 60).padStart(2, '0'));
  return e.hours(Math.floor(m / 60), String(m % 60).padStart(2, '0'));
}

/** An order status in the panel's language. */
export function statusLabel(status: OrderStatus): string {
  return messagesNow(shared).status[status];
}

export function itemsSummary(items: { name: string; quantity: number }[]): string {
  return items.map((i) => `${i.quantity}× ${i.name}`).join(', ');
}

/** A time in the restaurant's own time zone, with the weekday when it is not today. */
export function formatInZone(iso: string, timeZone: string): string {
  const when = new Date(iso);
  const day = (d: Date) => d.toLocaleDateString('en-CA', { timeZone });
  const time = when.toLocaleTimeString(intlLocale(), { hour: '2-digit', minute: '2-digit', timeZone });
  if (day(when) === day(new Date())) return time;
  return `${when.toLocaleDateString(intlLocale(), { weekday: 'short', timeZone })} ${time}`;
}

/** Why a restaurant does not take orders now, in a customer's words (null: it does). */
export function orderingNotice(r: { accepting_orders: boolean; paused_now: boolean; paused_until: string | null; next_opening: string | null; timezone: string }): string | null {
  if (r.accepting_orders) return null;
  const m = messagesNow(shared).ordering;
  if (r.paused_now) return r.paused_until ? m.pausedUntil(formatInZone(r.paused_until, r.timezone)) : m.paused;
  return r.next_opening ? m.closedUntil(formatInZone(r.next_opening, r.timezone)) : m.closed;
}

/** The calendar day ("2026-12-01") of a time in a time zone: the restaurant's "today". */
export function dayIn(when: Date | string, timeZone?: string): string {
  return new Date(when).toLocaleDateString('en-CA', { timeZone });
}

/** The hour (0-23) of a time in a time zone. */
export function hourIn(when: Date | string, timeZone?: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(when)));
}
