// Bad inputs on every endpoint: missing fields, wrong types, out-of-range values,
// oversized bodies (413), malformed JSON (400), JSON nested too deep (422),
// unknown ids and paths (404), wrong methods (405); errors always in the
// contract's shape, with `field` for 422.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  availableItems,
  del,
  demoSessions,
  expectError,
  expectStatus,
  get,
  newCustomer,
  orderAt,
  patch,
  placeOrder,
  post,
  request,
  startServer,
} from "./lib/server.mjs";

let server;
let demo;
let items;
let customer;
before(async () => {
  server = await startServer();
  demo = await demoSessions(server);
  items = await availableItems(server);
  customer = await newCustomer(server);
});
after(async () => {
  await server?.stop();
});

const MiB = 1 << 20;

describe("bodies", () => {
  test("a body over 1 MiB → 413 in the error shape (JSON routes, signed in or not)", async () => {
    const big = JSON.stringify({ items: [], pad: "x".repeat(MiB) });
    expectError(await post(server, "/api/orders", big, { token: customer.token }), 413);
    expectError(await post(server, "/api/auth/login", " ".repeat(MiB + 1)), 413);
    expectError(await post(server, "/api/menu/categories", big, { token: demo.admin.token }), 413);
    // Nothing was created by the refused order.
    const list = await get(server, "/api/orders", { token: customer.token });
    expectStatus(list, 200);
    assert.equal(list.body.orders.length, 0);
  });

  test("a body of exactly 1 MiB is read (not 413)", async () => {
    const body = JSON.stringify({ email: "nobody@example.com", password: "whatever1" });
    const padded = body + " ".repeat(MiB - body.length);
    assert.equal(Buffer.byteLength(padded), MiB);
    const res = await post(server, "/api/auth/login", padded);
    expectError(res, 401);
  });

  const malformed = ["{", '{"items": [}', "{'a': 1}", "nul", '{"a":1}garbage', "\u0000", '{"a": NaN}', '{"a": 01}'];
  for (const text of malformed) {
    test(`malformed JSON → 400 malformed_request: ${JSON.stringify(text)}`, async () => {
      expectError(await post(server, "/api/orders", text, { token: customer.token }), 400, "malformed_request");
      expectError(await post(server, "/api/auth/register", text), 400, "malformed_request");
      expectError(await post(server, "/api/menu/categories", text, { token: demo.admin.token }), 400, "malformed_request");
    });
  }

  test("invalid UTF-8 or a lone surrogate in a JSON string → 400", async () => {
    const bad = Buffer.concat([Buffer.from('{"email":"a'), Buffer.from([0xff]), Buffer.from('@b.c","password":"12345678","name":"x"}')]);
    expectError(await post(server, "/api/auth/register", bad), 400, "malformed_request");
    expectError(await post(server, "/api/auth/register", '{"email":"a\\ud800@b.c","password":"12345678","name":"x"}'), 400, "malformed_request");
  });

  test("non-ASCII text round-trips; surrounding whitespace is trimmed from names and emails", async () => {
    const res = await post(server, "/api/auth/register", { email: `  Ünï.${Date.now()}@Example.com `, password: "12345678", name: " Zoë 😀 " });
    expectStatus(res, 201);
    assert.equal(res.body.user.name, "Zoë 😀");
    assert.match(res.body.user.email, /^Ünï\.\d+@example\.com$/, "trimmed; ASCII letters lower-cased");
  });

  test("an empty body on a JSON route → 400", async () => {
    expectError(await post(server, "/api/auth/login", ""), 400, "malformed_request");
  });

  test("a JSON body that is not an object → 422", async () => {
    for (const text of ["[]", "1", '"s"', "null", "true"]) {
      expectError(await post(server, "/api/orders", text, { token: customer.token }), 422);
    }
  });

  test("JSON nested deeper than 16 → 422; 16 deep is parsed", async () => {
    const deep = (n) => "[".repeat(n) + "]".repeat(n);
    expectError(await post(server, "/api/auth/login", deep(17)), 422);
    expectError(await post(server, "/api/auth/login", `{"a":${deep(16)}}`), 422);
    expectError(await post(server, "/api/auth/login", deep(10000)), 422);
    const deepObject = '{"a":'.repeat(40) + "1" + "}".repeat(40);
    expectError(await post(server, "/api/orders", deepObject, { token: customer.token }), 422);
    // 16 levels (object + 15 arrays) is within the limit: the answer is about the fields.
    expectError(await post(server, "/api/auth/login", `{"a":${deep(15)}}`), 422, "invalid", "email");
  });

  test("a string longer than 10000 bytes → 422", async () => {
    expectError(
      await post(server, "/api/auth/login", { email: "a@b.c", password: "p".repeat(10001) }),
      422,
    );
  });
});

describe("paths and methods", () => {
  test("unknown paths → 404 not_found", async () => {
    for (const p of ["/api/nope", "/api/orders/1/nope", "/api/menu/things", "/api", "/api/", "/api/orders/1/status/x"]) {
      const res = await get(server, p, { token: demo.admin.token });
      expectError(res, 404, "not_found");
    }
  });

  test("wrong methods → 405", async () => {
    // [method, path, the methods the Allow header must list]
    const cases = [
      ["PUT", "/api/menu", "GET, HEAD"],
      ["DELETE", "/api/orders", "GET, HEAD, POST"],
      ["GET", "/api/auth/login", "POST"],
      ["GET", "/api/auth/logout", "POST"],
      ["POST", "/api/me", "GET, HEAD"],
      ["GET", "/api/menu/categories/1", "DELETE, PATCH"],
      ["PUT", "/api/orders/1", "GET, HEAD"],
      ["GET", "/api/orders/1/status", "POST"],
      ["DELETE", "/api/riders", "GET, HEAD"],
    ];
    for (const [method, p, allow] of cases) {
      const res = await request(server, method, p, { token: demo.admin.token });
      expectError(res, 405, "method_not_allowed");
      assert.equal(res.headers.get("allow"), allow, `${method} ${p}: Allow`);
    }
  });
});

describe("unknown ids → 404", () => {
  test("orders", async () => {
    for (const id of ["999999", "0", "-1", "abc", "1.5", "99999999999999999999999"]) {
      expectError(await get(server, `/api/orders/${id}`, { token: demo.admin.token }), 404, "not_found");
      expectError(await post(server, `/api/orders/${id}/status`, { status: "accepted" }, { token: demo.admin.token }), 404);
      expectError(await post(server, `/api/orders/${id}/assign`, { rider_id: demo.rider.user.id }, { token: demo.admin.token }), 404);
    }
  });

  test("menu categories and items", async () => {
    for (const id of ["999999", "0", "abc"]) {
      expectError(await patch(server, `/api/menu/categories/${id}`, { name: "X" }, { token: demo.admin.token }), 404, "not_found");
      expectError(await del(server, `/api/menu/categories/${id}`, { token: demo.admin.token }), 404, "not_found");
      expectError(await patch(server, `/api/menu/items/${id}`, { name: "X" }, { token: demo.admin.token }), 404, "not_found");
      expectError(await del(server, `/api/menu/items/${id}`, { token: demo.admin.token }), 404, "not_found");
    }
  });
});

describe("POST /api/orders field checks", () => {
  const ok = () => ({ items: [{ item_id: items[0].id, quantity: 1 }], delivery: { address: "1 Road" } });
  const cases = [
    ["no items", (b) => delete b.items, "items"],
    ["items null", (b) => (b.items = null), "items"],
    ["items not an array", (b) => (b.items = { item_id: 1 }), "items"],
    ["items empty", (b) => (b.items = []), "items"],
    ["51 lines", (b) => (b.items = Array.from({ length: 51 }, () => ({ item_id: items[0].id, quantity: 1 }))), "items"],
    ["line not an object", (b) => (b.items = [5]), "items[0]"],
    ["quantity 0", (b) => (b.items = [...lines(2), { item_id: items[0].id, quantity: 0 }]), "items[2].quantity"],
    ["quantity 100", (b) => (b.items = [...lines(2), { item_id: items[0].id, quantity: 100 }]), "items[2].quantity"],
    ["quantity -1", (b) => (b.items[0].quantity = -1), "items[0].quantity"],
    ["quantity 1.5", (b) => (b.items[0].quantity = 1.5), "items[0].quantity"],
    ["quantity string", (b) => (b.items[0].quantity = "2"), "items[0].quantity"],
    ["quantity missing", (b) => delete b.items[0].quantity, "items[0].quantity"],
    ["quantity huge", (b) => (b.items[0].quantity = 1e300), "items[0].quantity"],
    ["item_id missing", (b) => (b.items = [...lines(1), { quantity: 1 }]), "items[1].item_id"],
    ["item_id string", (b) => (b.items[0].item_id = String(items[0].id)), "items[0].item_id"],
    ["item_id 0", (b) => (b.items[0].item_id = 0), "items[0].item_id"],
    ["item_id unknown", (b) => (b.items = [...lines(1), { item_id: 987654, quantity: 1 }]), "items[1].item_id"],
    ["line notes not a string", (b) => (b.items[0].notes = 5), "items[0].notes"],
    ["line notes too long", (b) => (b.items[0].notes = "n".repeat(1001)), "items[0].notes"],
    ["no delivery", (b) => delete b.delivery, "delivery"],
    ["delivery a string", (b) => (b.delivery = "1 Road"), "delivery"],
    ["no address", (b) => (b.delivery = { lat: 1, lng: 1 }), "delivery.address"],
    ["empty address", (b) => (b.delivery.address = ""), "delivery.address"],
    ["blank address", (b) => (b.delivery.address = "   "), "delivery.address"],
    ["address not a string", (b) => (b.delivery.address = 12), "delivery.address"],
    ["address too long", (b) => (b.delivery.address = "a".repeat(501)), "delivery.address"],
    ["lat 91", (b) => Object.assign(b.delivery, { lat: 91, lng: 0 }), "delivery.lat"],
    ["lat -90.5", (b) => Object.assign(b.delivery, { lat: -90.5, lng: 0 }), "delivery.lat"],
    ["lng 181", (b) => Object.assign(b.delivery, { lat: 0, lng: 181 }), "delivery.lng"],
    ["lng -180.01", (b) => Object.assign(b.delivery, { lat: 0, lng: -180.01 }), "delivery.lng"],
    ["lat a string", (b) => Object.assign(b.delivery, { lat: "1", lng: 0 }), "delivery.lat"],
    ["lat without lng", (b) => Object.assign(b.delivery, { lat: 1 }), "delivery.lng"],
    ["lng without lat", (b) => Object.assign(b.delivery, { lng: 1 }), "delivery.lat"],
    ["notes not a string", (b) => (b.notes = ["x"]), "notes"],
    ["notes too long", (b) => (b.notes = "n".repeat(1001)), "notes"],
  ];
  function lines(n) {
    return Array.from({ length: n }, (_, i) => ({ item_id: items[i % items.length].id, quantity: 1 }));
  }
  for (const [name, mutate, field] of cases) {
    test(`${name} → 422 ${field}`, async () => {
      const body = ok();
      mutate(body);
      expectError(await post(server, "/api/orders", body, { token: customer.token }), 422, undefined, field);
    });
  }

  test("boundaries are accepted: 50 lines, quantity 1 and 99, lat ±90, lng ±180, no coordinates", async () => {
    await placeOrder(server, customer.token, {
      items: Array.from({ length: 50 }, (_, i) => ({ item_id: items[i % items.length].id, quantity: i % 2 ? 1 : 99 })),
      delivery: { address: "Pole", lat: 90, lng: -180 },
    });
    await placeOrder(server, customer.token, { items: lines(1), delivery: { address: "South", lat: -90, lng: 180 } });
    const o = await placeOrder(server, customer.token, { items: lines(1), delivery: { address: "  Trim me  " } });
    assert.deepEqual(o.delivery, { address: "Trim me", lat: null, lng: null, distance_m: null });
  });

  test("no order was created by any refused request", async () => {
    const list = await get(server, "/api/orders?limit=200", { token: customer.token });
    expectStatus(list, 200);
    assert.equal(list.body.orders.length, 3);
  });

  test("Idempotency-Key longer than 200 characters → 422", async () => {
    const res = await post(server, "/api/orders", ok(), { token: customer.token, headers: { "idempotency-key": "k".repeat(201) } });
    expectError(res, 422);
  });
});

describe("menu field checks", () => {
  const categoryCases = [
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "  " }, "name"],
    [{ name: 7 }, "name"],
    [{ name: "x".repeat(201) }, "name"],
    [{ name: "Ok", position: -1 }, "position"],
    [{ name: "Ok", position: "1" }, "position"],
    [{ name: "Ok", position: 1.5 }, "position"],
  ];
  for (const [body, field] of categoryCases) {
    test(`POST category ${JSON.stringify(body).slice(0, 60)} → 422 ${field}`, async () => {
      expectError(await post(server, "/api/menu/categories", body, { token: demo.admin.token }), 422, "invalid", field);
    });
  }

  const itemCases = [
    [{ category_id: undefined }, "category_id"],
    [{ category_id: "1" }, "category_id"],
    [{ category_id: 987654 }, "category_id"],
    [{ name: undefined }, "name"],
    [{ name: "" }, "name"],
    [{ price_cents: undefined }, "price_cents"],
    [{ price_cents: -1 }, "price_cents"],
    [{ price_cents: 1.5 }, "price_cents"],
    [{ price_cents: "500" }, "price_cents"],
    [{ price_cents: 10_000_001 }, "price_cents"],
    [{ available: "yes" }, "available"],
    [{ available: 1 }, "available"],
    [{ description: 5 }, "description"],
    [{ description: "d".repeat(2001) }, "description"],
    [{ position: -5 }, "position"],
  ];
  for (const [override, field] of itemCases) {
    test(`POST item ${JSON.stringify(override).slice(0, 60)} → 422 ${field}`, async () => {
      const m = await get(server, "/api/menu");
      const body = { category_id: m.body.categories[0].id, name: "New", price_cents: 100, ...override };
      expectError(await post(server, "/api/menu/items", body, { token: demo.admin.token }), 422, "invalid", field);
    });
  }

  const patchItemCases = [
    [{ name: "" }, "name"],
    [{ price_cents: -1 }, "price_cents"],
    [{ available: "no" }, "available"],
    [{ category_id: 987654 }, "category_id"],
    [{ if_version: "1" }, "if_version"],
    [{ if_version: -1 }, "if_version"],
  ];
  for (const [body, field] of patchItemCases) {
    test(`PATCH item ${JSON.stringify(body)} → 422 ${field}`, async () => {
      expectError(await patch(server, `/api/menu/items/${items[0].id}`, body, { token: demo.admin.token }), 422, "invalid", field);
    });
  }

  test("PATCH category bad fields → 422", async () => {
    const m = await get(server, "/api/menu");
    const id = m.body.categories[0].id;
    expectError(await patch(server, `/api/menu/categories/${id}`, { name: "" }, { token: demo.admin.token }), 422, "invalid", "name");
    expectError(await patch(server, `/api/menu/categories/${id}`, { position: -1 }, { token: demo.admin.token }), 422, "invalid", "position");
  });

  test("the menu is unchanged by the refused requests", async () => {
    const m = await get(server, "/api/menu");
    assert.equal(m.body.categories.length, 5);
    for (const c of m.body.categories) {
      assert.equal(c.items.length, 5);
      assert.equal(c.version, 1);
      for (const i of c.items) assert.equal(i.version, 1);
    }
  });
});

describe("status, assign, riders, lists", () => {
  test("POST /api/orders/:id/status field checks", async () => {
    const order = await placeOrder(server, customer.token);
    const url = `/api/orders/${order.id}/status`;
    const t = { token: demo.admin.token };
    expectError(await post(server, url, {}, t), 422, "invalid", "status");
    expectError(await post(server, url, { status: "bogus" }, t), 422, "invalid", "status");
    expectError(await post(server, url, { status: 3 }, t), 422, "invalid", "status");
    expectError(await post(server, url, { status: "accepted", prep_minutes: 0 }, t), 422, "invalid", "prep_minutes");
    expectError(await post(server, url, { status: "accepted", prep_minutes: 601 }, t), 422, "invalid", "prep_minutes");
    expectError(await post(server, url, { status: "accepted", prep_minutes: "5" }, t), 422, "invalid", "prep_minutes");
    expectError(await post(server, url, { status: "rejected", reason: "r".repeat(501) }, t), 422, "invalid", "reason");
    expectError(await post(server, url, { status: "rejected", reason: 5 }, t), 422, "invalid", "reason");
    expectError(await post(server, url, { status: "accepted", if_version: "1" }, t), 422, "invalid", "if_version");
    expectError(await post(server, url, "{", t), 400, "malformed_request");
    const same = await get(server, `/api/orders/${order.id}`, t);
    assert.deepEqual(same.body, order);
  });

  test("POST /api/orders/:id/assign field checks", async () => {
    const order = await orderAt(server, { admin: demo.admin, customer, status: "accepted" });
    const url = `/api/orders/${order.id}/assign`;
    const t = { token: demo.admin.token };
    expectError(await post(server, url, {}, t), 422, "invalid", "rider_id");
    expectError(await post(server, url, { rider_id: "x" }, t), 422, "invalid", "rider_id");
    expectError(await post(server, url, { rider_id: 0 }, t), 422, "invalid", "rider_id");
    expectError(await post(server, url, { rider_id: 987654 }, t), 422, "invalid", "rider_id");
    expectError(await post(server, url, { rider_id: customer.user.id }, t), 422, "invalid", "rider_id");
    expectError(await post(server, url, { rider_id: demo.admin.user.id }, t), 422, "invalid", "rider_id");
    const same = await get(server, `/api/orders/${order.id}`, t);
    assert.deepEqual(same.body, order);
  });

  test("POST /api/riders/me/online field checks", async () => {
    const t = { token: demo.rider.token };
    expectError(await post(server, "/api/riders/me/online", {}, t), 422, "invalid", "online");
    expectError(await post(server, "/api/riders/me/online", { online: "yes" }, t), 422, "invalid", "online");
    expectError(await post(server, "/api/riders/me/online", { online: 1 }, t), 422, "invalid", "online");
  });

  test("GET /api/orders query checks", async () => {
    const t = { token: demo.admin.token };
    expectError(await get(server, "/api/orders?status=bogus", t), 422, "invalid", "status");
    for (const q of ["limit=0", "limit=201", "limit=abc", "limit=-1", "limit=1.5"]) {
      expectError(await get(server, `/api/orders?${q}`, t), 422, "invalid", "limit");
    }
    for (const q of ["before=0", "before=x", "before=-3"]) {
      expectError(await get(server, `/api/orders?${q}`, t), 422, "invalid", "before");
    }
    expectStatus(await get(server, "/api/orders?limit=200", t), 200);
    expectStatus(await get(server, "/api/orders?limit=1", t), 200);
  });

  test("GET /api/changes query checks", async () => {
    const t = { token: demo.customer.token };
    for (const q of ["after=-1", "after=x"]) expectError(await get(server, `/api/changes?${q}`, t), 422, "invalid", "after");
    for (const q of ["limit=0", "limit=1001", "limit=x"]) {
      expectError(await get(server, `/api/changes?${q}`, t), 422, "invalid", "limit");
    }
    expectStatus(await get(server, "/api/changes?limit=1000", t), 200);
  });
});
