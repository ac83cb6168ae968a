import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api } from './api';
import { errorText } from './errors';
import { setCurrency } from './format';
import { LiveConnection, type LiveHandlers, type LiveState } from './live';
import { setMapTiles } from './mapTiles';
import type { Menu, MenuChange, Order, User, Restaurant, RestaurantChange } from './types';

/** The signed-in user of a panel: checks the stored token, follows 401s. */
export function useSession(api: Api, role: User['role']) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(!!api.token);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const off = api.onUnauthorized(() => setUser(null));
    let retryOnline = false; // the check failed for want of a network (an offline start)
    const check = () => {
      api
        .me()
        .then((u) => {
          if (u.role !== role) {
            api.setToken(null);
            setUser(null);
          } else {
            api.rememberUser(u);
            setUser(u);
          }
          setError(null);
        })
        .catch((e) => {
          if (e.status !== 401) {
            retryOnline = true;
            // No network at the start: still signed in, as far as anyone can tell.
            const known = e.status === 0 ? api.rememberedUser() : null;
            if (known && known.role === role) setUser(known);
            else setError(errorText(e));
          }
        })
        .finally(() => setChecking(false));
    };
    const online = () => {
      if (retryOnline && api.token) {
        retryOnline = false;
        check();
      }
    };
    if (api.token) check();
    window.addEventListener('online', online);
    return () => {
      off();
      window.removeEventListener('online', online);
    };
  }, [api, role]);

  const signedIn = useCallback(
    (u: User) => {
      api.rememberUser(u);
      setUser(u);
    },
    [api],
  );
  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      /* the token is dropped locally anyway */
    }
    setUser(null);
  }, [api]);
  return { user, checking, error, signedIn, signOut };
}

/** Opens the live connection while a user is signed in. */
export function useLive(api: Api, user: User | null, handlers: LiveHandlers): { state: LiveState; live: LiveConnection | null } {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [state, setState] = useState<LiveState>('connecting');
  const [live, setLive] = useState<LiveConnection | null>(null);
  useEffect(() => {
    if (!user || !api.token) return;
    const conn = new LiveConnection(api.token, {
      reload: () => ref.current.reload(),
      order: (c) => ref.current.order?.(c),
      menu: (c) => ref.current.menu?.(c),
      restaurant: (c) => ref.current.restaurant?.(c),
      alert: (a) => ref.current.alert?.(a),
      location: (l) => ref.current.location?.(l),
      unauthorized: () => {
        // A revoked token: confirm over REST (a 401 signs the panel out).
        api.me().catch(() => {});
        ref.current.unauthorized?.();
      },
    });
    const off = conn.subscribe(setState);
    setState(conn.state);
    setLive(conn);
    (window as any).__brigadeLive = conn; // for the browser tests and debugging
    conn.start();
    return () => {
      off();
      conn.close();
      setLive(null);
    };
  }, [api, user]);
  return { state, live };
}

/** Orders by id, merged by version so a stale copy never replaces a newer one. */
export function useOrders() {
  const [orders, setOrders] = useState<Map<number, Order>>(new Map());
  const apply = useCallback((order: Order, op: 'insert' | 'update' | 'delete' = 'update') => {
    setOrders((prev) => {
      const cur = prev.get(order.id);
      if (cur && cur.version > order.version) return prev;
      if (cur && cur.version === order.version && op !== 'delete') return prev;
      const next = new Map(prev);
      if (op === 'delete') next.delete(order.id);
      else next.set(order.id, order);
      return next;
    });
  }, []);
  const replaceAll = useCallback((list: Order[]) => {
    setOrders((prev) => {
      const next = new Map<number, Order>();
      for (const o of list) {
        const cur = prev.get(o.id);
        next.set(o.id, cur && cur.version > o.version ? cur : o);
      }
      return next;
    });
  }, []);
  return { orders, apply, replaceAll, setOrders };
}

/** Applies a menu:changed event to a menu held in state. */
export function applyMenuChange(menu: Menu | null, c: MenuChange): Menu | null {
  if (!menu) return menu;
  let categories = menu.categories.map((cat) => ({ ...cat, items: [...cat.items] }));
  if (c.category) {
    const cat = c.category;
    const i = categories.findIndex((x) => x.id === cat.id);
    if (c.op === 'delete') categories = categories.filter((x) => x.id !== cat.id);
    else if (i >= 0) {
      if (categories[i].version <= cat.version) categories[i] = { ...categories[i], ...cat };
    } else categories.push({ ...cat, items: [] });
    categories.sort((a, b) => a.position - b.position || a.id - b.id);
  }
  if (c.item) {
    const item = c.item;
    let existing: number | null = null;
    for (const cat of categories) {
      const j = cat.items.findIndex((x) => x.id === item.id);
      if (j >= 0) {
        existing = cat.items[j].version;
        cat.items.splice(j, 1);
      }
    }
    if (existing != null && existing > item.version) return menu; // stale
    if (c.op !== 'delete') {
      const cat = categories.find((x) => x.id === item.category_id);
      if (cat) {
        cat.items.push(item);
        cat.items.sort((a, b) => a.position - b.position || a.id - b.id);
      }
    }
  }
  return { categories };
}

/** Re-renders every `ms` (elapsed timers). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}

/** Runs an async action with loading and error state. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e: any) {
      setError(errorText(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/**
 * The restaurant's settings and whether it takes orders: loaded over REST, replaced by
 * restaurant:changed (pass `apply` to the live handlers), and read again when a pause ends
 * or the restaurant opens or closes, and every minute (a panel without a live connection).
 */
export function useRestaurant(api: Api) {
  const [restaurant, setRestaurant] = useState<Restaurant | null>(null);
  const reload = useCallback(async () => {
    try {
      const r = await api.restaurant();
      setCurrency(r.currency);
      setRestaurant((cur) => (cur && cur.version > r.version ? cur : r));
    } catch {
      /* kept as it was; the next tick tries again */
    }
  }, [api]);
  const apply = useCallback((c: RestaurantChange) => {
    setCurrency(c.restaurant.currency);
    setRestaurant((cur) => (cur && cur.version > c.restaurant.version ? cur : c.restaurant));
  }, []);
  // The street maps of the page follow the tile settings (shared/mapTiles.ts).
  useEffect(() => {
    if (restaurant) setMapTiles(restaurant);
  }, [restaurant]);
  useEffect(() => {
    void reload();
    const t = window.setInterval(() => void reload(), 60000);
    return () => window.clearInterval(t);
  }, [reload]);
  // The next moment the answer changes by itself.
  useEffect(() => {
    if (!restaurant) return;
    const times = [restaurant.paused_now ? restaurant.paused_until : null, restaurant.open_now ? restaurant.closes_at : restaurant.next_opening]
      .filter((t): t is string => !!t)
      .map((t) => new Date(t).getTime() - Date.now());
    const soonest = Math.min(...times.filter((ms) => ms > 0));
    if (!Number.isFinite(soonest) || soonest > 2 ** 31 - 1) return;
    const t = window.setTimeout(() => void reload(), soonest + 1500);
    return () => window.clearTimeout(t);
  }, [restaurant, reload]);
  return { restaurant, reload, apply, setRestaurant };
}
