// Accessibility of every screen of the three panels, in English and Korean, in the light and
// the dark colour scheme: axe-core (web/node_modules/axe-core, Deque's WCAG rule engine) is
// injected into each screen and no violation of impact "serious" or "critical" may remain.
// Each screen is a subtest of its panel's test, so a failure names the screen, the language
// and the scheme, and its message lists each violation's rule, impact, help and the first
// elements it found (what to fix, where). Lesser findings ("moderate", "minor") are printed
// as diagnostics (and, with BRIGADE_A11Y_REVIEW=1, what axe could not decide).
//
// The screens are reached without words (test ids, input names, the structure), so the same
// path serves both languages. The scene is set by REST (lib.mjs's rest()): a restaurant
// location, a delivery area and delivery codes, so that the checkout prices the delivery and
// shows its map, the order page shows its code and the rider's card asks for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, collectErrors, rest, repo } from './lib.mjs';

const AXE = join(repo, 'web/node_modules/axe-core/axe.min.js');
const HOME = { lat: 52.37, lng: 4.89 };
const north = (m) => Number((HOME.lat + m / 111_195).toFixed(6));
const AREA = { bands: [{ up_to_m: 1000, fee_cents: 0 }, { up_to_m: 4000, fee_cents: 350 }], min_subtotal_cents: 500 };

const LANGS = [
  { lang: 'en', locale: 'en-US' },
  { lang: 'ko', locale: 'ko-KR' },
];
const SCHEMES = ['light', 'dark'];
// BRIGADE_A11Y_REVIEW=1 also prints what axe could not decide (its "incomplete" results, e.g.
// the contrast of text over a gradient or an image): for a person to check.
const REVIEW = process.env.BRIGADE_A11Y_REVIEW === '1';

let server, browser, api, adminToken, riderToken, customerToken, riderId, plainItem;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  riderToken = await api.login('rider');
  customerToken = await api.login('customer');
  riderId = (await api.call('GET', '/api/riders/me', null, riderToken)).id;
  await api.call('PATCH', '/api/restaurant', { location: HOME, delivery_area: AREA, delivery_code_required: true }, adminToken);
  const menu = await api.menu();
  // An item with options (a required size, optional extras, one sold out) and allergens, for
  // the option sheet and the allergen filter.
  await api.call(
    'POST',
    '/api/menu/items',
    {
      category_id: menu.categories[0].id,
      name: 'Burger',
      description: 'With a choice of size and extras',
      price_cents: 1250,
      allergens: ['gluten', 'milk'],
      option_groups: [
        { name: 'Size', min: 1, max: 1, options: [{ name: 'Regular' }, { name: 'Large', price_cents: 200 }] },
        { name: 'Extras', min: 0, max: 2, options: [{ name: 'Cheese', price_cents: 100 }, { name: 'Egg', available: false }] },
      ],
    },
    adminToken,
  );
  const items = menu.categories.flatMap((c) => c.items);
  plainItem = items.find((i) => i.available && !(i.option_groups?.length));
  // Orders in every column of the board (and in the customer's history): one each of
  // accepted, preparing, ready, delivered and rejected, none of them the rider's.
  const order = () =>
    api.call('POST', '/api/orders', { items: [{ item_id: plainItem.id, quantity: 2 }], delivery: { address: 'Dam 1', lat: north(800), lng: HOME.lng }, payment_method: 'card' }, customerToken);
  const move = (o, status, extra = {}) => api.call('POST', `/api/orders/${o.id}/status`, { status, ...extra }, adminToken);
  const accepted = await order();
  await move(accepted, 'accepted', { prep_minutes: 15 });
  const preparing = await order();
  await move(preparing, 'accepted', { prep_minutes: 20 });
  await move(preparing, 'preparing');
  const ready = await order();
  await move(ready, 'accepted', { prep_minutes: 10 });
  await move(ready, 'preparing');
  await move(ready, 'ready');
  // Delivered by the rider, with the customer's code (paid in cash).
  await api.call('POST', '/api/riders/me/online', { online: true }, riderToken);
  const delivered = await api.call('POST', '/api/orders', { items: [{ item_id: plainItem.id, quantity: 2 }], delivery: { address: 'Dam 2', lat: north(600), lng: HOME.lng } }, customerToken);
  await move(delivered, 'accepted', { prep_minutes: 10 });
  await api.call('POST', `/api/orders/${delivered.id}/assign`, { rider_id: riderId }, adminToken);
  await api.call('POST', `/api/orders/${delivered.id}/offer`, { accept: true }, riderToken);
  await move(delivered, 'preparing');
  await move(delivered, 'ready');
  await api.call('POST', `/api/orders/${delivered.id}/status`, { status: 'picked_up' }, riderToken);
  await api.call('POST', `/api/orders/${delivered.id}/status`, { status: 'delivered', code: delivered.delivery_code, paid: true }, riderToken);
  const rejected = await order();
  await move(rejected, 'rejected', { reason: 'out of dough' });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

/** A context for one language and scheme; reduced motion so nothing is caught mid-transition. */
function contextFor({ locale }, scheme, device, extra = {}) {
  return newContext(browser, server, { ...device, locale, colorScheme: scheme, reducedMotion: 'reduce', ...extra });
}

/** Signs in through a panel's form, by the inputs' names (any language). */
async function signInForm(page, account) {
  const form = page.locator('form.login');
  await form.locator('input[name=email]').fill(account.email);
  await form.locator('input[name=password]').fill(account.password);
  await form.locator('button[type=submit]').click();
}

const describe = (v) =>
  `  ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})\n` +
  v.nodes
    .slice(0, 4)
    .map((n) => `      at ${n.target.join(' ')}${n.summary ? `\n        ${n.summary.replace(/\n/g, '\n        ')}` : ''}`)
    .join('\n') +
  (v.nodes.length > 4 ? `\n      … and ${v.nodes.length - 4} more` : '');

/**
 * Runs axe on the page (or on `include`, a selector) as it is now, and asserts in a subtest
 * named after the screen that nothing serious or critical is found.
 */
async function audit(t, page, screen, include) {
  await page.waitForLoadState('load');
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: AXE });
  // Let fonts, layout and a frame settle before measuring contrast.
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))));
  const { violations, review } = await page.evaluate(
    async ([sel, withReview]) => {
      const result = await window.axe.run(sel ? { include: [sel] } : document, { resultTypes: withReview ? ['violations', 'incomplete'] : ['violations'] });
      const brief = (v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.map(String), summary: n.failureSummary ?? '' })),
      });
      return { violations: result.violations.map(brief), review: withReview ? result.incomplete.map(brief) : [] };
    },
    [include ?? null, REVIEW],
  );
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lesser = violations.filter((v) => !serious.includes(v));
  await t.test(screen, (st) => {
    for (const v of lesser) st.diagnostic(`${v.id} [${v.impact}] ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    for (const v of review) st.diagnostic(`needs review: ${v.id} [${v.impact}] ${v.help} at ${v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')} (${n.summary.split('\n').slice(1).join(' ').trim()})`).join(', ')}`);
    assert.equal(serious.length, 0, `${screen} (${page.url()}): ${serious.length} serious or critical violation(s):\n${serious.map(describe).join('\n')}`);
  });
}

/** The document's language is the context's (the panels follow the browser). */
async function expectLang(page, lang) {
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

for (const l of LANGS)
  for (const scheme of SCHEMES) {
    test(`customer panel, ${l.lang}, ${scheme}: menu, options, checkout, sign-in, register, order, history`, async (t) => {
      const ctx = await contextFor(l, scheme, PHONE);
      try {
        const page = await ctx.newPage();
        collectErrors(page, errors);
        await page.goto('/');
        await expectLang(page, l.lang);
        await page.getByTestId('dish').first().waitFor();
        await audit(t, page, 'menu');

        // An item's option sheet (the demo menu has items with options).
        const withOptions = page.getByTestId('choose-options').first();
        if (await withOptions.count()) {
          await withOptions.click();
          await page.getByTestId('option-sheet').waitFor();
          await audit(t, page, 'option sheet');
          await page.locator('.sheet-actions button').first().click(); // Cancel
          await page.getByTestId('option-sheet').waitFor({ state: 'detached' });
        } else t.diagnostic('no item with options on the demo menu: option sheet not checked');

        // A plain item into the cart, then the checkout, signed out.
        await page.locator(`[data-testid=dish][data-item-id="${plainItem.id}"] button.add-btn`).click();
        await page.locator(`[data-testid=dish][data-item-id="${plainItem.id}"] .stepper`).waitFor();
        await audit(t, page, 'menu with an item in the cart');
        await page.getByTestId('view-cart').click();
        await page.getByTestId('cart-line').first().waitFor();
        await page.locator('textarea[name=address]').fill('Keizersgracht 1');
        await audit(t, page, 'checkout, signed out');

        // Sign in (the checkout's button goes there), the register form, back, sign in.
        await page.getByTestId('place-order').click();
        await page.locator('form.login input[name=email]').waitFor();
        await audit(t, page, 'sign-in form');
        await page.locator('form.login .btn-link').first().click();
        await page.locator('form.login input[name=name]').waitFor();
        await audit(t, page, 'register form');
        await page.locator('form.login .btn-link').first().click();
        await page.locator('form.login input[name=name]').waitFor({ state: 'detached' });
        await signInForm(page, server.accounts.customer);

        // The checkout, signed in, with the point (the map) and the fee.
        await page.locator('input[name=lat]').fill(String(north(2500)));
        await page.locator('input[name=lng]').fill(String(HOME.lng));
        await page.getByTestId('map').waitFor();
        await page.getByTestId('delivery-fee').locator('.muted').waitFor(); // the distance: the quote is in
        await page.locator('[data-testid=connection][data-state=live]').waitFor();
        await audit(t, page, 'checkout with items, signed in, delivery point set');

        // Place the order: its page.
        await page.locator('input[name=payment][value=card]').check();
        await page.getByTestId('place-order').click();
        await page.locator('[data-testid=order-page][data-status=pending]').waitFor();
        await page.getByTestId('delivery-code').waitFor();
        await audit(t, page, 'order page, just placed');
        await page.getByTestId('cancel-order').click();
        await page.getByTestId('confirm-cancel').waitFor();
        await audit(t, page, 'order page, asked to confirm the cancel');
        await page.locator('.order-actions-row button:not([data-testid=confirm-cancel])').click(); // Keep it
        await page.getByTestId('cancel-order').waitFor();

        // A delivered order's page (made in before()), and the history.
        await page.goto('/#/orders');
        await page.getByTestId('history-item').first().waitFor();
        await audit(t, page, 'history');
        const done = page.locator('[data-testid=history-item]').filter({ has: page.locator('.pill-delivered') }).first();
        if (await done.count()) {
          await done.click();
          await page.locator('[data-testid=order-page][data-status=delivered]').waitFor();
          await audit(t, page, 'order page, delivered');
        }
        // The cart, emptied after the order: the empty checkout.
        await page.goto('/#/checkout');
        await page.locator('main .empty').waitFor();
        await audit(t, page, 'empty cart');
      } finally {
        await ctx.close();
      }
    });

    test(`admin panel, ${l.lang}, ${scheme}: sign-in, board, kitchen controls, today's figures, menu editor, settings`, async (t) => {
      const ctx = await contextFor(l, scheme, DESKTOP);
      try {
        const page = await ctx.newPage();
        collectErrors(page, errors);
        await page.goto('/admin/');
        await expectLang(page, l.lang);
        await page.locator('form.login input[name=email]').waitFor();
        await audit(t, page, 'sign-in');
        await signInForm(page, server.accounts.admin);
        await page.getByTestId('board').waitFor();
        await page.locator('[data-testid=connection][data-state=live]').waitFor();
        await page.getByTestId('order-card').first().waitFor();
        await page.getByTestId('kitchen-controls').waitFor();
        await page.locator('[data-testid=stat-orders]').filter({ hasText: /\d/ }).waitFor();
        await audit(t, page, 'board with orders, kitchen controls and today\'s figures');

        // Kitchen controls, paused (then resumed for the other panels).
        await page.getByTestId('pause-15').click();
        await page.getByTestId('resume').waitFor();
        await audit(t, page, 'kitchen controls, paused', '[data-testid=kitchen-controls]');
        await page.getByTestId('resume').click();
        await page.getByTestId('pause-15').waitFor();

        // A pending card's confirm-delivered form etc. are variants of the card; the board
        // above has cards in every column.
        await page.locator('nav.tabs button').nth(1).click();
        await page.getByTestId('menu-category').first().waitFor();
        await audit(t, page, 'menu editor');
        await page.locator('[data-testid=menu-item-row] td.col-actions button:not(.icon-btn)').first().click(); // Edit
        await page.getByTestId('options-text').waitFor();
        await audit(t, page, 'menu editor, an item being edited');
        await page.locator('.item-form .row > .btn-ghost').first().click(); // Cancel
        await page.getByTestId('options-text').waitFor({ state: 'detached' });

        await page.locator('nav.tabs button').nth(2).click();
        await page.getByTestId('restaurant-settings').waitFor();
        await page.getByTestId('band').first().waitFor();
        await audit(t, page, 'settings: restaurant, hours, delivery area');
      } finally {
        await ctx.close();
      }
    });

    test(`rider panel, ${l.lang}, ${scheme}: sign-in, offline, an offer, a delivery at the door, the day`, async (t) => {
      // The rider starts offline, with no job.
      await api.call('POST', '/api/riders/me/online', { online: false }, riderToken);
      const ctx = await contextFor(l, scheme, PHONE, { geolocation: { latitude: 52.372, longitude: 4.891 }, permissions: ['geolocation'] });
      try {
        const page = await ctx.newPage();
        collectErrors(page, errors);
        await page.goto('/rider/');
        await expectLang(page, l.lang);
        await page.locator('form.login input[name=email]').waitFor();
        await audit(t, page, 'sign-in');
        await signInForm(page, server.accounts.rider);
        await page.locator('.availability.is-offline').waitFor();
        await page.locator('[data-testid=connection][data-state=live]').waitFor();
        await page.locator('.rider-main .empty').waitFor();
        await audit(t, page, 'offline');

        // Online, with an offer.
        await page.getByTestId('online-switch').check();
        await page.locator('.availability.is-online').waitFor();
        const o = await api.call('POST', '/api/orders', { items: [{ item_id: plainItem.id, quantity: 3 }], delivery: { address: 'Prinsengracht 2', lat: north(800), lng: HOME.lng }, notes: 'Ring twice' }, customerToken);
        await api.call('POST', `/api/orders/${o.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
        await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
        const card = page.locator(`[data-testid=delivery][data-order-id="${o.id}"]`);
        await card.getByTestId('offer').waitFor();
        await audit(t, page, 'online, with an offered delivery');

        // Accepted, ready, picked up: the door, with the code to enter.
        await card.getByTestId('accept-offer').click();
        await card.getByTestId('offer').waitFor({ state: 'detached' });
        // Holding a job, the switch asks before going offline.
        await page.getByTestId('online-switch').click();
        await page.getByTestId('confirm-offline').waitFor();
        await audit(t, page, 'asked before going offline with a job');
        await page.locator('[data-testid=confirm-offline] button:not(.btn-danger)').click(); // Stay online
        await page.getByTestId('confirm-offline').waitFor({ state: 'detached' });
        await api.call('POST', `/api/orders/${o.id}/status`, { status: 'preparing' }, adminToken);
        await api.call('POST', `/api/orders/${o.id}/status`, { status: 'ready' }, adminToken);
        await page.locator(`[data-testid=delivery][data-order-id="${o.id}"][data-status=ready]`).waitFor();
        await audit(t, page, 'an accepted delivery, ready for pickup');
        await card.locator('button.btn-primary').click(); // Picked up
        await card.getByTestId('delivery-code-input').waitFor();
        await page.locator('[data-testid=location-sharing]').waitFor();
        await audit(t, page, 'a delivery at the door: code entry');
        // A wrong code: the refusal with the tries left.
        const code = (await api.call('GET', `/api/orders/${o.id}`, null, customerToken)).delivery_code;
        await card.getByTestId('delivery-code-input').fill(String((Number(code) + 1) % 10000).padStart(4, '0'));
        await card.locator('form.deliver-form button[type=submit]').click();
        await card.locator('.error-banner').waitFor();
        await audit(t, page, 'a delivery at the door: wrong code');

        // Delivered with the right code: the rider's day.
        await card.getByTestId('delivery-code-input').fill(code);
        await card.locator('form.deliver-form button[type=submit]').click();
        await card.waitFor({ state: 'detached' });
        await page.getByTestId('rider-day').waitFor();
        await audit(t, page, "the rider's day");
      } finally {
        await ctx.close();
      }
    });
  }
