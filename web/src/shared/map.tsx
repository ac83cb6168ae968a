// A Leaflet map that works without tiles (tests and offline kitchens): the
// tile layer is only added when a tile URL is configured, and tile errors are
// ignored. Markers are div icons (no image assets to resolve).
import { useEffect, useRef } from 'react';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { BIKE_SVG } from './icons';

export function tileUrl(): string | null {
  return (window as any).BRIGADE_CONFIG?.tileUrl ?? localStorage.getItem('brigade.tileUrl') ?? import.meta.env.VITE_TILE_URL ?? null;
}

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
}

const destIcon = L.divIcon({ className: 'pin pin-dest', html: '<span></span>', iconSize: [26, 26], iconAnchor: [13, 26] });
const riderIcon = L.divIcon({ className: 'pin pin-rider', html: `<span>${BIKE_SVG}</span>`, iconSize: [34, 34], iconAnchor: [17, 17] });

export function DeliveryMap({ destination, rider, label, className, onPick }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const dest = useRef<L.Marker | null>(null);
  const riderMarker = useRef<L.Marker | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    if (!el.current) return;
    const m = L.map(el.current, { zoomControl: true, attributionControl: false, keyboard: true });
    const url = tileUrl();
    if (url) {
      const layer = L.tileLayer(url, { maxZoom: 19 });
      layer.on('tileerror', () => {});
      layer.addTo(m);
    }
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

  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (destination) {
      if (!dest.current) dest.current = L.marker([destination.lat, destination.lng], { icon: destIcon, title: 'Delivery address' }).addTo(m);
      else dest.current.setLatLng([destination.lat, destination.lng]);
    } else if (dest.current) {
      dest.current.remove();
      dest.current = null;
    }
    if (rider) {
      if (!riderMarker.current) riderMarker.current = L.marker([rider.lat, rider.lng], { icon: riderIcon, title: 'Your rider' }).addTo(m);
      else riderMarker.current.setLatLng([rider.lat, rider.lng]);
    }
    const pts = [destination, rider].filter(Boolean) as MapPoint[];
    if (pts.length === 2) m.fitBounds(L.latLngBounds(pts.map((p) => [p.lat, p.lng])), { padding: [40, 40], maxZoom: 16 });
    else if (pts.length === 1) m.setView([pts[0].lat, pts[0].lng], m.getZoom());
  }, [destination?.lat, destination?.lng, rider?.lat, rider?.lng]);

  return (
    <div
      ref={el}
      className={`map ${tileUrl() ? '' : 'map-notiles'} ${className ?? ''}`}
      role="img"
      aria-label={label}
      data-testid="map"
      data-rider-lat={rider?.lat ?? ''}
      data-rider-lng={rider?.lng ?? ''}
    />
  );
}
