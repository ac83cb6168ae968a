// Orders: the document's shape, totals computed by the server (client prices
// ignored, later price changes do not touch placed orders), unavailable and
// unknown items, Idempotency-Key (also under 10 concurrent retries), listing
// with status filter and cursor pagination.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  availableItems,
  del,
  demoSessions,
  expectError,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  patch,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

let server;
let admin;
let items;
before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  items = await availableItems(server);
});
after(async () => {
  await server?.stop();
});

const ORDER_KEYS = [
  "code_attempts",
  "created_at",
  "customer_id",
  "customer_name",
  "declined_rider_ids",
  "delivery",
  "delivery_code",
  "delivery_fee_cents",
  "history",
  "id",
  "items",
  "notes",
  "offer_expires_at",
  "payment",
  "prep_minutes",
  "rider_accepted_at",
  "rider_id",
  "status",
  "status_reason",
  "subtotal_cents",
  "total_cents",
  "updated_at",
  "version",
];

describe("placing an order", () => {
  test("201 with the contract's fields; totals from the menu; default delivery fee 299", async () => {
    const c = await newCustomer(server);
    const [a, b] = items;
    const res = await post(
      server,
      "/api/orders",
      {
        items: [
          { item_id: a.id, quantity: 2, notes: "no onions" },
          { item_id: b.id, quantity: 3 },
        ],
        delivery: { address: "10 Downing St", lat: 51.5034, lng: -0.1276 },
        notes: "ring twice",
      },
      { token: c.token },
    );
    expectStatus(res, 201);
    const o = res.body;
    assert.deepEqual(Object.keys(o).sort(), ORDER_KEYS);
    assert.equal(o.customer_id, c.user.id);
    assert.equal(o.customer_name, c.user.name, "the board shows who ordered");
    assert.equal(o.status, "pending");
    assert.equal(o.status_reason, null);
    assert.equal(o.rider_id, null);
    assert.equal(o.prep_minutes, null);
    assert.equal(o.version, 1);
    assert.equal(o.notes, "ring twice");
    // No distance: the restaurant has no location yet.
    assert.deepEqual(o.delivery, { address: "10 Downing St", lat: 51.5034, lng: -0.1276, distance_m: null });
    assert.deepEqual(o.payment, { method: "cash", status: "unpaid" }, "cash on delivery unless chosen");
    assert.match(o.delivery_code, /^\d{4}$/, "the customer sees the delivery code");
    assert.equal(o.code_attempts, 0);
    assert.deepEqual(o.items, [
      { item_id: a.id, name: a.name, unit_price_cents: a.price_cents, quantity: 2, notes: "no onions", options: [] },
      { item_id: b.id, name: b.name, unit_price_cents: b.price_cents, quantity: 3, notes: "", options: [] },
    ]);
    assert.equal(o.subtotal_cents, 2 * a.price_cents + 3 * b.price_cents);
    assert.equal(o.delivery_fee_cents, 299);
    assert.equal(o.total_cents, o.subtotal_cents + 299);
    for (const v of [o.subtotal_cents, o.delivery_fee_cents, o.total_cents]) assert.ok(Number.isInteger(v));
    assert.equal(o.updated_at >= o.created_at, true);
    const again = await get(server, `/api/orders/${o.id}`, { token: c.token });
    expectStatus(again, 200);
    assert.deepEqual(again.body, o);
  });

  test("client-sent prices, totals, names, statuses and owners are ignored", async () => {
    const c = await newCustomer(server);
    const victim = await newCustomer(server);
    const a = items[2];
    const o = await placeOrder(server, c.token, {
      items: [{ item_id: a.id, quantity: 4, price_cents: 1, unit_price_cents: 1, name: "Free food" }],
      delivery: { address: "X" },
    });
    const res = await post(
      server,
      "/api/orders",
      {
        items: [{ item_id: a.id, quantity: 1, unit_price_cents: 0 }],
        delivery: { address: "X" },
        subtotal_cents: 0,
        total_cents: 0,
        delivery_fee_cents: 0,
        status: "delivered",
        customer_id: victim.user.id,
        rider_id: 1,
        id: 1,
        version: 99,
      },
      { token: c.token },
    );
    expectStatus(res, 201);
    assert.equal(o.items[0].unit_price_cents, a.price_cents);
    assert.equal(o.items[0].name, a.name);
    assert.equal(o.subtotal_cents, 4 * a.price_cents);
    const p = res.body;
    assert.equal(p.subtotal_cents, a.price_cents);
    assert.equal(p.delivery_fee_cents, 299);
    assert.equal(p.total_cents, a.price_cents + 299);
    assert.equal(p.status, "pending");
    assert.equal(p.customer_id, c.user.id);
    assert.equal(p.rider_id, null);
    assert.equal(p.version, 1);
    assert.notEqual(p.id, 1);
  });

  test("the same item on several lines is priced per line", async () => {
    const c = await newCustomer(server);
    const a = items[3];
    const o = await placeOrder(server, c.token, {
      items: [
        { item_id: a.id, quantity: 1 },
        { item_id: a.id, quantity: 99 },
      ],
    });
    assert.equal(o.items.length, 2);
    assert.equal(o.subtotal_cents, 100 * a.price_cents);
  });

  test("prices changed after ordering do not change the order; new orders use the new price", async () => {
    const c = await newCustomer(server);
    const cat = (await get(server, "/api/menu")).body.categories[0];
    const created = await post(
      server,
      "/api/menu/items",
      { category_id: cat.id, name: "Price test", price_cents: 1000 },
      { token: admin.token },
    );
    expectStatus(created, 201);
    const item = created.body;
    const before = await placeOrder(server, c.token, { items: [{ item_id: item.id, quantity: 3 }] });
    assert.equal(before.subtotal_cents, 3000);
    expectStatus(await patch(server, `/api/menu/items/${item.id}`, { price_cents: 1500, name: "Renamed" }, { token: admin.token }), 200);
    const same = await get(server, `/api/orders/${before.id}`, { token: c.token });
    assert.deepEqual(same.body, before);
    assert.equal(same.body.items[0].name, "Price test", "the line keeps the name at order time");
    const after = await placeOrder(server, c.token, { items: [{ item_id: item.id, quantity: 3 }] });
    assert.equal(after.subtotal_cents, 4500);
    assert.equal(after.items[0].name, "Renamed");
    // Moving the old order later does not reprice it either.
    const accepted = await moveOk(server, admin.token, before.id, "accepted");
    assert.equal(accepted.subtotal_cents, 3000);
    assert.equal(accepted.total_cents, 3299);
    // Deleting the item keeps placed orders intact.
    expectStatus(await del(server, `/api/menu/items/${item.id}`, { token: admin.token }), 204);
    const kept = await get(server, `/api/orders/${before.id}`, { token: c.token });
    expectStatus(kept, 200);
    assert.equal(kept.body.items[0].unit_price_cents, 1000);
  });

  test("an unavailable item → 409 item_unavailable; an unknown item → 422; nothing is created", async () => {
    const c = await newCustomer(server);
    const cat = (await get(server, "/api/menu")).body.categories[1];
    const off = (
      await post(server, "/api/menu/items", { category_id: cat.id, name: "Sold out", price_cents: 500, available: false }, { token: admin.token })
    ).body;
    assert.equal(off.available, false);
    const res = await post(
      server,
      "/api/orders",
      { items: [{ item_id: items[0].id, quantity: 1 }, { item_id: off.id, quantity: 1 }], delivery: { address: "X" } },
      { token: c.token },
    );
    expectError(res, 409, "item_unavailable");
    const unknown = await post(
      server,
      "/api/orders",
      { items: [{ item_id: items[0].id, quantity: 1 }, { item_id: 424242, quantity: 1 }], delivery: { address: "X" } },
      { token: c.token },
    );
    expectError(unknown, 422, undefined, "items[1].item_id");
    const list = await get(server, "/api/orders", { token: c.token });
    assert.equal(list.body.orders.length, 0);
    // Available again: it can be ordered.
    expectStatus(await patch(server, `/api/menu/items/${off.id}`, { available: true }, { token: admin.token }), 200);
    await placeOrder(server, c.token, { items: [{ item_id: off.id, quantity: 1 }] });
  });

  test("--delivery-fee-cents sets the fee (own server)", async () => {
    const s = await startServer({ args: ["--delivery-fee-cents", "0"] });
    try {
      const c = await newCustomer(s);
      const it = (await availableItems(s))[0];
      const o = await placeOrder(s, c.token, { items: [{ item_id: it.id, quantity: 2 }] });
      assert.equal(o.delivery_fee_cents, 0);
      assert.equal(o.total_cents, 2 * it.price_cents);
    } finally {
      await s.stop();
    }
  });
});

describe("Idempotency-Key", () => {
  const body = () => ({ items: [{ item_id: items[0].id, quantity: 2 }], delivery: { address: "1 Key St" } });

  test("10 parallel POSTs with one key create exactly one order: one 201, nine 200 with the same order", async () => {
    const c = await newCustomer(server);
    const key = `parallel-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post(server, "/api/orders", body(), { token: c.token, headers: { "Idempotency-Key": key } })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], results.map((r) => r.text).join("\n"));
    const ids = new Set(results.map((r) => r.body.id));
    assert.equal(ids.size, 1, "the same order every time");
    const list = await get(server, "/api/orders", { token: c.token });
    assert.equal(list.body.orders.length, 1);
    const all = await get(server, "/api/orders?limit=200", { token: admin.token });
    assert.equal(all.body.orders.filter((o) => o.customer_id === c.user.id).length, 1);
  });

  test("a sequential repeat answers 200 with the order as it is now", async () => {
    const c = await newCustomer(server);
    const headers = { "Idempotency-Key": "seq-1" };
    const first = await post(server, "/api/orders", body(), { token: c.token, headers });
    expectStatus(first, 201);
    const second = await post(server, "/api/orders", body(), { token: c.token, headers });
    expectStatus(second, 200);
    assert.equal(second.body.id, first.body.id);
    assert.deepEqual(second.body, first.body);
    // Without the key, the same body is a new order.
    const third = await post(server, "/api/orders", body(), { token: c.token });
    expectStatus(third, 201);
    assert.notEqual(third.body.id, first.body.id);
  });

  test("the same key with another body → 422 idempotency_key_reused", async () => {
    const c = await newCustomer(server);
    const headers = { "Idempotency-Key": "reuse-1" };
    expectStatus(await post(server, "/api/orders", body(), { token: c.token, headers }), 201);
    const changed = [
      { ...body(), items: [{ item_id: items[0].id, quantity: 3 }] },
      { ...body(), items: [{ item_id: items[1].id, quantity: 2 }] },
      { ...body(), delivery: { address: "2 Key St" } },
      { ...body(), notes: "extra" },
    ];
    for (const b of changed) {
      expectError(await post(server, "/api/orders", b, { token: c.token, headers }), 422, "idempotency_key_reused");
    }
    const list = await get(server, "/api/orders", { token: c.token });
    assert.equal(list.body.orders.length, 1);
  });

  test("keys are per customer: another customer's same key is a new order", async () => {
    const a = await newCustomer(server);
    const b = await newCustomer(server);
    const headers = { "Idempotency-Key": "shared-key" };
    const ra = await post(server, "/api/orders", body(), { token: a.token, headers });
    const rb = await post(server, "/api/orders", body(), { token: b.token, headers });
    expectStatus(ra, 201);
    expectStatus(rb, 201);
    assert.notEqual(ra.body.id, rb.body.id);
    assert.equal(rb.body.customer_id, b.user.id);
    // Another body under b's key is still checked against b's own request only.
    const rb2 = await post(server, "/api/orders", { ...body(), notes: "x" }, { token: b.token, headers });
    expectError(rb2, 422, "idempotency_key_reused");
  });

  test("a refused request does not burn the key", async () => {
    const c = await newCustomer(server);
    const headers = { "Idempotency-Key": "after-error" };
    expectError(await post(server, "/api/orders", { items: [], delivery: { address: "x" } }, { token: c.token, headers }), 422);
    expectStatus(await post(server, "/api/orders", body(), { token: c.token, headers }), 201);
  });
});

describe("listing", () => {
  let c;
  let placed;
  before(async () => {
    c = await newCustomer(server);
    placed = [];
    for (let i = 0; i < 7; ++i) placed.push(await placeOrder(server, c.token, { notes: `#${i}` }));
    await moveOk(server, admin.token, placed[1].id, "accepted");
    await moveOk(server, admin.token, placed[4].id, "accepted");
    await moveOk(server, admin.token, placed[5].id, "rejected", { reason: "no" });
  });

  test("{orders, next_before}, newest first", async () => {
    const res = await get(server, "/api/orders", { token: c.token });
    expectStatus(res, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ["next_before", "orders"]);
    assert.deepEqual(
      res.body.orders.map((o) => o.id),
      placed.map((o) => o.id).reverse(),
    );
    assert.equal(res.body.next_before, null);
    for (const o of res.body.orders) assert.deepEqual(Object.keys(o).sort(), ORDER_KEYS);
  });

  test("limit and before page through every order exactly once", async () => {
    const seen = [];
    let before = null;
    for (let page = 0; page < 10; ++page) {
      const q = `/api/orders?limit=3${before ? `&before=${before}` : ""}`;
      const res = await get(server, q, { token: c.token });
      expectStatus(res, 200);
      assert.ok(res.body.orders.length <= 3);
      seen.push(...res.body.orders.map((o) => o.id));
      before = res.body.next_before;
      if (before === null) break;
      assert.equal(before, res.body.orders.at(-1).id);
    }
    assert.deepEqual(seen, placed.map((o) => o.id).reverse());
  });

  test("before=<id> lists only older orders", async () => {
    const res = await get(server, `/api/orders?before=${placed[3].id}`, { token: c.token });
    assert.deepEqual(
      res.body.orders.map((o) => o.id),
      placed.slice(0, 3).map((o) => o.id).reverse(),
    );
  });

  test("status filter", async () => {
    const accepted = await get(server, "/api/orders?status=accepted", { token: c.token });
    assert.deepEqual(accepted.body.orders.map((o) => o.id), [placed[4].id, placed[1].id]);
    const rejected = await get(server, "/api/orders?status=rejected", { token: c.token });
    assert.deepEqual(rejected.body.orders.map((o) => o.id), [placed[5].id]);
    const pending = await get(server, "/api/orders?status=pending&limit=2", { token: c.token });
    assert.deepEqual(pending.body.orders.map((o) => o.id), [placed[6].id, placed[3].id]);
    const next = await get(server, `/api/orders?status=pending&limit=2&before=${pending.body.next_before}`, { token: c.token });
    assert.deepEqual(next.body.orders.map((o) => o.id), [placed[2].id, placed[0].id]);
    const delivered = await get(server, "/api/orders?status=delivered", { token: c.token });
    assert.deepEqual(delivered.body, { orders: [], next_before: null });
  });

  test("admins see everyone's orders; the default limit is 50", async () => {
    const res = await get(server, "/api/orders", { token: admin.token });
    expectStatus(res, 200);
    assert.ok(res.body.orders.length <= 50);
    const ids = res.body.orders.map((o) => o.id);
    for (const o of placed) assert.ok(ids.includes(o.id));
    assert.ok(new Set(res.body.orders.map((o) => o.customer_id)).size > 1);
    const sorted = [...ids].sort((a, b) => b - a);
    assert.deepEqual(ids, sorted, "newest first");
  });
});
