import { useCallback, useEffect, useMemo, useState } from 'react';
import { Api, newIdempotencyKey } from '../shared/api';
import { formatDateTime, formatMoney, formatTime, itemsSummary, orderingNotice, STATUS_LABEL } from '../shared/format';
import { type Cart, cartLines, cartTotal, itemCount, lineKey } from './cart';
import { OptionSheet } from './OptionSheet';
import { applyMenuChange, useAction, useLive, useNow, useOrders, useRestaurant, useSession } from '../shared/hooks';
import { DeliveryMap, type MapPoint } from '../shared/map';
import { ALLERGENS, type Menu, type MenuItem, type Order, type OrderStatus, type RiderLocation, type User } from '../shared/types';
import { Brand, ConnectionBadge, ErrorBanner, Field, LoginForm, Spinner, StatusPill } from '../shared/ui';
import { Icon } from '../shared/icons';

const api = new Api('customer');
(window as any).__brigadeApi = api;

const CART_KEY = 'brigade.customer.cart';
const AVOID_KEY = 'brigade.customer.avoid';

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

export function CustomerApp() {
  const session = useSession(api, 'customer');
  const [route, go] = useRoute();
  const [menu, setMenu] = useState<Menu | null>(null);
  const [menuError, setMenuError] = useState<string | null>(null);
  const [cart, setCart] = useState<Cart>(() => {
    try {
      return JSON.parse(localStorage.getItem(CART_KEY) ?? '{}');
    } catch {
      return {};
    }
  });
  const { orders, apply, replaceAll } = useOrders();
  const [ordersLoaded, setOrdersLoaded] = useState(false);
  const [ordersError, setOrdersError] = useState<string | null>(null);
  const [locations, setLocations] = useState<Record<number, RiderLocation>>({});
  const restaurant = useRestaurant(api);
  const notice = restaurant.restaurant ? orderingNotice(restaurant.restaurant) : null;

  useEffect(() => localStorage.setItem(CART_KEY, JSON.stringify(cart)), [cart]);

  const loadMenu = useCallback(async () => {
    try {
      setMenu(await api.menu());
      setMenuError(null);
    } catch (e: any) {
      setMenuError(e.message);
    }
  }, []);
  const loadOrders = useCallback(async () => {
    if (!api.token) return;
    try {
      replaceAll(await api.orders({ limit: 50 }, 1));
      setOrdersError(null);
      setOrdersLoaded(true);
    } catch (e: any) {
      setOrdersError(e.message);
    }
  }, [replaceAll]);

  useEffect(() => {
    void loadMenu();
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
    order: (c) => apply(c.order, c.op),
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

  const orderMatch = route.match(/^\/orders\/(\d+)/);
  const activeCount = [...orders.values()].filter((o) => ['pending', 'accepted', 'preparing', 'ready', 'picked_up'].includes(o.status)).length;

  let page;
  if (session.checking) page = <Spinner label="Signing in…" />;
  else if (route === '/login' || ((route === '/orders' || orderMatch) && !session.user))
    page = (
      <LoginForm
        api={api}
        role="customer"
        title="Sign in"
        subtitle="Sign in to order and follow your delivery live."
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
    page = <OrderPage id={Number(orderMatch[1])} order={orders.get(Number(orderMatch[1]))} onLoaded={(o) => apply(o)} location={locations[Number(orderMatch[1])]} />;
  else if (route === '/orders') page = <History orders={[...orders.values()]} loaded={ordersLoaded} error={ordersError} onRetry={loadOrders} />;
  else page = <MenuPage menu={menu} error={menuError} onRetry={loadMenu} cart={cart} setQty={setQty} />;

  const onMenu = !orderMatch && !['/checkout', '/orders', '/login'].includes(route);
  return (
    <div className="shop">
      <header className="shop-top">
        <a href="#/" className="brand-link" aria-label="Brigade, menu">
          <Brand />
        </a>
        <div className="shop-top-right">
          {session.user && <ConnectionBadge state={state} />}
          {session.user ? (
            <>
              <a href="#/orders" className="btn btn-small btn-ghost" data-testid="nav-orders">
                Orders{activeCount ? <span className="badge">{activeCount}</span> : null}
              </a>
              <button type="button" className="btn btn-small btn-ghost" onClick={session.signOut}>
                Sign out
              </button>
            </>
          ) : (
            <a href="#/login" className="btn btn-small">
              Sign in
            </a>
          )}
        </div>
      </header>
      {notice && (onMenu || route === '/checkout') && (
        <div className="ordering-closed" role="status" data-testid="ordering-closed">
          {notice}
        </div>
      )}
      <main className="shop-main">{page}</main>
      {onMenu && cartCount > 0 && (
        <div className="cart-bar">
          <a href="#/checkout" className="btn btn-primary btn-large btn-block" data-testid="view-cart">
            <span className="cart-count">{cartCount}</span>
            <span>View cart</span>
            <span className="num">{formatMoney(cartTotal(cart, items))}</span>
          </a>
        </div>
      )}
    </div>
  );
}


// ------------------------------------------------------------------ menu

function MenuPage({ menu, error, onRetry, cart, setQty }: { menu: Menu | null; error: string | null; onRetry: () => void; cart: Cart; setQty: (key: string, q: number) => void }) {
  const [choosing, setChoosing] = useState<MenuItem | null>(null);
  const [avoid, setAvoid] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(AVOID_KEY) ?? '[]');
    } catch {
      return [];
    }
  });
  useEffect(() => localStorage.setItem(AVOID_KEY, JSON.stringify(avoid)), [avoid]);
  if (!menu) return error ? <ErrorBanner message={`Could not load the menu: ${error}`} onRetry={onRetry} /> : <Spinner label="Loading the menu…" />;
  const present = ALLERGENS.filter((a) => menu.categories.some((c) => c.items.some((i) => i.allergens?.includes(a))));
  const cats = menu.categories
    .map((c) => ({ ...c, items: c.items.filter((i) => i.available && !i.allergens?.some((a) => avoid.includes(a))) }))
    .filter((c) => c.items.length);
  return (
    <div className="menu-page">
      <section className="hero">
        <h1>What are you craving?</h1>
        <p>Fresh from our kitchen to your door. Follow your order live, right up to the doorbell.</p>
      </section>
      <nav className="cat-chips" aria-label="Menu categories">
        {cats.map((c) => (
          <a key={c.id} href={`#/`} onClick={(e) => (e.preventDefault(), document.getElementById(`cat-${c.id}`)?.scrollIntoView({ behavior: 'smooth' }))} className="chip">
            {c.name}
          </a>
        ))}
      </nav>
      {present.length > 0 && (
        <div className="allergen-filter" role="group" aria-label="Hide dishes containing" data-testid="allergen-filter">
          <span className="muted">Hide dishes with:</span>
          {present.map((a) => (
            <button key={a} type="button" className="chip" aria-pressed={avoid.includes(a)} onClick={() => setAvoid((v) => (v.includes(a) ? v.filter((x) => x !== a) : [...v, a]))}>
              {a}
            </button>
          ))}
        </div>
      )}
      <ErrorBanner message={error} onRetry={onRetry} />
      {cats.length === 0 && <p className="empty">The kitchen is resting — nothing is available right now.</p>}
      {cats.map((c) => (
        <section key={c.id} id={`cat-${c.id}`} className="menu-section" aria-labelledby={`h-cat-${c.id}`}>
          <h2 id={`h-cat-${c.id}`}>{c.name}</h2>
          <ul className="dish-list">
            {c.items.map((i) => {
              const withOptions = (i.option_groups?.length ?? 0) > 0;
              const q = withOptions ? itemCount(cart, i.id) : (cart[lineKey(i.id, [])] ?? 0);
              return (
                <li key={i.id} className="dish" data-testid="dish" data-item-id={i.id}>
                  <div className="dish-text">
                    <h3>{i.name}</h3>
                    {i.description && <p className="dish-desc">{i.description}</p>}
                    {i.allergens?.length > 0 && <p className="allergens">Contains: {i.allergens.join(', ')}</p>}
                    <span className="dish-price num">{formatMoney(i.price_cents)}</span>
                  </div>
                  {withOptions ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={`Choose options for ${i.name}`} data-testid="choose-options" onClick={() => setChoosing(i)}>
                      {q ? `Add another (${q})` : 'Add'}
                    </button>
                  ) : q === 0 ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={`Add ${i.name}`} onClick={() => setQty(lineKey(i.id, []), 1)}>
                      Add
                    </button>
                  ) : (
                    <Stepper name={i.name} q={q} onChange={(n) => setQty(lineKey(i.id, []), n)} />
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
      {choosing && (
        <OptionSheet
          item={choosing}
          onClose={() => setChoosing(null)}
          onAdd={(options) => {
            const key = lineKey(choosing.id, options);
            setQty(key, (cart[key] ?? 0) + 1);
            setChoosing(null);
          }}
        />
      )}
    </div>
  );
}

function Stepper({ name, q, onChange }: { name: string; q: number; onChange: (n: number) => void }) {
  return (
    <div className="stepper" role="group" aria-label={`Quantity of ${name}`}>
      <button type="button" className="btn btn-small icon-btn" aria-label={`Remove one ${name}`} onClick={() => onChange(q - 1)}>
        −
      </button>
      <span className="num" aria-live="polite">
        {q}
      </span>
      <button type="button" className="btn btn-small icon-btn" aria-label={`Add one more ${name}`} onClick={() => onChange(q + 1)}>
        +
      </button>
    </div>
  );
}

// ------------------------------------------------------------------ checkout

function Checkout({
  cart,
  items,
  setQty,
  signedIn,
  closedNotice,
  onLogin,
  onPlaced,
  onBack,
}: {
  cart: Cart;
  items: Map<number, MenuItem>;
  setQty: (key: string, q: number) => void;
  signedIn: boolean;
  /** Why the restaurant takes no orders now (null: it does). */
  closedNotice: string | null;
  onLogin: () => void;
  onPlaced: (o: Order) => void;
  onBack: () => void;
}) {
  const [address, setAddress] = useState(() => localStorage.getItem('brigade.customer.address') ?? '');
  const [lat, setLat] = useState('');
  const [lng, setLng] = useState('');
  const [notes, setNotes] = useState('');
  const [key] = useState(newIdempotencyKey); // one key per checkout: a double tap never orders twice
  const { busy, error, setError, run } = useAction();
  const [locating, setLocating] = useState(false);
  const lines = cartLines(cart, items);
  const unavailable = lines.filter((l) => !l.item || !l.item.available || l.missingOptions);
  const subtotal = cartTotal(cart, items);
  const point: MapPoint | null = lat.trim() && lng.trim() && Number.isFinite(Number(lat)) && Number.isFinite(Number(lng)) ? { lat: Number(lat), lng: Number(lng) } : null;

  if (lines.length === 0)
    return (
      <div className="empty">
        <span className="big" aria-hidden="true">
          <Icon name="cart" size={40} />
        </span>
        Your cart is empty.
        <div>
          <button type="button" className="btn btn-primary" onClick={onBack} style={{ marginTop: 12 }}>
            Browse the menu
          </button>
        </div>
      </div>
    );

  const locate = () => {
    if (!navigator.geolocation) return setError('Location is not available in this browser.');
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLat(p.coords.latitude.toFixed(6));
        setLng(p.coords.longitude.toFixed(6));
        setLocating(false);
      },
      () => {
        setError('Could not get your location. Type the address instead.');
        setLocating(false);
      },
      { timeout: 8000 },
    );
  };

  const place = () =>
    run(async () => {
      localStorage.setItem('brigade.customer.address', address);
      const order = await api.placeOrder(
        {
          items: lines.map((l) => ({ item_id: l.itemId, quantity: l.q, ...(l.options.length ? { options: l.options.map((o) => o.id) } : {}) })),
          delivery: { address: address.trim(), ...(point ? { lat: point.lat, lng: point.lng } : {}) },
          notes: notes.trim() || undefined,
        },
        key,
      );
      onPlaced(order);
    });

  return (
    <form
      className="checkout"
      onSubmit={(e) => {
        e.preventDefault();
        if (!signedIn) onLogin();
        else void place();
      }}
    >
      <button type="button" className="btn btn-link back" onClick={onBack}>
        ← Menu
      </button>
      <h1>Your order</h1>
      <ul className="cart-lines card">
        {lines.map((l) => (
          <li key={l.key} className={!l.item?.available || l.missingOptions ? 'gone' : ''} data-testid="cart-line">
            <div>
              <strong>{l.item?.name ?? `Item ${l.itemId}`}</strong>
              {!l.item?.available && <span className="gone-note"> — no longer available</span>}
              {l.item?.available && l.missingOptions && <span className="gone-note"> — an option is no longer available</span>}
              {l.options.length > 0 && <div className="line-options">{l.options.map((o) => o.name).join(', ')}</div>}
              <div className="muted small num">{l.item ? formatMoney(l.unitCents * l.q) : ''}</div>
            </div>
            <Stepper name={l.item?.name ?? 'item'} q={l.q} onChange={(n) => setQty(l.key, n)} />
          </li>
        ))}
        <li className="total-line">
          <span>Subtotal</span>
          <strong className="num">{formatMoney(subtotal)}</strong>
        </li>
        <li className="muted small">A delivery fee is added by the restaurant; you'll see the final total on your order.</li>
      </ul>

      <h2>Delivery</h2>
      <div className="card">
        <Field label="Address">
          {(id) => <textarea id={id} name="address" required value={address} onChange={(e) => setAddress(e.target.value)} placeholder="Street, number, floor, city" autoComplete="street-address" rows={2} />}
        </Field>
        <div className="coords">
          <Field label="Latitude">
            {(id) => <input id={id} name="lat" inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} placeholder="52.3702" />}
          </Field>
          <Field label="Longitude">
            {(id) => <input id={id} name="lng" inputMode="decimal" value={lng} onChange={(e) => setLng(e.target.value)} placeholder="4.8952" />}
          </Field>
        </div>
        <p className="hint coords-hint">Optional: coordinates put a pin on the rider's map.</p>
        <button type="button" className="btn btn-small" onClick={locate} disabled={locating}>
          <Icon name="location" /> {locating ? 'Locating…' : 'Use my location'}
        </button>
        {point && (
          <div style={{ marginTop: 12 }}>
            <DeliveryMap
              destination={point}
              label="Delivery pin"
              onPick={(p) => {
                setLat(p.lat.toFixed(6));
                setLng(p.lng.toFixed(6));
              }}
            />
            <p className="hint">Tap the map to move the pin.</p>
          </div>
        )}
        <Field label="Notes for the kitchen or rider (optional)">
          {(id) => <input id={id} name="notes" value={notes} onChange={(e) => setNotes(e.target.value)} placeholder="Ring twice, no onions…" />}
        </Field>
      </div>
      <ErrorBanner message={error} />
      {unavailable.length > 0 && <div className="notice">Remove the items that are no longer available to continue.</div>}
      <div className="checkout-bar">
        <button className="btn btn-primary btn-large btn-block" type="submit" disabled={busy || unavailable.length > 0 || (signedIn && !!closedNotice)} data-testid="place-order">
          {busy ? 'Placing your order…' : !signedIn ? 'Sign in to order' : closedNotice ? 'Ordering is closed' : `Place order · ${formatMoney(subtotal)}`}
        </button>
      </div>
    </form>
  );
}

// ------------------------------------------------------------------ order tracking

const STEPS: { status: OrderStatus; label: string }[] = [
  { status: 'pending', label: 'Order placed' },
  { status: 'accepted', label: 'Accepted by the restaurant' },
  { status: 'preparing', label: 'Being prepared' },
  { status: 'ready', label: 'Ready for pickup' },
  { status: 'picked_up', label: 'On the way' },
  { status: 'delivered', label: 'Delivered' },
];

function OrderPage({ id, order, onLoaded, location }: { id: number; order: Order | undefined; onLoaded: (o: Order) => void; location?: RiderLocation }) {
  const { error, run } = useAction();
  const now = useNow(15000);
  useEffect(() => {
    void run(async () => onLoaded(await api.order(id)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  if (!order) return error ? <ErrorBanner message={`Could not load the order: ${error}`} onRetry={() => void run(async () => onLoaded(await api.order(id)))} /> : <Spinner label="Loading your order…" />;

  const reached = new Map(order.history.map((h) => [h.status, h.at]));
  const stopped = order.status === 'rejected' || order.status === 'cancelled';
  const currentIdx = STEPS.findIndex((s) => s.status === order.status);
  const acceptedAt = reached.get('accepted');
  const readyAt = acceptedAt && order.prep_minutes ? new Date(new Date(acceptedAt).getTime() + order.prep_minutes * 60000) : null;
  const dest = order.delivery.lat != null && order.delivery.lng != null ? { lat: order.delivery.lat, lng: order.delivery.lng } : null;
  const rider = location ? { lat: location.lat, lng: location.lng } : null;
  const showMap = order.status === 'picked_up' || (dest && !stopped && order.status !== 'delivered') || !!rider;

  let headline: string;
  let sub = '';
  switch (order.status) {
    case 'pending':
      headline = 'Waiting for the restaurant';
      sub = 'They usually answer within a couple of minutes.';
      break;
    case 'accepted':
    case 'preparing': {
      headline = order.status === 'accepted' ? 'Order accepted' : 'Your food is being prepared';
      if (readyAt) {
        const mins = Math.max(0, Math.round((readyAt.getTime() - now) / 60000));
        sub = mins > 0 ? `Ready in about ${mins} min (around ${formatTime(readyAt.toISOString())})` : 'Almost ready';
      }
      break;
    }
    case 'ready':
      headline = 'Ready — waiting for the rider';
      sub = order.rider_id ? 'Your rider is heading to the restaurant.' : 'A rider will be assigned shortly.';
      break;
    case 'picked_up':
      headline = 'Your rider is on the way';
      sub = rider ? `Last seen ${formatTime(location!.at)}` : 'Live position appears as soon as the rider shares it.';
      break;
    case 'delivered':
      headline = 'Delivered — enjoy your meal!';
      break;
    case 'rejected':
      headline = 'The restaurant could not take this order';
      sub = order.status_reason === 'not_answered' ? 'The kitchen did not answer in time, so the order was not accepted.' : (order.status_reason ?? '');
      break;
    default:
      headline = 'Order cancelled';
      sub = order.status_reason ?? '';
  }

  return (
    <div className="order-page" data-testid="order-page" data-status={order.status}>
      <a href="#/orders" className="btn btn-link back">
        ← All orders
      </a>
      <div className={`status-hero status-${order.status}`}>
        <div className="status-hero-top">
          <span className="muted small">Order #{order.id}</span>
          <StatusPill status={order.status} label={order.status === 'pending' ? 'Placed' : undefined} />
        </div>
        <h1 data-testid="order-headline">{headline}</h1>
        {sub && (
          <p className="eta" data-testid="eta">
            {sub}
          </p>
        )}
      </div>

      {showMap && (
        <div className="track-map">
          <DeliveryMap destination={dest} rider={rider} label={rider ? `Rider at ${rider.lat.toFixed(4)}, ${rider.lng.toFixed(4)}` : 'Delivery address'} />
          <p className="small muted" data-testid="rider-position" data-lat={rider?.lat ?? ''} data-lng={rider?.lng ?? ''}>
            {rider ? `Rider at ${rider.lat.toFixed(5)}, ${rider.lng.toFixed(5)} · ${formatTime(location!.at)}` : dest ? 'Your delivery address' : ''}
          </p>
        </div>
      )}

      <ol className="timeline" aria-label="Order progress">
        {STEPS.map((s, i) => {
          const at = reached.get(s.status);
          const done = !!at || (!stopped && i <= currentIdx);
          const current = !stopped && i === currentIdx;
          return (
            <li key={s.status} className={`${done ? 'done' : ''} ${current ? 'current' : ''}`} data-step={s.status} data-done={done ? 'true' : 'false'} aria-current={current ? 'step' : undefined}>
              <span className="dot" aria-hidden="true">
                {done && !current ? '✓' : ''}
              </span>
              <span className="step-label">{s.label}</span>
              <span className="step-time num">{at ? formatTime(at) : ''}</span>
            </li>
          );
        })}
        {stopped && (
          <li className="done stopped" data-step={order.status}>
            <span className="dot" aria-hidden="true">
              ✕
            </span>
            <span className="step-label">{STATUS_LABEL[order.status]}</span>
            <span className="step-time num">{reached.get(order.status) ? formatTime(reached.get(order.status)!) : ''}</span>
          </li>
        )}
      </ol>

      <section className="card receipt" aria-label="Receipt">
        <ul>
          {order.items.map((l, i) => (
            <li key={i}>
              <span>
                {l.quantity}× {l.name}
                {l.options?.length > 0 && <span className="line-options"> · {l.options.map((o) => o.name).join(', ')}</span>}
              </span>
              <span className="num">{formatMoney(l.unit_price_cents * l.quantity)}</span>
            </li>
          ))}
          <li className="muted">
            <span>Delivery</span>
            <span className="num">{formatMoney(order.delivery_fee_cents)}</span>
          </li>
          <li className="total-line">
            <span>Total</span>
            <strong className="num">{formatMoney(order.total_cents)}</strong>
          </li>
        </ul>
        <p className="small muted">Deliver to: {order.delivery.address}</p>
      </section>
      <ErrorBanner message={error} />
    </div>
  );
}

function History({ orders, loaded, error, onRetry }: { orders: Order[]; loaded: boolean; error: string | null; onRetry: () => void }) {
  if (!loaded) return error ? <ErrorBanner message={`Could not load your orders: ${error}`} onRetry={onRetry} /> : <Spinner label="Loading your orders…" />;
  const list = [...orders].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  return (
    <div className="history">
      <h1>Your orders</h1>
      <ErrorBanner message={error} onRetry={onRetry} />
      {list.length === 0 && (
        <p className="empty">
          <span className="big" aria-hidden="true">
            <Icon name="plate" size={40} />
          </span>
          No orders yet. <a href="#/">Browse the menu</a>
        </p>
      )}
      <ul className="history-list">
        {list.map((o) => (
          <li key={o.id}>
            <a href={`#/orders/${o.id}`} className="card history-item" data-testid="history-item" data-order-id={o.id}>
              <div className="history-top">
                <strong>Order #{o.id}</strong>
                <StatusPill status={o.status} label={o.status === 'pending' ? 'Placed' : undefined} />
              </div>
              <div className="small muted">{itemsSummary(o.items)}</div>
              <div className="history-bottom">
                <span className="small muted">{formatDateTime(o.created_at)}</span>
                <strong className="num">{formatMoney(o.total_cents)}</strong>
              </div>
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
