// The rider's location sharing says plainly when it has stopped (issue #13): while carrying
// an order the panel shares the position; when the phone loses the connection the strip
// says sharing has stopped and since when the customer sees the same position, and when
// the connection is back it shares again by itself, in the panel's language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, collectErrors, rest } from './lib.mjs';

let server, browser, api;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

test('sharing stops visibly without a connection and starts again by itself', async () => {
  const adminToken = await api.login('admin');
  const customerToken = await api.login('customer');
  const riderToken = await api.login('rider');
  const riderId = (await api.call('GET', '/api/riders/me', null, riderToken)).id;
  const itemId = (await api.menu()).categories[0].items[0].id;
  const ctx = await newContext(browser, server, {
    ...PHONE,
    geolocation: { latitude: 48.8566, longitude: 2.3522 },
    permissions: ['geolocation'],
  });
  try {
    const rider = await ctx.newPage();
    collectErrors(rider, errors);
    await rider.goto('/rider/');
    await rider.getByLabel('Email').fill(server.accounts.rider.email);
    await rider.getByLabel('Password').fill(server.accounts.rider.password);
    await rider.getByRole('button', { name: 'Sign in', exact: true }).click();
    await rider.getByRole('switch').check();
    await rider.locator('[data-testid=connection][data-state=live]').waitFor();

    const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }], { address: '1 Rue de Rivoli' });
    for (const status of ['accepted', 'preparing', 'ready']) {
      await api.call('POST', `/api/orders/${o.id}/status`, { status, ...(status === 'accepted' ? { prep_minutes: 5 } : {}) }, adminToken);
    }
    await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
    await api.call('POST', `/api/orders/${o.id}/offer`, { accept: true }, riderToken);
    const job = rider.locator(`[data-testid=delivery][data-order-id="${o.id}"]`);
    await job.getByRole('button', { name: 'Picked up', exact: true }).click();
    const strip = rider.getByTestId('location-sharing');
    await strip.getByText('Sharing your location · 48.8566, 2.3522').waitFor();

    // Cut off: said at once, with the time of the last position the customer sees.
    await ctx.setOffline(true);
    await rider.locator('[data-testid=location-sharing][data-kind=stopped]').waitFor({ timeout: 10000 });
    assert.match(await strip.innerText(), /^Location sharing has stopped: not connected\. The customer sees where you were at .+; it starts again by itself\.$/);

    // In Korean too.
    await rider.getByTestId('language').selectOption('ko');
    await strip.getByText(/^위치 공유가 중단되었습니다: 연결되지 않았습니다\./).waitFor();
    await rider.getByTestId('language').selectOption('en');

    // Back: sharing again without a tap, and the server has the position.
    await ctx.setGeolocation({ latitude: 48.857, longitude: 2.353 });
    await ctx.setOffline(false);
    await strip.getByText('Sharing your location · 48.8570, 2.3530').waitFor({ timeout: 15000 });
    const seen = await api.call('GET', `/api/orders/${o.id}`, null, adminToken);
    assert.equal(seen.status, 'picked_up');
  } finally {
    await ctx.close();
  }
});
