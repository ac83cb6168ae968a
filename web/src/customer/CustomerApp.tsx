import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../shared/errors';
import { formatMoney, orderingNotice, statusLabel } from '../shared/format';
import { messagesNow, useMessages } from '../shared/i18n';
import { applyMenuChange, useLive, useOrders, useRestaurant, useSession } from '../shared/hooks';
import type { Menu, MenuItem, Order, RiderLocation, User } from '../shared/types';
import { notifyIfHidden } from '../shared/pwa';
import { Icon } from '../shared/icons';
import { Brand, ConnectionBadge, LanguageSwitch, LoginForm, OfflineBanner, Spinner } from '../shared/ui';
import { type Cart, cartTotal, lineKey } from './cart';
import { Checkout } from './Checkout';
import { api } from './customerApi';
import { History } from './History';
import { MenuPage } from './MenuPage';
import { customer } from './messages';
import { OrderPage } from './OrderPage';

const CART_KEY = 'brigade.customer.cart';

function useRoute(): [string, (r: string) => void] {
  const [route, setRoute] = useState(() => location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const on = () => {
      setRoute(location.hash.replace(/^#/, '') || '/');
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [route, (r: string) => (location.hash = r)];
}

/**
 * After a page change (not the first load) focus goes to the new page's main heading, as a
 * screen reader user expects, instead of staying on <body> or on a link that is gone. A page
 * whose heading comes later (loading first) gets it when it appears, unless focus has moved
 * on by then or the page put it somewhere itself.
 */
function useFocusHeadingOnRouteChange(route: string) {
  const shown = useRef(route);
  useEffect(() => {
    if (shown.current === route) return;
    shown.current = route;
    const main = document.querySelector('main');
    if (!main) return;
    const before = document.activeElement;
    const focusHeading = () => {
      const active = document.activeElement;
      if (active && active !== before && active !== document.body) return true; // moved on
      if (active && active !== document.body && main.contains(active)) return true; // the page chose
      const h1 = main.querySelector('h1');
      if (!h1) return false;
      if (!h1.hasAttribute('tabindex')) h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
      return true;
    };
    if (focusHeading()) return;
    const observer = new MutationObserver(() => {
      if (focusHeading()) observer.disconnect();
    });
    observer.observe(main, { childList: true, subtree: true });
    const t = window.setTimeout(() => observer.disconnect(), 10000);
    return () => {
      observer.disconnect();
      window.clearTimeout(t);
    };
  }, [route]);
}

export function CustomerApp() {
  const m = useMessages(customer).app;
  const session = useSession(api, 'customer');
  const [route, go] = useRoute();
  useFocusHeadingOnRouteChange(route);
  const [menu, setMenu] = useState<Menu | null>(null);
  // Failures kept as they were thrown, and put in words at render (in the language shown).
  const [menuError, setMenuError] = useState<unknown>(null);
  const [cart, setCart] = useState<Cart>(() => {
    try {
      return JSON.parse(localStorage.getItem(CART_KEY) ?? '{}');
    } catch {
      return {};
    }
  });
  const { orders, apply, replaceAll } = useOrders();
  const [ordersLoaded, setOrdersLoaded] = useState(false);
  const [ordersError, setOrdersError] = useState<unknown>(null);
  const [locations, setLocations] = useState<Record<number, RiderLocation>>({});
  const restaurant = useRestaurant(api);
  const notice = restaurant.restaurant ? orderingNotice(restaurant.restaurant) : null;

  useEffect(() => localStorage.setItem(CART_KEY, JSON.stringify(cart)), [cart]);

  const loadMenu = useCallback(async () => {
    try {
      setMenu(await api.menu());
      setMenuError(null);
    } catch (e) {
      setMenuError(e);
    }
  }, []);
  const loadOrders = useCallback(async () => {
    if (!api.token) return;
    try {
      replaceAll(await api.orders({ limit: 50 }, 1));
      setOrdersError(null);
      setOrdersLoaded(true);
    } catch (e) {
      setOrdersError(e);
    }
  }, [replaceAll]);

  useEffect(() => {
    void loadMenu();
    // Back from an offline start (or a lost network): the menu again, without a Retry.
    const online = () => void loadMenu();
    window.addEventListener('online', online);
    return () => window.removeEventListener('online', online);
  }, [loadMenu]);
  useEffect(() => {
    if (session.user) void loadOrders();
    else {
      replaceAll([]);
      setOrdersLoaded(false);
    }
  }, [session.user, loadOrders, replaceAll]);
  // Signed-out visitors have no live channel: refresh the menu now and then.
  useEffect(() => {
    if (session.user) return;
    const t = window.setInterval(() => void loadMenu(), 30000);
    return () => window.clearInterval(t);
  }, [session.user, loadMenu]);

  const { state } = useLive(api, session.user, {
    reload: async () => {
      await Promise.all([loadMenu(), loadOrders(), restaurant.reload()]);
    },
    order: (c) => {
      const before = orders.get(c.order.id);
      if (before && before.status !== c.order.status) {
        // What a status change means to the customer, for the system notification shown while
        // the tab is hidden (permission asked with "Notify me" on the order page).
        const news = messagesNow(customer).app;
        void notifyIfHidden(news.notifyTitle(c.order.id, statusLabel(c.order.status)), news.statusNews[c.order.status], `order-${c.order.id}`);
      }
      apply(c.order, c.op);
    },
    menu: (c) => setMenu((m) => applyMenuChange(m, c)),
    restaurant: restaurant.apply,
    location: (l) => setLocations((ls) => ({ ...ls, [l.order_id]: l })),
  });

  const items = useMemo(() => {
    const m = new Map<number, MenuItem>();
    menu?.categories.forEach((c) => c.items.forEach((i) => m.set(i.id, i)));
    return m;
  }, [menu]);
  const cartCount = Object.values(cart).reduce((a, b) => a + b, 0);
  const setQty = (key: string, q: number) =>
    setCart((c) => {
      const next = { ...c };
      if (q <= 0) delete next[key];
      else next[key] = Math.min(99, q);
      return next;
    });

  // The lines of a past order back in the cart, with their options; the checkout flags what
  // is no longer on the menu or available, and will not place the order until it is removed.
  const reorder = (o: Order) => {
    setCart((c) => {
      const next = { ...c };
      for (const line of o.items) {
        const key = lineKey(line.item_id, (line.options ?? []).map((opt) => opt.id));
        next[key] = Math.min(99, (next[key] ?? 0) + line.quantity);
      }
      return next;
    });
    go('/checkout');
  };

  const orderMatch = route.match(/^\/orders\/(\d+)/);
  const activeCount = [...orders.values()].filter((o) => ['pending', 'accepted', 'preparing', 'ready', 'picked_up'].includes(o.status)).length;

  let page;
  if (session.checking) page = <Spinner label={m.signingIn} />;
  else if (route === '/login' || ((route === '/orders' || orderMatch) && !session.user))
    page = (
      <LoginForm
        api={api}
        role="customer"
        title={m.signInTitle}
        subtitle={m.signInSubtitle}
        allowRegister
        onSignedIn={(u: User) => {
          session.signedIn(u);
          go(cartCount ? '/checkout' : '/');
        }}
        onCancel={() => go('/')}
      />
    );
  else if (route === '/checkout')
    page = (
      <Checkout
        cart={cart}
        items={items}
        setQty={setQty}
        signedIn={!!session.user}
        closedNotice={notice}
        deliveryArea={restaurant.restaurant?.delivery_area ?? null}
        onLogin={() => go('/login')}
        onPlaced={(o) => {
          apply(o, 'insert');
          setCart({});
          go(`/orders/${o.id}`);
        }}
        onBack={() => go('/')}
      />
    );
  else if (orderMatch)
    page = (
      <OrderPage id={Number(orderMatch[1])} order={orders.get(Number(orderMatch[1]))} onLoaded={(o) => apply(o)} location={locations[Number(orderMatch[1])]} onReorder={reorder} />
    );
  else if (route === '/orders') page = <History orders={[...orders.values()]} loaded={ordersLoaded} error={ordersError == null ? null : errorText(ordersError)} onRetry={loadOrders} onReorder={reorder} />;
  else page = <MenuPage menu={menu} error={menuError == null ? null : errorText(menuError)} onRetry={loadMenu} cart={cart} setQty={setQty} />;

  const onMenu = !orderMatch && !['/checkout', '/orders', '/login'].includes(route);
  return (
    <div className="shop">
      <header className={`shop-top${session.user ? ' signed-in' : ''}`}>
        <a href="#/" className="brand-link" aria-label={m.brandMenu}>
          <Brand />
        </a>
        <div className="shop-top-right">
          <LanguageSwitch />
          {session.user && <ConnectionBadge state={state} />}
          {session.user ? (
            <>
              <a href="#/orders" className="btn btn-small btn-ghost" data-testid="nav-orders">
                {m.orders}
                {activeCount ? <span className="badge">{activeCount}</span> : null}
              </a>
              <button type="button" className="btn btn-small btn-ghost sign-out" onClick={session.signOut} title={m.signOut}>
                <Icon name="signOut" />
                <span className="sign-out-text">{m.signOut}</span>
              </button>
            </>
          ) : (
            <a href="#/login" className="btn btn-small">
              {m.signIn}
            </a>
          )}
        </div>
      </header>
      {notice && (onMenu || route === '/checkout') && (
        <div className="ordering-closed" role="status" data-testid="ordering-closed">
          {notice}
        </div>
      )}
      <main className="shop-main">
        <OfflineBanner>{m.offlineNote}</OfflineBanner>
        {page}
      </main>
      {onMenu && cartCount > 0 && (
        <div className="cart-bar">
          <a href="#/checkout" className="btn btn-primary btn-large btn-block" data-testid="view-cart">
            <span className="cart-count">{cartCount}</span>
            <span>{m.viewCart}</span>
            <span className="num">{formatMoney(cartTotal(cart, items))}</span>
          </a>
        </div>
      )}
    </div>
  );
}
