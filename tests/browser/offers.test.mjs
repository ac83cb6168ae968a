// Rider offers in the panels (docs/API.md, "Rider offers"): an assignment reaches the
// rider as an offer with a countdown, a sound and a vibration; Decline takes it off the
// rider's list and the board says who declined; Accept keeps it and the board says
// accepted; a rider holding a job is asked before going offline; the admin's settings turn
// the server's dispatch on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, signIn, collectErrors, rest } from './lib.mjs';

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

async function acceptedOrder() {
  const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 2 }]);
  await api.call('POST', `/api/orders/${o.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
  return o;
}

test('offer, decline, offer again, accept: live on the rider panel and on the board', async () => {
  const adminCtx = await newContext(browser, server, DESKTOP);
  const admin = await adminCtx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByTestId('board').waitFor();

  const riderCtx = await newContext(browser, server, PHONE);
  const rider = await riderCtx.newPage();
  collectErrors(rider, errors);
  await rider.goto('/rider/');
  await signIn(rider, server.accounts.rider);
  await rider.getByTestId('online-switch').check();
  await rider.getByText("You're online").waitFor();
  await rider.locator('[data-testid=connection][data-state=live]').waitFor();

  const o = await acceptedOrder();
  await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
  const job = rider.locator(`[data-testid=delivery][data-order-id="${o.id}"]`);
  await job.getByTestId('offer').getByText(/New offer — answer within 0:[0-5]\d|1:00/).waitFor();
  assert.ok((await rider.evaluate(() => window.__brigadeOfferAlerts ?? 0)) >= 1, 'the offer sounded');
  const card = admin.locator(`[data-testid=order-card][data-order-id="${o.id}"]`);
  await card.locator('[data-testid=rider-offer][data-offer=offered]').waitFor();

  await job.getByTestId('decline-offer').click();
  await job.waitFor({ state: 'detached' });
  await card.getByTestId('declined').getByText(/Declined by/).waitFor();
  assert.equal((await api.call('GET', `/api/orders/${o.id}`, null, adminToken)).rider_id, null);

  await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
  await job.getByTestId('accept-offer').click();
  await job.getByTestId('offer').waitFor({ state: 'detached' });
  await card.locator('[data-testid=rider-offer][data-offer=accepted]').waitFor();
  assert.ok((await api.call('GET', `/api/orders/${o.id}`, null, adminToken)).rider_accepted_at);

  // Holding a job: asked before going offline; staying keeps the rider online.
  await rider.getByTestId('online-switch').click(); // held: the panel asks first
  await rider.getByTestId('confirm-offline').waitFor();
  await rider.getByRole('button', { name: 'Stay online' }).click();
  await rider.getByText("You're online").waitFor();
  assert.equal((await api.call('GET', '/api/riders', null, adminToken)).riders.find((r) => r.id === riderId).online, true);
  await adminCtx.close();
  await riderCtx.close();
});

test('the settings turn on the server\'s dispatch, which offers an accepted order by itself', async () => {
  const ctx = await newContext(browser, server, DESKTOP);
  const admin = await ctx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByRole('button', { name: 'Settings', exact: true }).click();
  await admin.getByLabel('Offer orders to riders automatically').check();
  await admin.getByTestId('save-settings').click();
  await admin.getByTestId('restaurant-settings').getByRole('status').getByText('Saved.').waitFor();
  assert.equal((await api.call('GET', '/api/restaurant')).auto_offer, true);
  const o = await acceptedOrder();
  await admin.getByRole('button', { name: 'Orders', exact: true }).click();
  const card = admin.locator(`[data-testid=order-card][data-order-id="${o.id}"]`);
  await card.locator('[data-testid=rider-offer][data-offer=offered]').waitFor({ timeout: 5000 });
  assert.equal((await api.call('GET', `/api/orders/${o.id}`, null, adminToken)).rider_id, riderId);
  await ctx.close();
});
