// Fit and look (issue 13): the street map (the restaurant's tile URL and attribution;
// tiles blocked, as every outside host is in these tests, fall back to the grid with the
// pin and click-to-pick still working; tiles that load replace the grid; "" draws none);
// the customer's screens at 320 and 360 px without sideways scrolling; dark mode in the
// panels; WCAG AA contrast (4.5:1) of the muted text, the brand-red buttons, the green
// pills, in light and dark; focus on the new page's heading after a page change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, signIn, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, riderToken;
const errors = [];
const DEFAULT_TILES = { map_tile_url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', map_attribution: '© OpenStreetMap contributors' };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  riderToken = await api.login('rider');
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const setRestaurant = (patch) => api.call('PATCH', '/api/restaurant', patch, adminToken);

/** A cart with a Margherita, at the checkout with a delivery point: the map is shown. */
async function checkoutWithPin(page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Add Margherita' }).click();
  await page.getByTestId('view-cart').click();
  await page.getByLabel('Latitude').fill('52.3702');
  await page.getByLabel('Longitude').fill('4.8952');
  await page.getByLabel('Delivery pin').waitFor();
}

/** Is the delivery pin drawn inside the map's box? */
async function pinInsideMap(page) {
  return page.evaluate(() => {
    const map = document.querySelector('[data-testid=map]')?.getBoundingClientRect();
    const pin = document.querySelector('[data-testid=map] .pin-dest')?.getBoundingClientRect();
    return !!map && !!pin && pin.width > 0 && pin.left >= map.left && pin.right <= map.right && pin.top >= map.top && pin.bottom <= map.bottom;
  });
}

test('street map: tiles from the settings with their attribution, the grid when they cannot load or are off', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  const requested = [];
  page.on('request', (r) => requested.push(r.url()));

  // Default settings: OpenStreetMap's tiles are asked for, blocked here, so the grid shows.
  await checkoutWithPin(page);
  const map = page.getByTestId('map');
  await page.locator('[data-testid=map][data-tiles=fallback]').waitFor();
  assert.ok(
    requested.some((u) => /^https:\/\/tile\.openstreetmap\.org\/\d+\/\d+\/\d+\.png$/.test(u)),
    'the tile URL template of the settings was used',
  );
  await map.locator('.leaflet-control-attribution', { hasText: '© OpenStreetMap contributors' }).waitFor();
  assert.ok(await pinInsideMap(page), 'the delivery pin is on the map');
  const grid = await map.evaluate((el) => getComputedStyle(el).backgroundImage);
  assert.match(grid, /linear-gradient/, 'the fallback draws the grid');

  // Click-to-pick still works on the fallback: above the pin is further north.
  const box = await map.boundingBox();
  await map.click({ position: { x: box.width * 0.7, y: box.height * 0.25 } });
  await page.waitForFunction(() => Number(document.querySelector('input[name=lat]').value) > 52.3702);
  assert.ok(await pinInsideMap(page), 'the pin moved with the click and is still on the map');

  // No tiles configured: nothing is fetched, no attribution, the grid and the pin.
  await setRestaurant({ map_tile_url: '', map_attribution: '' });
  requested.length = 0;
  await page.reload();
  await page.getByLabel('Latitude').fill('52.3702');
  await page.getByLabel('Longitude').fill('4.8952');
  await page.locator('[data-testid=map][data-tiles=none]').waitFor();
  assert.ok(await pinInsideMap(page));
  assert.equal((await map.locator('.leaflet-control-attribution').innerText()).trim(), '');
  const outside = requested.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'));
  assert.deepEqual(outside, [], 'only the server was asked');

  // Another provider: its attribution is shown as text, never as markup.
  await setRestaurant({ map_tile_url: 'https://tiles.example.test/{z}/{x}/{y}.png', map_attribution: '© Example <b>Tiles</b>' });
  await page.reload();
  await page.getByLabel('Latitude').fill('52.3702');
  await page.getByLabel('Longitude').fill('4.8952');
  await page.locator('[data-testid=map][data-tiles=fallback]').waitFor();
  await map.locator('.leaflet-control-attribution', { hasText: '© Example <b>Tiles</b>' }).waitFor();
  assert.equal(await map.locator('.leaflet-control-attribution b').count(), 0);
  assert.ok(await pinInsideMap(page));

  // Tiles that load (served by the test in place of the provider): shown instead of the grid.
  await ctx.route('https://tiles.example.test/**', (route) => route.fulfill({ contentType: 'image/png', body: ONE_PIXEL_PNG }));
  await page.reload();
  await page.getByLabel('Latitude').fill('52.3702');
  await page.getByLabel('Longitude').fill('4.8952');
  await page.locator('[data-testid=map][data-tiles=loaded]').waitFor();
  await map.locator('img.leaflet-tile').first().waitFor();
  assert.equal(await map.evaluate((el) => getComputedStyle(el).backgroundImage), 'none', 'no grid under loaded tiles');
  await map.locator('.leaflet-control-attribution', { hasText: '© Example <b>Tiles</b>' }).waitFor();
  assert.ok(await pinInsideMap(page));

  await setRestaurant(DEFAULT_TILES);
  await ctx.close();
});

test('the customer screens fit 320 and 360 px wide phones without sideways scrolling', async () => {
  // An order under way: the header carries the connection, Orders with its count, Sign out.
  const margherita = (await api.menu()).categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  await api.placeOrder(customerToken, [{ item_id: margherita.id, quantity: 1 }]);
  for (const width of [320, 360]) {
    // Not isMobile: a mobile viewport grows to fit wide content, which would hide the overflow.
    const ctx = await newContext(browser, server, { viewport: { width, height: 740 }, deviceScaleFactor: 2, hasTouch: true });
    const page = await ctx.newPage();
    collectErrors(page, errors);
    const fits = async (where) => {
      const m = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        inner: window.innerWidth,
        right: Math.max(...[...document.querySelectorAll('.shop-top *')].map((e) => e.getBoundingClientRect().right)),
        header: document.querySelector('.shop-top').getBoundingClientRect().height,
      }));
      assert.equal(m.inner, width, where);
      assert.ok(m.scroll <= m.inner, `${where} at ${width} px: scrollWidth ${m.scroll} > ${m.inner}`);
      assert.ok(m.right <= m.inner, `${where} at ${width} px: the header reaches ${m.right}`);
      assert.ok(m.header < 64, `${where} at ${width} px: the header is one line (${m.header} px)`);
    };

    await page.goto('/');
    await page.getByRole('button', { name: 'Add Margherita' }).waitFor();
    await fits('menu, signed out');

    await page.goto('/#/login');
    await signIn(page, server.accounts.customer);
    await page.locator('[data-testid=connection][data-state=live]').waitFor();
    await page.locator('[data-testid=nav-orders] .badge').waitFor();
    await page.getByRole('button', { name: 'Add Margherita' }).click();
    await fits('menu');
    await page.getByTestId('view-cart').click();
    await page.getByLabel('Latitude').fill('52.3702');
    await page.getByLabel('Longitude').fill('4.8952');
    await page.getByLabel('Delivery pin').waitFor();
    await page.getByTestId('place-order').waitFor();
    await fits('checkout');
    // Sign out keeps its name for screen readers where only its icon shows.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    await ctx.setOffline(true);
    await page.locator('[data-testid=connection][data-state=offline]').waitFor();
    await fits('checkout, offline');
    await ctx.close();
  }
});

/** Parses a computed colour: [r, g, b, a]. */
const COLOR_HELPERS = `
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) throw new Error('unexpected colour ' + c);
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => {
    const a = top[3] + below[3] * (1 - top[3]);
    return [0, 1, 2].map((i) => (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / (a || 1)).concat(a);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]);
  };
  const luminance = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
`;

/** The contrast of an element's text against what is behind it, and that background's luminance. */
async function contrastOf(locator) {
  return locator.evaluate((el, helpers) => {
    const { background, parse, over, ratio, luminance } = new Function(`${helpers}; return { background, parse, over, ratio, luminance };`)();
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    return { ratio: ratio(fg, bg), bgLuminance: luminance(bg) };
  }, COLOR_HELPERS);
}

/** A delivered order in the customer's history: the green status pill. */
async function deliveredOrder() {
  const margherita = (await api.menu()).categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  const order = await api.placeOrder(customerToken, [{ item_id: margherita.id, quantity: 1 }]);
  const riderId = (await api.call('GET', '/api/riders/me', null, riderToken)).id;
  await api.call('POST', '/api/riders/me/online', { online: true }, riderToken);
  const move = (body, token = adminToken) => api.call('POST', `/api/orders/${order.id}/status`, body, token);
  await move({ status: 'accepted', prep_minutes: 10 });
  await move({ status: 'preparing' });
  await move({ status: 'ready' });
  await api.call('POST', `/api/orders/${order.id}/assign`, { rider_id: riderId }, adminToken);
  await move({ status: 'picked_up' }, riderToken);
  await move({ status: 'delivered' }, riderToken);
  return order;
}

test('contrast of at least 4.5:1 in light and dark, and dark backgrounds in dark mode', async () => {
  const delivered = await deliveredOrder();
  for (const colorScheme of ['light', 'dark']) {
    const ctx = await newContext(browser, server, { ...PHONE, colorScheme });
    const page = await ctx.newPage();
    collectErrors(page, errors);
    await page.goto('/#/login');
    await signIn(page, server.accounts.customer);
    await page.locator('[data-testid=connection][data-state=live]').waitFor();

    const bodyLuminance = await page.evaluate(
      (helpers) => new Function(`${helpers}; return luminance(parse(getComputedStyle(document.body).backgroundColor));`)(),
      COLOR_HELPERS,
    );
    if (colorScheme === 'dark') assert.ok(bodyLuminance < 0.05, `customer body is dark (luminance ${bodyLuminance})`);
    else assert.ok(bodyLuminance > 0.8, `customer body is light (luminance ${bodyLuminance})`);

    const results = {};
    results['muted text (dish description)'] = await contrastOf(page.locator('.dish-desc').first());
    results['green connection pill'] = await contrastOf(page.locator('.conn-live'));
    await page.getByRole('button', { name: 'Add Margherita' }).click();
    results['brand-red primary button'] = await contrastOf(page.getByTestId('view-cart'));
    results['brand-red add button'] = await contrastOf(page.getByRole('button', { name: 'Add Garlic bread' }));

    await page.getByTestId('view-cart').click();
    await page.getByLabel('Latitude').fill('52.3702');
    await page.getByLabel('Longitude').fill('4.8952');
    await page.locator('[data-testid=map][data-tiles=fallback]').waitFor();
    results['muted text (hint)'] = await contrastOf(page.locator('.coords-hint'));
    results['map attribution'] = await contrastOf(page.locator('.leaflet-control-attribution'));
    const mapLuminance = (await contrastOf(page.getByTestId('map'))).bgLuminance;
    if (colorScheme === 'dark') assert.ok(mapLuminance < 0.05, `the map's grid is dark (luminance ${mapLuminance})`);

    await page.goto('/#/orders');
    const pill = page.locator(`[data-testid=history-item][data-order-id="${delivered.id}"] .pill-delivered`);
    await pill.waitFor();
    results['green status pill (delivered)'] = await contrastOf(pill);
    results['status pill (placed)'] = await contrastOf(page.locator('.pill-pending').first());

    for (const [name, { ratio }] of Object.entries(results)) {
      assert.ok(ratio >= 4.5, `${colorScheme}: ${name} has contrast ${ratio.toFixed(2)}:1`);
    }
    console.log(`# ${colorScheme}: ${Object.entries(results).map(([n, r]) => `${n} ${r.ratio.toFixed(2)}`).join(', ')}`);
    await ctx.close();
  }

  // The admin panel in dark mode: the page and its cards are dark, text readable.
  const ctx = await newContext(browser, server, { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const admin = await ctx.newPage();
  collectErrors(admin, errors);
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.getByTestId('board').waitFor();
  const body = await contrastOf(admin.locator('body'));
  assert.ok(body.bgLuminance < 0.05, `admin body is dark (luminance ${body.bgLuminance})`);
  assert.ok(body.ratio >= 4.5, `admin text on the page: ${body.ratio.toFixed(2)}`);
  for (const sel of ['.stat-label', '.column-title']) {
    const r = await contrastOf(admin.locator(sel).first());
    assert.ok(r.bgLuminance < 0.05, `${sel} sits on a dark background`);
    assert.ok(r.ratio >= 4.5, `admin ${sel}: ${r.ratio.toFixed(2)}`);
  }
  await ctx.close();
});

test('after a page change focus is on the new page’s heading', async () => {
  const ctx = await newContext(browser, server, PHONE);
  const page = await ctx.newPage();
  collectErrors(page, errors);
  await page.goto('/');
  await page.getByRole('button', { name: 'Add Margherita' }).click();
  await page.getByTestId('view-cart').click();
  await page.waitForFunction(() => document.activeElement?.matches('main h1'));
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Your order');
  assert.ok(await page.evaluate(() => document.activeElement.closest('.checkout') !== null), 'the checkout’s heading');

  await page.getByRole('button', { name: '← Menu' }).click();
  await page.waitForFunction(() => document.activeElement?.matches('main h1') && document.activeElement.textContent === 'What are you craving?');
  await ctx.close();
});
