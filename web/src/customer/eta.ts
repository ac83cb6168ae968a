// When the order should reach the door: the kitchen's quote (busy minutes included, as the
// server stored it), then the ride — from the restaurant before pickup, from the rider's
// last position once on the way. A rider is taken to cover kRiderMetresPerMinute (about
// 18 km/h through a city) plus kHandoverMinutes at each end.
import type { Order, RiderLocation } from '../shared/types';

export const kRiderMetresPerMinute = 300;
export const kHandoverMinutes = 2;

function metresBetween(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const ride = (metres: number) => metres / kRiderMetresPerMinute + kHandoverMinutes;

/** The expected arrival (ms since the epoch), or null when it cannot be told yet. */
export function estimateArrival(order: Order, rider: RiderLocation | undefined, now: number): number | null {
  const minute = 60_000;
  if (order.status === 'picked_up') {
    const dest = order.delivery.lat != null && order.delivery.lng != null ? { lat: order.delivery.lat, lng: order.delivery.lng } : null;
    if (rider && dest) return now + ride(metresBetween(rider, dest)) * minute;
    const pickedAt = order.history.find((h) => h.status === 'picked_up')?.at;
    if (pickedAt && order.delivery.distance_m != null) return Math.max(now, Date.parse(pickedAt) + ride(order.delivery.distance_m) * minute);
    return null;
  }
  if (!['accepted', 'preparing', 'ready'].includes(order.status) || order.prep_minutes == null) return null;
  const acceptedAt = order.history.find((h) => h.status === 'accepted')?.at;
  if (!acceptedAt) return null;
  const ready = Math.max(now, Date.parse(acceptedAt) + order.prep_minutes * minute);
  return ready + ride(order.delivery.distance_m ?? 0) * minute;
}
