// Shapes of the Brigade REST API and live events (see docs PRODUCT.md).
export type Role = 'admin' | 'customer' | 'rider';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
}

export type OrderStatus =
  | 'pending'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'picked_up'
  | 'delivered'
  | 'rejected'
  | 'cancelled';

export interface ChosenOption {
  id: number;
  group: string;
  name: string;
  price_cents: number;
}

export interface OrderLine {
  item_id: number;
  name: string;
  unit_price_cents: number;
  quantity: number;
  notes: string;
  options: ChosenOption[];
}

export interface Order {
  id: number;
  customer_id: number;
  customer_name?: string;
  items: OrderLine[];
  subtotal_cents: number;
  delivery_fee_cents: number;
  total_cents: number;
  status: OrderStatus;
  status_reason: string | null;
  rider_id: number | null;
  prep_minutes: number | null;
  delivery: { address: string; lat: number | null; lng: number | null; distance_m: number | null };
  /** Settled on delivery (docs/API.md, "Payment"). */
  payment: { method: PaymentMethod; status: 'unpaid' | 'paid' };
  /** Proof of delivery: the customer reads it to the rider; null for riders. */
  delivery_code: string | null;
  code_attempts: number;
  /** While set, rider_id is offered the order until then (docs/API.md, "Rider offers"). */
  offer_expires_at: string | null;
  rider_accepted_at: string | null;
  declined_rider_ids: number[];
  notes: string;
  created_at: string;
  updated_at: string;
  version: number;
  history: { status: OrderStatus; at: string; by: number | null }[];
}

export type PaymentMethod = 'cash' | 'card';

/** GET /api/delivery/quote (docs/API.md, "Delivery area and fees"). */
export interface DeliveryQuote {
  deliverable: boolean;
  fee_cents: number | null;
  distance_m: number | null;
  min_subtotal_cents: number;
  currency: string;
  reason?: { code: string; message: string };
}

export interface DeliveryArea {
  bands: { up_to_m: number; fee_cents: number }[];
  min_subtotal_cents: number;
}

export interface MenuItem {
  id: number;
  category_id: number;
  name: string;
  description: string;
  price_cents: number;
  available: boolean;
  position: number;
  version: number;
  option_groups: OptionGroup[];
  allergens: string[];
}

export interface MenuOption {
  id: number;
  name: string;
  price_cents: number;
  available: boolean;
}

export interface OptionGroup {
  id: number;
  name: string;
  min: number;
  max: number;
  options: MenuOption[];
}

/** The 14 allergens of EU Regulation 1169/2011 (the server's names). */
export const ALLERGENS = ['celery', 'gluten', 'crustaceans', 'eggs', 'fish', 'lupin', 'milk', 'molluscs', 'mustard', 'nuts', 'peanuts', 'sesame', 'soybeans', 'sulphites'] as const;

export interface MenuCategory {
  id: number;
  name: string;
  position: number;
  version: number;
  items: MenuItem[];
}

export interface Menu {
  categories: MenuCategory[];
}

export interface Rider {
  id: number;
  name: string;
  online: boolean;
  last_location: { lat: number; lng: number; at: string } | null;
  active_order_ids: number[];
}

export interface Spread {
  count: number;
  median: number | null;
  p90: number | null;
}

export interface Stats {
  from?: string;
  to?: string;
  orders: number;
  revenue_cents: number;
  avg_prep_minutes: number | null;
  by_status: Record<string, number>;
  measured?: {
    prep_minutes: Spread;
    delivery_minutes: Spread;
    by_hour: { hour: number; orders: number; prep_minutes: Spread; delivery_minutes: Spread }[];
    items_7d: { item_id: number; name: string; orders: number; prep_minutes: Spread }[];
  };
}

export interface OrderChange {
  seq: number;
  op: 'insert' | 'update' | 'delete';
  order: Order;
}

export interface MenuChange {
  seq: number;
  op: 'insert' | 'update' | 'delete';
  item?: MenuItem;
  category?: Omit<MenuCategory, 'items'>;
}

export interface Alert {
  kind: 'order:new';
  order_id: number;
  message: string;
}

export interface RiderLocation {
  rider_id: number;
  order_id: number;
  lat: number;
  lng: number;
  at: string;
}

export const ACTIVE_STATUSES: OrderStatus[] = ['pending', 'accepted', 'preparing', 'ready', 'picked_up'];
export const FINAL_STATUSES: OrderStatus[] = ['delivered', 'rejected', 'cancelled'];

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** GET /api/restaurant and restaurant:changed (docs/API.md, "The restaurant"). */
export interface Restaurant {
  name: string;
  timezone: string;
  currency: string;
  language: 'en' | 'ko';
  opening_hours: Record<Weekday, [string, string][]> | null;
  closed_dates: string[];
  paused: boolean;
  paused_until: string | null;
  busy_extra_minutes: number;
  max_orders_per_15min: number | null;
  auto_reject_after_s: number | null;
  pause_on_auto_reject: boolean;
  location: { lat: number; lng: number } | null;
  /** null: anywhere, at the flat fee. */
  delivery_area: DeliveryArea | null;
  delivery_code_required: boolean;
  /** The server offers orders to riders by itself. */
  auto_offer: boolean;
  /** The street map's tile URL template ({z}/{x}/{y}); "" for the plain grid. */
  map_tile_url: string;
  map_attribution: string;
  version: number;
  updated_at: string;
  open_now: boolean;
  closes_at: string | null;
  next_opening: string | null;
  paused_now: boolean;
  accepting_orders: boolean;
}

export interface RestaurantChange {
  seq: number;
  op: 'update';
  restaurant: Restaurant;
}
