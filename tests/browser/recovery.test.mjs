// The admin board goes offline while two orders are placed, comes back (the
// live client reconnects with auth.offset and gets the missed changes
// replayed) and shows both orders exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, signIn, collectErrors, rest } from './lib.mjs';

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

// A barrier: an admin changes a menu item's price and waits until the page's live
// client has seen that change (window.__brigadeLive.lastSeq); every event before it
// (a duplicate included) has been handled by then.
let barrierPrice = 900000;
async function barrier(page) {
  const api = rest(server);
  const token = await api.login('admin');
  const item = (await api.menu()).categories[0].items[0];
  await api.call('PATCH', `/api/menu/items/${item.id}`, { price_cents: ++barrierPrice }, token);
  const { last_seq: seq } = await api.call('GET', '/healthz');
  await page.waitForFunction((s) => (window.__brigadeLive?.lastSeq ?? 0) >= s, seq, { timeout: 10000 });
}

test('offline admin catches up with every missed order exactly once', async () => {
  const api = rest(server);
  const customerToken = await api.login('customer');
  const menu = await api.menu();
  const itemId = menu.categories[0].items[0].id;

  const ctx = await newContext(browser, server, DESKTOP);
  const admin = await ctx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();

  // One order while online, to have a seq to resume from.
  const warm = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }]);
  await admin.locator(`[data-testid=order-card][data-order-id="${warm.id}"]`).waitFor({ timeout: 2000 });
  const seqBefore = await admin.evaluate(() => window.__brigadeLive.lastSeq);
  assert.ok(seqBefore > 0);

  await ctx.setOffline(true);
  await admin.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 5000 });

  const a = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 2 }], { address: 'Offline street 1' });
  const b = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 3 }], { address: 'Offline street 2' });
  // The context is offline: no event can reach the page, so this holds at once.
  assert.equal(await admin.locator(`[data-order-id="${a.id}"]`).count(), 0, 'not shown while offline');

  await ctx.setOffline(false);
  await admin.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 10000 });
  for (const o of [a, b]) await admin.locator(`[data-testid=column-pending] [data-order-id="${o.id}"]`).waitFor({ timeout: 5000 });
  // Replayed from the offset, not reloaded: the seq moved on from where it was.
  assert.ok((await admin.evaluate(() => window.__brigadeLive.lastSeq)) > seqBefore);

  // A duplicate would come before the barrier; then count.
  await barrier(admin);
  for (const o of [warm, a, b]) {
    assert.equal(await admin.locator(`[data-testid=order-card][data-order-id="${o.id}"]`).count(), 1, `order ${o.id} once`);
    assert.equal(await admin.locator(`[data-testid=toast][data-order-id="${o.id}"]`).count(), 1, `alert ${o.id} once`);
  }
  assert.equal(await admin.locator('[data-testid=column-pending] [data-testid=order-card]').count(), 3);

  // A second drop-and-return in a row behaves the same.
  await ctx.setOffline(true);
  await admin.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 5000 });
  const c = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }], { address: 'Offline street 3' });
  await ctx.setOffline(false);
  await admin.locator(`[data-testid=order-card][data-order-id="${c.id}"]`).waitFor({ timeout: 5000 });
  await barrier(admin);
  assert.equal(await admin.locator('[data-testid=column-pending] [data-testid=order-card]').count(), 4);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a resync from the server reloads the board over REST, without duplicates', async () => {
  const api = rest(server);
  const customerToken = await api.login('customer');
  const itemId = (await api.menu()).categories[0].items[0].id;
  const ctx = await newContext(browser, server, DESKTOP);
  const admin = await ctx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await admin.locator('[data-testid=board], #login-title').first().waitFor();
  if (await admin.locator('#login-title').count()) await signIn(admin, server.accounts.admin);
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();
  const cardsBefore = await admin.locator('[data-testid=order-card]').count();

  // Pretend the client's position comes from another database: the server
  // answers the reconnection with `resync`, the panel reloads over REST.
  await admin.evaluate(() => {
    window.__brigadeLive.epoch = 'another-database';
    window.__brigadeLive.socket.io.engine.close();
  });
  const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 1 }], { address: 'Resync lane 5' });
  await admin.locator('[data-testid=connection][data-state=reloaded]').waitFor({ timeout: 10000 });
  await admin.locator(`[data-testid=order-card][data-order-id="${o.id}"]`).waitFor({ timeout: 5000 });
  await admin.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 10000 });
  assert.equal(await admin.locator('[data-testid=order-card]').count(), cardsBefore + 1);
  assert.notEqual(await admin.evaluate(() => window.__brigadeLive.epoch), 'another-database');
  assert.deepEqual(errors, []);
  await ctx.close();
});
