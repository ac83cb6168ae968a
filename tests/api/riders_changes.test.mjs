// Riders online/offline and the rider list; today's figures; the change stream
// over REST filtered per role (customers, riders with a reassignment, admins),
// limits and history_lost; /healthz; /metrics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assign,
  del,
  demoSessions,
  expectError,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  newRider,
  orderAt,
  patch,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

let server;
let demo;
before(async () => {
  server = await startServer();
  demo = await demoSessions(server);
});
after(async () => {
  await server?.stop();
});

async function changes(token, query = "") {
  const res = await get(server, `/api/changes${query}`, { token });
  expectStatus(res, 200);
  return res.body;
}
async function head() {
  return (await changes(demo.admin.token, "?limit=1000")).last_seq;
}

describe("riders", () => {
  test("online/offline; GET /api/riders lists every rider with online, last_location, active_order_ids", async () => {
    const r = await newRider(server, demo.admin.token, { online: false });
    let list = (await get(server, "/api/riders", { token: demo.admin.token })).body;
    assert.deepEqual(Object.keys(list), ["riders"]);
    let me = list.riders.find((x) => x.id === r.user.id);
    assert.deepEqual(me, { id: r.user.id, name: r.user.name, online: false, last_location: null, active_order_ids: [] });
    assert.ok(list.riders.some((x) => x.id === demo.rider.user.id), "the demo rider is listed");
    assert.ok(!list.riders.some((x) => x.id === demo.customer.user.id || x.id === demo.admin.user.id), "only riders");

    const on = await post(server, "/api/riders/me/online", { online: true }, { token: r.token });
    expectStatus(on, 200);
    assert.equal(on.body.id, r.user.id);
    assert.equal(on.body.online, true);
    list = (await get(server, "/api/riders", { token: demo.admin.token })).body;
    assert.equal(list.riders.find((x) => x.id === r.user.id).online, true);

    const c = await newCustomer(server);
    const o1 = await orderAt(server, { admin: demo.admin, customer: c, rider: r, status: "ready" });
    const o2 = await orderAt(server, { admin: demo.admin, customer: c, rider: r, status: "delivered" });
    me = (await get(server, "/api/riders", { token: demo.admin.token })).body.riders.find((x) => x.id === r.user.id);
    assert.deepEqual(me.active_order_ids, [o1.id], "delivered orders are not active");
    assert.ok(!me.active_order_ids.includes(o2.id));

    const off = await post(server, "/api/riders/me/online", { online: false }, { token: r.token });
    expectStatus(off, 200);
    assert.equal(off.body.online, false);
    me = (await get(server, "/api/riders", { token: demo.admin.token })).body.riders.find((x) => x.id === r.user.id);
    assert.equal(me.online, false);
    // Going offline does not take the order away: the rider still delivers it.
    await moveOk(server, r.token, o1.id, "picked_up");
    await moveOk(server, r.token, o1.id, "delivered");
  });
});

describe("today's figures (own server)", () => {
  let s;
  let sDemo;
  before(async () => {
    s = await startServer({ args: ["--metrics-token", "metrics-secret-token-123"] });
    sDemo = await demoSessions(s);
  });
  after(async () => {
    await s?.stop();
  });

  test("GET /api/stats/today matches what was placed", async () => {
    let res = await get(s, "/api/stats/today", { token: sDemo.admin.token });
    expectStatus(res, 200);
    const { from, to, measured, ...figures } = res.body;
    assert.deepEqual(figures, { orders: 0, revenue_cents: 0, avg_prep_minutes: null, by_status: {} });
    assert.deepEqual(measured.prep_minutes, { count: 0, median: null, p90: null });
    // The restaurant's day in its time zone (UTC by default): midnight to midnight.
    assert.match(from, /T00:00:00\.000Z$/);
    assert.equal(Date.parse(to) - Date.parse(from), 24 * 3600 * 1000);
    const c = await newCustomer(s);
    const placed = [];
    for (let i = 0; i < 6; ++i) placed.push(await placeOrder(s, c.token, { items: [{ item_id: (await s_items())[i].id, quantity: i + 1 }] }));
    await moveOk(s, sDemo.admin.token, placed[0].id, "accepted", { prep_minutes: 10 });
    await moveOk(s, sDemo.admin.token, placed[1].id, "accepted", { prep_minutes: 25 });
    await moveOk(s, sDemo.admin.token, placed[1].id, "preparing");
    await moveOk(s, sDemo.admin.token, placed[2].id, "rejected", { reason: "closed" });
    await moveOk(s, c.token, placed[3].id, "cancelled");
    res = await get(s, "/api/stats/today", { token: sDemo.admin.token });
    expectStatus(res, 200);
    const counted = placed.filter((_, i) => i !== 2 && i !== 3);
    assert.equal(res.body.orders, 6);
    assert.equal(res.body.revenue_cents, counted.reduce((sum, o) => sum + o.total_cents, 0), "revenue leaves out rejected and cancelled");
    assert.equal(res.body.avg_prep_minutes, 17.5);
    assert.deepEqual(res.body.by_status, { accepted: 1, preparing: 1, rejected: 1, cancelled: 1, pending: 2 });
    // Nothing reached ready or delivered: no measured time yet, but every order is today's.
    assert.equal(res.body.measured.prep_minutes.count, 0);
    assert.equal(res.body.measured.by_hour.reduce((n, h) => n + h.orders, 0), 6);
    assert.equal(res.body.measured.items_7d.reduce((n, i) => n + i.orders, 0), 6);
  });

  async function s_items() {
    return (await get(s, "/api/menu")).body.categories.flatMap((cat) => cat.items);
  }

  test("/metrics: 401 without a token, for non-admins, with a wrong token; 200 text for admins and the metrics token", async () => {
    for (const token of [undefined, "garbage", sDemo.customer.token, sDemo.rider.token, "metrics-secret-token-12", "metrics-secret-token-1234"]) {
      const res = await get(s, "/metrics", { token });
      expectError(res, 401);
    }
    for (const token of [sDemo.admin.token, "metrics-secret-token-123"]) {
      const res = await get(s, "/metrics", { token });
      expectStatus(res, 200);
      assert.match(res.headers.get("content-type"), /^text\/plain/);
      assert.match(res.text, /^# TYPE brigade_orders_created_total counter$/m);
      assert.match(res.text, /^brigade_orders_created_total 6$/m);
      assert.match(res.text, /^brigade_change_head_seq \d+$/m);
      for (const line of res.text.trim().split("\n")) {
        assert.match(line, /^(# (TYPE|HELP) .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.eE+-]+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|\+Inf|-Inf))$/, `Prometheus line: ${line}`);
      }
    }
  });
});

describe("GET /api/changes", () => {
  test("{changes, epoch, last_seq}; the demo menu's changes, oldest first, every field", async () => {
    const body = await changes(demo.admin.token, "?after=0&limit=1000");
    assert.deepEqual(Object.keys(body).sort(), ["changes", "epoch", "last_seq"]);
    const health = (await get(server, "/healthz")).body;
    assert.equal(body.epoch, health.epoch);
    assert.ok(body.changes.length >= 30);
    const seqs = body.changes.map((c) => c.seq);
    for (let i = 1; i < seqs.length; ++i) assert.ok(seqs[i] > seqs[i - 1], "strictly increasing");
    assert.equal(body.last_seq, seqs.at(-1));
    for (const c of body.changes) {
      assert.deepEqual(Object.keys(c).sort(), ["at", "collection", "document", "id", "op", "seq"]);
      assert.ok(["orders", "menu_items", "menu_categories"].includes(c.collection));
      assert.ok(["insert", "update", "delete"].includes(c.op));
      assert.equal(c.document.id, c.id);
    }
    const first30 = body.changes.slice(0, 30);
    assert.equal(first30.filter((c) => c.collection === "menu_categories" && c.op === "insert").length, 5);
    assert.equal(first30.filter((c) => c.collection === "menu_items" && c.op === "insert").length, 25);
  });

  test("limit: default 100, at most 1000; paging with after= visits each change once", async () => {
    // Make more than 100 changes.
    const c = await newCustomer(server);
    await Promise.all(Array.from({ length: 90 }, () => placeOrder(server, c.token)));
    const h = await head();
    assert.ok(h > 100);
    const def = await changes(demo.admin.token, "?after=0");
    assert.equal(def.changes.length, 100);
    assert.equal(def.last_seq, def.changes.at(-1).seq);
    const three = await changes(demo.admin.token, "?after=0&limit=3");
    assert.deepEqual(three.changes, def.changes.slice(0, 3));
    const seen = [];
    let after = 0;
    for (let i = 0; i < 100; ++i) {
      const page = await changes(demo.admin.token, `?after=${after}&limit=7`);
      seen.push(...page.changes.map((x) => x.seq));
      if (page.changes.length === 0) break;
      after = page.last_seq;
    }
    assert.equal(new Set(seen).size, seen.length, "no duplicates");
    const all = (await changes(demo.admin.token, "?after=0&limit=1000")).changes.map((x) => x.seq);
    assert.deepEqual(seen.slice(0, all.length), all);
    const atHead = await changes(demo.admin.token, `?after=${h}`);
    assert.deepEqual(atHead.changes, []);
    assert.equal(atHead.last_seq, h);
  });

  test("a customer sees own orders' changes and menu changes, never another's orders", async () => {
    const a = await newCustomer(server, "A");
    const b = await newCustomer(server, "B");
    const start = await head();
    const oa = await placeOrder(server, a.token);
    const ob = await placeOrder(server, b.token);
    await moveOk(server, demo.admin.token, ob.id, "accepted");
    await moveOk(server, demo.admin.token, oa.id, "accepted");
    const item = (await get(server, "/api/menu")).body.categories[0].items[0];
    expectStatus(await patch(server, `/api/menu/items/${item.id}`, { description: "changed" }, { token: demo.admin.token }), 200);
    const tmp = await post(server, "/api/menu/categories", { name: "Temp" }, { token: demo.admin.token });
    expectStatus(await del(server, `/api/menu/categories/${tmp.body.id}`, { token: demo.admin.token }), 204);

    const mine = await changes(a.token, `?after=${start}`);
    const summary = mine.changes.map((c) => [c.collection, c.op, c.id]);
    assert.deepEqual(summary, [
      ["orders", "insert", oa.id],
      ["orders", "update", oa.id],
      ["menu_items", "update", item.id],
      ["menu_categories", "insert", tmp.body.id],
      ["menu_categories", "delete", tmp.body.id],
    ]);
    assert.equal(mine.changes[1].document.status, "accepted");
    assert.equal(mine.changes[4].document.name, "Temp", "a delete carries the last document");
    assert.equal(mine.last_seq, await head(), "last_seq reaches the head even when the last changes are invisible");
    const theirs = await changes(b.token, `?after=${start}`);
    assert.ok(theirs.changes.every((c) => c.collection !== "orders" || c.document.customer_id === b.user.id));
    assert.equal(theirs.changes.filter((c) => c.collection === "orders").length, 2);
    // From the start of the stream, too.
    const everything = await changes(a.token, "?after=0&limit=1000");
    assert.ok(everything.changes.every((c) => c.collection !== "orders" || c.document.customer_id === a.user.id));
  });

  test("a customer pages through its own changes among many others', each once, with last_seq", async () => {
    const me = await newCustomer(server, "pager");
    const others = [await newCustomer(server, "o1"), await newCustomer(server, "o2")];
    const start = await head();
    const mine = [];
    for (let i = 0; i < 8; ++i) {
      await Promise.all(Array.from({ length: 25 }, (_, j) => placeOrder(server, others[j % 2].token)));
      mine.push((await placeOrder(server, me.token)).id);
    }
    await Promise.all(Array.from({ length: 25 }, () => placeOrder(server, others[0].token)));
    const h = await head();
    const everything = [];
    for (let after = start; ; ) {
      const page = await changes(demo.admin.token, `?after=${after}&limit=1000`);
      everything.push(...page.changes);
      if (page.changes.length < 1000) break;
      after = page.last_seq;
    }
    const expected = everything
      .filter((c) => c.collection !== "orders" || c.document.customer_id === me.user.id)
      .map((c) => c.seq);
    assert.equal(expected.length, mine.length);
    const seen = [];
    let after = start;
    for (let pages = 0; ; ++pages) {
      assert.ok(pages <= expected.length, "paging ends");
      const page = await changes(me.token, `?after=${after}&limit=3`);
      seen.push(...page.changes.map((c) => c.seq));
      if (page.changes.length === 3) {
        assert.equal(page.last_seq, page.changes.at(-1).seq, "a full page ends at its last change");
      } else {
        assert.equal(page.last_seq, h, "a short page ends at the head");
        break;
      }
      after = page.last_seq;
    }
    assert.deepEqual(seen, expected, "each of the customer's changes once, in order");
  });

  test("a rider sees assigned orders' changes plus the one that unassigned them (reassignment)", async () => {
    const c = await newCustomer(server);
    const r1 = await newRider(server, demo.admin.token);
    const r2 = await newRider(server, demo.admin.token);
    const start = await head();
    const o = await orderAt(server, { admin: demo.admin, customer: c, status: "accepted" });
    const other = await orderAt(server, { admin: demo.admin, customer: c, rider: r2, status: "accepted" });
    const a1 = await assign(server, demo.admin.token, o.id, r1.user.id);
    expectStatus(a1, 200);
    await moveOk(server, demo.admin.token, o.id, "preparing");
    const a2 = await assign(server, demo.admin.token, o.id, r2.user.id);
    expectStatus(a2, 200);
    await moveOk(server, demo.admin.token, o.id, "ready");
    await moveOk(server, r2.token, o.id, "picked_up");
    await moveOk(server, r2.token, o.id, "delivered");

    const r1Orders = (await changes(r1.token, `?after=${start}`)).changes.filter((x) => x.collection === "orders");
    assert.deepEqual(
      r1Orders.map((x) => [x.id, x.document.status, x.document.rider_id]),
      [
        [o.id, "accepted", r1.user.id],
        [o.id, "preparing", r1.user.id],
        [o.id, "preparing", r2.user.id],
      ],
      "the old rider gets the unassigning change (with the new rider_id) and nothing after",
    );
    const r2Orders = (await changes(r2.token, `?after=${start}`)).changes.filter((x) => x.collection === "orders");
    assert.deepEqual(
      r2Orders.map((x) => [x.id, x.document.status]),
      [
        [other.id, "accepted"],
        [o.id, "preparing"],
        [o.id, "ready"],
        [o.id, "picked_up"],
        [o.id, "delivered"],
      ],
    );
    // The customer sees every change of both orders; the demo rider none.
    const cust = (await changes(c.token, `?after=${start}`)).changes.filter((x) => x.collection === "orders");
    assert.ok(cust.length >= 10);
    const demoRider = (await changes(demo.rider.token, `?after=${start}`)).changes.filter((x) => x.collection === "orders");
    assert.deepEqual(demoRider, []);
  });

  test("after= older than retention → 410 history_lost (own server, 60 s retention, test clock)", async () => {
    const s = await startServer({ args: ["--test-clock", "--change-retention", "60"] });
    try {
      const admin = (await demoSessions(s)).admin;
      // Past the retention; the clock answers once the retention pass has run.
      await s.advanceClock(61000);
      // New changes after the old ones expired.
      const c = await newCustomer(s);
      await placeOrder(s, c.token);
      const res = await get(s, "/api/changes?after=1", { token: admin.token });
      expectError(res, 410, "history_lost");
    } finally {
      await s.stop();
    }
  });
});

describe("/healthz", () => {
  test("200 {status: ok, epoch, last_seq} for anyone", async () => {
    for (const token of [undefined, "garbage", demo.customer.token]) {
      const res = await get(server, "/healthz", { token });
      expectStatus(res, 200);
      assert.equal(res.body.status, "ok");
      assert.equal(typeof res.body.epoch, "string");
      assert.ok(Number.isInteger(res.body.last_seq));
    }
  });
});
