// A customer's whole checkout with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrow
// keys, Escape, typing; never a click): from the menu, an item into the cart and one with
// options through its sheet (focus into the dialog, Escape, focus back), the cart, a new
// account, the address and the note, the delivery point ("Use my location", the browser's
// position granted), card on delivery, Place order, and the order page with focus on its
// heading. Every stop of the focus on the way must show it (an outline or a box-shadow), and
// the focused control must not be hidden under the sticky header or bar.
//
// The restaurant has a delivery area, so the order needs a delivery point: the keyboard's
// ways to it are the Latitude/Longitude fields and "Use my location" (the map's own pin is
// moved by a tap; Leaflet's keyboard handling pans and zooms, it does not pick a point).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, collectErrors, rest } from './lib.mjs';

let server, browser, api, item, burger;
const errors = [];
const HOME = { lat: 52.37, lng: 4.89 };
const HERE = { latitude: 52.3790, longitude: 4.8990 }; // about 1.2 km away: the second band

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  const adminToken = await api.login('admin');
  await api.call(
    'PATCH',
    '/api/restaurant',
    { location: HOME, delivery_area: { bands: [{ up_to_m: 1000, fee_cents: 0 }, { up_to_m: 4000, fee_cents: 350 }] }, delivery_code_required: true },
    adminToken,
  );
  const menu = await api.menu();
  item = menu.categories.flatMap((c) => c.items).find((i) => i.available && !(i.option_groups?.length));
  burger = await api.call(
    'POST',
    '/api/menu/items',
    {
      category_id: menu.categories[0].id,
      name: 'Burger',
      price_cents: 1250,
      option_groups: [
        { name: 'Size', min: 1, max: 1, options: [{ name: 'Regular' }, { name: 'Large', price_cents: 200 }] },
        { name: 'Extras', min: 0, max: 2, options: [{ name: 'Cheese', price_cents: 100 }, { name: 'Bacon', price_cents: 150 }] },
      ],
    },
    adminToken,
  );
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

/** What has focus now, with how it shows (evaluated in the page). */
function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { none: true };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== '';
    const r = el.getBoundingClientRect();
    // Covered (by the sticky header or bar)? Hit-test the middle of the visible part.
    const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(r.top + Math.min(r.height, 40) / 2, 0), innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    const onScreen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
    const name =
      el.getAttribute('aria-label') ||
      (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent) ||
      el.textContent?.trim().slice(0, 40) ||
      el.getAttribute('name') ||
      '';
    const desc = `<${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? ` data-testid=${el.getAttribute('data-testid')}` : ''}${el.className && typeof el.className === 'string' ? ` class="${el.className}"` : ''}> "${name}"`;
    const modal = document.querySelector('[aria-modal=true]');
    return {
      none: false,
      desc,
      behindModal: !!modal && !modal.contains(el),
      visible: outline || shadow,
      style: `outline ${cs.outlineStyle} ${cs.outlineWidth}, box-shadow ${cs.boxShadow}`,
      onScreen,
      covered: onScreen && !!hit && hit !== el && !el.contains(hit) && !hit.contains(el) ? hit.className || hit.tagName : null,
    };
  });
}

/**
 * Presses `key` (Tab or Shift+Tab) until the focused element matches `selector` (not at all
 * if it does already); every stop on the way must show its focus, not be covered, and not be
 * behind an open modal dialog. Returns the stops.
 */
async function tabTo(page, selector, { key = 'Tab', max = 60, problems } = {}) {
  const stops = [];
  const behind = [];
  const done = () => {
    if (behind.length) problems.push(`${key} went to ${behind.length} control(s) behind the open modal dialog (focus is not kept in it), e.g. ${behind.slice(0, 3).join(', ')}`);
    return stops;
  };
  const there = () => page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector);
  if (await there()) return stops; // already (e.g. a dialog put the focus there)
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const s = await focusState(page);
    if (s.none) continue;
    stops.push(s.desc);
    if (!s.visible) problems.push(`no visible focus on ${s.desc} (${s.style}) at ${page.url()}`);
    if (s.behindModal) behind.push(s.desc);
    else if (s.covered) problems.push(`${s.desc} is covered by ${s.covered} when focused at ${page.url()}`);
    if (await there()) return done();
  }
  done();
  throw new Error(`${key} ${max} times did not reach ${selector}; stops: ${stops.join(' → ')}`);
}

/** Tab or Shift+Tab to `selector`, whichever way it lies from the focus. */
async function moveTo(page, selector, options) {
  const backward = await page.evaluate((sel) => {
    const at = document.activeElement;
    const target = document.querySelector(sel);
    if (!at || at === document.body || !target) return false;
    return !!(at.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING);
  }, selector);
  return tabTo(page, selector, { ...options, key: backward ? 'Shift+Tab' : 'Tab' });
}

/** Focus is on `selector` now, and it shows. */
async function expectFocus(page, selector, what, problems) {
  await page.waitForFunction((sel) => document.activeElement?.matches(sel), selector, { timeout: 5000 }).catch(() => {});
  const s = await focusState(page);
  const on = await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector);
  assert.ok(on, `${what}: focus should be on ${selector}, is on ${s.none ? '<body> (lost)' : s.desc}`);
  if (!s.visible) problems.push(`${what}: no visible focus on ${s.desc} (${s.style})`);
}

test('keyboard only: menu (an item, one with options) → cart → register → address, note, point, payment → order page', async () => {
  const ctx = await newContext(browser, server, { ...DESKTOP, permissions: ['geolocation'], geolocation: HERE, reducedMotion: 'reduce' });
  const problems = [];
  try {
    const page = await ctx.newPage();
    collectErrors(page, errors);
    await page.goto('/');
    const dish = `[data-testid=dish][data-item-id="${item.id}"]`;
    await page.locator(dish).waitFor();

    // The menu: Tab to the item's Add, Enter. The Add button becomes the quantity stepper:
    // focus must not fall back to the page (it goes to the stepper's +).
    await tabTo(page, `${dish} button.add-btn`, { problems });
    await page.keyboard.press('Enter');
    await page.locator(`${dish} .stepper`).waitFor();
    const afterAdd = await focusState(page);
    if (afterAdd.none) problems.push(`after Add, focus is lost (on <body>); expected it on the stepper of ${item.name}`);

    // An item with options: its sheet takes the focus, Escape closes it, and the focus comes
    // back to the button that opened it; then the required size with the arrow keys, an
    // extra with Space, and Add.
    const chooser = `[data-testid=dish][data-item-id="${burger.id}"] [data-testid=choose-options]`;
    const sheet = '[data-testid=option-sheet]';
    await moveTo(page, chooser, { problems });
    await page.keyboard.press('Enter');
    await page.locator(sheet).waitFor();
    const inSheet = () => page.evaluate((sel) => !!document.activeElement?.closest(sel), sheet);
    if (!(await inSheet())) problems.push(`opening the option sheet leaves focus on ${(await focusState(page)).desc ?? '<body>'}, behind the dialog; expected it inside the sheet`);
    await page.keyboard.press('Escape');
    if (await page.locator(sheet).count()) {
      problems.push('Escape does not close the option sheet');
      await tabTo(page, `${sheet} .sheet-actions .btn-ghost`, { problems }); // Cancel
      await page.keyboard.press('Enter');
    }
    await page.locator(sheet).waitFor({ state: 'detached' });
    if (!(await page.evaluate((sel) => document.activeElement?.matches(sel), chooser)))
      problems.push(`closing the option sheet leaves focus on ${(await focusState(page)).desc ?? '<body>'}; expected it back on the button that opened it`);
    await moveTo(page, chooser, { problems });
    await page.keyboard.press('Enter');
    await page.locator(sheet).waitFor();
    await tabTo(page, `${sheet} input[type=radio]`, { problems });
    await page.keyboard.press('ArrowDown'); // Regular → Large (the arrows move and choose)
    await page.keyboard.press('ArrowUp'); // back to Regular
    assert.equal(await page.locator(`${sheet} input[type=radio]`).first().isChecked(), true, 'the arrow keys chose Regular');
    await tabTo(page, `${sheet} input[type=checkbox]`, { problems });
    await page.keyboard.press('Space');
    assert.equal(await page.locator(`${sheet} input[type=checkbox]`).first().isChecked(), true, 'Space chose Cheese');
    await tabTo(page, `${sheet} [data-testid=add-with-options]`, { problems });
    assert.equal(await page.getByTestId('add-with-options').isDisabled(), false);
    // Tab from the dialog's last control stays in the dialog (it wraps to the first).
    await page.keyboard.press('Tab');
    if (!(await inSheet())) problems.push(`Tab from the option sheet's last control leaves the dialog, to ${(await focusState(page)).desc ?? '<body>'}`);
    await moveTo(page, `${sheet} [data-testid=add-with-options]`, { problems: [] });
    await page.keyboard.press('Enter');
    await page.locator(sheet).waitFor({ state: 'detached' });
    if (!(await page.evaluate((sel) => document.activeElement?.matches(sel), chooser)))
      problems.push(`after Add in the option sheet, focus is on ${(await focusState(page)).desc ?? '<body>'}; expected it back on the button that opened the sheet`);
    await page.locator(`${chooser}`).filter({ hasText: '1' }).waitFor(); // "Add another (1)"

    // Down the menu to the cart bar and back up to the category chips: no stop hidden under
    // the fixed cart bar or the sticky header and chips.
    await tabTo(page, '[data-testid=view-cart]', { problems });
    await tabTo(page, '.cat-chips a', { key: 'Shift+Tab', problems });

    // The cart: the bar's link, Enter. The checkout takes focus to its heading.
    await tabTo(page, '[data-testid=view-cart]', { problems });
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/checkout$/);
    await expectFocus(page, 'main h1', 'the checkout', problems);

    // Address and note first (they survive signing in).
    await tabTo(page, 'textarea[name=address]', { problems });
    await page.keyboard.type('Keizersgracht 1, 2nd floor');
    await tabTo(page, 'textarea[name=notes]', { problems });
    await page.keyboard.type('Ring twice');

    // Not signed in: the checkout's button goes to sign in; a new account from there.
    await tabTo(page, '[data-testid=place-order]', { problems });
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/login$/);
    await expectFocus(page, 'main h1', 'the sign-in page', problems);
    await tabTo(page, 'form.login button.btn-link', { problems }); // "New here? Create an account"
    await page.keyboard.press('Space');
    await page.locator('form.login input[name=name]').waitFor();
    await tabTo(page, 'form.login input[name=name]', { key: 'Shift+Tab', problems });
    await page.keyboard.type('Kim Keyboard');
    await page.keyboard.press('Tab');
    await expectFocus(page, 'form.login input[name=email]', 'the email field', problems);
    await page.keyboard.type(`keys-${Date.now()}@example.com`);
    await page.keyboard.press('Tab');
    await expectFocus(page, 'form.login input[name=password]', 'the password field', problems);
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Enter'); // submits the form

    // Back on the checkout, signed in, the draft kept.
    await page.waitForURL(/#\/checkout$/);
    await page.getByTestId('nav-orders').waitFor();
    await expectFocus(page, 'main h1', 'the checkout after signing up', problems);
    assert.equal(await page.locator('textarea[name=address]').inputValue(), 'Keizersgracht 1, 2nd floor');
    assert.equal(await page.locator('textarea[name=notes]').inputValue(), 'Ring twice');

    // The delivery point: "Use my location" (the position is granted).
    await tabTo(page, '.coords-hint + button', { problems });
    assert.match(await page.evaluate(() => document.activeElement.textContent), /Use my location/);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('input[name=lat]')?.value !== '');
    assert.equal(Number(await page.locator('input[name=lat]').inputValue()), HERE.latitude);
    assert.equal(Number(await page.locator('input[name=lng]').inputValue()), HERE.longitude);
    await page.getByTestId('map').waitFor();
    await page.getByTestId('delivery-fee').getByText('1.2 km').waitFor(); // priced

    // Payment: Tab into the radio group (cash, the default), the arrow to card.
    await tabTo(page, 'input[name=payment]', { problems });
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('input[name=payment][value=card]').isChecked(), true, 'the arrow key chose card');
    await expectFocus(page, 'input[name=payment][value=card]', 'the card radio', problems);

    // Place order: the order page, focus on its heading.
    await tabTo(page, '[data-testid=place-order]', { problems });
    assert.equal(await page.getByTestId('place-order').isDisabled(), false, 'Place order is enabled');
    const placed = page.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
    await page.keyboard.press('Enter');
    const response = await placed;
    assert.equal(response.status(), 201);
    const order = await response.json();
    assert.equal(order.payment.method, 'card');
    assert.deepEqual(
      order.items.map((l) => [l.item_id, l.quantity, (l.options ?? []).map((o) => o.name)]).sort((a, b) => a[0] - b[0]),
      [
        [item.id, 1, []],
        [burger.id, 1, ['Regular', 'Cheese']],
      ].sort((a, b) => a[0] - b[0]),
    );
    assert.equal(order.notes, 'Ring twice');
    assert.equal(order.delivery.lat, HERE.latitude);
    await page.locator(`[data-testid=order-page][data-status=pending]`).waitFor();
    await expectFocus(page, '[data-testid=order-headline]', 'the order page', problems);
    assert.deepEqual(problems, [], `keyboard problems:\n  ${problems.join('\n  ')}`);
  } catch (e) {
    if (problems.length && !e.message.includes('keyboard problems')) e.message += `\nkeyboard problems before this:\n  ${problems.join('\n  ')}`;
    throw e;
  } finally {
    await ctx.close();
  }
});
