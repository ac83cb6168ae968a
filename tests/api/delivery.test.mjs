// Delivery area and fees, payment and proof of delivery (docs/API.md, "Delivery area and
// fees", "Payment", "Proof of delivery"): the restaurant's distance bands and minimum
// (every limit crossed), the fee and distance the server computes (quote and order alike),
// 422 outside_delivery_area / below_minimum with nothing written; cash or card recorded,
// marked paid by the rider on delivery or by the staff, never by the customer; the 4-digit
// code every customer and staff member sees and no rider ever does (REST and /api/changes),
// required when the restaurant says so, wrong codes counted on the order, locked after
// kMaxDeliveryCodeAttempts, and the staff's confirmation with a reason.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assign,
  availableItems,
  demoSessions,
  expectError,
  expectStatus,
  get,
  move,
  moveOk,
  newCustomer,
  newRider,
  patch,
  post,
  startServer,
} from "./lib/server.mjs";

// src/app/delivery_area.hpp and src/app/delivery_code.hpp.
const kMaxDeliveryBands = 10;
const kMaxDeliveryRadiusM = 100_000;
const kMaxPriceCents = 10_000_000;
const kMaxDeliveryCodeAttempts = 5;
const FLAT_FEE = 299; // --delivery-fee-cents default

// The restaurant, and points north of it: 0.01° of latitude is 1,112 m.
const HOME = { lat: 51.5, lng: -0.12 };
const north = (metres) => ({ lat: HOME.lat + metres / 111_195, lng: HOME.lng });
const AREA = {
  bands: [
    { up_to_m: 2000, fee_cents: 199 },
    { up_to_m: 5000, fee_cents: 399 },
  ],
  min_subtotal_cents: 1500,
};

let server;
let admin;
let item; // a dish over the minimum when ordered twice
let customer;
before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  customer = await newCustomer(server, "Delivery Customer");
  item = (await availableItems(server)).find((i) => i.price_cents * 2 >= AREA.min_subtotal_cents && (!i.option_groups?.length));
  assert.ok(item, "a dish that meets the minimum twice");
});
after(async () => {
  await server?.stop();
});

const settings = (body) => patch(server, "/api/restaurant", body, { token: admin.token });
const order = (point, quantity = 2, extra = {}) =>
  post(
    server,
    "/api/orders",
    { items: [{ item_id: item.id, quantity }], delivery: { address: "12 Band Road", ...point }, ...extra },
    { token: customer.token },
  );
const myOrders = async () => (await get(server, "/api/orders?limit=200", { token: customer.token })).body.orders;

describe("the delivery area", () => {
  test("an area needs the restaurant's location; it cannot be removed under an area", async () => {
    expectError(await settings({ delivery_area: AREA }), 422, "invalid", "delivery_area");
    expectStatus(await settings({ location: HOME, delivery_area: AREA }), 200);
    expectError(await settings({ location: null }), 422, "invalid", "location");
    const r = (await get(server, "/api/restaurant")).body;
    assert.deepEqual(r.delivery_area, AREA);
    assert.deepEqual(r.location, HOME);
  });

  test("bands and minimum are checked, each limit crossed, naming the field", async () => {
    const band = (up_to_m, fee_cents) => ({ up_to_m, fee_cents });
    const cases = [
      [{ bands: [] }, "delivery_area.bands"],
      [{ bands: Array.from({ length: kMaxDeliveryBands + 1 }, (_, i) => band(100 * (i + 1), 100)) }, "delivery_area.bands"],
      [{ bands: [band(0, 100)] }, "delivery_area.bands[0].up_to_m"],
      [{ bands: [band(kMaxDeliveryRadiusM + 1, 100)] }, "delivery_area.bands[0].up_to_m"],
      [{ bands: [band(1000, -1)] }, "delivery_area.bands[0].fee_cents"],
      [{ bands: [band(1000, kMaxPriceCents + 1)] }, "delivery_area.bands[0].fee_cents"],
      [{ bands: [band(2000, 100), band(2000, 200)] }, "delivery_area.bands[1].up_to_m"],
      [{ bands: [band(1000, 100)], min_subtotal_cents: -1 }, "delivery_area.min_subtotal_cents"],
      [{ bands: [band(1000, 100)], min_subtotal_cents: kMaxPriceCents + 1 }, "delivery_area.min_subtotal_cents"],
      [{ bands: [band(1000, 100)], radius: 3 }, "delivery_area.radius"],
      [{ bands: ["near"] }, "delivery_area.bands[0]"],
      ["everywhere", "delivery_area"],
    ];
    const before = (await get(server, "/api/restaurant")).body;
    for (const [area, field] of cases) {
      expectError(await settings({ delivery_area: area }), 422, "invalid", field);
    }
    // The limits themselves are accepted.
    const widest = Array.from({ length: kMaxDeliveryBands }, (_, i) => band(i === kMaxDeliveryBands - 1 ? kMaxDeliveryRadiusM : i + 1, kMaxPriceCents));
    const res = await settings({ delivery_area: { bands: widest, min_subtotal_cents: kMaxPriceCents } });
    expectStatus(res, 200);
    assert.equal(res.body.delivery_area.bands.length, kMaxDeliveryBands);
    expectStatus(await settings({ delivery_area: before.delivery_area }), 200);
  });

  test("the quote and the order price a delivery alike, by band", async () => {
    for (const [metres, fee] of [
      [0, 199],
      [1900, 199],
      [2100, 399],
      [4900, 399],
    ]) {
      const point = north(metres);
      const quote = (await get(server, `/api/delivery/quote?lat=${point.lat}&lng=${point.lng}&subtotal_cents=${item.price_cents * 2}`)).body;
      assert.equal(quote.deliverable, true, `${metres} m`);
      assert.equal(quote.fee_cents, fee, `${metres} m`);
      assert.ok(Math.abs(quote.distance_m - metres) <= 2, `${metres} m: ${quote.distance_m}`);
      assert.equal(quote.min_subtotal_cents, AREA.min_subtotal_cents);
      const res = await order(point);
      expectStatus(res, 201, `${metres} m`);
      assert.equal(res.body.delivery_fee_cents, fee);
      assert.equal(res.body.delivery.distance_m, quote.distance_m);
      assert.equal(res.body.total_cents, res.body.subtotal_cents + fee, "the total includes the fee");
    }
  });

  test("outside the area: 422 outside_delivery_area, in the quote too, and nothing written", async () => {
    const count = (await myOrders()).length;
    const far = north(5200);
    const res = await order(far);
    expectError(res, 422, "outside_delivery_area", "delivery");
    assert.match(res.body.error.message, /5\.0 km.*5\.2 km/);
    const quote = (await get(server, `/api/delivery/quote?lat=${far.lat}&lng=${far.lng}`)).body;
    assert.equal(quote.deliverable, false);
    assert.equal(quote.fee_cents, null);
    assert.equal(quote.reason.code, "outside_delivery_area");
    assert.equal((await myOrders()).length, count);
  });

  test("under the minimum: 422 below_minimum; the minimum itself is enough", async () => {
    const count = (await myOrders()).length;
    const cheap = (await availableItems(server)).find((i) => i.price_cents < AREA.min_subtotal_cents && !i.option_groups?.length);
    assert.ok(cheap, "a dish under the minimum");
    const res = await post(
      server,
      "/api/orders",
      { items: [{ item_id: cheap.id, quantity: 1 }], delivery: { address: "x", ...north(100) } },
      { token: customer.token },
    );
    expectError(res, 422, "below_minimum", "items");
    const quote = (await get(server, `/api/delivery/quote?lat=${north(100).lat}&lng=${HOME.lng}&subtotal_cents=${cheap.price_cents}`)).body;
    assert.equal(quote.reason.code, "below_minimum");
    assert.equal((await myOrders()).length, count);
    // Exactly the minimum is accepted.
    expectStatus(await settings({ delivery_area: { ...AREA, min_subtotal_cents: cheap.price_cents } }), 200);
    expectStatus(
      await post(server, "/api/orders", { items: [{ item_id: cheap.id, quantity: 1 }], delivery: { address: "x", ...north(100) } }, { token: customer.token }),
      201,
    );
    expectStatus(await settings({ delivery_area: AREA }), 200);
  });

  test("an area needs the delivery point; the quote checks its own parameters", async () => {
    expectError(await order({}), 422, "invalid", "delivery.lat");
    const quote = (await get(server, "/api/delivery/quote")).body;
    assert.equal(quote.deliverable, false);
    assert.equal(quote.reason.code, "invalid");
    expectError(await get(server, "/api/delivery/quote?lat=91&lng=0"), 422, "invalid", "lat");
    expectError(await get(server, "/api/delivery/quote?lat=1"), 422, "invalid", "lng");
    expectError(await get(server, "/api/delivery/quote?lat=1&lng=x"), 422, "invalid", "lng");
    expectError(await get(server, "/api/delivery/quote?lat=1&lng=1&subtotal_cents=-5"), 422, "invalid", "subtotal_cents");
  });

  test("without an area: anywhere at the flat fee, with the distance when both points are known", async () => {
    expectStatus(await settings({ delivery_area: null }), 200);
    const far = await order(north(50_000), 1);
    expectStatus(far, 201);
    assert.equal(far.body.delivery_fee_cents, FLAT_FEE);
    assert.ok(Math.abs(far.body.delivery.distance_m - 50_000) <= 10);
    const nowhere = await order({}, 1);
    expectStatus(nowhere, 201);
    assert.equal(nowhere.body.delivery.distance_m, null);
    const quote = (await get(server, "/api/delivery/quote")).body;
    assert.deepEqual([quote.deliverable, quote.fee_cents, quote.min_subtotal_cents], [true, FLAT_FEE, 0]);
  });
});

describe("payment", () => {
  test("cash unless card is chosen; anything else is 422 payment_method", async () => {
    const cash = await order({}, 1);
    assert.deepEqual(cash.body.payment, { method: "cash", status: "unpaid" });
    const card = await order({}, 1, { payment_method: "card" });
    assert.deepEqual(card.body.payment, { method: "card", status: "unpaid" });
    for (const bad of ["online", "", 3, "CASH"]) {
      expectError(await order({}, 1, { payment_method: bad }), 422, "invalid", "payment_method");
    }
  });

  test("the rider marks it paid on delivery; the staff may set it; the customer may not", async () => {
    const rider = await newRider(server, admin.token);
    const placed = (await order({}, 1, { payment_method: "card" })).body;
    await moveOk(server, admin.token, placed.id, "accepted", { prep_minutes: 10 });
    expectStatus(await assign(server, admin.token, placed.id, rider.user.id), 200);
    await moveOk(server, admin.token, placed.id, "preparing");
    expectError(await move(server, admin.token, placed.id, "ready", { paid: true }), 422, "invalid", "paid");
    await moveOk(server, admin.token, placed.id, "ready");
    await moveOk(server, rider.token, placed.id, "picked_up");
    expectError(await post(server, `/api/orders/${placed.id}/payment`, { status: "paid" }, { token: customer.token }), 403, "forbidden");
    const done = await moveOk(server, rider.token, placed.id, "delivered", { paid: true });
    assert.deepEqual(done.payment, { method: "card", status: "paid" });
    // The staff correct it (a card that was declined at the door).
    const undone = await post(server, `/api/orders/${placed.id}/payment`, { status: "unpaid" }, { token: admin.token });
    expectStatus(undone, 200);
    assert.equal(undone.body.payment.status, "unpaid");
    expectError(await post(server, `/api/orders/${placed.id}/payment`, { status: "refunded" }, { token: admin.token }), 422, "invalid", "status");
    const stranger = await newRider(server, admin.token);
    expectError(await post(server, `/api/orders/${placed.id}/payment`, { status: "paid" }, { token: stranger.token }), 404);
    expectError(
      await post(server, `/api/orders/${placed.id}/payment`, { status: "paid", if_version: 1 }, { token: admin.token }),
      409,
      "version_conflict",
    );
  });
});

describe("proof of delivery", () => {
  let rider;
  before(async () => {
    rider = await newRider(server, admin.token);
  });

  // A new order of `customer` picked up by `rider`, as the staff see it (with its code).
  async function pickedUp() {
    const placed = (await order({}, 1)).body;
    await moveOk(server, admin.token, placed.id, "accepted", { prep_minutes: 10 });
    expectStatus(await assign(server, admin.token, placed.id, rider.user.id), 200);
    await moveOk(server, admin.token, placed.id, "preparing");
    await moveOk(server, admin.token, placed.id, "ready");
    const carried = await moveOk(server, rider.token, placed.id, "picked_up");
    assert.equal(carried.delivery_code, null, "the rider's answer has no code");
    return (await get(server, `/api/orders/${placed.id}`, { token: admin.token })).body;
  }
  const wrongCode = (code) => String((Number(code) + 1) % 10000).padStart(4, "0");

  test("the customer and the staff see the code; the rider never does (REST and /api/changes)", async () => {
    const o = await pickedUp();
    assert.match(o.delivery_code, /^\d{4}$/);
    const mine = (await get(server, `/api/orders/${o.id}`, { token: customer.token })).body;
    assert.equal(mine.delivery_code, o.delivery_code);
    const riders = (await get(server, `/api/orders/${o.id}`, { token: rider.token })).body;
    assert.equal(riders.delivery_code, null);
    const list = (await get(server, "/api/orders?limit=200", { token: rider.token })).body.orders;
    assert.ok(list.length > 0 && list.every((x) => x.delivery_code === null));
    const changes = (await get(server, "/api/changes?limit=1000", { token: rider.token })).body.changes;
    const ofOrders = changes.filter((c) => c.collection === "orders");
    assert.ok(ofOrders.length > 0 && ofOrders.every((c) => c.document.delivery_code === null));
    const staff = (await get(server, "/api/changes?limit=1000", { token: admin.token })).body.changes;
    assert.ok(staff.some((c) => c.id === o.id && c.document.delivery_code === o.delivery_code));
  });

  test("not required: the rider delivers without it, but a code given must be right", async () => {
    const o = await pickedUp();
    expectError(await move(server, rider.token, o.id, "delivered", { code: wrongCode(o.delivery_code) }), 422, "wrong_code", "code");
    const done = await moveOk(server, rider.token, o.id, "delivered");
    assert.equal(done.status, "delivered");
  });

  test("required: no code 422 code_required, wrong 422 wrong_code counted, the right one delivers", async () => {
    expectStatus(await settings({ delivery_code_required: true }), 200);
    const o = await pickedUp();
    expectError(await move(server, rider.token, o.id, "delivered"), 422, "code_required", "code");
    const wrong = await move(server, rider.token, o.id, "delivered", { code: wrongCode(o.delivery_code) });
    expectError(wrong, 422, "wrong_code", "code");
    assert.match(wrong.body.error.message, /4 tries left/);
    const seen = (await get(server, `/api/orders/${o.id}`, { token: admin.token })).body;
    assert.equal(seen.code_attempts, 1, "counted on the order");
    assert.equal(seen.status, "picked_up");
    const done = await moveOk(server, rider.token, o.id, "delivered", { code: o.delivery_code, paid: true });
    assert.equal(done.status, "delivered");
    assert.equal(done.payment.status, "paid");
    assert.equal(done.delivery_code, null);
  });

  test(`after ${kMaxDeliveryCodeAttempts} wrong codes, 409 code_locked even with the right one; the staff confirm with a reason`, async () => {
    const o = await pickedUp();
    // In parallel: each wrong code is counted, none gets an extra try.
    const tries = await Promise.all(
      Array.from({ length: kMaxDeliveryCodeAttempts }, () => move(server, rider.token, o.id, "delivered", { code: wrongCode(o.delivery_code) })),
    );
    for (const t of tries) assert.ok(t.status === 422 || t.status === 409, `${t.status} ${t.text}`);
    const seen = (await get(server, `/api/orders/${o.id}`, { token: admin.token })).body;
    assert.equal(seen.code_attempts, kMaxDeliveryCodeAttempts);
    expectError(await move(server, rider.token, o.id, "delivered", { code: o.delivery_code }), 409, "code_locked");
    expectError(await move(server, admin.token, o.id, "delivered"), 422, "invalid", "reason");
    const confirmed = await moveOk(server, admin.token, o.id, "delivered", { reason: "the customer called: received" });
    assert.equal(confirmed.status, "delivered");
    assert.equal(confirmed.status_reason, "the customer called: received");
    assert.equal(confirmed.history.at(-1).by, admin.user.id);
    expectStatus(await settings({ delivery_code_required: false }), 200);
  });

  test("a code or paid flag on another move is refused; codes are 4 digits at most 16 characters sent", async () => {
    const o = await pickedUp();
    expectError(await move(server, rider.token, o.id, "delivered", { code: "1".repeat(17) }), 422, "invalid", "code");
    expectError(await move(server, admin.token, o.id, "cancelled", { code: "1234" }), 422, "invalid", "code");
    expectError(await move(server, rider.token, o.id, "delivered", { paid: "yes" }), 422, "invalid", "paid");
  });
});
