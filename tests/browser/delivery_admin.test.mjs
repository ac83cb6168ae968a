// Delivery on the admin panel: the Settings form sets the restaurant's location, a
// delivery area of distance bands with a minimum order, and "riders need the customer's
// delivery code" (checked in the form, the server's 422 shown by field); the board's
// cards say how an order is paid (paid only when the server says so), show staff the
// delivery code and the rider's wrong codes live (locked at 5), let staff confirm a
// delivery with a reason, and mark an order paid or unpaid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, riderToken, riderId, ctx, admin;
const errors = [];

// Amsterdam, Dam square; the test's addresses lie north of it, 1.1 km and 5.6 km away.
const HOME = { lat: 52.373, lng: 4.8926 };
const NEAR = { lat: 52.383, lng: 4.8926 }; // ~1.1 km: the first band
const BANDS = [
  { up_to_m: 3000, fee_cents: 250 },
  { up_to_m: 6000, fee_cents: 450 },
];
const MINIMUM_CENTS = 1500;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  riderToken = await api.login('rider');
  riderId = (await api.call('POST', '/api/riders/me/online', { online: true }, riderToken)).id;

  ctx = await newContext(browser, server, DESKTOP);
  admin = await ctx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByTestId('board').waitFor();
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A REST call whose refusal is the point: resolves with {status, body} whatever the status. */
async function attempt(method, path, body, token) {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const card = (id) => admin.locator(`[data-testid=order-card][data-order-id="${id}"]`);
const inColumn = (col, id) => admin.locator(`[data-testid=column-${col}] [data-testid=order-card][data-order-id="${id}"]`);

async function openSettings() {
  await admin.getByRole('button', { name: 'Settings', exact: true }).click();
  await admin.getByTestId('restaurant-settings').waitFor();
}
async function openBoard() {
  await admin.getByRole('button', { name: 'Orders', exact: true }).click();
  await admin.getByTestId('board').waitFor();
}

/** Saves the settings form and waits for the form to say so. */
async function save() {
  const saved = admin.waitForResponse((r) => r.url().endsWith('/api/restaurant') && r.request().method() === 'PATCH');
  await admin.getByTestId('save-settings').click();
  assert.equal((await saved).status(), 200);
  await admin.getByTestId('restaurant-settings').getByRole('status').getByText('Saved.').waitFor();
}

/**
 * A card order from the demo customer to NEAR, through the kitchen, assigned to the demo
 * rider and picked up by them: the order as the admin then sees it.
 */
async function orderOnTheWay() {
  const menu = await api.menu();
  const margherita = menu.categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  const order = await api.call(
    'POST',
    '/api/orders',
    { items: [{ item_id: margherita.id, quantity: 2 }], delivery: { address: 'Prins Hendrikkade 1', ...NEAR }, payment_method: 'card' },
    customerToken,
    { 'Idempotency-Key': `delivery-admin-${Math.random().toString(36).slice(2)}` },
  );
  assert.equal(order.delivery_fee_cents, BANDS[0].fee_cents, 'priced by the first band');
  assert.deepEqual(order.payment, { method: 'card', status: 'unpaid' });
  assert.match(order.delivery_code, /^\d{4}$/);
  await api.call('POST', `/api/orders/${order.id}/status`, { status: 'accepted', prep_minutes: 15 }, adminToken);
  await api.call('POST', `/api/orders/${order.id}/status`, { status: 'preparing' }, adminToken);
  await api.call('POST', `/api/orders/${order.id}/status`, { status: 'ready' }, adminToken);
  await api.call('POST', `/api/orders/${order.id}/assign`, { rider_id: riderId }, adminToken);
  const picked = await api.call('POST', `/api/orders/${order.id}/status`, { status: 'picked_up' }, riderToken);
  assert.equal(picked.delivery_code, null, 'a rider never sees the code');
  return api.call('GET', `/api/orders/${order.id}`, null, adminToken);
}

/** The rider tries a code that is not the order's (422 wrong_code). */
async function wrongCode(order) {
  const wrong = String((Number(order.delivery_code) + 1) % 10000).padStart(4, '0');
  const r = await attempt('POST', `/api/orders/${order.id}/status`, { status: 'delivered', code: wrong }, riderToken);
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'wrong_code');
}

test('the Settings form saves the location, a delivery area of two bands with a minimum, and the code rule', async () => {
  await openSettings();
  assert.equal(await admin.locator('#set-lat').inputValue(), '', 'no location yet');
  assert.equal(await admin.locator('#set-area').isChecked(), false);
  assert.equal(await admin.locator('#set-band-0-km').count(), 0, 'no bands while the area is off');

  await admin.locator('#set-lat').fill(String(HOME.lat));
  await admin.locator('#set-lng').fill(String(HOME.lng));
  await admin.getByLabel('Deliver only within an area').check();
  await admin.locator('#set-band-0-km').fill('3');
  await admin.locator('#set-band-0-fee').fill('2.50');
  await admin.getByTestId('add-band').click();
  await admin.locator('#set-band-1-km').fill('6');
  await admin.locator('#set-band-1-fee').fill('4.50');
  await admin.getByLabel('Minimum order').fill('15');
  await admin.getByLabel('Riders need the customer’s delivery code').check();
  await save();

  const r = await api.call('GET', '/api/restaurant');
  assert.deepEqual(r.location, HOME);
  assert.deepEqual(r.delivery_area, { bands: BANDS, min_subtotal_cents: MINIMUM_CENTS });
  assert.equal(r.delivery_code_required, true);
  // The form shows what was stored, in its own units.
  assert.equal(await admin.locator('#set-band-0-km').inputValue(), '3');
  assert.equal(await admin.locator('#set-band-1-km').inputValue(), '6');
  assert.equal(await admin.locator('#set-band-1-fee').inputValue(), '4.50');
  assert.equal(await admin.getByLabel('Minimum order').inputValue(), '15.00');
  assert.equal(await admin.getByTestId('band').count(), 2);
  assert.deepEqual(errors, []);
});

test('bands out of order are refused in the form; a setting the server refuses is named', async () => {
  await openSettings();
  const before = await api.call('GET', '/api/restaurant');
  const problem = admin.getByTestId('settings-error');

  // Band 2 reaching less far than band 1: the form says so, nothing is sent.
  let patches = 0;
  const count = (req) => {
    if (req.url().endsWith('/api/restaurant') && req.method() === 'PATCH') patches++;
  };
  admin.on('request', count);
  await admin.locator('#set-band-1-km').fill('2');
  await admin.getByTestId('save-settings').click();
  await problem.getByText('Band 2 must reach further than band 1 (3 km)', { exact: false }).waitFor();
  assert.equal(await problem.getAttribute('data-field'), 'delivery_area.bands[1].up_to_m');
  assert.equal(await admin.locator('#set-band-1-km').getAttribute('aria-invalid'), 'true');
  admin.off('request', count);
  assert.equal(patches, 0, 'the form did not send it');

  // Fixed, but a time zone the server does not know: its 422, by the field's name.
  await admin.locator('#set-band-1-km').fill('6');
  await admin.locator('#set-tz').fill('Mars/Olympus_Mons');
  const refused = admin.waitForResponse((r) => r.url().endsWith('/api/restaurant') && r.request().method() === 'PATCH');
  await admin.getByTestId('save-settings').click();
  const response = await refused;
  assert.equal(response.status(), 422);
  const { error } = await response.json();
  assert.equal(error.field, 'timezone');
  await problem.getByText("Time zone: this value is not accepted. Check it and try again.").waitFor(); // in words, not the server's
  assert.equal(await problem.getAttribute('data-field'), 'timezone');
  assert.equal(await admin.locator('#set-band-1-km').getAttribute('aria-invalid'), null, 'the band is fine now');

  const unchanged = await api.call('GET', '/api/restaurant');
  assert.equal(unchanged.version, before.version, 'nothing was written');
  assert.deepEqual(unchanged.delivery_area, before.delivery_area);

  await admin.locator('#set-tz').fill('UTC');
  await save();
  assert.equal(await problem.count(), 0, 'the message goes with a good save');
  const after = await api.call('GET', '/api/restaurant');
  assert.deepEqual(after.delivery_area, { bands: BANDS, min_subtotal_cents: MINIMUM_CENTS });
  assert.equal(after.timezone, 'UTC');
  assert.deepEqual(errors, []);
});

test('a card shows the payment and the delivery code, counts wrong codes live, and staff confirm the delivery with a reason', async () => {
  await openBoard();
  const order = await orderOnTheWay();
  const c = inColumn('picked_up', order.id);
  await c.waitFor();

  assert.equal((await c.getByTestId('payment').innerText()).trim(), 'Card · unpaid');
  assert.equal(await c.getByTestId('payment').getAttribute('data-payment-status'), 'unpaid');
  assert.equal((await c.getByTestId('delivery-code').innerText()).trim(), `Code ${order.delivery_code}`);
  assert.equal(await c.getByTestId('code-attempts').count(), 0, 'no wrong code yet');

  // The rider types two wrong codes: the count appears on the board without a reload.
  await wrongCode(order);
  await c.getByTestId('code-attempts').getByText('1 wrong code', { exact: true }).waitFor();
  await wrongCode(order);
  await c.getByTestId('code-attempts').getByText('2 wrong codes', { exact: true }).waitFor();
  assert.equal(await c.getByTestId('code-attempts').getAttribute('data-locked'), 'false');

  // Staff confirm: the form wants a reason.
  await c.getByTestId('confirm-delivered').click();
  const form = c.getByTestId('confirm-delivered-form');
  await form.waitFor();
  const submit = form.getByTestId('confirm-delivered-submit');
  assert.equal(await submit.isDisabled(), true, 'no reason, no confirmation');
  const reason = 'Customer’s phone was flat; handed over at the door';
  await form.getByRole('textbox').fill(reason);
  await submit.click();

  const done = inColumn('done', order.id);
  await done.waitFor();
  assert.equal(await done.getAttribute('data-status'), 'delivered');
  await done.getByText(`Reason: ${reason}`).waitFor();
  const delivered = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(delivered.status, 'delivered');
  assert.equal(delivered.status_reason, reason);
  assert.equal(delivered.history.at(-1).status, 'delivered');
  assert.equal(delivered.payment.status, 'unpaid', 'confirming a delivery does not say it was paid');

  // Delivered, still unpaid: the card says so until someone marks it paid.
  assert.equal((await done.getByTestId('payment').innerText()).trim(), 'Card · unpaid');
  assert.equal(await done.getByTestId('delivery-code').count(), 0, 'the code is for the door only');
  await done.getByTestId('mark-paid').click();
  await done.locator('[data-testid=payment][data-payment-status=paid]').waitFor();
  assert.equal((await done.getByTestId('payment').innerText()).trim(), 'Card · paid');
  assert.equal(await done.locator('.pay-status.pay-paid').count(), 1, 'paid is the green badge');
  assert.deepEqual((await api.call('GET', `/api/orders/${order.id}`, null, adminToken)).payment, { method: 'card', status: 'paid' });

  // A mistake can be undone.
  await done.getByTestId('mark-unpaid').click();
  await done.locator('[data-testid=payment][data-payment-status=unpaid]').waitFor();
  assert.equal((await api.call('GET', `/api/orders/${order.id}`, null, adminToken)).payment.status, 'unpaid');
  await done.getByTestId('mark-paid').click();
  await done.locator('[data-testid=payment][data-payment-status=paid]').waitFor();
  assert.equal((await api.call('GET', `/api/orders/${order.id}`, null, adminToken)).payment.status, 'paid');
  assert.deepEqual(errors, []);
});

test('after 5 wrong codes the card says the code is locked; the rider cannot finish, staff can', async () => {
  const order = await orderOnTheWay();
  const c = inColumn('picked_up', order.id);
  await c.waitFor();
  // Paid at the door before the code trouble: marked from the card while on the way.
  await c.getByTestId('mark-paid').click();
  await c.locator('[data-testid=payment][data-payment-status=paid]').waitFor();
  assert.equal((await c.getByTestId('payment').innerText()).trim(), 'Card · paid');

  for (let i = 0; i < 5; i++) await wrongCode(order);
  const locked = c.locator('[data-testid=code-attempts][data-locked=true]');
  await locked.waitFor();
  assert.equal((await locked.innerText()).trim(), 'Code locked — confirm delivery');
  assert.equal(await locked.getAttribute('class'), 'code-locked');
  const right = await attempt('POST', `/api/orders/${order.id}/status`, { status: 'delivered', code: order.delivery_code }, riderToken);
  assert.equal(right.status, 409);
  assert.equal(right.body.error.code, 'code_locked');

  await c.getByTestId('confirm-delivered').click();
  await c.getByRole('textbox').fill('Code locked after five tries; customer confirmed by phone');
  await c.getByTestId('confirm-delivered-submit').click();
  const done = inColumn('done', order.id);
  await done.waitFor();
  assert.equal(await done.getAttribute('data-status'), 'delivered');
  const stored = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(stored.status, 'delivered');
  assert.equal(stored.status_reason, 'Code locked after five tries; customer confirmed by phone');
  assert.deepEqual(stored.payment, { method: 'card', status: 'paid' });
  assert.equal((await done.getByTestId('payment').innerText()).trim(), 'Card · paid');
  assert.deepEqual(errors, []);
});
