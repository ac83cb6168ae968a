// The whole story in three browser contexts: customer orders -> admin sees it
// live with an alert -> accepts, assigns -> rider picks up and shares a
// (mocked) location -> the customer sees every status and the rider move.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, signIn, collectErrors } from './lib.mjs';

let server, browser;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('order to doorstep across the three panels', async () => {
  const adminCtx = await newContext(browser, server, DESKTOP);
  const customerCtx = await newContext(browser, server, PHONE);
  const riderCtx = await newContext(browser, server, { ...PHONE, geolocation: { latitude: 52.3600, longitude: 4.8800 }, permissions: ['geolocation'] });
  const admin = await adminCtx.newPage();
  const customer = await customerCtx.newPage();
  const rider = await riderCtx.newPage();
  for (const p of [admin, customer, rider]) collectErrors(p, errors);

  // Admin signs in; the board goes live.
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByTestId('board').waitFor();
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();

  // Rider signs in and goes online.
  await rider.goto('/rider/');
  await signIn(rider, server.accounts.rider);
  await rider.getByTestId('online-switch').check();
  await rider.getByText("You're online").waitFor();
  await rider.locator('[data-testid=connection][data-state=live]').waitFor();

  // Customer signs in, fills a cart and checks out with a pin.
  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.locator('[data-testid=connection][data-state=live]').waitFor();
  await customer.getByRole('button', { name: 'Add Margherita' }).click();
  await customer.getByRole('button', { name: 'Add one more Margherita' }).click();
  await customer.getByRole('button', { name: /^Add Garlic bread/ }).click();
  await customer.getByTestId('view-cart').click();
  await customer.getByLabel('Address').fill('221B Baker Street, 2nd floor');
  await customer.getByLabel('Latitude').fill('52.3702');
  await customer.getByLabel('Longitude').fill('4.8952');
  await customer.getByLabel('Delivery pin').waitFor();
  const placed = customer.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
  await customer.getByTestId('place-order').click();
  const response = await placed;
  assert.equal(response.status(), 201);
  const order = await response.json();
  const t0 = Date.now();

  // The admin board shows it within one second, with the alert, without reload.
  const card = admin.locator(`[data-testid=order-card][data-order-id="${order.id}"]`);
  await card.waitFor({ timeout: 1000 });
  const shownAfter = Date.now() - t0;
  console.log(`# admin card shown ${shownAfter} ms after the POST answered`);
  assert.ok(shownAfter <= 1000, `card shown after ${shownAfter} ms`);
  assert.equal(await card.getAttribute('data-status'), 'pending');
  await admin.locator(`[data-testid=column-pending] [data-order-id="${order.id}"]`).waitFor({ timeout: 500 });
  await admin.locator(`[data-testid=toast][data-order-id="${order.id}"]`).waitFor({ timeout: 1000 });
  assert.ok((await admin.evaluate(() => window.__brigadeBeeps ?? 0)) >= 1, 'the alert sound was played');
  await card.getByText('2× Margherita').waitFor();

  await customer.locator('[data-testid=order-page][data-status=pending]').waitFor();

  // Accept with a prep time: the alert is acknowledged, the customer gets an ETA.
  await card.getByLabel(`Prep minutes for order ${order.id}`).fill('20');
  await card.getByRole('button', { name: 'Accept' }).click();
  await admin.locator(`[data-testid=column-accepted] [data-order-id="${order.id}"]`).waitFor();
  await admin.locator(`[data-testid=toast][data-order-id="${order.id}"]`).waitFor({ state: 'detached' });
  await customer.locator('[data-testid=order-page][data-status=accepted]').waitFor();
  assert.match(await customer.getByTestId('eta').innerText(), /Ready in about (19|20) min/);

  // Assign the online rider.
  const riderSelect = card.getByLabel(`Rider for order ${order.id}`);
  await riderSelect.focus();
  await admin.waitForFunction((id) => {
    const s = document.querySelector(`[data-order-id="${id}"] select`);
    return s && s.options.length > 1;
  }, order.id);
  await riderSelect.selectOption({ index: 1 });
  await card.getByRole('button', { name: 'Assign' }).click();
  await card.locator('.order-rider', { hasText: 'Ravi Rider' }).waitFor();

  // The rider sees the job at once.
  const delivery = rider.locator(`[data-testid=delivery][data-order-id="${order.id}"]`);
  await delivery.waitFor({ timeout: 2000 });
  await delivery.getByText('221B Baker Street, 2nd floor').waitFor();
  await delivery.getByText('Margherita').waitFor();

  // Kitchen: preparing, ready. The customer follows every step.
  await card.getByRole('button', { name: 'Start preparing' }).click();
  await customer.locator('[data-testid=order-page][data-status=preparing]').waitFor();
  await card.getByRole('button', { name: 'Mark ready' }).click();
  await customer.locator('[data-testid=order-page][data-status=ready]').waitFor();
  await rider.locator(`[data-testid=delivery][data-order-id="${order.id}"][data-status=ready]`).waitFor();

  // Rider picks up; location sharing starts; the customer sees the marker.
  await delivery.getByRole('button', { name: 'Picked up' }).click();
  await customer.locator('[data-testid=order-page][data-status=picked_up]').waitFor();
  await admin.locator(`[data-testid=column-picked_up] [data-order-id="${order.id}"]`).waitFor();
  await rider.locator('[data-testid=location-sharing][data-kind=sharing]').waitFor();
  const pos = customer.getByTestId('rider-position');
  await customer.waitForFunction(() => document.querySelector('[data-testid=rider-position]')?.dataset.lat === '52.36');
  const markerAt = () =>
    customer.evaluate(() => {
      const m = document.querySelector('.pin-rider');
      const r = m?.getBoundingClientRect();
      return r ? { x: r.x, y: r.y } : null;
    });
  const first = await markerAt();
  assert.ok(first, 'rider marker on the map');

  // The rider moves twice. The panel keeps the newest fix and sends it once its own
  // one-a-second pace allows (the server relays at most one a second); the customer's
  // page is awaited for each position, so the test waits on the event, not a timer.
  for (const [lat, lng] of [
    [52.3650, 4.8870],
    [52.3690, 4.8930],
  ]) {
    await riderCtx.setGeolocation({ latitude: lat, longitude: lng });
    await customer.waitForFunction(
      ([la, ln]) => {
        const d = document.querySelector('[data-testid=rider-position]')?.dataset;
        return d && Number(d.lat) === la && Number(d.lng) === ln;
      },
      [lat, lng],
      { timeout: 5000 },
    );
  }
  const last = await markerAt();
  assert.ok(last && (last.x !== first.x || last.y !== first.y), `marker moved: ${JSON.stringify(first)} -> ${JSON.stringify(last)}`);
  assert.match(await pos.innerText(), /Rider at 52\.36900, 4\.89300/);

  // Delivered.
  await delivery.getByRole('button', { name: /Delivered/ }).click();
  await customer.locator('[data-testid=order-page][data-status=delivered]').waitFor();
  await customer.getByText('Delivered — enjoy your meal!').waitFor();
  await admin.locator(`[data-testid=column-done] [data-order-id="${order.id}"]`).waitFor();
  await delivery.waitFor({ state: 'detached' });

  // Every step is in the customer's timeline.
  for (const step of ['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'delivered']) {
    assert.equal(await customer.locator(`.timeline [data-step=${step}]`).getAttribute('data-done'), 'true', step);
  }
  assert.equal(await admin.locator(`[data-order-id="${order.id}"]`).count(), 1, 'one card on the board');
  assert.deepEqual(errors, []);
  await Promise.all([adminCtx.close(), customerCtx.close(), riderCtx.close()]);
});
