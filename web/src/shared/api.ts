// REST client: JSON in and out, bearer token kept in localStorage per panel,
// errors as ApiError carrying the server's {error:{code,message,field}}.
import type { DeliveryQuote, Menu, Order, PaymentMethod, Rider, Stats, User, Restaurant } from './types';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

type Listener = () => void;

export class Api {
  private readonly key: string;
  private readonly userKey: string;
  private tokenValue: string | null;
  private unauthorized = new Set<Listener>();

  constructor(panel: string, private readonly base = '') {
    this.key = `brigade.${panel}.token`;
    this.userKey = `brigade.${panel}.user`;
    this.tokenValue = localStorage.getItem(this.key);
  }

  get token(): string | null {
    return this.tokenValue;
  }

  setToken(token: string | null) {
    this.tokenValue = token;
    if (token) localStorage.setItem(this.key, token);
    else {
      localStorage.removeItem(this.key);
      localStorage.removeItem(this.userKey); // signed out: nothing of the account is kept
    }
  }

  /**
   * The account the stored token last stood for, for a start without a network (the
   * panel shows its last state, marked offline, instead of a sign-in form it cannot
   * submit). Only while the token is stored; checked again as soon as the network is back.
   */
  rememberedUser(): User | null {
    if (!this.tokenValue) return null;
    try {
      const u = JSON.parse(localStorage.getItem(this.userKey) ?? 'null');
      return u && typeof u.id === 'number' && typeof u.role === 'string' ? (u as User) : null;
    } catch {
      return null;
    }
  }

  rememberUser(user: User) {
    if (this.tokenValue) localStorage.setItem(this.userKey, JSON.stringify(user));
  }

  onUnauthorized(fn: Listener): () => void {
    this.unauthorized.add(fn);
    return () => this.unauthorized.delete(fn);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const h: Record<string, string> = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (this.tokenValue) h.Authorization = `Bearer ${this.tokenValue}`;
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', 'network error'); // shown as a sentence by shared/errors.ts
    }
    if (response.status === 204) return undefined as T;
    let data: any = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const e = data?.error ?? {};
      if (response.status === 401 && this.tokenValue && !path.startsWith('/api/auth/')) {
        this.setToken(null);
        this.unauthorized.forEach((fn) => fn());
      }
      throw new ApiError(
        response.status,
        e.code ?? `http_${response.status}`,
        e.message ?? `Request failed (${response.status})`,
        e.field,
      );
    }
    return data as T;
  }

  // ---- auth
  async login(email: string, password: string) {
    const r = await this.request<{ user: User; token: string }>('POST', '/api/auth/login', { email, password });
    this.setToken(r.token);
    return r;
  }
  async register(email: string, password: string, name: string) {
    const r = await this.request<{ user: User; token: string }>('POST', '/api/auth/register', { email, password, name });
    this.setToken(r.token);
    return r;
  }
  async logout() {
    try {
      await this.request<void>('POST', '/api/auth/logout');
    } finally {
      this.setToken(null);
    }
  }
  me() {
    return this.request<User>('GET', '/api/me');
  }

  // ---- menu
  menu() {
    return this.request<Menu>('GET', '/api/menu');
  }
  createCategory(body: { name: string; position?: number }) {
    return this.request('POST', '/api/menu/categories', body);
  }
  updateCategory(id: number, body: { name?: string; position?: number }) {
    return this.request('PATCH', `/api/menu/categories/${id}`, body);
  }
  deleteCategory(id: number) {
    return this.request('DELETE', `/api/menu/categories/${id}`);
  }
  createItem(body: { category_id: number; name: string; description?: string; price_cents: number; available?: boolean; position?: number; option_groups?: unknown[]; allergens?: string[] }) {
    return this.request('POST', '/api/menu/items', body);
  }
  updateItem(id: number, body: Partial<{ category_id: number; name: string; description: string; price_cents: number; available: boolean; position: number; option_groups: unknown[]; allergens: string[] }>) {
    return this.request('PATCH', `/api/menu/items/${id}`, body);
  }
  deleteItem(id: number) {
    return this.request('DELETE', `/api/menu/items/${id}`);
  }

  // ---- orders
  async orders(params: { status?: string; limit?: number } = {}, maxPages = 5): Promise<Order[]> {
    const all: Order[] = [];
    let before: number | null = null;
    for (let page = 0; page < maxPages; page++) {
      const q = new URLSearchParams();
      if (params.status) q.set('status', params.status);
      q.set('limit', String(params.limit ?? 100));
      if (before != null) q.set('before', String(before));
      const r: { orders: Order[]; next_before: number | null } = await this.request('GET', `/api/orders?${q}`);
      all.push(...r.orders);
      if (r.next_before == null) break;
      before = r.next_before;
    }
    return all;
  }
  order(id: number) {
    return this.request<Order>('GET', `/api/orders/${id}`);
  }
  placeOrder(body: { items: { item_id: number; quantity: number; notes?: string }[]; delivery: { address: string; lat?: number; lng?: number }; notes?: string; payment_method?: PaymentMethod }, idempotencyKey: string) {
    return this.request<Order>('POST', '/api/orders', body, { 'Idempotency-Key': idempotencyKey });
  }
  setStatus(id: number, body: { status: string; reason?: string; prep_minutes?: number; if_version?: number; code?: string; paid?: boolean }) {
    return this.request<Order>('POST', `/api/orders/${id}/status`, body);
  }
  setPayment(id: number, status: 'paid' | 'unpaid') {
    return this.request<Order>('POST', `/api/orders/${id}/payment`, { status });
  }
  /** What a delivery to this point costs (anyone; docs/API.md, "Delivery area and fees"). */
  quote(params: { lat?: number; lng?: number; subtotal_cents?: number }) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    return this.request<DeliveryQuote>('GET', `/api/delivery/quote?${q}`);
  }
  assign(id: number, riderId: number) {
    return this.request<Order>('POST', `/api/orders/${id}/assign`, { rider_id: riderId });
  }

  // ---- riders & stats
  riders() {
    return this.request<{ riders: Rider[] }>('GET', '/api/riders').then((r) => r.riders);
  }
  /** The signed-in rider's own record (availability, last stored position). */
  riderMe() {
    return this.request<{ id: number; online: boolean }>('GET', '/api/riders/me');
  }

  setOnline(online: boolean) {
    return this.request<Rider>('POST', '/api/riders/me/online', { online });
  }
  stats() {
    return this.request<Stats>('GET', '/api/stats/today');
  }
  restaurant() {
    return this.request<Restaurant>('GET', '/api/restaurant');
  }
  updateRestaurant(patch: Partial<Restaurant> & { pause_minutes?: number; if_version?: number }) {
    return this.request<Restaurant>('PATCH', '/api/restaurant', patch);
  }
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
