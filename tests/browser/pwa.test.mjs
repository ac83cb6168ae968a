// Installable panels and notifications (docs/PANELS.md, "Installable panels and
// notifications"): each panel links its own web manifest (served as
// application/manifest+json, with its icons); the service worker registers with the
// panel's scope and controls the page; with the network off, a reload of the customer page
// still shows the panel from the cache and says it is offline; no /api/ answer is ever in a
// cache; while the tab is hidden, the customer gets a system notification for each status
// change of their order, and the rider for a new offer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, riderId, itemId;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  riderId = (await api.call('GET', '/api/riders/me', null, await api.login('rider'))).id;
  itemId = (await api.menu()).categories[0].items[0].id;
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

const PANELS = ['/', '/admin/', '/rider/'];

/** Waits for the panel's service worker to be active, reloads, and returns what controls the page. */
async function controlledAfterReload(page) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return page.evaluate(async () => ({
    script: navigator.serviceWorker.controller.scriptURL,
    scope: (await navigator.serviceWorker.ready).scope,
  }));
}

/** Records system notifications instead of showing them, and hides the page. */
async function recordNotificationsHidden(page) {
  await page.evaluate(() => {
    window.__shown = [];
    ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
      window.__shown.push({ via: 'registration', title, body: options?.body ?? '' });
      return Promise.resolve();
    };
    const Real = window.Notification;
    window.Notification = class {
      static get permission() {
        return Real.permission;
      }
      static requestPermission() {
        return Real.requestPermission();
      }
      constructor(title, options) {
        window.__shown.push({ via: 'page', title, body: options?.body ?? '' });
      }
    };
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

test('each panel: its manifest, its icons, its service worker controlling the page', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  for (const panel of PANELS) {
    await page.goto(panel);
    const href = await page.locator('link[rel=manifest]').getAttribute('href');
    assert.equal(href, `${panel}manifest.webmanifest`);
    const res = await page.request.get(href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^application\/manifest\+json/);
    const manifest = await res.json();
    assert.equal(manifest.start_url, panel);
    assert.equal(manifest.scope, panel);
    assert.equal(manifest.display, 'standalone');
    assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/);
    const meta = await page.locator('meta[name=theme-color]').getAttribute('content');
    assert.equal(meta, manifest.theme_color, 'the page and the installed app have one theme colour');
    assert.match(manifest.background_color, /^#[0-9a-f]{6}$/);
    assert.deepEqual(manifest.icons.map((i) => i.sizes).sort(), ['192x192', '512x512', 'any']);
    for (const icon of manifest.icons) {
      const r = await page.request.get(icon.src);
      assert.equal(r.status(), 200, icon.src);
      assert.equal(r.headers()['content-type'], icon.type, icon.src);
    }

    const sw = await controlledAfterReload(page);
    assert.equal(sw.script, `${server.url}/sw.js`);
    assert.equal(sw.scope, `${server.url}${panel}`);
  }
  await ctx.close();
});

test('offline: a reload of the customer page shows the cached panel and says it is offline; no /api/ answer is cached', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/#/login');
  await signIn(page, server.accounts.customer);
  await page.getByTestId('nav-orders').waitFor();
  await page.getByTestId('dish').first().waitFor();
  await controlledAfterReload(page);
  await page.getByTestId('dish').first().waitFor(); // the menu again, through the worker
  assert.equal(await page.getByTestId('net-offline').count(), 0);

  await ctx.setOffline(true);
  await page.reload();
  await page.getByTestId('net-offline').getByText("You're offline.").waitFor();
  assert.equal(await page.title(), 'Brigade — order food');
  assert.ok(page.url().startsWith(server.url), page.url());
  await page.locator('.shop-top').waitFor(); // the panel, not the browser's error page
  // Still signed in (the account the stored token stood for), not a sign-in form it cannot send.
  await page.getByTestId('nav-orders').waitFor();
  assert.equal(await page.locator('form.login').count(), 0);

  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
    return urls;
  });
  assert.ok(cached.includes('/'), `the customer page is cached: ${cached}`);
  assert.ok(cached.some((u) => u.startsWith('/assets/') && u.endsWith('.js')), `its scripts are cached: ${cached}`);
  assert.deepEqual(cached.filter((u) => u.startsWith('/api/') || u.startsWith('/socket.io/')), []);

  // Back online: the banner goes, the session and the menu come back without a reload.
  await ctx.setOffline(false);
  await page.getByTestId('net-offline').waitFor({ state: 'detached' });
  await page.getByTestId('nav-orders').waitFor();
  await page.getByTestId('dish').first().waitFor();
  await ctx.close();
});

test('hidden tab: the customer is notified of each status change of their order', async () => {
  const ctx = await newContext(browser, server, PHONE);
  await ctx.grantPermissions(['notifications']);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/#/login');
  await signIn(page, server.accounts.customer);
  await page.getByTestId('nav-orders').waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));

  const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }]);
  await page.goto(`/#/orders/${o.id}`);
  await page.locator('[data-testid=order-page][data-status=pending]').waitFor();
  await page.locator('[data-testid=connection][data-state=live]').waitFor();
  await recordNotificationsHidden(page);

  await api.call('POST', `/api/orders/${o.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
  await page.waitForFunction(() => window.__shown.length >= 1);
  await api.call('POST', `/api/orders/${o.id}/status`, { status: 'preparing' }, adminToken);
  await page.waitForFunction(() => window.__shown.length >= 2);
  const shown = await page.evaluate(() => window.__shown);
  assert.deepEqual(
    shown.map((n) => [n.via, n.title]),
    [
      ['registration', `Order #${o.id} — Accepted`],
      ['registration', `Order #${o.id} — Preparing`],
    ],
  );
  assert.match(shown[1].body, /being prepared/);
  await ctx.close();
});

test('hidden tab: the rider is notified of a new offer', async () => {
  const ctx = await newContext(browser, server, PHONE);
  await ctx.grantPermissions(['notifications']);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/rider/');
  await signIn(page, server.accounts.rider);
  const online = page.getByTestId('online-switch');
  await online.waitFor();
  if (!(await online.isChecked())) await online.check();
  await page.getByText("You're online").waitFor();
  await page.locator('[data-testid=connection][data-state=live]').waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await recordNotificationsHidden(page);

  const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }], { address: '4 Mill Lane' });
  await api.call('POST', `/api/orders/${o.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
  await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
  await page.waitForFunction((id) => window.__shown.some((n) => n.title.includes(`#${id}`)), o.id);
  const shown = (await page.evaluate(() => window.__shown)).filter((n) => n.title.includes(`#${o.id}`));
  assert.equal(shown.length, 1);
  assert.equal(shown[0].via, 'registration');
  assert.match(shown[0].title, new RegExp(`^New (offer|delivery) — order #${o.id}$`));
  assert.match(shown[0].body, /4 Mill Lane/);
  await ctx.close();
});
