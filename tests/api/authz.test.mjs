// The authorisation matrix: every endpoint × every caller (admin, customer, rider,
// anonymous, garbage token, revoked token). 401 without or with an invalid token
// on signed-in endpoints, 403 for a wrong role (and nothing happens), the
// success status for the right role; then own / other's orders: 404 for an order
// the caller may not see (GET, status, assign), lists filtered per role.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assign,
  demoSessions,
  expectError,
  expectStatus,
  get,
  login,
  move,
  newCustomer,
  newRider,
  orderAt,
  placeOrder,
  post,
  request,
  startServer,
  uniqueEmail,
} from "./lib/server.mjs";

let server;
let demo;
let items;
let shared; // an order of the demo customer, assigned to the demo rider, status accepted
before(async () => {
  server = await startServer();
  demo = await demoSessions(server);
  expectStatus(await post(server, "/api/riders/me/online", { online: true }, { token: demo.rider.token }), 200);
  items = (await get(server, "/api/menu")).body.categories.flatMap((c) => c.items);
  shared = await orderAt(server, { admin: demo.admin, customer: demo.customer, rider: demo.rider, status: "accepted" });
});
after(async () => {
  await server?.stop();
});

const MARK = `authz-${process.pid}`;
let seq = 0;
const marker = () => `${MARK}-${++seq}`;

async function newCategory() {
  const res = await post(server, "/api/menu/categories", { name: `tmp ${marker()}` }, { token: demo.admin.token });
  expectStatus(res, 201);
  return res.body;
}
async function newItem() {
  const cat = await newCategory();
  const res = await post(
    server,
    "/api/menu/items",
    { category_id: cat.id, name: `tmp ${marker()}`, price_cents: 100 },
    { token: demo.admin.token },
  );
  expectStatus(res, 201);
  return res.body;
}

// Each endpoint: access (anyone | signedIn | admin | customer | rider | metrics),
// ok (success status), and make(role) → { method, path, body } for one call
// (fresh resources, so every successful call succeeds).
const ENDPOINTS = [
  {
    name: "POST /api/auth/register",
    access: "anyone",
    ok: 201,
    make: async () => ({ method: "POST", path: "/api/auth/register", body: { email: uniqueEmail(MARK), password: "12345678", name: "N" } }),
  },
  {
    name: "POST /api/auth/login",
    access: "anyone",
    ok: 200,
    make: async () => ({ method: "POST", path: "/api/auth/login", body: { email: demo.customer.email, password: demo.customer.password } }),
  },
  { name: "POST /api/auth/logout", access: "signedIn", ok: 204, make: async () => ({ method: "POST", path: "/api/auth/logout" }), ownToken: true },
  { name: "GET /api/me", access: "signedIn", ok: 200, make: async () => ({ method: "GET", path: "/api/me" }) },
  {
    name: "POST /api/users",
    access: "admin",
    ok: 201,
    make: async () => ({ method: "POST", path: "/api/users", body: { email: uniqueEmail(MARK), password: "12345678", name: marker(), role: "admin" } }),
  },
  { name: "GET /api/menu", access: "anyone", ok: 200, make: async () => ({ method: "GET", path: "/api/menu" }) },
  {
    name: "POST /api/menu/categories",
    access: "admin",
    ok: 201,
    make: async () => ({ method: "POST", path: "/api/menu/categories", body: { name: marker() } }),
  },
  {
    name: "PATCH /api/menu/categories/:id",
    access: "admin",
    ok: 200,
    make: async () => ({ method: "PATCH", path: `/api/menu/categories/${(await newCategory()).id}`, body: { name: marker() } }),
  },
  {
    name: "DELETE /api/menu/categories/:id",
    access: "admin",
    ok: 204,
    make: async () => ({ method: "DELETE", path: `/api/menu/categories/${(await newCategory()).id}` }),
  },
  {
    name: "POST /api/menu/items",
    access: "admin",
    ok: 201,
    make: async () => ({ method: "POST", path: "/api/menu/items", body: { category_id: items[0].category_id, name: marker(), price_cents: 1 } }),
  },
  {
    name: "PATCH /api/menu/items/:id",
    access: "admin",
    ok: 200,
    make: async () => ({ method: "PATCH", path: `/api/menu/items/${(await newItem()).id}`, body: { name: marker() } }),
  },
  {
    name: "DELETE /api/menu/items/:id",
    access: "admin",
    ok: 204,
    make: async () => ({ method: "DELETE", path: `/api/menu/items/${(await newItem()).id}` }),
  },
  {
    name: "POST /api/orders",
    access: "customer",
    ok: 201,
    make: async () => ({
      method: "POST",
      path: "/api/orders",
      body: { items: [{ item_id: items[0].id, quantity: 1 }], delivery: { address: marker() } },
    }),
  },
  { name: "GET /api/orders", access: "signedIn", ok: 200, make: async () => ({ method: "GET", path: "/api/orders" }) },
  { name: "GET /api/orders/:id (visible to all three)", access: "signedIn", ok: 200, make: async () => ({ method: "GET", path: `/api/orders/${shared.id}` }) },
  {
    name: "POST /api/orders/:id/assign",
    access: "admin",
    ok: 200,
    make: async () => ({ method: "POST", path: `/api/orders/${shared.id}/assign`, body: { rider_id: demo.rider.user.id } }),
  },
  { name: "POST /api/riders/me/online", access: "rider", ok: 200, make: async () => ({ method: "POST", path: "/api/riders/me/online", body: { online: true } }) },
  { name: "GET /api/riders", access: "admin", ok: 200, make: async () => ({ method: "GET", path: "/api/riders" }) },
  { name: "GET /api/stats/today", access: "admin", ok: 200, make: async () => ({ method: "GET", path: "/api/stats/today" }) },
  { name: "GET /api/changes", access: "signedIn", ok: 200, make: async () => ({ method: "GET", path: "/api/changes?limit=5" }) },
  { name: "GET /metrics", access: "metrics", ok: 200, make: async () => ({ method: "GET", path: "/metrics" }) },
  { name: "GET /healthz", access: "anyone", ok: 200, make: async () => ({ method: "GET", path: "/healthz" }) },
];

const ROLES = ["admin", "customer", "rider"];

function expectedFor(endpoint, caller) {
  if (caller === "anonymous") return endpoint.access === "anyone" ? endpoint.ok : 401;
  if (caller === "garbage" || caller === "revoked") {
    // An invalid token is refused everywhere under /api, also where none is needed.
    if (endpoint.name === "GET /healthz") return 200;
    return 401;
  }
  if (endpoint.access === "anyone" || endpoint.access === "signedIn") return endpoint.ok;
  if (endpoint.access === "metrics") return caller === "admin" ? 200 : 401;
  return endpoint.access === caller ? endpoint.ok : 403;
}

async function tokenFor(caller, endpoint) {
  if (caller === "anonymous") return undefined;
  if (caller === "garbage") return "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
  if (caller === "revoked") {
    const s = await login(server, demo.customer.email, demo.customer.password);
    expectStatus(await post(server, "/api/auth/logout", undefined, { token: s.token }), 204);
    return s.token;
  }
  // Logout revokes the token used: give it its own session.
  if (endpoint.ownToken) return (await login(server, demo[caller].email, demo[caller].password)).token;
  return demo[caller].token;
}

describe("endpoint × caller", () => {
  for (const endpoint of ENDPOINTS) {
    test(endpoint.name, async () => {
      const mismatches = [];
      for (const caller of [...ROLES, "anonymous", "garbage", "revoked"]) {
        const want = expectedFor(endpoint, caller);
        const call = await endpoint.make(caller);
        const token = await tokenFor(caller, endpoint);
        const res = await request(server, call.method, call.path, { token, body: call.body });
        if (res.status !== want) {
          mismatches.push(`${caller}: expected ${want}, got ${res.status} ${res.text.slice(0, 200)}`);
          continue;
        }
        if (want === 401) {
          expectError(res, 401);
          if (endpoint.name !== "GET /metrics") assert.equal(res.body.error.code, "unauthorized");
        }
        if (want === 403) expectError(res, 403, "forbidden");
      }
      assert.deepEqual(mismatches, []);
    });
  }

  test("after the matrix the shared order is untouched by refused calls", async () => {
    const o = await get(server, `/api/orders/${shared.id}`, { token: demo.admin.token });
    assert.equal(o.body.status, "accepted");
    assert.equal(o.body.rider_id, demo.rider.user.id);
    assert.equal(o.body.customer_id, demo.customer.user.id);
  });

  test("wrong-role writes have no effect", async () => {
    const name = marker();
    for (const role of ["customer", "rider"]) {
      expectError(await post(server, "/api/menu/categories", { name }, { token: demo[role].token }), 403);
      expectError(
        await post(server, "/api/menu/items", { category_id: items[0].category_id, name, price_cents: 1 }, { token: demo[role].token }),
        403,
      );
      expectError(await request(server, "PATCH", `/api/menu/items/${items[0].id}`, { token: demo[role].token, body: { price_cents: 1 } }), 403);
      expectError(await request(server, "DELETE", `/api/menu/items/${items[1].id}`, { token: demo[role].token }), 403);
      expectError(await request(server, "DELETE", `/api/menu/categories/${items[0].category_id}`, { token: demo[role].token }), 403);
      const email = uniqueEmail("nope");
      expectError(await post(server, "/api/users", { email, password: "12345678", name, role: "admin" }, { token: demo[role].token }), 403);
      expectError(await post(server, "/api/auth/login", { email, password: "12345678" }), 401);
    }
    for (const role of ["admin", "rider"]) {
      expectError(
        await post(server, "/api/orders", { items: [{ item_id: items[0].id, quantity: 1 }], delivery: { address: name } }, { token: demo[role].token }),
        403,
      );
    }
    for (const role of ["admin", "customer"]) {
      expectError(await post(server, "/api/riders/me/online", { online: true }, { token: demo[role].token }), 403);
    }
    const m = await get(server, "/api/menu");
    const all = m.body.categories.flatMap((c) => [c.name, ...c.items.map((i) => i.name)]);
    assert.ok(!all.includes(name));
    const fresh = m.body.categories.flatMap((c) => c.items);
    assert.equal(fresh.find((i) => i.id === items[0].id).price_cents, items[0].price_cents);
    assert.ok(fresh.some((i) => i.id === items[1].id), "item not deleted");
    const orders = await get(server, "/api/orders?limit=200", { token: demo.admin.token });
    assert.ok(!orders.body.orders.some((o) => o.delivery.address === name));
  });
});

describe("own and other's orders", () => {
  let a;
  let b;
  let r1;
  let r2;
  let oa;
  let ob;
  let oa2;
  before(async () => {
    a = await newCustomer(server, "A");
    b = await newCustomer(server, "B");
    r1 = await newRider(server, demo.admin.token);
    r2 = await newRider(server, demo.admin.token);
    oa = await orderAt(server, { admin: demo.admin, customer: a, rider: r1, status: "ready" });
    oa2 = await placeOrder(server, a.token);
    ob = await orderAt(server, { admin: demo.admin, customer: b, rider: r2, status: "preparing" });
  });

  test("GET /api/orders/:id: admin, owner and assigned rider 200; everyone else 404", async () => {
    const cases = [
      [demo.admin, oa, 200],
      [a, oa, 200],
      [r1, oa, 200],
      [b, oa, 404],
      [r2, oa, 404],
      [demo.customer, oa, 404],
      [demo.rider, oa, 404],
      [a, oa2, 200],
      [r1, oa2, 404],
      [b, oa2, 404],
      [b, ob, 200],
      [a, ob, 404],
      [r1, ob, 404],
      [r2, ob, 200],
    ];
    for (const [who, order, want] of cases) {
      const res = await get(server, `/api/orders/${order.id}`, { token: who.token });
      if (want === 404) {
        expectError(res, 404, "not_found");
        // Not distinguishable from an order that does not exist.
        const none = await get(server, "/api/orders/99999999", { token: who.token });
        assert.deepEqual(res.body, none.body);
      } else {
        expectStatus(res, 200);
        assert.equal(res.body.id, order.id);
      }
    }
  });

  test("status moves and assign on an order the caller may not see → 404, unchanged", async () => {
    for (const [who, target] of [
      [b, "cancelled"],
      [r2, "picked_up"],
      [r2, "delivered"],
      [demo.rider, "picked_up"],
    ]) {
      expectError(await move(server, who.token, oa.id, target), 404, "not_found");
    }
    for (const who of [b, r2]) expectError(await assign(server, who.token, oa.id, r2.user.id), 404, "not_found");
    const same = await get(server, `/api/orders/${oa.id}`, { token: demo.admin.token });
    assert.deepEqual(same.body, oa);
  });

  test("lists: a customer sees only own orders, a rider only assigned ones, an admin all", async () => {
    const listA = (await get(server, "/api/orders?limit=200", { token: a.token })).body.orders;
    assert.deepEqual(listA.map((o) => o.id).sort(), [oa.id, oa2.id].sort());
    assert.ok(listA.every((o) => o.customer_id === a.user.id));
    const listB = (await get(server, "/api/orders?limit=200", { token: b.token })).body.orders;
    assert.deepEqual(listB.map((o) => o.id), [ob.id]);
    const listR1 = (await get(server, "/api/orders?limit=200", { token: r1.token })).body.orders;
    assert.deepEqual(listR1.map((o) => o.id), [oa.id]);
    const listR2 = (await get(server, "/api/orders?limit=200", { token: r2.token })).body.orders;
    assert.deepEqual(listR2.map((o) => o.id), [ob.id]);
    // Filters and cursors never widen what a caller sees.
    const filtered = (await get(server, "/api/orders?status=preparing&limit=200", { token: a.token })).body.orders;
    assert.deepEqual(filtered, []);
    const older = (await get(server, `/api/orders?before=${ob.id + 1000}&limit=200`, { token: b.token })).body.orders;
    assert.deepEqual(older.map((o) => o.id), [ob.id]);
    const all = (await get(server, "/api/orders?limit=200", { token: demo.admin.token })).body.orders.map((o) => o.id);
    for (const o of [oa, oa2, ob, shared]) assert.ok(all.includes(o.id));
  });
});
