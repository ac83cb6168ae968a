// Screenshots of the three panels for the README (docs/screenshots/*.png):
// starts a fresh brigade, sets a realistic scene over REST and in the browser,
// and photographs admin at 1440x900, customer and rider at 360x740.
//
//   node tests/browser/screenshots.mjs [out-dir] [--lang en|ko]
//
// `--lang ko` opens every browser context in 'ko-KR', so the panels speak Korean
// (web/src/*/messages.ts), and writes to docs/screenshots/ko/ unless told otherwise. The
// scene (menu, addresses, currency) is the same in both languages; only the panels' words
// change, and the kitchen's reason for the rejected order, which staff type themselves.
// Korean needs a CJK font for Chromium (Debian: fonts-nanum or fonts-noto-cjk).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, rest, repo } from './lib.mjs';

const { values: flags, positionals } = parseArgs({ options: { lang: { type: 'string', default: 'en' } }, allowPositionals: true });
/** What the script clicks and waits for, in the panels' words (web/src/<panel>/messages.ts). */
const WORDS = {
  en: {
    locale: 'en-US',
    email: 'Email',
    password: 'Password',
    signIn: 'Sign in',
    menuTab: 'Menu',
    available: (name) => `${name} available`,
    add: (name) => `Add ${name}`,
    addOneMore: (name) => `Add one more ${name}`,
    online: "You're online",
    rejectReason: 'Out of squid tonight', // typed by the kitchen: the staff's own words
  },
  ko: {
    locale: 'ko-KR',
    email: '이메일',
    password: '비밀번호',
    signIn: '로그인',
    menuTab: '메뉴 관리',
    available: (name) => `${name} 판매 중`,
    add: (name) => `${name} 담기`,
    addOneMore: (name) => `${name} 하나 더 담기`,
    online: '운행 중',
    rejectReason: '오늘 오징어 재료가 떨어졌습니다',
  },
};
const W = Object.hasOwn(WORDS, flags.lang) ? WORDS[flags.lang] : null;
if (!W || positionals.length > 1) {
  console.error('usage: node tests/browser/screenshots.mjs [out-dir] [--lang en|ko]');
  process.exit(2);
}
const out = positionals[0] ?? join(repo, flags.lang === 'en' ? 'docs/screenshots' : `docs/screenshots/${flags.lang}`);
mkdirSync(out, { recursive: true });
/** A browser context in the set's language. */
const context = (browser, server, options) => newContext(browser, server, { ...options, locale: W.locale });
/** Signs in through a panel's login form, in the set's language. */
async function signIn(page, account) {
  await page.getByLabel(W.email, { exact: true }).fill(account.email);
  await page.getByLabel(W.password, { exact: true }).fill(account.password);
  await page.getByRole('button', { name: W.signIn, exact: true }).click();
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await startServer();
const browser = await launchBrowser();
try {
  const api = rest(server);
  const adminToken = await api.login('admin');
  const customerToken = await api.login('customer');
  const riderToken = await api.login('rider');
  const menu = await api.menu();
  const items = menu.categories.flatMap((c) => c.items);
  const pick = (name) => items.find((i) => i.name === name)?.id ?? items[0].id;
  const byName = (...names) => names.map(([n, q]) => ({ item_id: pick(n), quantity: q }));
  const second = await api.call('POST', '/api/users', { email: 'sam@brigade.local', password: 'rider-password-2', name: 'Sam Okafor', role: 'rider' }, adminToken);
  const samToken = (await api.call('POST', '/api/auth/login', { email: 'sam@brigade.local', password: 'rider-password-2' })).token;
  await api.call('POST', '/api/riders/me/online', { online: true }, riderToken);
  await api.call('POST', '/api/riders/me/online', { online: true }, samToken);
  const riders = (await api.call('GET', '/api/riders', null, adminToken)).riders;
  const demoRider = riders.find((r) => r.id !== second.user.id);

  const mk = (lines, address, lat, lng) => api.placeOrder(customerToken, byName(...lines), { address, ...(lat ? { lat, lng } : {}) });
  const move = (o, body, token = adminToken) => api.call('POST', `/api/orders/${o.id}/status`, body, token);
  const assign = (o, riderId) => api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);

  const delivered1 = await mk([['Margherita', 2], ['Tiramisu', 1]], 'Prinsengracht 263', 52.3752, 4.8840);
  const delivered2 = await mk([['Garlic bread', 1], ['Mushroom risotto', 1]], 'Keizersgracht 123');
  const rejected = await mk([['Calamari', 4]], 'Damrak 1');
  for (const o of [delivered1, delivered2]) {
    await move(o, { status: 'accepted', prep_minutes: 15 });
    await move(o, { status: 'preparing' });
    await move(o, { status: 'ready' });
    await assign(o, second.user.id);
    await move(o, { status: 'picked_up' }, samToken);
    await move(o, { status: 'delivered', paid: true }, samToken); // the cash, collected
  }
  await move(rejected, { status: 'rejected', reason: W.rejectReason });
  const onTheWay = await mk([['Margherita', 1], ['Bruschetta', 2], ['Tiramisu', 2]], 'Herengracht 502, 3rd floor', 52.3641, 4.8944);
  await move(onTheWay, { status: 'accepted', prep_minutes: 12 });
  await move(onTheWay, { status: 'preparing' });
  await move(onTheWay, { status: 'ready' });
  await assign(onTheWay, demoRider.id);
  await move(onTheWay, { status: 'picked_up' }, riderToken);
  const ready = await mk([['Mushroom risotto', 2], ['Soup of the day', 1]], 'Vijzelstraat 68', 52.3627, 4.8915);
  await move(ready, { status: 'accepted', prep_minutes: 20 });
  await move(ready, { status: 'preparing' });
  await move(ready, { status: 'ready' });
  await assign(ready, demoRider.id);
  const preparing = await mk([['Bruschetta', 1], ['Margherita', 1]], 'Utrechtsestraat 40');
  await move(preparing, { status: 'accepted', prep_minutes: 18 });
  await move(preparing, { status: 'preparing' });
  const accepted = await mk([['Calamari', 1], ['Garlic bread', 2]], 'Leidseplein 12');
  await move(accepted, { status: 'accepted', prep_minutes: 10 });
  await assign(accepted, second.user.id);
  await mk([['Soup of the day', 2]], 'Spuistraat 210');

  // Admin board, with a new order arriving (toast) a moment after load.
  const adminCtx = await context(browser, server, DESKTOP);
  const admin = await adminCtx.newPage();
  await admin.goto('/admin/');
  await signIn(admin, server.accounts.admin);
  await admin.locator('[data-testid=connection][data-state=live]').waitFor();
  // (The order already waiting in New has its own toast from the board's load: wait for this one's.)
  const arriving = await mk([['Margherita', 3], ['Tiramisu', 3]], 'Rembrandtplein 8');
  await admin.locator(`[data-testid=toast][data-order-id="${arriving.id}"]`).waitFor();
  await sleep(600);
  await admin.screenshot({ path: join(out, 'admin-board.png') });
  await admin.locator('[data-testid=toast] button').first().click();
  await admin.getByRole('button', { name: W.menuTab, exact: true }).click();
  await admin.getByRole('switch', { name: W.available('Calamari') }).click();
  await admin.locator('[data-testid=menu-item-row].unavailable').first().waitFor();
  await sleep(300);
  await admin.screenshot({ path: join(out, 'admin-menu.png') });

  // Customer: the menu, and the order being delivered with the rider on the map.
  const customerCtx = await context(browser, server, PHONE);
  const customer = await customerCtx.newPage();
  await customer.goto('/#/login');
  await signIn(customer, server.accounts.customer);
  await customer.getByTestId('dish').first().waitFor();
  await customer.getByRole('button', { name: W.add('Margherita'), exact: true }).click();
  await customer.getByRole('button', { name: W.addOneMore('Margherita'), exact: true }).click();
  await customer.getByRole('button', { name: W.add('Bruschetta'), exact: true }).click();
  await sleep(300);
  await customer.screenshot({ path: join(out, 'customer-menu.png') });
  await customer.goto(`/#/orders/${onTheWay.id}`);
  await customer.locator('[data-testid=order-page]').waitFor();
  await customer.locator('[data-testid=connection][data-state=live]').waitFor();

  // Rider: on a delivery, sharing a (mocked) position.
  const riderCtx = await context(browser, server, { ...PHONE, geolocation: { latitude: 52.3668, longitude: 4.8905 }, permissions: ['geolocation'] });
  const rider = await riderCtx.newPage();
  await rider.goto('/rider/');
  await signIn(rider, server.accounts.rider);
  await rider.getByTestId('online-switch').check();
  await rider.getByText(W.online, { exact: true }).waitFor();
  await rider.locator('[data-testid=location-sharing][data-kind=sharing]').waitFor();
  await sleep(300);
  await rider.screenshot({ path: join(out, 'rider-deliveries.png') });
  await customer.waitForFunction(() => document.querySelector('[data-testid=rider-position]')?.dataset.lat);
  await sleep(600);
  await customer.screenshot({ path: join(out, 'customer-tracking.png') });
  await customer.goto('/#/orders');
  await customer.getByTestId('history-item').first().waitFor();
  await sleep(200);
  await customer.screenshot({ path: join(out, 'customer-orders.png') });
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
