// Item options and allergens across the panels: the customer picks a size and extras in
// the option sheet (required groups first, sold-out options off, at most `max` extras),
// the cart keeps one line per choice and the order carries them; the kitchen's card lists
// them live; the allergen filter hides dishes; the admin's option editor changes a price
// keeping the ids, the customer's menu follows live and the placed order stays as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, signIn, collectErrors, rest, repo } from './lib.mjs';

// With BRIGADE_SCREENSHOTS=1: docs/screenshots/customer-options.png (the option sheet) and
// admin-menu-options.png (the option and allergen editor).
const SHOTS = process.env.BRIGADE_SCREENSHOTS === '1' ? join(repo, 'docs/screenshots') : null;
const shot = async (page, name) => {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });
};

let server, browser, api, adminToken;
let adminCtx, customerCtx, admin, customer;
let burger; // the Test Burger as created over REST
let order; // the order placed in the first step
const errors = [];

const BASE = 1000;
const FULL = BASE + 200 + 100 + 150; // Large, Cheese, Bacon
const MAINS = 3; // the demo menu's "Mains"

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');

  burger = await api.call(
    'POST',
    '/api/menu/items',
    {
      category_id: MAINS,
      name: 'Test Burger',
      description: 'Built for the options test',
      price_cents: BASE,
      allergens: ['gluten', 'milk'],
      option_groups: [
        { name: 'Size', min: 1, max: 1, options: [{ name: 'Regular' }, { name: 'Large', price_cents: 200 }] },
        {
          name: 'Extras',
          min: 0,
          max: 2,
          // Pickles: a third extra that is available, so that "at most 2" can be tried.
          options: [
            { name: 'Cheese', price_cents: 100 },
            { name: 'Bacon', price_cents: 150 },
            { name: 'Egg', available: false },
            { name: 'Pickles', price_cents: 50 },
          ],
        },
      ],
    },
    adminToken,
  );
  // Two more dishes for the allergen filter: one with milk, one with gluten only.
  const menu = await api.menu();
  const byName = new Map(menu.categories.flatMap((c) => c.items).map((i) => [i.name, i]));
  await api.call('PATCH', `/api/menu/items/${byName.get('Tiramisu').id}`, { allergens: ['eggs', 'milk'] }, adminToken);
  await api.call('PATCH', `/api/menu/items/${byName.get('Garlic bread').id}`, { allergens: ['gluten'] }, adminToken);

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

  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.locator('[data-testid=connection][data-state=live]').waitFor();
  // A mark that a reload would wipe: the pages must follow without one.
  await admin.evaluate(() => (window.__noReload = true));
  await customer.evaluate(() => (window.__noReload = true));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const group = (item, name) => item.option_groups.find((g) => g.name === name);
const option = (item, groupName, name) => group(item, groupName).options.find((o) => o.name === name);
const money = (cents) => new RegExp(`${Math.floor(cents / 100)}[.,]${String(cents % 100).padStart(2, '0')}`);
const dish = (name) => customer.locator('[data-testid=dish]', { hasText: name });
const sheet = () => customer.getByTestId('option-sheet');
const addButton = () => sheet().getByTestId('add-with-options');
const notReloaded = async (page) => assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');

/** Back to the customer's menu (a hash change, no reload). */
async function toMenu() {
  await customer.locator('a.brand-link').click();
  await dish('Test Burger').waitFor();
}

async function openSheet() {
  await dish('Test Burger').getByTestId('choose-options').click();
  await sheet().waitFor();
}

test('the option sheet: a size first, no sold-out extra, at most two extras, the price on the button', async () => {
  const d = dish('Test Burger');
  await d.waitFor();
  assert.equal((await d.locator('.allergens').innerText()).trim(), 'Contains: gluten, milk');

  await openSheet();
  assert.equal((await sheet().locator('.allergens').innerText()).trim(), 'Contains: gluten, milk');
  // Required group first: nothing can be added until a size is chosen.
  assert.equal(await addButton().isDisabled(), true);
  assert.equal((await addButton().innerText()).trim(), 'Choose Size');

  // Sold out: Egg cannot be picked.
  const egg = sheet().getByRole('checkbox', { name: /^Egg/ });
  assert.equal(await egg.isDisabled(), true);
  await sheet().locator('label.option.gone', { hasText: 'Egg' }).getByText('sold out').waitFor();

  await sheet().getByRole('radio', { name: /^Large/ }).check();
  await customer.locator('[data-testid=add-with-options]:enabled').waitFor();
  assert.match((await addButton().innerText()).trim(), /^Add · /);
  assert.match(await addButton().innerText(), money(BASE + 200));

  await sheet().getByRole('checkbox', { name: /^Cheese/ }).check();
  await sheet().getByRole('checkbox', { name: /^Bacon/ }).check();
  assert.match(await addButton().innerText(), money(FULL));

  // At most two extras: a third one stays unticked and the price does not move.
  const pickles = sheet().getByRole('checkbox', { name: /^Pickles/ });
  await pickles.click();
  assert.equal(await pickles.isChecked(), false);
  assert.equal(await sheet().getByRole('checkbox', { name: /^Cheese/ }).isChecked(), true);
  assert.equal(await sheet().getByRole('checkbox', { name: /^Bacon/ }).isChecked(), true);
  assert.match(await addButton().innerText(), money(FULL));
  await shot(customer, 'customer-options.png');

  // The cart is empty, so nothing covers the sheet yet.
  await addButton().click();
  await sheet().waitFor({ state: 'detached' });
  await d.getByTestId('choose-options').getByText('Add another (1)').waitFor();
  await customer.getByTestId('view-cart').getByText(money(FULL)).waitFor();
  assert.deepEqual(errors, []);
});

test(
  'the same dish again, Regular: the sheet can be used while the cart bar shows',
  async () => {
    await openSheet();
    assert.equal(await addButton().isDisabled(), true, 'a fresh sheet starts with nothing chosen');
    await sheet().getByRole('radio', { name: /^Regular/ }).check();
    assert.match(await addButton().innerText(), money(BASE));
    // Can a finger reach the button? (Playwright's hit test, no click.)
    const tappable = await addButton().click({ trial: true, timeout: 2000 }).then(
      () => true,
      () => false,
    );
    const covering = tappable
      ? null
      : await addButton().evaluate((b) => {
          const r = b.getBoundingClientRect();
          const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          const owner = top?.closest('[data-testid]');
          return owner ? `[data-testid=${owner.dataset.testid}] in .${owner.parentElement?.className}` : top?.tagName;
        });
    // Either way the line goes in (from the keyboard when covered), so the story goes on.
    if (tappable) await addButton().click();
    else {
      await addButton().focus();
      await customer.keyboard.press('Enter');
    }
    await sheet().waitFor({ state: 'detached' });
    await dish('Test Burger').getByTestId('choose-options').getByText('Add another (2)').waitFor();
    await customer.getByTestId('view-cart').getByText(money(FULL + BASE)).waitFor();
    assert.ok(tappable, `the sheet's Add button is covered by ${covering} on a ${PHONE.viewport.width}x${PHONE.viewport.height} phone`);
  },
);

test('the cart keeps one line per choice and the order carries them', async () => {
  await customer.getByTestId('view-cart').click();
  const lines = customer.getByTestId('cart-line');
  await lines.first().waitFor();
  assert.equal(await lines.count(), 2);
  const large = lines.filter({ hasText: 'Large' });
  assert.equal(await large.count(), 1);
  const largeText = await large.innerText();
  for (const name of ['Test Burger', 'Large', 'Cheese', 'Bacon']) assert.ok(largeText.includes(name), `"${name}" in ${JSON.stringify(largeText)}`);
  assert.ok(!largeText.includes('Regular') && !largeText.includes('Pickles'), largeText);
  assert.match(largeText, money(FULL));
  const regular = lines.filter({ hasText: 'Regular' });
  assert.equal(await regular.count(), 1);
  const regularText = await regular.innerText();
  assert.ok(regularText.includes('Test Burger') && !/Large|Cheese|Bacon/.test(regularText), regularText);
  assert.match(regularText, money(BASE));

  await customer.getByLabel('Address').fill('Prinsengracht 263');
  const place = customer.locator('[data-testid=place-order]:enabled', { hasText: /^Place order/ });
  await place.waitFor(); // enabled once the delivery fee for this cart is known
  const shown = await place.innerText();

  const placed = customer.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
  await place.click();
  const response = await placed;
  assert.equal(response.status(), 201);
  order = await response.json();

  assert.equal(order.items.length, 2);
  const big = order.items.find((l) => l.options.some((o) => o.name === 'Large'));
  const small = order.items.find((l) => l.options.some((o) => o.name === 'Regular'));
  assert.ok(big && small, JSON.stringify(order.items));
  assert.equal(big.item_id, burger.id);
  assert.equal(big.quantity, 1);
  assert.equal(big.unit_price_cents, FULL);
  const byId = (a, b) => a[0] - b[0];
  assert.deepEqual(
    big.options.map((o) => [o.id, o.group, o.name, o.price_cents]).sort(byId),
    [
      [option(burger, 'Size', 'Large').id, 'Size', 'Large', 200],
      [option(burger, 'Extras', 'Cheese').id, 'Extras', 'Cheese', 100],
      [option(burger, 'Extras', 'Bacon').id, 'Extras', 'Bacon', 150],
    ].sort(byId),
  );
  assert.equal(small.item_id, burger.id);
  assert.equal(small.quantity, 1);
  assert.equal(small.unit_price_cents, BASE);
  assert.deepEqual(small.options, [{ id: option(burger, 'Size', 'Regular').id, group: 'Size', name: 'Regular', price_cents: 0 }]);
  assert.equal(order.subtotal_cents, FULL + BASE);
  assert.equal(order.total_cents, order.subtotal_cents + order.delivery_fee_cents);
  assert.match(shown, money(order.total_cents), 'the button showed what the order costs');

  // The order page's receipt lists them too.
  const pageEl = customer.locator(`[data-testid=order-page][data-status=pending]`);
  await pageEl.waitFor();
  const receiptOptions = pageEl.locator('.receipt .line-options', { hasText: 'Large' });
  await receiptOptions.waitFor();
  for (const name of ['Large', 'Cheese', 'Bacon']) assert.ok((await receiptOptions.innerText()).includes(name), name);
  await pageEl.locator('.receipt').getByText(money(order.total_cents)).waitFor();
  await notReloaded(customer);
  assert.deepEqual(errors, []);
});

test('the kitchen card lists the chosen options, live', async () => {
  assert.ok(order, 'the order from the first step');
  const card = admin.locator(`[data-testid=order-card][data-order-id="${order.id}"]`);
  await card.waitFor({ timeout: 5000 });
  const opts = card.getByTestId('line-options');
  assert.equal(await opts.count(), 2);
  const big = opts.filter({ hasText: 'Large' });
  const items = (await big.locator('li').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual([...items].sort(), ['Bacon', 'Cheese', 'Large']);
  const small = (await opts.filter({ hasText: 'Regular' }).locator('li').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(small, ['Regular']);
  await card.locator('.order-total').getByText(money(order.total_cents)).waitFor();
  await notReloaded(admin);
  assert.deepEqual(errors, []);
});

test('accepting with "Print ticket on accept" prints an 80 mm ticket, options and allergens first', async () => {
  // The print dialog is the browser's; count the calls instead.
  await admin.evaluate(() => {
    window.__prints = 0;
    window.print = () => {
      window.__prints += 1;
    };
  });
  await admin.getByTestId('auto-print').check();
  const card = admin.locator(`[data-testid=order-card][data-order-id="${order.id}"]`);
  await card.getByTestId('accept-15').click();
  await admin.locator(`[data-testid=column-accepted] [data-order-id="${order.id}"]`).waitFor({ timeout: 5000 });
  await admin.waitForFunction(() => window.__prints === 1, null, { timeout: 5000 });
  // The ticket was on the page when print() ran, and is gone after.
  await admin.getByTestId('print-ticket').waitFor({ state: 'detached', timeout: 5000 });
  // Print again by hand and read the ticket before it goes.
  await admin.evaluate(() => {
    window.print = () => {
      window.__ticket = document.querySelector('[data-testid=print-ticket]')?.textContent ?? '';
      window.__prints += 1;
    };
  });
  await card.getByTestId('print').click();
  await admin.waitForFunction(() => window.__prints === 2, null, { timeout: 5000 });
  const ticket = await admin.evaluate(() => window.__ticket);
  assert.match(ticket, new RegExp(`#${order.id}`));
  for (const word of ['Test Burger', 'Large', 'Cheese', 'Bacon', 'Regular', 'ALLERGENS: gluten, milk']) {
    assert.ok(ticket.includes(word), `"${word}" on the ticket: ${JSON.stringify(ticket)}`);
  }
  await admin.getByTestId('auto-print').uncheck();
  assert.deepEqual(errors, []);
});

test('the allergen filter hides the dishes with that allergen, and shows them again', async () => {
  await toMenu();
  const filter = customer.getByTestId('allergen-filter');
  await filter.waitFor();
  // Only the allergens some dish has.
  assert.deepEqual((await filter.getByRole('button').allInnerTexts()).map((s) => s.trim()), ['gluten', 'eggs', 'milk']);
  const milk = filter.getByRole('button', { name: 'milk', exact: true });
  assert.equal(await milk.getAttribute('aria-pressed'), 'false');

  await milk.click();
  await filter.locator('button[aria-pressed=true]', { hasText: 'milk' }).waitFor();
  await dish('Test Burger').waitFor({ state: 'detached' });
  await dish('Tiramisu').waitFor({ state: 'detached' });
  // The rest stays, gluten-only dishes included.
  await dish('Garlic bread').waitFor();
  await dish('Margherita').waitFor();

  await milk.click();
  await filter.locator('button[aria-pressed=false]', { hasText: 'milk' }).waitFor();
  await dish('Test Burger').waitFor();
  await dish('Tiramisu').waitFor();
  await notReloaded(customer);
  assert.deepEqual(errors, []);
});

test('the option editor changes a price keeping the ids; the customer follows live, the order stays', async () => {
  // The customer has a Large Test Burger in the cart: its price follows the menu.
  await toMenu();
  await openSheet();
  await sheet().getByRole('radio', { name: /^Large/ }).check();
  await addButton().click();
  await sheet().waitFor({ state: 'detached' });
  const cartBar = customer.getByTestId('view-cart');
  await cartBar.getByText(money(BASE + 200)).waitFor();

  await admin.getByRole('button', { name: 'Menu', exact: true }).click();
  const row = admin.locator('[data-testid=menu-item-row]', { hasText: 'Test Burger' });
  await row.getByRole('button', { name: 'Edit' }).click();
  const text = admin.getByTestId('options-text');
  await text.waitFor();
  assert.equal(
    await text.inputValue(),
    'Size [1-1]: Regular, Large +2.00\nExtras [0-2]: Cheese +1.00, Bacon +1.50, Egg (sold out), Pickles +0.50',
  );
  const form = admin.locator('form.item-form');
  for (const a of ['gluten', 'milk']) assert.equal(await form.getByRole('checkbox', { name: a, exact: true }).isChecked(), true, a);
  assert.equal(await form.getByRole('checkbox', { name: 'eggs', exact: true }).isChecked(), false);
  await shot(admin, 'admin-menu-options.png');

  await text.fill('Size [1-1]: Regular, Large +2.50');
  const patched = admin.waitForResponse((r) => r.url().endsWith(`/api/menu/items/${burger.id}`) && r.request().method() === 'PATCH');
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  const response = await patched;
  assert.equal(response.status(), 200);
  await text.waitFor({ state: 'detached' });
  await row.waitFor();

  const menu = await api.menu();
  const now = menu.categories.flatMap((c) => c.items).find((i) => i.id === burger.id);
  assert.equal(now.option_groups.length, 1);
  const size = now.option_groups[0];
  assert.equal(size.id, group(burger, 'Size').id);
  assert.equal(size.name, 'Size');
  assert.equal(size.min, 1);
  assert.equal(size.max, 1);
  assert.deepEqual(
    size.options.map((o) => [o.id, o.name, o.price_cents, o.available]),
    [
      [option(burger, 'Size', 'Regular').id, 'Regular', 0, true],
      [option(burger, 'Size', 'Large').id, 'Large', 250, true],
    ],
  );
  assert.deepEqual(now.allergens, ['gluten', 'milk']);
  assert.equal(now.price_cents, BASE);
  assert.equal(now.name, 'Test Burger');

  // The customer's page follows without a reload: the cart's Large line costs 12.50 now.
  await cartBar.getByText(money(BASE + 250)).waitFor({ timeout: 3000 });
  await openSheet();
  const largeLabel = sheet().locator('label.option', { hasText: 'Large' });
  await largeLabel.getByText(money(250)).waitFor();
  assert.equal(await sheet().locator('fieldset.option-group').count(), 1);
  assert.equal(await sheet().getByText('Cheese').count(), 0);
  await sheet().getByRole('radio', { name: /^Large/ }).check();
  assert.match(await addButton().innerText(), money(BASE + 250));
  // Closed by a tap outside it (its Cancel button is under the cart bar, see above).
  await customer.locator('.sheet-backdrop').click({ position: { x: 10, y: 10 } });
  await sheet().waitFor({ state: 'detached' });
  await notReloaded(customer);
  await notReloaded(admin);

  // The order from the first step kept what it chose.
  const stored = await api.call('GET', `/api/orders/${order.id}`, null, adminToken);
  const big = stored.items.find((l) => l.options.some((o) => o.name === 'Large'));
  assert.equal(big.unit_price_cents, FULL);
  const opts = Object.fromEntries(big.options.map((o) => [o.name, o.price_cents]));
  assert.deepEqual(opts, { Large: 200, Cheese: 100, Bacon: 150 });
  assert.equal(stored.subtotal_cents, order.subtotal_cents);
  assert.equal(stored.total_cents, order.total_cents);
  assert.deepEqual(errors, []);
});
