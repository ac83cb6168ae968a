// The rider panel in Korean (web/src/rider/messages.ts): a rider whose phone speaks Korean
// signs in, goes online (운행 중), gets an offer with its countdown, accepts it and is told
// to collect the cash in Korean with Korean money; a wrong delivery code says the tries
// left; the language switch in the header (it fits a 320 px phone) turns everything to
// English, and a reload keeps English. Back in Korean, the delivery and the rider's day.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, PHONE, collectErrors, rest } from './lib.mjs';

let server, browser, api, adminToken, customerToken, riderId, itemId;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = rest(server);
  adminToken = await api.login('admin');
  customerToken = await api.login('customer');
  riderId = (await api.call('GET', '/api/riders/me', null, await api.login('rider'))).id;
  itemId = (await api.menu()).categories[0].items[0].id;
  await api.call('PATCH', '/api/restaurant', { currency: 'KRW' }, adminToken);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, []);
});

/** The amount as the panel writes it: the restaurant's currency (KRW) in the locale. */
const money = (locale, cents) => new Intl.NumberFormat(locale, { style: 'currency', currency: 'KRW' }).format(cents / 100);

/** Whether the header's content stays inside the page's width (no sideways scrolling). */
async function headerFits(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const parts = [...document.querySelectorAll('.rider-top .brand, [data-testid=language], [data-testid=connection]')];
    return document.documentElement.scrollWidth <= width && parts.length === 3 && parts.every((el) => el.getBoundingClientRect().right <= width + 0.5);
  });
}

test('a Korean rider: online, an offer, cash at the door in Korean; English on switching, kept on reload', async () => {
  const ctx = await newContext(browser, server, {
    ...PHONE,
    viewport: { width: 320, height: 700 },
    locale: 'ko-KR',
    geolocation: { latitude: 37.5665, longitude: 126.978 },
    permissions: ['geolocation'],
  });
  try {
    const rider = await ctx.newPage();
    collectErrors(rider, errors);
    await rider.goto('/rider/');
    assert.equal(await rider.evaluate(() => document.documentElement.lang), 'ko');
    await rider.getByRole('heading', { name: '라이더 로그인' }).waitFor();
    await rider.getByLabel('이메일').fill(server.accounts.rider.email);
    await rider.getByLabel('비밀번호').fill(server.accounts.rider.password);
    await rider.getByRole('button', { name: '로그인', exact: true }).click();

    // Offline, then online: in Korean.
    await rider.getByText('운행 종료됨', { exact: true }).waitFor();
    await rider.getByText('운행을 시작하면 배달 요청을 받을 수 있습니다.').first().waitFor();
    assert.equal(await rider.getByTestId('language').inputValue(), 'ko');
    await rider.getByRole('switch', { name: '배달 요청 받기' }).check();
    await rider.getByText('운행 중', { exact: true }).waitFor();
    await rider.getByText('가게에서 배달을 배정할 수 있습니다.').waitFor();
    await rider.locator('[data-testid=connection][data-state=live]').waitFor();
    assert.equal(await rider.getByTestId('connection').innerText(), '실시간');
    assert.ok(await headerFits(rider), 'the header fits 320 px in Korean');

    // An offer: the Korean card and its countdown.
    const o = await api.placeOrder(customerToken, [{ item_id: itemId, quantity: 2 }], { address: '서울 중구 세종대로 110' });
    await api.call('POST', `/api/orders/${o.id}/status`, { status: 'accepted', prep_minutes: 10 }, adminToken);
    await api.call('POST', `/api/orders/${o.id}/assign`, { rider_id: riderId }, adminToken);
    const job = rider.getByRole('article', { name: `주문 #${o.id} 배달` });
    await job.waitFor();
    const offer = job.getByRole('group', { name: `주문 #${o.id} 배달 요청` });
    await offer.getByText(/^새 배달 요청 — (0:[0-5]\d|1:00) 안에 응답하세요$/).waitFor();
    await job.getByText(`주문 #${o.id}`, { exact: true }).waitFor();
    await job.getByRole('link', { name: '지도에서 열기' }).waitFor();
    await offer.getByRole('button', { name: '수락', exact: true }).click();
    await offer.waitFor({ state: 'detached' });

    // The money to take at the door, in Korean with Korean money.
    const cash = money('ko-KR', o.total_cents);
    assert.match(cash, /^₩[\d,]+$/);
    assert.equal((await job.getByTestId('payment').innerText()).trim(), `현금 ${cash} 받기`);
    await job.getByRole('button', { name: /^접수됨 — 아직 픽업할 수 없습니다$/ }).waitFor();
    await job.getByText('조리 10분', { exact: true }).waitFor();

    // English on switching, at once, and after a reload.
    await rider.getByTestId('language').selectOption('en');
    await rider.getByText("You're online", { exact: true }).waitFor();
    assert.equal(await rider.evaluate(() => document.documentElement.lang), 'en');
    const enJob = rider.getByRole('article', { name: `Delivery for order ${o.id}` });
    assert.equal((await enJob.getByTestId('payment').innerText()).trim(), `Collect ${money('en', o.total_cents)} in cash`);
    await enJob.getByRole('link', { name: 'Open in maps' }).waitFor();
    assert.equal(await rider.getByTestId('connection').innerText(), 'Live');
    assert.ok(await headerFits(rider), 'the header fits 320 px in English');
    await rider.reload();
    await rider.getByText("You're online", { exact: true }).waitFor();
    assert.equal(await rider.getByTestId('language').inputValue(), 'en');
    await rider.getByRole('heading', { name: /^Deliveries/ }).waitFor();
    await enJob.getByText(`Collect ${money('en', o.total_cents)} in cash`).waitFor();
    assert.equal(await rider.getByText('운행 중', { exact: true }).count(), 0);

    // Back to Korean: picked up, a wrong code, delivered, the rider's day.
    await rider.getByTestId('language').selectOption('ko');
    await rider.getByText('운행 중', { exact: true }).waitFor();
    await api.call('POST', `/api/orders/${o.id}/status`, { status: 'preparing' }, adminToken);
    await api.call('POST', `/api/orders/${o.id}/status`, { status: 'ready' }, adminToken);
    await job.getByRole('button', { name: '픽업 완료', exact: true }).click();
    await rider.getByTestId('location-sharing').getByText('위치 공유 중 · 37.5665, 126.9780').waitFor();
    await job.getByLabel('고객 전달 코드 (고객에게 있는 경우)').fill(o.delivery_code === '0000' ? '1111' : '0000');
    await job.getByRole('button', { name: '✓ 배달 완료', exact: true }).click();
    await job.getByText('코드가 틀렸습니다 — 4번 남았습니다. 고객에게 다시 확인하세요.').waitFor();
    assert.ok(await job.getByRole('checkbox', { name: '현금 받음' }).isChecked());
    await job.getByRole('button', { name: '✓ 배달 완료', exact: true }).click();
    await job.waitFor({ state: 'detached' });
    await rider.getByTestId('rider-day').getByText(`✓ 오늘 배달 1건 · 받은 현금 ${cash}`).waitFor();
    await rider.getByText('아직 배달이 없습니다. 새 배달 요청은 여기에 바로 표시됩니다.').waitFor();
    const done = await api.call('GET', `/api/orders/${o.id}`, null, adminToken);
    assert.equal(done.status, 'delivered');
    assert.equal(done.payment.status, 'paid');
  } finally {
    await ctx.close();
  }
});
