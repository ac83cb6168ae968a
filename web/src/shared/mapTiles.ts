// The street map's tile settings (the restaurant's map_tile_url and map_attribution), kept
// once per page for every DeliveryMap: useRestaurant publishes them whenever it reads the
// restaurant or hears restaurant:changed; a map that mounts before anyone has reads
// GET /api/restaurant once itself. No Leaflet here, so the admin bundle stays without it.
import { useEffect, useSyncExternalStore } from 'react';
import type { Restaurant } from './types';

export interface MapTiles {
  /** A tile URL template with {z}/{x}/{y}; "" for no tiles (the plain grid). */
  url: string;
  /** Plain text, shown in the map's attribution control. */
  attribution: string;
}

let current: MapTiles | null = null;
let reading: Promise<void> | null = null;
const listeners = new Set<() => void>();

export function setMapTiles(r: Pick<Restaurant, 'map_tile_url' | 'map_attribution'>): void {
  const next: MapTiles = { url: r.map_tile_url ?? '', attribution: r.map_attribution ?? '' };
  if (current && current.url === next.url && current.attribution === next.attribution) return;
  current = next;
  listeners.forEach((fn) => fn());
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function readOnce(): void {
  if (current || reading) return;
  reading = fetch('/api/restaurant', { headers: { Accept: 'application/json' }, cache: 'no-store' })
    .then((res) => (res.ok ? (res.json() as Promise<Restaurant>) : null))
    .then((r) => {
      if (r && !current) setMapTiles(r);
    })
    .catch(() => {
      /* offline: the map stays a grid; the next map to mount asks again */
    })
    .finally(() => {
      reading = null;
    });
}

/** The tile settings, or null until they are known. */
export function useMapTiles(): MapTiles | null {
  const tiles = useSyncExternalStore(subscribe, () => current);
  useEffect(readOnce, []);
  return tiles;
}
