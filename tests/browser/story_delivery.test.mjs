// The delivery story with offers, in Korean and in English: the same scenario twice, every
// browser context in 'ko-KR', then in 'en-US' (the panels follow the browser's language,
// web/src/shared/i18n.tsx). Every human step is a click in a panel; REST only sets the scene
// (the restaurant's location and currency, a second rider's account).
//   1. a customer (phone) orders to a point given by its coordinates and pays cash;
//   2. the kitchen (desktop) accepts, prepares, marks it ready and offers it to rider A;
//   3. rider A (phone) sees the offer count down and declines it; the board says so, live;
//   4. the kitchen offers it to rider B (the restaurant's auto_offer is off: docs/API.md,
//      "Rider offers"), who accepts; the board says accepted;
//   5. rider B picks it up and shares positions closer and closer to the customer; the
//      customer's arrival time ("도착 예정 …" / "Arrives around …") moves earlier with each
//      (web/src/customer/eta.ts: 300 m a minute plus 2 minutes' handover);
//   6. the customer reads the 4-digit code off their order page, rider B types it in,
//      collects the cash and marks it delivered; customer and board show delivered.
// The expected words are written here (they are the panels' messages.ts, which a test does
// not import), so a changed translation is a failing test to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, DESKTOP, PHONE, collectErrors, rest } from './lib.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** What the panels say, in each run's language (web/src/{shared,customer,admin,rider}/messages.ts). */
const WORDS = {
  ko: {
    locale: 'ko-KR',
    currency: 'KRW',
    home: { lat: 37.5665, lng: 126.978 }, // 서울시청
    address: '서울 중구 세종대로 110, 3층',
    riderB: { name: '김보라', email: 'bora@brigade.local', password: 'rider-password-b' },
    // shared
    email: '이메일',
    password: '비밀번호',
    signIn: '로그인',
    live: '실시간',
    // customer
    addItem: (n) => `${n} 담기`,
    addOneMore: (n) => `${n} 하나 더 담기`,
    cartTitle: '장바구니',
    addressLabel: '배달 주소',
    latitude: '위도',
    longitude: '경도',
    deliveryPin: '배달 위치 핀',
    cashRadio: '현금 결제 (만나서 결제)',
    placeOrder: (total) => `${total} 주문하기`,
    headline: {
      pending: '가게에서 주문을 확인하고 있습니다',
      accepted: '주문이 접수되었습니다',
      preparing: '음식을 조리하고 있습니다',
      ready: '준비 완료 — 라이더를 기다리고 있습니다',
      picked_up: '라이더가 배달 중입니다',
      delivered: '배달 완료 — 맛있게 드세요!',
    },
    riderHeading: '라이더가 가게로 가고 있습니다.',
    riderSoon: '곧 라이더가 배정됩니다.',
    arrival: /^도착 예정 (오전|오후) \d{2}:\d{2}$/,
    arrivesBefore: '도착 예정',
    deliveryCode: '배달 확인 코드',
    deliveryCodeLabel: (digits) => `배달 확인 코드 ${digits}`,
    toPayCash: (money) => `만나서 현금 결제: ${money}`,
    paidCash: (money) => `현금 결제 완료 · ${money}`,
    riderAt: (lat, lng) => `라이더 위치 ${lat}, ${lng} · `,
    progress: '주문 진행 상황',
    steps: ['주문 완료', '가게 주문 접수', '조리 중', '픽업 대기', '배달 중', '배달 완료'],
    // admin
    adminLogin: '사장님 로그인',
    columns: { pending: '신규', accepted: '접수', preparing: '준비 중', ready: '준비 완료', picked_up: '배달 중', done: '오늘 완료' },
    toast: (id) => `신규 주문 #${id}`,
    cardAria: (id, status) => `주문 ${id}, ${status}`,
    status: { pending: '신규', accepted: '접수됨', preparing: '준비 중', ready: '준비 완료', picked_up: '배달 중', delivered: '배달 완료' },
    minutes: (n) => `${n}분`,
    prepMinutes: (n) => `조리 ${n}분`,
    startPreparing: '조리 시작',
    markReady: '조리 완료',
    riderFor: (id) => `${id}번 주문 라이더`,
    assign: '배정',
    offered: /^ · 배차 요청 중, 응답까지 \d+초$/,
    riderAccepted: ' · 배차 수락',
    declinedBy: (names) => `배차 거절: ${names}`,
    cashUnpaid: '현금 · 미결제',
    cashPaid: '현금 · 결제 완료',
    // rider
    riderLogin: '라이더 로그인',
    switchLabel: '배달 요청 받기',
    online: '운행 중',
    emptyOnline: '아직 배달이 없습니다. 새 배달 요청은 여기에 바로 표시됩니다.',
    jobLabel: (id) => `주문 #${id} 배달`,
    offerLabel: (id) => `주문 #${id} 배달 요청`,
    offerText: /^새 배달 요청 — (\d):(\d\d) 안에 응답하세요$/,
    accept: '수락',
    decline: '거절',
    collectCash: (money) => `현금 ${money} 받기`,
    pickedUp: '픽업 완료',
    sharing: (lat, lng) => `위치 공유 중 · ${lat}, ${lng}`,
    codeRequired: '고객 전달 코드',
    cashCollected: '현금 받음',
    delivered: '✓ 배달 완료',
    day: (n, cash) => `✓ 오늘 배달 ${n}건 · 받은 현금 ${cash}`,
  },
  en: {
    locale: 'en-US',
    currency: 'EUR',
    home: { lat: 52.37, lng: 4.89 },
    address: 'Keizersgracht 324, 3rd floor',
    riderB: { name: 'Bea Baker', email: 'bea@brigade.local', password: 'rider-password-b' },
    email: 'Email',
    password: 'Password',
    signIn: 'Sign in',
    live: 'Live',
    addItem: (n) => `Add ${n}`,
    addOneMore: (n) => `Add one more ${n}`,
    cartTitle: 'Your order',
    addressLabel: 'Address',
    latitude: 'Latitude',
    longitude: 'Longitude',
    deliveryPin: 'Delivery pin',
    cashRadio: 'Cash on delivery',
    placeOrder: (total) => `Place order · ${total}`,
    headline: {
      pending: 'Waiting for the restaurant',
      accepted: 'Order accepted',
      preparing: 'Your food is being prepared',
      ready: 'Ready — waiting for the rider',
      picked_up: 'Your rider is on the way',
      delivered: 'Delivered — enjoy your meal!',
    },
    riderHeading: 'Your rider is heading to the restaurant.',
    riderSoon: 'A rider will be assigned shortly.',
    arrival: /^Arrives around \d{1,2}:\d{2}\s[AP]M$/,
    arrivesBefore: 'Arrives around',
    deliveryCode: 'Your delivery code',
    deliveryCodeLabel: (digits) => `Delivery code ${digits}`,
    toPayCash: (money) => `To pay on delivery by cash: ${money}`,
    paidCash: (money) => `Paid by cash · ${money}`,
    riderAt: (lat, lng) => `Rider at ${lat}, ${lng} · `,
    progress: 'Order progress',
    steps: ['Order placed', 'Accepted by the restaurant', 'Being prepared', 'Ready for pickup', 'On the way', 'Delivered'],
    adminLogin: 'Restaurant sign in',
    columns: { pending: 'New', accepted: 'Accepted', preparing: 'Preparing', ready: 'Ready', picked_up: 'On the way', done: 'Done today' },
    toast: (id) => `New order #${id}`,
    cardAria: (id, status) => `Order ${id}, ${status}`,
    status: { pending: 'New', accepted: 'Accepted', preparing: 'Preparing', ready: 'Ready', picked_up: 'On the way', delivered: 'Delivered' },
    minutes: (n) => `${n} min`,
    prepMinutes: (n) => `Prep ${n} min`,
    startPreparing: 'Start preparing',
    markReady: 'Mark ready',
    riderFor: (id) => `Rider for order ${id}`,
    assign: 'Assign',
    offered: /^ · offered, \d+ s to answer$/,
    riderAccepted: ' · accepted',
    declinedBy: (names) => `Declined by ${names}`,
    cashUnpaid: 'Cash · unpaid',
    cashPaid: 'Cash · paid',
    riderLogin: 'Rider sign in',
    switchLabel: 'Available for deliveries',
    online: "You're online",
    emptyOnline: 'No deliveries yet. New jobs appear here instantly.',
    jobLabel: (id) => `Delivery for order ${id}`,
    offerLabel: (id) => `Offer for order ${id}`,
    offerText: /^New offer — answer within (\d):(\d\d)$/,
    accept: 'Accept',
    decline: 'Decline',
    collectCash: (money) => `Collect ${money} in cash`,
    pickedUp: 'Picked up',
    sharing: (lat, lng) => `Sharing your location · ${lat}, ${lng}`,
    codeRequired: "Customer's delivery code",
    cashCollected: 'Cash collected',
    delivered: '✓ Delivered',
    day: (n, cash) => `✓ ${n} deliver${n === 1 ? 'y' : 'ies'} today · ${cash} cash collected`,
  },
};

/** A point `m` metres north of `p`. */
const north = (p, m) => ({ lat: Number((p.lat + m / 111_195).toFixed(6)), lng: p.lng });

for (const lang of ['ko', 'en']) {
  test(`the delivery story with a declined and an accepted offer, in ${lang === 'ko' ? 'Korean' : 'English'}`, async () => {
    await story(WORDS[lang]);
  });
}

async function story(W) {
  const t0 = Date.now();
  const server = await startServer();
  const contexts = [];
  const errors = [];
  try {
    // The scene, over REST: where the restaurant is (the distance prices the ride), its
    // currency, the plain map grid (no tile server to reach), delivery codes required, and a
    // second rider's account.
    const api = rest(server);
    const adminToken = await api.login('admin');
    await api.call('PATCH', '/api/restaurant', { location: W.home, currency: W.currency, map_tile_url: '', delivery_code_required: true }, adminToken);
    const created = await api.call('POST', '/api/users', { ...W.riderB, role: 'rider' }, adminToken);
    const riderBId = created.user.id;
    const riderAId = (await api.call('GET', '/api/riders/me', null, await api.login('rider'))).id;
    const riderAName = (await api.call('GET', '/api/riders', null, adminToken)).riders.find((r) => r.id === riderAId).name;
    const margherita = (await api.menu()).categories.flatMap((c) => c.items).find((i) => i.name === 'Margherita');
    assert.ok(margherita, 'the demo menu has a Margherita');
    const money = (cents) => new Intl.NumberFormat(W.locale, { style: 'currency', currency: W.currency }).format(cents / 100);
    const dest = north(W.home, 3000); // the customer, 3 km north of the restaurant

    const open = async (options) => {
      const ctx = await newContext(browser, server, { ...options, locale: W.locale });
      contexts.push(ctx);
      const page = await ctx.newPage();
      collectErrors(page, errors);
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`${page.url()} console: ${msg.text()}`);
      });
      return { ctx, page };
    };
    const signIn = async (page, account) => {
      await page.getByLabel(W.email, { exact: true }).fill(account.email);
      await page.getByLabel(W.password, { exact: true }).fill(account.password);
      await page.getByRole('button', { name: W.signIn, exact: true }).click();
    };
    const inLanguage = async (page) => {
      assert.equal(await page.evaluate(() => document.documentElement.lang), W.locale.slice(0, 2));
      assert.equal(await page.getByTestId('language').inputValue(), W.locale.slice(0, 2));
    };

    // The kitchen signs in; the board goes live.
    const { page: admin } = await open(DESKTOP);
    await admin.goto('/admin/');
    await admin.getByText(W.adminLogin, { exact: true }).waitFor();
    await signIn(admin, server.accounts.admin);
    await admin.getByTestId('board').waitFor();
    await admin.locator('[data-testid=connection][data-state=live]').waitFor();
    assert.equal((await admin.getByTestId('connection').innerText()).trim(), W.live);
    await inLanguage(admin);
    for (const [key, title] of Object.entries(W.columns)) {
      assert.equal((await admin.getByTestId(`column-${key}`).locator('.column-title').textContent()).replace(/\s*\d+\s*$/, '').trim(), title);
    }

    // Both riders sign in on their phones and go online; B's phone knows where B is.
    const riderPage = async (account, position) => {
      const { ctx, page } = await open({ ...PHONE, ...(position ? { geolocation: { latitude: position.lat, longitude: position.lng }, permissions: ['geolocation'] } : {}) });
      await page.goto('/rider/');
      await page.getByRole('heading', { name: W.riderLogin }).waitFor();
      await signIn(page, account);
      await page.getByRole('switch', { name: W.switchLabel }).check();
      await page.getByText(W.online, { exact: true }).waitFor();
      await page.locator('[data-testid=connection][data-state=live]').waitFor();
      await page.getByText(W.emptyOnline).waitFor();
      await inLanguage(page);
      return { ctx, page };
    };
    const { page: riderA } = await riderPage(server.accounts.rider);
    const { ctx: riderBCtx, page: riderB } = await riderPage(W.riderB, W.home);

    // 1. The customer orders to a point given by its coordinates, and pays cash.
    const { page: customer } = await open(PHONE);
    await customer.goto('/#/login');
    await signIn(customer, server.accounts.customer);
    await customer.getByTestId('nav-orders').waitFor();
    await customer.locator('[data-testid=connection][data-state=live]').waitFor();
    await inLanguage(customer);
    await customer.getByRole('button', { name: W.addItem('Margherita'), exact: true }).click();
    await customer.getByRole('button', { name: W.addOneMore('Margherita'), exact: true }).click();
    await customer.getByTestId('view-cart').click();
    await customer.getByRole('heading', { name: W.cartTitle, level: 1 }).waitFor();
    await customer.getByLabel(W.addressLabel, { exact: true }).fill(W.address);
    await customer.getByLabel(W.latitude, { exact: true }).fill(String(dest.lat));
    await customer.getByLabel(W.longitude, { exact: true }).fill(String(dest.lng));
    await customer.getByLabel(W.deliveryPin).waitFor(); // the point, on the map
    await customer.getByLabel(W.cashRadio, { exact: true }).check();
    const quote = await api.call('GET', `/api/delivery/quote?lat=${dest.lat}&lng=${dest.lng}&subtotal_cents=${margherita.price_cents * 2}`);
    const total = margherita.price_cents * 2 + quote.fee_cents;
    const place = customer.locator('[data-testid=place-order]:enabled', { hasText: W.placeOrder(money(total)) });
    await place.waitFor();
    const placed = customer.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
    await place.click();
    const response = await placed;
    assert.equal(response.status(), 201);
    const order = await response.json();
    const id = order.id;
    assert.equal(order.total_cents, total, 'charged what the button said');
    assert.deepEqual(order.payment, { method: 'cash', status: 'unpaid' });
    assert.ok(Math.abs(order.delivery.distance_m - 3000) < 5, `distance ${order.delivery.distance_m}`);
    const headline = (status) => customer.locator(`[data-testid=order-page][data-status=${status}] [data-testid=order-headline]`).getByText(W.headline[status], { exact: true }).waitFor();
    await headline('pending');
    assert.equal((await customer.getByTestId('payment').innerText()).trim(), W.toPayCash(money(total)));

    // 2. The kitchen: the new order arrives live, is accepted (10 minutes), prepared, ready.
    const card = admin.locator(`[data-testid=order-card][data-order-id="${id}"]`);
    const inColumn = (key) => admin.getByTestId(`column-${key}`).locator(`[data-testid=order-card][data-order-id="${id}"]`).waitFor();
    await admin.locator(`[data-testid=toast][data-order-id="${id}"]`).getByText(W.toast(id)).waitFor();
    await inColumn('pending');
    assert.equal(await card.getAttribute('aria-label'), W.cardAria(id, W.status.pending));
    assert.equal((await card.getByTestId('payment').innerText()).trim(), W.cashUnpaid);
    await card.getByRole('button', { name: W.minutes(10), exact: true }).click();
    await inColumn('accepted');
    await card.getByText(W.prepMinutes(10), { exact: true }).waitFor();
    assert.equal(await card.getAttribute('aria-label'), W.cardAria(id, W.status.accepted));
    await headline('accepted');
    await card.getByRole('button', { name: W.startPreparing, exact: true }).click();
    await inColumn('preparing');
    await headline('preparing');
    await card.getByRole('button', { name: W.markReady, exact: true }).click();
    await inColumn('ready');
    await headline('ready');
    assert.equal((await customer.getByTestId('eta').innerText()).trim(), W.riderSoon);

    // ... and offers it to rider A.
    const offerTo = async (name) => {
      const select = card.getByLabel(W.riderFor(id), { exact: true });
      await select.focus(); // the board refreshes who is online
      await select.locator('option', { hasText: name }).waitFor({ state: 'attached' });
      await select.selectOption({ label: name });
      await card.getByRole('button', { name: W.assign, exact: true }).click();
    };
    await offerTo(riderAName);
    const offerOnBoard = card.getByTestId('rider-offer');
    await card.locator('[data-testid=rider-offer][data-offer=offered]').waitFor();
    assert.match((await offerOnBoard.innerText()).trim(), new RegExp(`^${riderAName}${W.offered.source.slice(1)}`));
    await customer.getByTestId('eta').getByText(W.riderHeading, { exact: true }).waitFor();

    // 3. Rider A sees the offer with its countdown, going down, and declines it.
    const jobA = riderA.getByRole('article', { name: W.jobLabel(id), exact: true });
    const offerA = jobA.getByRole('group', { name: W.offerLabel(id), exact: true });
    await offerA.getByText(W.offerText).waitFor();
    const secondsLeft = async (offer) => {
      const [, m, s] = (await offer.locator('strong').innerText()).trim().match(W.offerText);
      return Number(m) * 60 + Number(s);
    };
    const first = await secondsLeft(offerA);
    assert.ok(first > 40 && first <= 60, `the offer starts near 60 s: ${first}`);
    await riderA.waitForFunction(
      ([label, from]) => {
        const text = document.querySelector(`[aria-label="${label}"] strong`)?.textContent ?? '';
        const m = text.match(/(\d):(\d\d)/);
        return m && Number(m[1]) * 60 + Number(m[2]) < from;
      },
      [W.offerLabel(id), first],
      { timeout: 5000 },
    );
    assert.equal((await jobA.getByTestId('payment').innerText()).trim(), W.collectCash(money(total)));
    assert.equal(await jobA.getByText(order.delivery_code ?? '----').count(), 0, 'a rider is not shown the code');
    await offerA.getByRole('button', { name: W.decline, exact: true }).click();
    await jobA.waitFor({ state: 'detached' });
    await riderA.getByText(W.emptyOnline).waitFor();
    // The board, live: declined by A, nobody holds it.
    await card.getByTestId('declined').getByText(W.declinedBy(riderAName), { exact: true }).waitFor();
    await offerOnBoard.waitFor({ state: 'detached' });
    await customer.getByTestId('eta').getByText(W.riderSoon, { exact: true }).waitFor();

    // 4. The kitchen offers it to rider B, who accepts.
    await offerTo(W.riderB.name);
    await card.locator('[data-testid=rider-offer][data-offer=offered]').waitFor();
    assert.match((await offerOnBoard.innerText()).trim(), new RegExp(`^${W.riderB.name}${W.offered.source.slice(1)}`));
    const jobB = riderB.getByRole('article', { name: W.jobLabel(id), exact: true });
    const offerB = jobB.getByRole('group', { name: W.offerLabel(id), exact: true });
    await offerB.getByText(W.offerText).waitFor();
    await offerB.getByRole('button', { name: W.accept, exact: true }).click();
    await offerB.waitFor({ state: 'detached' });
    await card.locator('[data-testid=rider-offer][data-offer=accepted]').waitFor();
    assert.equal((await offerOnBoard.innerText()).trim(), `${W.riderB.name}${W.riderAccepted}`);
    assert.equal(await riderA.getByTestId('delivery').count(), 0, 'rider A never sees it again');
    await customer.getByTestId('eta').getByText(W.riderHeading, { exact: true }).waitFor();

    // 5. Rider B picks it up at the restaurant and shares the position; the customer gets an
    // arrival time, which moves earlier as B rides towards them.
    assert.equal((await jobB.getByTestId('payment').innerText()).trim(), W.collectCash(money(total)));
    await jobB.getByRole('button', { name: W.pickedUp, exact: true }).click();
    await inColumn('picked_up');
    await headline('picked_up');
    await riderB.getByTestId('location-sharing').getByText(W.sharing(W.home.lat.toFixed(4), W.home.lng.toFixed(4)), { exact: true }).waitFor();
    const riderSeenAt = (p) =>
      customer.waitForFunction(
        ([la, ln]) => {
          const d = document.querySelector('[data-testid=rider-position]')?.dataset;
          return d && Number(d.lat) === la && Number(d.lng) === ln;
        },
        [p.lat, p.lng],
        { timeout: 10000 },
      );
    const arrival = customer.getByTestId('arrival');
    const arrivalNow = async () => {
      const text = (await arrival.innerText()).trim();
      const at = Date.parse(await arrival.getAttribute('data-at'));
      // The time shown is data-at, written the way the page's locale writes times.
      const time = await customer.evaluate((iso) => new Date(iso).toLocaleTimeString(document.documentElement.lang === 'ko' ? 'ko-KR' : navigator.language, { hour: '2-digit', minute: '2-digit' }), new Date(at).toISOString());
      assert.match(text, W.arrival);
      assert.equal(text, `${W.arrivesBefore} ${time}`);
      return { text, at };
    };
    await riderSeenAt(W.home);
    assert.ok((await customer.getByTestId('rider-position').innerText()).startsWith(W.riderAt(W.home.lat.toFixed(5), W.home.lng.toFixed(5))));
    let shown = await arrivalNow();
    const ride = (metres) => (metres / 300 + 2) * 60_000; // eta.ts
    assert.ok(Math.abs(shown.at - (Date.now() + ride(3000))) < 30_000, `3 km away: ${new Date(shown.at).toISOString()}`);
    console.log(`${W.locale}: 3.0 km away, "${shown.text}"`);
    for (const metresLeft of [1500, 300]) {
      const p = north(W.home, 3000 - metresLeft);
      await riderBCtx.setGeolocation({ latitude: p.lat, longitude: p.lng });
      await riderB.getByTestId('location-sharing').getByText(W.sharing(p.lat.toFixed(4), p.lng.toFixed(4)), { exact: true }).waitFor();
      await riderSeenAt(p);
      await customer.waitForFunction((before) => document.querySelector('[data-testid=arrival]')?.dataset.at !== before, new Date(shown.at).toISOString());
      const next = await arrivalNow();
      console.log(`${W.locale}: ${(metresLeft / 1000).toFixed(1)} km away, "${next.text}"`);
      assert.notEqual(next.text, shown.text, 'the arrival time shown changes as the rider moves');
      assert.ok(next.at < shown.at, 'and comes earlier');
      assert.ok(Math.abs(next.at - (Date.now() + ride(metresLeft))) < 30_000, `${metresLeft} m away: ${new Date(next.at).toISOString()}`);
      shown = next;
    }

    // 6. At the door: the customer's code, read off their page, typed in by rider B.
    const codeCard = customer.getByTestId('delivery-code');
    await codeCard.getByText(W.deliveryCode, { exact: true }).waitFor();
    const code = (await codeCard.locator('.code').innerText()).trim();
    assert.match(code, /^\d{4}$/);
    assert.equal(await codeCard.locator('.code').getAttribute('aria-label'), W.deliveryCodeLabel(code.split('').join(' ')));
    assert.equal(await jobB.getByText(code).count(), 0, 'the rider is not shown the code');
    await jobB.getByLabel(W.codeRequired, { exact: true }).fill(code);
    assert.ok(await jobB.getByRole('checkbox', { name: W.cashCollected }).isChecked(), 'the cash is collected');
    await jobB.getByRole('button', { name: W.delivered, exact: true }).click();
    await jobB.waitFor({ state: 'detached' });
    await riderB.getByTestId('rider-day').getByText(W.day(1, money(total))).waitFor();

    await headline('delivered');
    await customer.getByTestId('payment').getByText(W.paidCash(money(total)), { exact: true }).waitFor();
    await codeCard.waitFor({ state: 'detached' });
    await customer.getByTestId('arrival').waitFor({ state: 'detached' });
    const timeline = customer.getByRole('list', { name: W.progress });
    for (const step of W.steps) await timeline.getByText(step, { exact: true }).waitFor();
    for (const step of ['pending', 'accepted', 'preparing', 'ready', 'picked_up', 'delivered']) {
      assert.equal(await customer.locator(`.timeline [data-step=${step}]`).getAttribute('data-done'), 'true', step);
    }

    await inColumn('done');
    assert.equal(await card.getAttribute('aria-label'), W.cardAria(id, W.status.delivered));
    await card.getByTestId('payment').getByText(W.cashPaid).waitFor();
    assert.equal(await admin.locator(`[data-order-id="${id}"]`).count(), 1, 'one card on the board');

    const done = await api.call('GET', `/api/orders/${id}`, null, adminToken);
    assert.equal(done.status, 'delivered');
    assert.equal(done.rider_id, riderBId);
    assert.deepEqual(done.declined_rider_ids, [riderAId]);
    assert.equal(done.code_attempts, 0);
    assert.deepEqual(done.payment, { method: 'cash', status: 'paid' });
    for (const page of [admin, riderA, riderB, customer]) await inLanguage(page);
    assert.deepEqual(errors, []);
    console.log(`${W.locale}: the story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    for (const ctx of contexts) await ctx.close().catch(() => {});
    await server.stop();
  }
}
