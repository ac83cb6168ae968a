// The kitchen panel in Korean (web/src/admin/messages.ts): a ko-KR browser opens it in
// Korean — sign-in, the board's columns, a new order arriving with its Korean status and
// alert, the ordering controls, today's figures, the menu editor with its allergens, the
// settings — and the kitchen accepts the order in Korean. Switched to English, every text
// on screen follows at once; a reload keeps English (the choice is remembered).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, collectErrors, rest } from './lib.mjs';

let server, browser, api, customerToken, ctx, page;
const errors = [];
const HANGUL = /[\uac00-\ud7a3]/;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  customerToken = await api.login('customer');
  ctx = await newContext(browser, server, { locale: 'ko-KR', ...DESKTOP });
  page = await ctx.newPage();
  collectErrors(page, errors);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const column = (key) => page.getByTestId(`column-${key}`);
const card = (id) => page.locator(`[data-testid=order-card][data-order-id="${id}"]`);
const columnTitle = async (key) => (await column(key).locator('.column-title').textContent()).replace(/\s*\d+\s*$/, '').trim();

test('a ko-KR browser gets the kitchen panel in Korean and accepts a new order in Korean', async () => {
  await page.goto('/admin/');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
  // The sign-in form, in Korean.
  await page.getByText('사장님 로그인').waitFor();
  assert.equal(await page.getByTestId('language').inputValue(), 'ko');
  await page.getByLabel('이메일').fill(server.accounts.admin.email);
  await page.getByLabel('비밀번호').fill(server.accounts.admin.password);
  await page.getByRole('button', { name: '로그인', exact: true }).click();

  await page.getByTestId('board').waitFor();
  await page.locator('[data-testid=connection][data-state=live]').waitFor();
  assert.equal((await page.getByTestId('connection').innerText()).trim(), '실시간');

  // The header and the board's columns.
  for (const name of ['주문', '메뉴 관리', '가게 설정', '로그아웃']) await page.getByRole('button', { name, exact: true }).waitFor();
  assert.deepEqual(
    await Promise.all(['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'done'].map(columnTitle)),
    ['신규', '접수', '준비 중', '준비 완료', '배달 중', '오늘 완료'],
  );
  await column('pending').getByText('신규 주문이 없습니다').waitFor();
  await page.getByTestId('kitchen-status').getByText(/^주문 받는 중/).waitFor();
  await page.getByTestId('busy-0').getByText('끔', { exact: true }).waitFor();
  await page.getByTestId('stats').getByText('오늘 주문 수').waitFor();
  await page.getByTestId('stats').getByText('오늘 매출').waitFor();

  // A new order arrives: a Korean alert, a card whose status is said in Korean.
  const [item] = (await api.menu()).categories[0].items;
  const order = await api.placeOrder(customerToken, [{ item_id: item.id, quantity: 2 }]);
  const toast = page.locator(`[data-testid=toast][data-order-id="${order.id}"]`);
  await toast.getByText(`신규 주문 #${order.id}`).waitFor();
  await toast.getByRole('button', { name: '확인', exact: true }).waitFor();
  const c = column('pending').locator(`[data-testid=order-card][data-order-id="${order.id}"]`);
  await c.waitFor();
  assert.equal(await c.getAttribute('aria-label'), `주문 ${order.id}, 신규`);
  await c.getByRole('button', { name: '15분', exact: true }).waitFor();
  await c.getByRole('button', { name: '거절', exact: true }).waitFor();
  assert.match(await c.getByTestId('payment').innerText(), /^(현금|카드) · 미결제$/);

  // Accepted in Korean: the card moves on, with its Korean status and prep time.
  await c.getByRole('button', { name: '접수', exact: true }).click();
  const accepted = column('accepted').locator(`[data-testid=order-card][data-order-id="${order.id}"]`);
  await accepted.waitFor();
  assert.equal(await accepted.getAttribute('aria-label'), `주문 ${order.id}, 접수됨`);
  await accepted.getByText('조리 15분').waitFor();
  await accepted.getByRole('button', { name: '조리 시작' }).waitFor();
  await toast.waitFor({ state: 'detached' });
  assert.equal((await api.call('GET', `/api/orders/${order.id}`, null, await api.login('admin'))).status, 'accepted');

  // The menu editor: Korean headings, and allergens by their Korean names.
  await page.getByRole('button', { name: '메뉴 관리', exact: true }).click();
  await page.getByRole('heading', { name: '메뉴 관리' }).waitFor();
  await page.getByRole('button', { name: '메뉴 그룹 추가' }).waitFor();
  const row = page.getByTestId('menu-item-row').first();
  await row.getByRole('button', { name: '수정', exact: true }).click();
  const form = page.locator('form.item-form');
  await form.getByText('알레르기 유발 성분').waitFor();
  for (const name of ['글루텐', '우유', '땅콩', '아황산염']) await form.getByLabel(name, { exact: true }).waitFor();
  await form.getByRole('button', { name: '취소', exact: true }).click();

  // The settings.
  await page.getByRole('button', { name: '가게 설정', exact: true }).click();
  const settings = page.getByTestId('restaurant-settings');
  await settings.getByRole('heading', { name: '가게 정보' }).waitFor();
  await settings.getByLabel('시간대').waitFor();
  await settings.getByLabel('월요일').or(settings.getByLabel('24시간 영업')).first().waitFor();
  await settings.getByLabel('최소 주문 금액').or(settings.getByLabel('배달 지역 안에서만 배달')).first().waitFor();
  await settings.getByRole('button', { name: '저장', exact: true }).waitFor();

  // A time zone the server refuses: the form names the setting, in Korean (never the
  // server's English message), and nothing is written.
  const before = await api.call('GET', '/api/restaurant');
  const tz = settings.getByLabel('시간대');
  const zone = await tz.inputValue();
  await tz.fill('Mars/Olympus_Mons');
  await settings.getByRole('button', { name: '저장', exact: true }).click();
  const problem = page.getByTestId('settings-error');
  await problem.getByText('시간대: 올바른 값이 아닙니다. 확인하고 다시 시도해 주세요.').waitFor();
  assert.equal(await problem.getAttribute('data-field'), 'timezone');
  assert.equal((await api.call('GET', '/api/restaurant')).version, before.version, 'nothing was written');
  // The message follows a language switch, and comes back in Korean.
  await page.getByTestId('language').selectOption('en');
  await problem.getByText('Time zone: this value is not accepted. Check it and try again.').waitFor();
  await page.getByTestId('language').selectOption('ko');
  await problem.getByText('시간대: 올바른 값이 아닙니다. 확인하고 다시 시도해 주세요.').waitFor();
  await tz.fill(zone);

  // Nothing on the settings page is left in English.
  const text = await page.locator('main').innerText();
  for (const english of ['Save', 'Time zone', 'Delivery', 'Minimum order', 'Closed dates']) assert.ok(!text.includes(english), `"${english}" is not on the Korean page`);
  assert.deepEqual(errors, []);
});

test('switched to English, everything on screen follows; a reload keeps English', async () => {
  await page.getByRole('button', { name: '주문', exact: true }).click();
  await page.getByTestId('board').waitFor();
  await page.getByTestId('language').selectOption('en');

  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  for (const name of ['Orders', 'Menu', 'Settings', 'Sign out']) await page.getByRole('button', { name, exact: true }).waitFor();
  assert.deepEqual(
    await Promise.all(['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'done'].map(columnTitle)),
    ['New', 'Accepted', 'Preparing', 'Ready', 'On the way', 'Done today'],
  );
  assert.equal((await page.getByTestId('connection').innerText()).trim(), 'Live');
  await page.getByTestId('kitchen-status').getByText(/^Taking orders/).waitFor();
  await page.getByTestId('stats').getByText('Orders today').waitFor();
  const accepted = page.locator('[data-testid=order-card][data-status=accepted]').first();
  assert.match(await accepted.getAttribute('aria-label'), /^Order \d+, Accepted$/);
  await accepted.getByText(/^Prep 15 min$/).waitFor();
  await accepted.getByRole('button', { name: 'Start preparing' }).waitFor();
  const onScreen = await page.locator('.admin').innerText();
  assert.ok(!HANGUL.test(onScreen.replace('한국어', '')), `no Korean left on screen:\n${onScreen}`);

  await page.reload();
  await page.getByTestId('board').waitFor();
  assert.equal(await page.getByTestId('language').inputValue(), 'en');
  await page.getByRole('button', { name: 'Orders', exact: true }).waitFor();
  await column('pending').getByText('No new orders').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.deepEqual(errors, []);
});
