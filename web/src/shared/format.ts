import type { OrderStatus } from './types';

const currency = (window as any).BRIGADE_CONFIG?.currency ?? localStorage.getItem('brigade.currency') ?? 'EUR';
const money = new Intl.NumberFormat(undefined, { style: 'currency', currency });

export function formatMoney(cents: number): string {
  return money.format(cents / 100);
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
