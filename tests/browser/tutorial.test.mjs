// The tutorial's client (examples/tutorial-client), served by `brigade --examples` at
// /examples/tutorial/: signed in as the demo admin it shows a new pending order within
// moments, labelled "보류 중", drops it when it is accepted, and tells the reader why its
// Korean filter finds nothing while the restaurant speaks English (with a button that
// switches it). Without --examples the page is not served. The admin panel's settings
// set the language too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, itemId;
const errors = [];

before(async () => {
  server = await startServer({ extraArgs: ['--examples'] });
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  itemId = (await api.menu()).categories[0].items[0].id;
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

const placeOrder = () => api.placeOrder(customerToken, [{ item_id: itemId, quantity: 2 }], { address: '1 Tutorial Road' });

test('the example page shows a new pending order under its Korean label, and drops it once accepted', async () => {
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/examples/tutorial/');
  await signIn(page, server.accounts.admin);
  // The restaurant starts in English: the page says why nothing matches, and switches it.
  const note = page.getByTestId('language-note');
  await note.waitFor();
  await note.getByRole('button', { name: 'Switch the restaurant to Korean' }).click();
  await note.waitFor({ state: 'detached' });
  assert.equal((await api.call('GET', '/api/restaurant')).language, 'ko');
  await page.getByText('● live').waitFor();

  const order = await placeOrder();
  const row = page.getByTestId(`order-${order.id}`);
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /보류 중/);
  assert.match(text, /2×/);
  assert.match(text, new RegExp((order.total_cents / 100).toFixed(2).replace('.', '\\.')));

  await api.call('POST', `/api/orders/${order.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
  await row.waitFor({ state: 'detached' });
  await ctx.close();
});

test('a customer who signs in is told that only admins receive statusChanged, and sees no orders', async () => {
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/examples/tutorial/');
  await signIn(page, server.accounts.customer);
  await page.getByRole('alert').filter({ hasText: 'only admins receive statusChanged' }).waitFor();
  await page.getByText('● live').waitFor();
  // The page shows what it would with no statusChanged at all (that a customer socket never
  // receives one, whatever happens, is proven event by event in tests/live/status_changed).
  await page.getByTestId('no-orders').waitFor();
  assert.equal(await page.getByTestId('orders').count(), 0);
  await ctx.close();
});

test('the admin panel sets the language beside the other settings', async () => {
  const ctx = await newContext(browser, server, DESKTOP);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/admin/');
  await signIn(page, server.accounts.admin);
  await page.getByTestId('board').waitFor();
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const settings = page.getByTestId('restaurant-settings');
  await settings.waitFor();
  const language = settings.getByLabel('Language');
  assert.equal(await language.inputValue(), 'ko');
  await language.selectOption('en');
  await page.getByTestId('save-settings').click();
  await settings.getByRole('status').getByText('Saved.').waitFor();
  assert.equal((await api.call('GET', '/api/restaurant')).language, 'en');
  await ctx.close();
});

test('without --examples the example is not served', async () => {
  const plain = await startServer();
  try {
    const res = await fetch(`${plain.url}/examples/tutorial/`);
    assert.equal(res.status, 404);
    assert.equal((await fetch(`${plain.url}/admin/`)).status, 200);
  } finally {
    await plain.stop();
  }
});
