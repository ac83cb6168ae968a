// The customer panel in Korean (web/src/customer/messages.ts): a customer whose phone speaks
// Korean sees the menu, the cart and the checkout in Korean with Korean money, signs in and
// orders (만나서 카드 결제); the order page follows the kitchen in Korean (a Korean status, the
// ready time, 도착 예정 with a Korean time); the language switch in the header turns everything
// on screen to English at once, and a reload keeps English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, margherita;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  margherita = (await api.menu()).categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
  assert.ok(margherita, 'the demo menu has a Margherita');
  await api.call('PATCH', '/api/restaurant', { currency: 'KRW' }, adminToken);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

/** The amount as the panel writes it: the restaurant's currency (KRW) in the locale. */
const money = (locale, cents) => new Intl.NumberFormat(locale, { style: 'currency', currency: 'KRW' }).format(cents / 100);

const HANGUL = /[\u3131-\u318e\uac00-\ud7a3]/;
const ADDRESS = '서울 중구 세종대로 110'; // the customer's own words stay as typed

/** Whether the page (header included) stays inside its width. */
async function fits(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const header = document.querySelector('.shop-top');
    return document.documentElement.scrollWidth <= width && [...header.querySelectorAll('*')].every((el) => el.getBoundingClientRect().right <= width + 0.5) && header.getBoundingClientRect().height < 64;
  });
}

test('a Korean customer: menu, cart, checkout and order in Korean; English on switching, kept on reload', async () => {
  const ctx = await newContext(browser, server, { ...PHONE, locale: 'ko-KR' });
  try {
    const page = await ctx.newPage();
    collectErrors(page, errors);

    // The menu, in Korean.
    await page.goto('/');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
    assert.equal(await page.getByTestId('language').inputValue(), 'ko');
    await page.getByRole('heading', { name: '오늘은 뭐 드시고 싶으세요?' }).waitFor();
    await page.getByRole('navigation', { name: '메뉴 분류' }).waitFor();
    await page.locator('.shop-top').getByRole('link', { name: '로그인' }).waitFor();
    const dish = page.locator('[data-testid=dish]', { hasText: 'Margherita' });
    await dish.getByText(money('ko-KR', margherita.price_cents), { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Margherita 담기', exact: true }).click();
    await page.getByRole('button', { name: 'Margherita 하나 더 담기' }).click();
    assert.equal(await page.getByRole('group', { name: 'Margherita 수량' }).locator('span').innerText(), '2');
    const subtotal = margherita.price_cents * 2;
    const cartBar = page.getByTestId('view-cart');
    await cartBar.getByText('장바구니 보기').waitFor();
    await cartBar.getByText(money('ko-KR', subtotal)).waitFor();
    assert.ok(await fits(page), 'the header fits a phone in Korean');

    // The cart and the checkout, in Korean; ordering asks to sign in first.
    await cartBar.click();
    await page.getByRole('heading', { name: '장바구니', level: 1 }).waitFor();
    await page.getByRole('button', { name: '← 메뉴' }).waitFor();
    await page.locator('.cart-lines').getByText('주문 금액').waitFor();
    await page.getByTestId('delivery-fee').getByText('배달비').waitFor();
    await page.getByRole('heading', { name: '결제 방법' }).waitFor();
    await page.getByTestId('place-order').getByText('로그인하고 주문하기').click();
    await page.locator('#login-title', { hasText: '로그인' }).waitFor();
    await page.getByLabel('이메일').fill(server.accounts.customer.email);
    await page.getByLabel('비밀번호').fill(server.accounts.customer.password);
    await page.getByRole('button', { name: '로그인', exact: true }).click();

    // Back at the checkout, signed in: the address, a request, card on delivery.
    await page.getByLabel('배달 주소').fill(ADDRESS);
    await page.getByLabel('가게·라이더 요청 사항 (선택)').fill('문 앞에 놓아 주세요');
    await page.getByLabel(/카드 결제 \(만나서 결제/).check();
    await page.locator('[data-testid=connection][data-state=live]').waitFor();
    assert.equal(await page.getByTestId('connection').innerText(), '실시간');
    await page.getByTestId('nav-orders').getByText('주문 내역').waitFor();
    const quote = await api.call('GET', `/api/delivery/quote?subtotal_cents=${subtotal}`);
    assert.ok(quote.deliverable, JSON.stringify(quote));
    const total = subtotal + quote.fee_cents;
    await page.getByTestId('checkout-total').getByText(money('ko-KR', total)).waitFor();
    const place = page.locator('[data-testid=place-order]:enabled', { hasText: `${money('ko-KR', total)} 주문하기` });
    await place.waitFor();
    assert.ok(await fits(page), 'the header fits a phone in Korean, signed in');
    const placed = page.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
    await place.click();
    const response = await placed;
    assert.equal(response.status(), 201);
    const order = await response.json();
    assert.equal(order.total_cents, total, 'charged what was shown');
    assert.deepEqual(order.payment, { method: 'card', status: 'unpaid' });

    // The order page, in Korean.
    const orderPage = page.locator('[data-testid=order-page][data-status=pending]');
    await orderPage.waitFor();
    assert.equal(await page.getByTestId('order-headline').innerText(), '가게에서 주문을 확인하고 있습니다');
    await orderPage.locator('.status-hero').getByText(`주문 #${order.id}`, { exact: true }).waitFor();
    await orderPage.locator('.pill').getByText('주문 완료', { exact: true }).waitFor();
    await page.getByTestId('delivery-code').getByText('배달 확인 코드').waitFor();
    await page.getByTestId('delivery-code').getByText(order.delivery_code).waitFor();
    await page.getByRole('button', { name: '주문 취소' }).waitFor();
    assert.equal((await page.getByTestId('payment').innerText()).trim(), `만나서 카드 결제: ${money('ko-KR', total)}`);
    await page.getByRole('region', { name: '영수증' }).getByText(money('ko-KR', total)).waitFor();

    // The kitchen accepts with a prep time: a Korean status, the ready time, the arrival.
    await api.call('POST', `/api/orders/${order.id}/status`, { status: 'accepted', prep_minutes: 20 }, adminToken);
    const accepted = page.locator('[data-testid=order-page][data-status=accepted]');
    await accepted.waitFor();
    assert.equal(await page.getByTestId('order-headline').innerText(), '주문이 접수되었습니다');
    await accepted.locator('.pill').getByText('접수됨', { exact: true }).waitFor();
    assert.match(await page.getByTestId('eta').innerText(), /^약 (19|20)분 후 준비 완료 \((오전|오후) \d{2}:\d{2}쯤\)$/);
    assert.match((await page.getByTestId('arrival').innerText()).trim(), /^도착 예정 (오전|오후) \d{2}:\d{2}$/);
    const timeline = page.getByRole('list', { name: '주문 진행 상황' });
    for (const step of ['주문 완료', '가게 주문 접수', '조리 중', '픽업 대기', '배달 중', '배달 완료']) await timeline.getByText(step, { exact: true }).waitFor();

    // English, at once: nothing Korean is left on the page but the language's own name.
    await page.getByTestId('language').selectOption('en');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.getByTestId('order-headline').getByText('Order accepted', { exact: true }).waitFor();
    await accepted.locator('.pill').getByText('Accepted', { exact: true }).waitFor();
    assert.match(await page.getByTestId('eta').innerText(), /^Ready in about (19|20) min \(around \d{1,2}:\d{2}( [AP]M)?\)$/);
    assert.match((await page.getByTestId('arrival').innerText()).trim(), /^Arrives around \d{1,2}:\d{2}( [AP]M)?$/);
    assert.equal((await page.getByTestId('payment').innerText()).trim(), `To pay on delivery by card: ${money('en-US', total)}`);
    await page.getByTestId('nav-orders').getByText('Orders').waitFor();
    assert.equal(await page.getByTestId('connection').innerText(), 'Live');
    const korean = () => page.evaluate(() => [document.querySelector('main').innerText, ...[...document.querySelectorAll('.shop-top a, .shop-top button, .shop-top [data-testid=connection]')].map((e) => e.innerText), ...[...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label'))].join('\n')).then((text) => text.replaceAll(ADDRESS, '…'));
    assert.ok(!HANGUL.test(await korean()), `Korean left after switching:\n${await korean()}`);
    assert.ok(await fits(page), 'the header fits a phone in English');

    // Remembered: a reload stays English.
    await page.reload();
    await page.getByTestId('order-headline').getByText('Order accepted', { exact: true }).waitFor();
    assert.equal(await page.getByTestId('language').inputValue(), 'en');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.evaluate(() => localStorage.getItem('brigade.lang')), 'en');
    await page.getByRole('list', { name: 'Order progress' }).getByText('Accepted by the restaurant').waitFor();
    assert.ok(!HANGUL.test(await korean()), `Korean after the reload:\n${await korean()}`);

    // The history and the menu, in English too.
    await page.getByTestId('nav-orders').click();
    await page.getByRole('heading', { name: 'Your orders' }).waitFor();
    await page.locator(`[data-testid=history-item][data-order-id="${order.id}"]`).getByText(`Order #${order.id}`).waitFor();
    await page.goto('/#/');
    await page.getByRole('heading', { name: 'What are you craving?' }).waitFor();
    await page.getByRole('button', { name: 'Add Margherita', exact: true }).waitFor();
  } finally {
    await ctx.close();
  }
});
