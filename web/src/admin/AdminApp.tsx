import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api } from '../shared/api';
import { applyMenuChange, useLive, useOrders, useRestaurant, useSession } from '../shared/hooks';
import type { Alert, Menu, Order, Rider, Stats, User } from '../shared/types';
import { Brand, ConnectionBadge, ErrorBanner, LanguageSwitch, LoginForm, OfflineBanner, Spinner } from '../shared/ui';
import { askNotificationPermission, notifyIfHidden } from '../shared/pwa';
import { Board } from './Board';
import { MenuAdmin } from './MenuAdmin';
import { TodayStats } from './TodayStats';
import { KitchenControls } from './KitchenControls';
import { RestaurantSettings } from './RestaurantSettings';
import { Ticket } from './Ticket';
import { beep, disableSound, enableSound, soundReady, soundWanted } from './sound';
import { Icon } from '../shared/icons';
import { formatMoney, itemsSummary } from '../shared/format';
import { errorText } from '../shared/errors';
import { messagesNow, useMessages } from '../shared/i18n';
import { admin } from './messages';

const api = new Api('admin');
(window as any).__brigadeApi = api;

type Tab = 'board' | 'menu' | 'settings';

// More new orders than this at once (a rush) show as one summary instead of a stack that
// would cover the board.
const MAX_TOASTS = 3;

interface Toast extends Alert {
  key: string;
  at: number;
}

/** A failed load: said when shown, in the language on screen. */
type Failure = { error: unknown } | null;

// With the kitchen's permission (asked with "Enable sound"), a system notification for a
// new order while this tab is hidden (notifyIfHidden, src/shared/pwa.ts): the sound alone
// is easy to miss behind other windows.

export function AdminApp() {
  const m = useMessages(admin);
  const session = useSession(api, 'admin');
  if (session.checking) return <Spinner label={m.signingIn} />;
  if (!session.user)
    return (
      <div className="center-page admin-login">
        <Brand subtitle={m.kitchen} />
        <LanguageSwitch />
        <OfflineBanner>{m.signInNeedsNetwork}</OfflineBanner>
        <LoginForm api={api} role="admin" title={m.loginTitle} subtitle={m.loginSubtitle} onSignedIn={session.signedIn} />
      </div>
    );
  return <Dashboard user={session.user} onSignOut={session.signOut} />;
}

function Dashboard({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const m = useMessages(admin);
  const name = user.name;
  const [tab, setTab] = useState<Tab>(() => (location.hash === '#menu' ? 'menu' : location.hash === '#settings' ? 'settings' : 'board'));
  const restaurant = useRestaurant(api);
  const { orders, apply, replaceAll } = useOrders();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<Failure>(null);
  const [riders, setRiders] = useState<Rider[]>([]);
  const [stats, setStats] = useState<Stats | null>(null);
  const [statsError, setStatsError] = useState<Failure>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [menuError, setMenuError] = useState<Failure>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [printing, setPrinting] = useState<Order | null>(null);
  const donePrinting = useCallback(() => setPrinting(null), []);
  const [sound, setSound] = useState<'on' | 'off' | 'blocked'>(() => (soundWanted() ? 'blocked' : 'off'));

  useEffect(() => {
    location.hash = tab === 'board' ? '' : tab;
  }, [tab]);

  const loadOrders = useCallback(async () => {
    try {
      const list = await api.orders({ limit: 100 });
      replaceAll(list);
      // After a reload, in a second tab or after a reconnect: every order still waiting in
      // New alerts again (its `alert` event may have gone to another tab, or long ago).
      const waiting = list.filter((o) => o.status === 'pending');
      setToasts((ts) => {
        const have = new Set(ts.map((t) => t.order_id));
        const fresh = waiting.filter((o) => !have.has(o.id)).map((o) => ({ kind: 'order:new' as const, order_id: o.id, message: messagesNow(admin).newOrder(o.id), key: `${o.id}`, at: Date.now() }));
        return fresh.length ? [...ts, ...fresh] : ts;
      });
      setLoadError(null);
      setLoaded(true);
    } catch (e) {
      setLoadError({ error: e });
    }
  }, [replaceAll]);
  const loadRiders = useCallback(async () => {
    try {
      setRiders(await api.riders());
    } catch {
      /* the assign control shows "no riders" */
    }
  }, []);
  const loadStats = useCallback(async () => {
    try {
      setStats(await api.stats());
      setStatsError(null);
    } catch (e) {
      setStatsError({ error: e });
    }
  }, []);
  const loadMenu = useCallback(async () => {
    try {
      setMenu(await api.menu());
      setMenuError(null);
    } catch (e) {
      setMenuError({ error: e });
    }
  }, []);
  const reloadRestaurant = restaurant.reload;
  const reloadAll = useCallback(async () => {
    await Promise.all([loadOrders(), loadRiders(), loadStats(), loadMenu(), reloadRestaurant()]);
  }, [loadOrders, loadRiders, loadStats, loadMenu, reloadRestaurant]);

  useEffect(() => {
    void reloadAll();
    const t = window.setInterval(() => void loadRiders(), 10000);
    const s = window.setInterval(() => void loadStats(), 60000);
    return () => {
      window.clearInterval(t);
      window.clearInterval(s);
    };
  }, [reloadAll, loadRiders, loadStats]);

  // Stats follow order changes, at most once a second.
  const statsTimer = useRef<number | undefined>(undefined);
  const statsSoon = useCallback(() => {
    if (statsTimer.current) return;
    statsTimer.current = window.setTimeout(() => {
      statsTimer.current = undefined;
      void loadStats();
      void loadRiders();
    }, 1000);
  }, [loadStats, loadRiders]);

  const { state } = useLive(api, user, {
    reload: reloadAll,
    order: (c) => {
      apply(c.order, c.op);
      statsSoon();
      if (c.order.status !== 'pending') setToasts((ts) => ts.filter((t) => t.order_id !== c.order.id));
    },
    menu: (c) => setMenu((m) => applyMenuChange(m, c)),
    restaurant: restaurant.apply,
    alert: (a) => {
      // The server's own text (a.message) is English: the panel says it in its language.
      const said = messagesNow(admin).newOrder(a.order_id);
      void notifyIfHidden(said, said);
      setToasts((ts) => (ts.some((t) => t.order_id === a.order_id) ? ts : [...ts, { ...a, key: `${a.order_id}`, at: Date.now() }]));
    },
  });

  // The alert sound repeats until every new order is acknowledged.
  const pending = toasts.length > 0;
  useEffect(() => {
    if (!pending) return;
    beep();
    const t = window.setInterval(beep, 2500);
    return () => window.clearInterval(t);
  }, [pending]);

  useEffect(() => {
    // Try to resume sound silently (works once the user has interacted with the page). Not
    // for a press of the sound button itself: its own click decides (otherwise the press
    // turns sound on, the button becomes "Sound on", and the click turns it off again).
    if (sound === 'blocked' && soundWanted()) {
      const tryEnable = (e: Event) => {
        if ((e.target as Element | null)?.closest?.('[data-sound-toggle]')) return;
        void enableSound().then((ok) => ok && setSound('on'));
      };
      window.addEventListener('pointerdown', tryEnable);
      window.addEventListener('keydown', tryEnable);
      return () => {
        window.removeEventListener('pointerdown', tryEnable);
        window.removeEventListener('keydown', tryEnable);
      };
    }
  }, [sound]);

  const acknowledge = (orderId?: number) => setToasts((ts) => (orderId == null ? [] : ts.filter((t) => t.order_id !== orderId)));

  const onlineRiders = useMemo(() => riders.filter((r) => r.online), [riders]);

  return (
    <div className="admin">
      <header className="topbar">
        <Brand subtitle={m.kitchen} />
        <nav className="tabs" aria-label={m.sections}>
          <button type="button" className={tab === 'board' ? 'tab active' : 'tab'} aria-current={tab === 'board' ? 'page' : undefined} onClick={() => setTab('board')}>
            {m.tabOrders}
          </button>
          <button type="button" className={tab === 'menu' ? 'tab active' : 'tab'} aria-current={tab === 'menu' ? 'page' : undefined} onClick={() => setTab('menu')}>
            {m.tabMenu}
          </button>
          <button type="button" className={tab === 'settings' ? 'tab active' : 'tab'} aria-current={tab === 'settings' ? 'page' : undefined} onClick={() => setTab('settings')}>
            {m.tabSettings}
          </button>
        </nav>
        <div className="topbar-right">
          <span className="riders-online" title={m.ridersOnline}>
            <Icon name="bike" /> {m.onlineCount(onlineRiders.length)}
          </span>
          {sound === 'on' ? (
            <button type="button" className="btn btn-small" aria-pressed="true" data-sound-toggle data-testid="sound-on" onClick={() => (disableSound(), setSound('off'))}>
              <Icon name="bell" /> {m.soundOn}
            </button>
          ) : (
            <button
              type="button"
              className="btn btn-small btn-dark"
              data-testid="enable-sound"
              data-sound-toggle
              onClick={() => {
                void askNotificationPermission();
                void enableSound().then((ok) => setSound(ok || soundReady() ? 'on' : 'blocked'));
              }}
            >
              <Icon name="bellOff" /> {m.enableSound}
            </button>
          )}
          <ConnectionBadge state={state} />
          <LanguageSwitch />
          <span className="who" title={m.signedIn}>
            {name}
          </span>
          <button type="button" className="btn btn-small btn-ghost" onClick={onSignOut}>
            {m.signOut}
          </button>
        </div>
      </header>

      {(state === 'offline' || state === 'reconnecting') && (
        <div className="offline-banner" role="alert" data-testid="offline-banner">
          {state === 'offline' ? m.bannerOffline : m.bannerLost}
        </div>
      )}

      <div className="toasts" aria-live="assertive">
        {toasts.length > MAX_TOASTS && (
          <div className="toast" role="alert" data-testid="toast-summary">
            <span className="toast-icon" aria-hidden="true">
              <Icon name="bell" size={22} />
            </span>
            <div className="toast-body">
              <strong>{m.newOrders(toasts.length)}</strong>
              <span>#{toasts.map((t) => t.order_id).join(', #')}</span>
            </div>
          </div>
        )}
        {toasts.length <= MAX_TOASTS && toasts.map((t) => (
          <div key={t.key} className="toast" role="alert" data-testid="toast" data-order-id={t.order_id}>
            <span className="toast-icon" aria-hidden="true">
              <Icon name="bell" size={22} />
            </span>
            <div className="toast-body">
              <strong>{m.newOrder(t.order_id)}</strong>
              <span>{orders.get(t.order_id) ? `${itemsSummary(orders.get(t.order_id)!.items)} · ${formatMoney(orders.get(t.order_id)!.total_cents)}` : m.newOrder(t.order_id)}</span>
            </div>
            <button type="button" className="btn btn-small btn-primary" onClick={() => acknowledge(t.order_id)}>
              {m.acknowledge}
            </button>
          </div>
        ))}
        {toasts.length > 1 && (
          <button type="button" className="btn btn-small btn-dark" onClick={() => acknowledge()}>
            {m.acknowledgeAll(toasts.length)}
          </button>
        )}
      </div>

      <main className="admin-main">
        {tab === 'board' ? (
          <>
            <KitchenControls api={api} restaurant={restaurant.restaurant} onChanged={restaurant.setRestaurant} />
            <TodayStats stats={stats} orders={orders} error={statsError && errorText(statsError.error)} onRetry={loadStats} timeZone={restaurant.restaurant?.timezone} />
            <ErrorBanner message={loadError && m.couldNotLoadOrders(errorText(loadError.error))} onRetry={loadOrders} />
            {!loaded && !loadError ? (
              <Spinner label={m.loadingOrders} />
            ) : (
              <Board
                api={api}
                orders={orders}
                riders={riders}
                onChanged={apply}
                onAcknowledge={acknowledge}
                onRefreshRiders={loadRiders}
                autoRejectAfterS={restaurant.restaurant?.auto_reject_after_s}
                timeZone={restaurant.restaurant?.timezone}
                onPrint={setPrinting}
              />
            )}
          </>
        ) : tab === 'settings' ? (
          <RestaurantSettings api={api} restaurant={restaurant.restaurant} onChanged={restaurant.setRestaurant} />
        ) : (
          <>
            <ErrorBanner message={menuError && m.couldNotLoadMenu(errorText(menuError.error))} onRetry={loadMenu} />
            {menu ? <MenuAdmin api={api} menu={menu} onReload={loadMenu} /> : !menuError && <Spinner label={m.loadingMenu} />}
          </>
        )}
      </main>
      {printing && <Ticket order={printing} menu={menu} onDone={donePrinting} />}
    </div>
  );
}
