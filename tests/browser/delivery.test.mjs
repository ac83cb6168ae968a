// The customer's checkout and the rider's door, on a restaurant with a delivery area, a
// minimum and delivery codes (docs/API.md, "Delivery area and fees", "Payment", "Proof of
// delivery"): the address and note survive signing in; the fee, distance and total are
// shown before ordering and match what is charged; an address outside the area or a cart
// under the minimum is said in plain words and not ordered; card on delivery; the order
// page shows the code and what is to pay; a pending order is cancelled (confirmed) and
// ordered again from the history; the rider's card says "Card terminal", a wrong code is
// refused with the tries left, the customer's code delivers and records the payment, which
// the customer sees live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, riderToken, riderId, customerToken;
const errors = [];
const HOME = { lat: 52.37, lng: 4.89 };
const north = (m) => (HOME.lat + m / 111_195).toFixed(6);
const AREA = { bands: [{ up_to_m: 1000, fee_cents: 0 }, { up_to_m: 4000, fee_cents: 350 }], min_subtotal_cents: 1500 };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  riderToken = await api.login('rider');
  customerToken = await api.login('customer');
  riderId = (await api.call('GET', '/api/riders/me', null, riderToken)).id;
  await api.call('POST', '/api/riders/me/online', { online: true }, riderToken);
  await api.call('PATCH', '/api/restaurant', { location: HOME, delivery_area: AREA, delivery_code_required: true }, adminToken);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

const money = (cents) => new RegExp(`${Math.floor(cents / 100)}[.,]${String(cents % 100).padStart(2, '0')}`);

test('checkout: the draft survives signing in, the fee and total before ordering, refusals in words, card on delivery', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/');
  await page.getByRole('button', { name: 'Add Margherita' }).click();
  await page.getByRole('button', { name: 'Add one more Margherita' }).click();
  await page.getByTestId('view-cart').click();
  await page.getByLabel('Address').fill('Keizersgracht 1');
  await page.getByLabel('Notes for the kitchen or rider (optional)').fill('Ring twice\nThird floor');
  // Not signed in: the button signs in first, without asking for anything.
  await page.getByTestId('place-order').click();
  await page.locator('#login-title').waitFor();
  await signIn(page, server.accounts.customer);
  await page.getByTestId('place-order').waitFor();
  assert.equal(await page.getByLabel('Address').inputValue(), 'Keizersgracht 1');
  assert.equal(await page.getByLabel('Notes for the kitchen or rider (optional)').inputValue(), 'Ring twice\nThird floor');

  // No point yet: the area needs one.
  await page.getByTestId('not-deliverable').getByText('Set the delivery point').waitFor();
  assert.equal(await page.getByTestId('place-order').isDisabled(), true);

  // Too far.
  await page.getByLabel('Latitude').fill(north(6000));
  await page.getByLabel('Longitude').fill(String(HOME.lng));
  await page.getByTestId('not-deliverable').getByText(/outside our delivery area/).waitFor();
  assert.equal(await page.getByTestId('place-order').isDisabled(), true);

  // In the second band: the fee, the distance and the total before ordering.
  await page.getByLabel('Latitude').fill(north(2500));
  await page.getByTestId('delivery-fee').getByText(money(350)).waitFor();
  await page.getByTestId('delivery-fee').getByText('2.5 km').waitFor();
  const menu = await api.menu();
  const margherita = menu.categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  const total = margherita.price_cents * 2 + 350;
  await page.getByTestId('checkout-total').getByText(money(total)).waitFor();
  assert.match(await page.getByTestId('place-order').innerText(), money(total));

  await page.getByLabel(/Card on delivery/).check();
  const placed = page.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
  await page.getByTestId('place-order').click();
  const order = await (await placed).json();
  assert.equal(order.total_cents, total, 'charged what was shown');
  assert.deepEqual(order.payment, { method: 'card', status: 'unpaid' });
  assert.equal(order.notes, 'Ring twice\nThird floor');
  await page.locator(`[data-testid=order-page][data-status=pending]`).waitFor();
  await page.getByTestId('delivery-code').getByText(order.delivery_code).waitFor();
  await page.getByTestId('payment').getByText(/To pay on delivery by card/).waitFor();
  await ctx.close();
});

test('under the minimum: said before ordering; cancel a pending order and order it again', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/#/login');
  await signIn(page, server.accounts.customer);
  await page.getByRole('button', { name: /^Add Garlic bread/ }).click();
  await page.getByTestId('view-cart').click();
  await page.getByLabel('Address').fill('Dam 1');
  await page.getByLabel('Latitude').fill(north(300));
  await page.getByLabel('Longitude').fill(String(HOME.lng));
  await page.getByTestId('not-deliverable').getByText(/minimum order is .*15[.,]00/).waitFor();
  assert.equal(await page.getByTestId('place-order').isDisabled(), true);
  // Two more: over the minimum, and free in the first band.
  await page.getByRole('button', { name: 'Add one more Garlic bread' }).click();
  await page.getByRole('button', { name: 'Add one more Garlic bread' }).click();
  await page.getByTestId('delivery-fee').getByText('Free').waitFor();
  await page.getByTestId('not-deliverable').waitFor({ state: 'detached' });
  const placed = page.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
  await page.getByTestId('place-order').click();
  const order = await (await placed).json();
  assert.equal(order.delivery_fee_cents, 0);

  await page.getByTestId('cancel-order').click();
  await page.getByTestId('confirm-cancel').click();
  await page.locator('[data-testid=order-page][data-status=cancelled]').waitFor();
  const seen = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(seen.status, 'cancelled');
  await page.getByTestId('payment').getByText('Nothing to pay.').waitFor();

  // Again, from the history: the same lines back in the cart.
  await page.getByTestId('nav-orders').click();
  await page.locator(`[data-testid=history-item][data-order-id="${order.id}"]`).waitFor();
  await page.locator('li', { has: page.locator(`[data-testid=history-item][data-order-id="${order.id}"]`) }).getByTestId('reorder').click();
  await page.getByTestId('cart-line').getByText('Garlic bread').waitFor();
  assert.equal(await page.getByRole('group', { name: 'Quantity of Garlic bread' }).locator('span').innerText(), '3');
  await ctx.close();
});

test('the rider collects by card and delivers with the customer\'s code; the customer sees it paid', async () => {
  const item = (await api.menu()).categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  const order = await api.call(
    'POST',
    '/api/orders',
    { items: [{ item_id: item.id, quantity: 2 }], delivery: { address: 'Prinsengracht 2', lat: Number(north(800)), lng: HOME.lng }, payment_method: 'card' },
    customerToken,
  );
  for (const status of ['accepted', 'preparing', 'ready']) {
    await api.call('POST', `/api/orders/${order.id}/status`, { status, prep_minutes: 10 }, adminToken);
    if (status === 'accepted') await api.call('POST', `/api/orders/${order.id}/assign`, { rider_id: riderId }, adminToken);
  }
  const customerCtx = await newContext(browser, server, PHONE);
  const customer = await customerCtx.newPage();
  collectErrors(customer, errors);
  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.getByTestId('nav-orders').waitFor(); // signed in, back on the menu
  await customer.goto(`/#/orders/${order.id}`);
  await customer.locator(`[data-testid=order-page][data-status=ready]`).waitFor();
  // The arrival: the kitchen's 10 minutes from acceptance, then the ride (800 m at 300 m a
  // minute, 2 minutes' handover: src/customer/eta.ts), shown as a time.
  const seen = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  const acceptedAt = Date.parse(seen.history.find((h) => h.status === 'accepted').at);
  const expected = Math.max(Date.now(), acceptedAt + 10 * 60_000) + (seen.delivery.distance_m / 300 + 2) * 60_000;
  const arrival = customer.getByTestId('arrival');
  await arrival.getByText(/Arrives around \d{1,2}:\d{2}/).waitFor();
  assert.ok(Math.abs(Date.parse(await arrival.getAttribute('data-at')) - expected) < 60_000, 'arrival = prep + ride');
  const code = (await customer.getByTestId('delivery-code').locator('.code').innerText()).trim();
  assert.equal(code, order.delivery_code);

  const riderCtx = await newContext(browser, server, PHONE);
  const rider = await riderCtx.newPage();
  collectErrors(rider, errors);
  await rider.goto('/rider/');
  await signIn(rider, server.accounts.rider);
  const card = rider.locator(`[data-testid=delivery][data-order-id="${order.id}"]`);
  await card.getByTestId('payment').getByText(/Card terminal/).waitFor();
  assert.equal(await card.getByText(code).count(), 0, 'the rider is not shown the code');
  await card.getByRole('button', { name: 'Picked up' }).click();
  await rider.locator(`[data-testid=delivery][data-order-id="${order.id}"][data-status=picked_up]`).waitFor();
  const wrong = String((Number(code) + 1) % 10000).padStart(4, '0');
  await card.getByTestId('delivery-code-input').fill(wrong);
  await card.getByRole('button', { name: '✓ Delivered' }).click();
  await card.getByText(/Wrong code — 4 tries left/).waitFor();
  await card.getByTestId('delivery-code-input').fill(code);
  assert.equal(await card.getByTestId('payment-collected').isChecked(), true);
  await card.getByRole('button', { name: '✓ Delivered' }).click();
  await customer.locator('[data-testid=order-page][data-status=delivered]').waitFor();
  await customer.getByTestId('payment').getByText(/Paid by card/).waitFor();
  const done = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  assert.equal(done.code_attempts, 1);
  assert.equal(done.payment.status, 'paid');
  await customerCtx.close();
  await riderCtx.close();
});
