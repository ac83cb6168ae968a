// An item switched off by the admin disappears from the customer's menu live,
// and comes back when switched on again.
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

test('availability switched off disappears from the customer menu live', async () => {
  const adminCtx = await newContext(browser, server, DESKTOP);
  const customerCtx = await newContext(browser, server, PHONE);
  const admin = await adminCtx.newPage();
  const customer = await customerCtx.newPage();
  collectErrors(admin, errors);
  collectErrors(customer, errors);

  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.locator('[data-testid=connection][data-state=live]').waitFor();
  const dish = customer.locator('[data-testid=dish]', { hasText: 'Calamari' });
  await dish.waitFor();

  await admin.goto('/admin/#menu');
  await signIn(admin, server.accounts.admin);
  await admin.getByRole('button', { name: 'Menu' }).click();
  const toggle = admin.getByRole('switch', { name: 'Calamari available' });
  await toggle.waitFor();
  assert.equal(await toggle.isChecked(), true);

  await toggle.click();
  await admin.locator('[data-testid=menu-item-row].unavailable', { hasText: 'Calamari' }).waitFor({ timeout: 2000 });
  const t0 = Date.now();
  await dish.waitFor({ state: 'detached', timeout: 2000 });
  assert.ok(Date.now() - t0 < 2000);
  // Nothing else went missing.
  await customer.locator('[data-testid=dish]', { hasText: 'Garlic bread' }).waitFor({ timeout: 500 });

  await toggle.click();
  await dish.waitFor({ timeout: 2000 });

  // A price change shows up live as well.
  const row = admin.locator('[data-testid=menu-item-row]', { hasText: 'Calamari' });
  await row.getByRole('button', { name: 'Edit' }).click();
  await admin.getByLabel('Price').fill('9.75');
  await admin.getByRole('button', { name: 'Save' }).click();
  await dish.getByText(/9[.,]75/).waitFor({ timeout: 2000 });
  assert.deepEqual(errors, []);
  await Promise.all([adminCtx.close(), customerCtx.close()]);
});
