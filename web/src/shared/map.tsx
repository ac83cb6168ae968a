// A Leaflet map of the delivery: street tiles from the restaurant's settings (map_tile_url,
// with map_attribution in Leaflet's attribution control), or a plain grid when none are
// configured or none load (offline, blocked: tests block every outside host), so the pins
// and click-to-pick keep working either way. The container's data-tiles says which:
// "loading" (settings or first tile on the way), "loaded", "fallback" (tiles failed, grid
// shown) or "none" (no tiles configured). Markers are div icons (no image assets to resolve).
import { useEffect, useRef, useState } from 'react';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { BIKE_SVG } from './icons';
import { useMessages } from './i18n';
import { shared as sharedMessages } from './messages';
import { type MapTiles, useMapTiles } from './mapTiles';

export type { MapTiles } from './mapTiles';
export type TileState = 'loading' | 'loaded' | 'fallback' | 'none';

export interface MapPoint {
  lat: number;
  lng: number;
}

interface Props {
  destination?: MapPoint | null;
  rider?: MapPoint | null;
  label: string;
  className?: string;
  onPick?: (p: MapPoint) => void;
  /** Tile settings; by default the restaurant's (see mapTiles.ts). */
  tiles?: MapTiles | null;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const destIcon = L.divIcon({ className: 'pin pin-dest', html: '<span></span>', iconSize: [26, 26], iconAnchor: [13, 26] });
const riderIcon = L.divIcon({ className: 'pin pin-rider', html: `<span>${BIKE_SVG}</span>`, iconSize: [34, 34], iconAnchor: [17, 17] });

export function DeliveryMap({ destination, rider, label, className, onPick, tiles: given }: Props) {
  const shared = useMapTiles();
  const tiles = given === undefined ? shared : given;
  const t = useMessages(sharedMessages).map;
  const [tileState, setTileState] = useState<TileState>('loading');
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const dest = useRef<L.Marker | null>(null);
  const riderMarker = useRef<L.Marker | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    if (!el.current) return;
    const m = L.map(el.current, { zoomControl: false, attributionControl: true, keyboard: true }); // zoom: below, in the language
    m.attributionControl.setPrefix(false);
    m.setView([destination?.lat ?? rider?.lat ?? 52.37, destination?.lng ?? rider?.lng ?? 4.89], 15);
    m.on('click', (e: L.LeafletMouseEvent) => pick.current?.({ lat: e.latlng.lat, lng: e.latlng.lng }));
    map.current = m;
    return () => {
      m.remove();
      map.current = null;
      dest.current = null;
      riderMarker.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // The zoom buttons and the markers' tooltips, in the panel's language (again when it changes).
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    const zoom = L.control.zoom({ zoomInTitle: t.zoomIn, zoomOutTitle: t.zoomOut }).addTo(m);
    for (const [marker, title] of [
      [dest.current, t.destination],
      [riderMarker.current, t.rider],
    ] as const) {
      if (!marker) continue;
      marker.options.title = title;
      marker.getElement()?.setAttribute('title', title);
    }
    return () => {
      zoom.remove();
    };
  }, [t]);

  // The tile layer follows the settings; until a tile loads (or if none does) the grid shows.
  const url = tiles?.url ?? null;
  const attribution = tiles?.attribution ?? '';
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (url === null) {
      setTileState('loading');
      return;
    }
    if (!url) {
      setTileState('none');
      return;
    }
    setTileState('loading');
    let loaded = false;
    const layer = L.tileLayer(url, { maxZoom: 19, attribution: escapeHtml(attribution) });
    layer.on('tileload', () => {
      loaded = true;
      setTileState('loaded');
    });
    layer.on('tileerror', () => {
      if (!loaded) setTileState('fallback');
    });
    layer.addTo(m);
    return () => {
      layer.remove();
    };
  }, [url, attribution]);

  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (destination) {
      if (!dest.current) dest.current = L.marker([destination.lat, destination.lng], { icon: destIcon, title: t.destination }).addTo(m);
      else dest.current.setLatLng([destination.lat, destination.lng]);
    } else if (dest.current) {
      dest.current.remove();
      dest.current = null;
    }
    if (rider) {
      if (!riderMarker.current) riderMarker.current = L.marker([rider.lat, rider.lng], { icon: riderIcon, title: t.rider }).addTo(m);
      else riderMarker.current.setLatLng([rider.lat, rider.lng]);
    }
    const pts = [destination, rider].filter(Boolean) as MapPoint[];
    if (pts.length === 2) m.fitBounds(L.latLngBounds(pts.map((p) => [p.lat, p.lng])), { padding: [40, 40], maxZoom: 16 });
    else if (pts.length === 1) m.setView([pts[0].lat, pts[0].lng], m.getZoom());
  }, [destination?.lat, destination?.lng, rider?.lat, rider?.lng]);

  return (
    <div
      ref={el}
      className={`map ${className ?? ''}`}
      role="group"
      aria-label={label}
      data-testid="map"
      data-tiles={tileState}
      data-rider-lat={rider?.lat ?? ''}
      data-rider-lng={rider?.lng ?? ''}
    />
  );
}
