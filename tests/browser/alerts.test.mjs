// The kitchen's alerts on the admin board: the sound button (one click on, one click
// off, remembered in localStorage), a muted board stays silent while a new order still
// raises its toast, every order still in New alerts again after a reload and in a second
// tab (and leaves both tabs live when it is accepted), the offline banner, a rush of more
// than three new orders as one summary, and a 1024×768 tablet without horizontal scroll.
//
// One server for the file; each test starts from no pending orders (clearPending) and
// opens its own browser context, i.e. a fresh profile with empty localStorage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, itemId;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  itemId = (await api.menu()).categories[0].items[0].id;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// The interval of the repeated alert sound (AdminApp.tsx: setInterval(beep, 2500)).
const BEEP_INTERVAL_MS = 2500;

const placeOrder = (n = 1) => api.placeOrder(customerToken, [{ item_id: itemId, quantity: n }], { address: `Alert street ${n}` });
const accept = (id) => api.call('POST', `/api/orders/${id}/status`, { status: 'accepted', prep_minutes: 15 }, adminToken);

/** Rejects every order still pending, so that each test starts with no alert. */
async function clearPending() {
  const { orders } = await api.call('GET', '/api/orders?status=pending&limit=100', null, adminToken);
  for (const o of orders) await api.call('POST', `/api/orders/${o.id}/status`, { status: 'rejected', reason: 'cleared by the alerts test' }, adminToken);
  const left = await api.call('GET', '/api/orders?status=pending&limit=100', null, adminToken);
  assert.equal(left.orders.length, 0, 'no pending order left');
}

/** Opens the admin board in a new page of `ctx`, signing in unless the stored token does. */
async function openBoard(ctx) {
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/admin/');
  await page.locator('[data-testid=board], #login-title').first().waitFor();
  if (await page.locator('#login-title').count()) await signIn(page, server.accounts.admin);
  await page.getByTestId('board').waitFor();
  await page.locator('[data-testid=connection][data-state=live]').waitFor();
  return page;
}

const toast = (page, id) => page.locator(`[data-testid=toast][data-order-id="${id}"]`);
const beeps = (page) => page.evaluate(() => window.__brigadeBeeps ?? 0);
const soundChoice = (page) => page.evaluate(() => localStorage.getItem('brigade.admin.sound'));
/** A round trip through the page's event loop: a frame, then a task. */
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));

/**
 * Proves that no beep was counted for a while: the wait below is expected to time out.
 * "Nothing happened" has no event to wait for, so the window is bounded by the alert's
 * own rhythm: the first beep comes right after the toast renders and the next one
 * BEEP_INTERVAL_MS later, so a window of one interval plus a margin would see either.
 */
async function assertNoBeepFor(page, count, ms = BEEP_INTERVAL_MS + 1000) {
  const more = await page
    .waitForFunction((n) => (window.__brigadeBeeps ?? 0) > n, count, { timeout: ms, polling: 100 })
    .then(
      () => true,
      (e) => {
        if (e.name !== 'TimeoutError') throw e;
        return false;
      },
    );
  assert.equal(more, false, `no beep within ${ms} ms (had ${count}, now ${await beeps(page)})`);
}

test('one click on "Enable sound" turns sound on and keeps it on; a second click turns it off', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, DESKTOP); // a fresh profile: no saved choice
  const page = await openBoard(ctx);
  assert.equal(await soundChoice(page), null, 'fresh profile');
  const enable = page.getByTestId('enable-sound');
  await enable.waitFor();
  assert.notEqual(await enable.getAttribute('data-sound-toggle'), null, 'the auto-resume listener ignores this button');

  await enable.click();
  const on = page.getByTestId('sound-on');
  await on.waitFor({ timeout: 5000 });
  await settle(page);
  // Still on once the click has been handled to its end (not turned on by the press and
  // off again by the click).
  assert.equal(await on.count(), 1, 'the button still says "Sound on"');
  assert.equal(await enable.count(), 0);
  assert.equal(await on.getAttribute('aria-pressed'), 'true');
  assert.match(await on.innerText(), /Sound on/);
  assert.equal(await soundChoice(page), 'on');

  await on.click();
  await enable.waitFor({ timeout: 5000 });
  await settle(page);
  assert.equal(await on.count(), 0);
  assert.match(await enable.innerText(), /Enable sound/);
  assert.equal(await soundChoice(page), 'off');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('muted means silent: a new order raises its toast without a beep; with sound on it beeps', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await openBoard(ctx);
  await page.getByTestId('enable-sound').click();
  await page.getByTestId('sound-on').waitFor({ timeout: 5000 });
  await page.getByTestId('sound-on').click();
  await page.getByTestId('enable-sound').waitFor({ timeout: 5000 });
  assert.equal(await soundChoice(page), 'off');

  const before = await beeps(page);
  const muted = await placeOrder(1);
  await toast(page, muted.id).waitFor({ timeout: 5000 });
  await settle(page);
  assert.equal(await beeps(page), before, 'no beep when the toast appears');
  await assertNoBeepFor(page, before); // nor at the next repeat
  assert.equal(await toast(page, muted.id).count(), 1, 'the toast is still up (not acknowledged)');

  // Acknowledged: no toast left, the repetition stops. Then sound on, and a new order beeps.
  await toast(page, muted.id).getByRole('button', { name: 'Acknowledge' }).click();
  await toast(page, muted.id).waitFor({ state: 'detached' });
  await page.getByTestId('enable-sound').click();
  await page.getByTestId('sound-on').waitFor({ timeout: 5000 });
  assert.equal(await soundChoice(page), 'on');
  const beforeOn = await beeps(page);
  assert.equal(beforeOn, before, 'no beep while nothing is pending');
  const loud = await placeOrder(2);
  await toast(page, loud.id).waitFor({ timeout: 5000 });
  await page.waitForFunction((n) => (window.__brigadeBeeps ?? 0) > n, beforeOn, { timeout: 2000 });
  // ...and it repeats while the order waits.
  const first = await beeps(page);
  await page.waitForFunction((n) => (window.__brigadeBeeps ?? 0) > n, first, { timeout: BEEP_INTERVAL_MS + 2000 });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('orders still in New alert again after a reload and in a second tab; accepting one clears it in both', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, DESKTOP);
  const a = await placeOrder(1);
  const b = await placeOrder(2);
  const page = await openBoard(ctx);
  for (const o of [a, b]) await toast(page, o.id).waitFor({ timeout: 5000 });

  await page.reload();
  await page.getByTestId('board').waitFor();
  await page.locator('[data-testid=connection][data-state=live]').waitFor();
  for (const o of [a, b]) await toast(page, o.id).waitFor({ timeout: 5000 });
  assert.equal(await page.getByTestId('toast').count(), 2);

  // A second tab of the same profile (signed in by the stored token).
  const other = await openBoard(ctx);
  for (const o of [a, b]) await toast(other, o.id).waitFor({ timeout: 5000 });
  assert.equal(await other.getByTestId('toast').count(), 2);

  // Accepted in the first tab: its toast goes in both, live.
  const card = page.locator(`[data-testid=column-pending] [data-testid=order-card][data-order-id="${a.id}"]`);
  await card.getByTestId('accept-15').click();
  await page.locator(`[data-testid=column-accepted] [data-order-id="${a.id}"]`).waitFor({ timeout: 5000 });
  await toast(page, a.id).waitFor({ state: 'detached', timeout: 5000 });
  await other.locator(`[data-testid=column-accepted] [data-order-id="${a.id}"]`).waitFor({ timeout: 5000 });
  await toast(other, a.id).waitFor({ state: 'detached', timeout: 5000 });
  for (const p of [page, other]) {
    assert.equal(await toast(p, b.id).count(), 1, `order ${b.id} still alerts`);
    assert.equal(await p.getByTestId('toast').count(), 1);
  }
  assert.equal((await api.call('GET', `/api/orders/${a.id}`, null, adminToken)).status, 'accepted');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('offline: a banner says new orders cannot reach the screen, and goes once live again', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await openBoard(ctx);
  const banner = page.getByTestId('offline-banner');
  assert.equal(await banner.count(), 0, 'no banner while live');

  await ctx.setOffline(true);
  await banner.waitFor({ timeout: 5000 });
  assert.match(await banner.innerText(), /new orders cannot reach this screen/);
  assert.equal(await banner.getAttribute('role'), 'alert');
  await page.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 5000 });
  const o = await placeOrder(3); // placed while the screen is offline

  await ctx.setOffline(false);
  await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 15000 });
  await banner.waitFor({ state: 'detached', timeout: 5000 });
  // The order missed while offline alerts once the board is back.
  await toast(page, o.id).waitFor({ timeout: 5000 });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a rush of 5 new orders shows one summary; after 3 are accepted the 2 toasts come back', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await openBoard(ctx);
  const orders = [];
  for (let i = 1; i <= 5; i++) orders.push(await placeOrder(i));

  const summary = page.getByTestId('toast-summary');
  await summary.filter({ hasText: '5 new orders' }).waitFor({ timeout: 5000 });
  assert.equal(await summary.count(), 1);
  assert.match(await summary.innerText(), /5 new orders/);
  assert.equal(await page.getByTestId('toast').count(), 0, 'no individual toasts in a rush');

  for (const o of orders.slice(0, 3)) await accept(o.id);
  await summary.waitFor({ state: 'detached', timeout: 5000 });
  for (const o of orders.slice(3)) await toast(page, o.id).waitFor({ timeout: 5000 });
  assert.equal(await page.getByTestId('toast').count(), 2);
  assert.equal(await summary.count(), 0);
  assert.deepEqual(errors, []);
  await ctx.close();
});

const TABLET = { viewport: { width: 1024, height: 768 } };

test('a 1024×768 tablet: all six columns in view, the rider picker readable', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, TABLET);
  const page = await openBoard(ctx);
  const accepted = await placeOrder(1);
  await accept(accepted.id);
  const pending = await placeOrder(2); // a New card too, with its accept buttons
  const card = page.locator(`[data-testid=column-accepted] [data-testid=order-card][data-order-id="${accepted.id}"]`);
  await card.waitFor({ timeout: 5000 });
  await page.locator(`[data-testid=column-pending] [data-order-id="${pending.id}"]`).waitFor({ timeout: 5000 });

  const board = await page.getByTestId('board').boundingBox();
  assert.ok(board.x >= 0 && board.x + board.width <= 1024, `the board inside the viewport: x ${board.x}, width ${board.width}`);
  for (const key of ['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'done']) {
    const col = await page.getByTestId(`column-${key}`).boundingBox();
    assert.ok(col.x >= 0 && col.x + col.width <= 1024, `column ${key} inside the viewport: x ${col.x}, width ${col.width}`);
  }
  for (const [key, title] of [['picked_up', 'On the way'], ['done', 'Done today']]) {
    const h = page.locator(`#col-${key}`);
    assert.match(await h.innerText(), new RegExp(title, 'i'));
    const box = await h.boundingBox();
    assert.ok(box, `${title} is rendered`);
    assert.ok(box.x >= 0 && box.x + box.width <= 1024, `"${title}" inside the viewport: x ${box.x}, width ${box.width}`);
  }

  const select = card.locator(`#rider-${accepted.id}`);
  const box = await select.boundingBox();
  assert.ok(box, 'the rider picker is rendered');
  assert.ok(box.width >= 100, `rider picker ${box.width} px wide`);
  assert.match(await select.locator('option').first().innerText(), /^(Assign rider…|No rider online)$/);
  assert.ok(box.x + box.width <= 1024);
  assert.deepEqual(errors, []);
  await ctx.close();
});

// TODO (panel bug): at 1024 px a card is about 148 px wide, but its .order-meta row
// (web/src/admin/admin.css:48-50: a flex row of .order-customer, white-space: nowrap and
// not allowed to shrink, and .order-total) needs about 175 px for "Carla Customer" and
// "€19.49": the price sticks out of every card on the right, and a card in "Done today",
// the last column, makes the page scroll sideways (scrollWidth 1046).
test('a 1024×768 tablet: no horizontal scroll once "Done today" holds a card', async () => {
  await clearPending();
  const ctx = await newContext(browser, server, TABLET);
  const page = await openBoard(ctx);
  const accepted = await placeOrder(1);
  await accept(accepted.id);
  const done = await placeOrder(3);
  await api.call('POST', `/api/orders/${done.id}/status`, { status: 'rejected', reason: 'out of dough' }, adminToken);
  const pending = await placeOrder(2);
  for (const [col, o] of [['accepted', accepted], ['done', done], ['pending', pending]])
    await page.locator(`[data-testid=column-${col}] [data-testid=order-card][data-order-id="${o.id}"]`).waitFor({ timeout: 5000 });

  // Cards whose content is wider than the card (the first few named in the message).
  const overflowing = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=order-card]')]
      .filter((c) => c.scrollWidth > c.clientWidth)
      .map((c) => {
        const meta = c.querySelector('.order-meta');
        return `#${c.dataset.orderId} (${c.dataset.status}): card ${c.clientWidth} px, content ${c.scrollWidth} px, .order-meta needs ${meta?.scrollWidth} px`;
      }),
  );
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 1024, `no horizontal scroll: scrollWidth ${scrollWidth}; ${overflowing.length} cards too wide, e.g. ${overflowing.slice(0, 3).join('; ')}`);
  assert.equal(overflowing.length, 0, `no card content wider than its card: ${overflowing.slice(0, 3).join('; ')}`);
  assert.deepEqual(errors, []);
  await ctx.close();
});
