import type { OrderStatus } from './types';

const currency = (window as any).BRIGADE_CONFIG?.currency ?? localStorage.getItem('brigade.currency') ?? 'EUR';
const money = new Intl.NumberFormat(undefined, { style: 'currency', currency });

export function formatMoney(cents: number): string {
  return money.format(cents / 100);
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
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function minutesSince(iso: string, now = Date.now()): number {
  return Math.max(0, (now - new Date(iso).getTime()) / 60000);
}

export function formatElapsed(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export const STATUS_LABEL: Record<OrderStatus, string> = {
  pending: 'New',
  accepted: 'Accepted',
  preparing: 'Preparing',
  ready: 'Ready',
  picked_up: 'On the way',
  delivered: 'Delivered',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
};

export function itemsSummary(items: { name: string; quantity: number }[]): string {
  return items.map((i) => `${i.quantity}× ${i.name}`).join(', ');
}

/** A time in the restaurant's own time zone, with the weekday when it is not today. */
export function formatInZone(iso: string, timeZone: string): string {
  const when = new Date(iso);
  const day = (d: Date) => d.toLocaleDateString('en-CA', { timeZone });
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone });
  if (day(when) === day(new Date())) return time;
  return `${when.toLocaleDateString([], { weekday: 'short', timeZone })} ${time}`;
}

/** Why a restaurant does not take orders now, in a customer's words (null: it does). */
export function orderingNotice(r: { accepting_orders: boolean; paused_now: boolean; paused_until: string | null; next_opening: string | null; timezone: string }): string | null {
  if (r.accepting_orders) return null;
  if (r.paused_now) return r.paused_until ? `Ordering is paused — back at ${formatInZone(r.paused_until, r.timezone)}` : 'Ordering is paused for now';
  return r.next_opening ? `Closed — opens ${formatInZone(r.next_opening, r.timezone)}` : 'Closed for now';
}

/** The calendar day ("2026-12-01") of a time in a time zone: the restaurant's "today". */
export function dayIn(when: Date | string, timeZone?: string): string {
  return new Date(when).toLocaleDateString('en-CA', { timeZone });
}

/** The hour (0-23) of a time in a time zone. */
export function hourIn(when: Date | string, timeZone?: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(when)));
}
