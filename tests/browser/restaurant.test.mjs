// The restaurant's own controls, live across the panels: the kitchen pauses ordering
// and the customer's checkout closes at once (and opens again on resume); busy mode
// adds minutes to the prep time of a one-tap accept; an order nobody answers is
// rejected by the server (moved there with --test-clock) and both panels follow.
// With BRIGADE_SCREENSHOTS=1 it also writes docs/screenshots/admin-kitchen-controls.png,
// admin-settings.png and customer-ordering-paused.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, signIn, collectErrors, rest, repo } from './lib.mjs';

const SHOTS = process.env.BRIGADE_SCREENSHOTS === '1' ? join(repo, 'docs/screenshots') : null;

let server, browser, api, adminToken;
let adminCtx, customerCtx, admin, customer;
const errors = [];

before(async () => {
  server = await startServer({ extraArgs: ['--test-clock'] });
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  adminCtx = await newContext(browser, server, DESKTOP);
  customerCtx = await newContext(browser, server, PHONE);
  admin = await adminCtx.newPage();
  customer = await customerCtx.newPage();
  collectErrors(admin, errors);
  collectErrors(customer, errors);

  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByTestId('board').waitFor();
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();
  await admin.getByTestId('kitchen-status').getByText(/^Taking orders/).waitFor();

  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.locator('[data-testid=connection][data-state=live]').waitFor();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const shot = async (page, name) => {
  // Finite animations (a card or toast sliding in) are run to their end first.
  if (SHOTS) await page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });
};
const placeOrderButton = () => customer.getByTestId('place-order');
const openButton = () => customer.locator('[data-testid=place-order]:enabled', { hasText: /^Place order/ });
const closedButton = () => customer.locator('[data-testid=place-order]:disabled', { hasText: 'Ordering is closed' });

/** From the customer's menu: a cart with a Margherita and a Garlic bread, on the checkout page. */
async function fillCartAndCheckout() {
  await customer.locator('a.brand-link').click(); // back to the menu (a hash change, no reload)
  await customer.getByTestId('dish').first().waitFor();
  await customer.getByRole('button', { name: 'Add Margherita' }).click();
  await customer.getByRole('button', { name: /^Add Garlic bread/ }).click();
  await customer.getByTestId('view-cart').click();
  await customer.getByLabel('Address').fill('Prinsengracht 263');
  await openButton().waitFor();
}

/** Places the order through the checkout button; resolves with the created order. */
async function placeOrder() {
  const placed = customer.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
  await placeOrderButton().click();
  const response = await placed;
  assert.equal(response.status(), 201);
  const order = await response.json();
  await customer.locator(`[data-testid=order-page][data-status=pending]`).waitFor();
  return order;
}

const card = (id) => admin.locator(`[data-testid=order-card][data-order-id="${id}"]`);

test('pausing ordering closes the customer checkout live, resuming opens it', async () => {
  await fillCartAndCheckout();
  assert.equal(await customer.getByTestId('ordering-closed').count(), 0);

  await admin.getByTestId('pause-30').click();
  const status = admin.getByTestId('kitchen-status');
  await status.getByText(/^Paused until \S/).waitFor();
  const until = (await status.innerText()).replace(/^Paused until /, '').trim();
  await admin.getByTestId('resume').waitFor();

  // The customer's page follows without a reload.
  const banner = customer.getByTestId('ordering-closed');
  await banner.waitFor({ timeout: 3000 });
  assert.equal((await banner.innerText()).trim(), `Ordering is paused — back at ${until}`);
  await closedButton().waitFor({ timeout: 3000 });
  assert.equal(await placeOrderButton().isDisabled(), true);
  await shot(customer, 'customer-ordering-paused.png');

  // The server agrees.
  const r = await api.call('GET', '/api/restaurant');
  assert.equal(r.paused_now, true);
  assert.equal(r.accepting_orders, false);
  assert.ok(r.paused_until, 'a pause with an end');
  const minutes = (new Date(r.paused_until).getTime() - Date.now()) / 60000;
  assert.ok(minutes > 28 && minutes <= 30.5, `paused for ${minutes} min`);

  await admin.getByTestId('resume').click();
  await status.getByText(/^Taking orders/).waitFor();
  await admin.getByTestId('pause-30').waitFor();
  await banner.waitFor({ state: 'detached', timeout: 3000 });
  await openButton().waitFor({ timeout: 3000 });
  assert.equal(await placeOrderButton().isEnabled(), true);
  assert.deepEqual(errors, []);
});

test('busy mode adds its minutes to a one-tap accept', async () => {
  await admin.getByTestId('busy-20').click();
  await admin.locator('[data-testid=busy-20][aria-pressed=true]').waitFor();
  assert.equal(await admin.getByTestId('busy-0').getAttribute('aria-pressed'), 'false');
  assert.equal((await api.call('GET', '/api/restaurant')).busy_extra_minutes, 20);

  // Still on the checkout page from the first step (the cart was kept).
  await openButton().waitFor();
  const order = await placeOrder();

  const c = card(order.id);
  await admin.locator(`[data-testid=column-pending] [data-order-id="${order.id}"]`).waitFor({ timeout: 3000 });
  await c.getByTestId('accept-15').click();
  await admin.locator(`[data-testid=column-accepted] [data-order-id="${order.id}"]`).waitFor();
  await c.getByText('Prep 35 min').waitFor();

  const stored = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(stored.status, 'accepted');
  assert.equal(stored.prep_minutes, 35);

  await customer.locator('[data-testid=order-page][data-status=accepted]').waitFor();
  assert.match(await customer.getByTestId('eta').innerText(), /Ready in about (34|35) min/);
  assert.deepEqual(errors, []);
});

test('an order nobody answers is rejected by the server, live on both panels', async () => {
  // Settings: reject unanswered orders after 60 s.
  await admin.getByRole('button', { name: 'Settings', exact: true }).click();
  const form = admin.getByTestId('restaurant-settings');
  await form.waitFor();
  await admin.locator('#set-auto').fill('60');
  await admin.getByTestId('save-settings').click();
  await form.getByRole('status').getByText('Saved.').waitFor();
  assert.equal(await admin.locator('#set-auto').inputValue(), '60');
  assert.equal((await api.call('GET', '/api/restaurant')).auto_reject_after_s, 60);
  await shot(admin, 'admin-settings.png');

  await admin.getByRole('button', { name: 'Orders', exact: true }).click();
  await admin.getByTestId('board').waitFor();

  await fillCartAndCheckout();
  const order = await placeOrder();
  const c = card(order.id);
  await admin.locator(`[data-testid=column-pending] [data-order-id="${order.id}"]`).waitFor({ timeout: 3000 });
  const countdown = c.getByTestId('auto-reject');
  await countdown.waitFor();
  assert.match(await countdown.innerText(), /^Auto-reject in [01]:\d\d$/);
  if (SHOTS) {
    // The day's figures follow the orders within a second or so; the picture waits for them.
    await admin.getByTestId('stat-orders').getByText('2', { exact: true }).waitFor({ timeout: 5000 });
    await shot(admin, 'admin-kitchen-controls.png');
  }

  // Nobody answers: the server's time moves past the limit.
  await server.advanceClock(61_000);

  const done = admin.locator(`[data-testid=column-done] [data-order-id="${order.id}"]`);
  await done.waitFor({ timeout: 5000 });
  assert.equal(await c.getAttribute('data-status'), 'rejected');
  await c.getByText('Reason: not answered in time (rejected automatically)').waitFor();
  assert.equal(await countdown.count(), 0, 'no countdown on a rejected order');

  const page = customer.locator('[data-testid=order-page][data-status=rejected]');
  await page.waitFor({ timeout: 5000 });
  await page.getByText(/did not answer in time/).waitFor();

  const stored = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(stored.status, 'rejected');
  assert.equal(stored.status_reason, 'not_answered');
  assert.deepEqual(errors, []);
});
