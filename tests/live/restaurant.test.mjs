// The restaurant's settings on the real-time channel (docs/API.md, "The restaurant",
// "Real-time channel"): a PATCH reaches every socket, whatever its role, as exactly one
// `restaurant:changed` {seq, op: "update", restaurant} whose document is what
// GET /api/restaurant answers; a customer that was away gets the missed changes back
// with its offset, in order and once; an order left unanswered is rejected by the
// server ("not_answered") and that reaches its customer and the admins exactly once,
// nobody else; a timed pause is ended by the server itself. The server runs with
// --test-clock so that the time these need passes at once (server.advanceClock).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  call,
  connectReady,
  loginDemo,
  menuBarrier,
  placeOrder,
  registerCustomer,
  startBrigade,
} from "./lib/harness.mjs";

const restaurantEvents = (client, conn) => client.named("restaurant:changed", conn);
const orderEvents = (client, orderId) =>
  client.named("order:changed").filter((e) => e.args[0].order?.id === orderId);
const isNotAnswered = (e) => e.args[0].order.status === "rejected" && e.args[0].order.status_reason === "not_answered";

describe("the restaurant on the real-time channel", () => {
  let server;
  const people = {};
  const sockets = {}; // stay connected for the whole file: admin, rider, c1, c2
  const extra = []; // sockets of single tests, closed in after()
  let item;
  let startSeq; // the head when the sockets connected

  before(async () => {
    server = await startBrigade({ args: ["--test-clock"] });
    people.admin = await loginDemo(server, "admin");
    people.rider = await loginDemo(server, "rider");
    people.c1 = await registerCustomer(server, "c1");
    people.c2 = await registerCustomer(server, "c2");
    for (const [name, p] of Object.entries(people)) {
      sockets[name] = await connectReady(server, { token: p.token }, { label: name });
    }
    startSeq = sockets.admin.named("ready")[0].args[0].last_seq;
    [item] = await availableItemIds(server);
    assert.ok(item, "the demo menu has an available item");
    const initial = await call(server, "GET", "/api/restaurant");
    assert.equal(initial.paused, false);
    assert.equal(initial.auto_reject_after_s, null);
  });

  after(async () => {
    for (const s of [...Object.values(sockets), ...extra]) s.close();
    await server?.dispose();
  });

  const all = () => Object.values(sockets);
  const admin = () => people.admin.token;
  const patch = (body) => call(server, "PATCH", "/api/restaurant", { token: admin(), body });
  // Waits until every client got the restaurant:changed of version `version`.
  const untilVersion = (clients, version, ms = 5000) =>
    Promise.all(
      clients.map((c) =>
        c.until(
          () => restaurantEvents(c).some((e) => e.args[0].restaurant?.version === version),
          ms,
          `restaurant:changed of version ${version}`,
        ),
      ),
    );
  // Everything the server sent before the barrier's menu change is in by then: a
  // duplicate or stray event would be counted below.
  const barrier = (clients = all()) => menuBarrier(server, admin(), clients, 10000);

  test("a pause reaches a customer, a rider and an admin as one restaurant:changed each, the GET document", async () => {
    const before = new Map(all().map((c) => [c, restaurantEvents(c).length]));
    const patched = await patch({ paused: true });
    assert.equal(patched.paused, true);
    assert.equal(patched.paused_until, null);
    await untilVersion(all(), patched.version);
    const rest = await call(server, "GET", "/api/restaurant");
    assert.equal(rest.version, patched.version);
    assert.equal(rest.paused_now, true);
    assert.equal(rest.accepting_orders, false);
    await barrier();

    const changes = await call(server, "GET", `/api/changes?after=${startSeq}&limit=1000`, { token: admin() });
    const stored = changes.changes.filter((c) => c.collection === "restaurant");
    const mine = stored.find((c) => c.document.version === patched.version);
    assert.ok(mine, "the pause is in GET /api/changes as collection restaurant");
    assert.equal(mine.id, 1);
    assert.equal(mine.op, "update");

    for (const [name, c] of Object.entries(sockets)) {
      const got = restaurantEvents(c).slice(before.get(c));
      assert.equal(got.length, 1, `${name}: restaurant:changed events for one PATCH`);
      const [payload, offset] = got[0].args;
      assert.deepEqual(Object.keys(payload).sort(), ["op", "restaurant", "seq"], `${name}: payload keys`);
      assert.equal(payload.op, "update", `${name}: op`);
      assert.equal(payload.seq, mine.seq, `${name}: seq of the stored change`);
      assert.equal(offset, String(mine.seq), `${name}: offset argument`);
      assert.deepEqual(payload.restaurant, rest, `${name}: the document is GET /api/restaurant's`);
      assert.equal(payload.restaurant.paused_now, true, `${name}: paused_now`);
      assert.equal(payload.restaurant.accepting_orders, false, `${name}: accepting_orders`);
    }

    // While paused, nobody orders.
    const refused = await api(server, "POST", "/api/orders", {
      token: people.c1.token,
      body: { items: [{ item_id: item, quantity: 1 }], delivery: { address: "1 Test Street" } },
    });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error.code, "ordering_paused");

    const resumed = await patch({ paused: false });
    assert.equal(resumed.paused, false);
    assert.equal(resumed.accepting_orders, true);
    await untilVersion(all(), resumed.version);
    for (const [name, c] of Object.entries(sockets)) {
      const last = restaurantEvents(c).at(-1).args[0].restaurant;
      assert.equal(last.paused_now, false, `${name}: resumed`);
      assert.equal(last.accepting_orders, true, `${name}: accepting again`);
    }
  });

  test("a customer away during restaurant changes gets them back with its offset, in order, once", async () => {
    const away = await registerCustomer(server, "away");
    const client = await connectReady(server, { token: away.token }, { label: "away customer" });
    extra.push(client);
    const epoch = client.named("ready")[0].args[0].epoch;

    const a = await patch({ busy_extra_minutes: 5 });
    await untilVersion([client], a.version);
    // Dropped right away; what it has seen ends with A's offset.
    client.socket.disconnect();
    const offset = client.lastOffset();
    const seqA = restaurantEvents(client).at(-1).args[0].seq;
    assert.equal(offset, String(seqA), "the offset to send back is A's");

    // Missed: B, a menu change M, C.
    const b = await patch({ busy_extra_minutes: 10 });
    const price = 4321;
    const m = await call(server, "PATCH", `/api/menu/items/${item}`, { token: admin(), body: { price_cents: price } });
    assert.equal(m.price_cents, price);
    const c = await patch({ name: "Brigade (recovery)" });
    await untilVersion([sockets.admin], c.version);

    await client.reconnect({ token: away.token, offset, epoch });
    const ready = await client.ready(2);
    assert.equal(client.named("resync", 2).length, 0, "no resync");
    const onSecond = client.events.filter((e) => e.conn === 2);
    const readyAt = onSecond.findIndex((e) => e.name === "ready");
    const replayed = onSecond.slice(0, readyAt);
    assert.deepEqual(
      replayed.map((e) => e.name),
      ["restaurant:changed", "menu:changed", "restaurant:changed"],
      "the replay: B, the menu change, C",
    );
    const [eb, em, ec] = replayed.map((e) => e.args[0]);
    assert.equal(eb.restaurant.version, b.version);
    assert.equal(eb.restaurant.busy_extra_minutes, 10);
    assert.equal(em.item.id, item);
    assert.equal(em.item.price_cents, price);
    assert.equal(ec.restaurant.version, c.version);
    assert.equal(ec.restaurant.name, "Brigade (recovery)");
    assert.ok(seqA < eb.seq && eb.seq < em.seq && em.seq < ec.seq, "in seq order");
    for (const e of replayed) assert.equal(e.args[1], String(e.args[0].seq), "offset argument");
    assert.equal(ready.last_seq, ec.seq, "ready after the replay, at C");
    assert.deepEqual(ec.restaurant, await call(server, "GET", "/api/restaurant"), "C's document is GET's");

    // Nothing twice, across both connections.
    await barrier([client]);
    const seqs = restaurantEvents(client).map((e) => e.args[0].seq);
    assert.deepEqual(
      seqs.filter((s) => s >= seqA),
      [seqA, eb.seq, ec.seq],
      "every restaurant change once, in order",
    );
    assert.equal(new Set(seqs).size, seqs.length, "no duplicate restaurant:changed");

    // The same changes over REST, for a customer.
    const changes = await call(server, "GET", `/api/changes?after=${seqA - 1}&limit=1000`, { token: away.token });
    const restaurant = changes.changes.filter((ch) => ch.collection === "restaurant");
    assert.deepEqual(
      restaurant.map((ch) => ch.seq),
      [seqA, eb.seq, ec.seq],
      "GET /api/changes shows a customer the restaurant's changes",
    );
    for (const ch of restaurant) {
      assert.equal(ch.id, 1);
      assert.equal(ch.op, "update");
      assert.equal(typeof ch.document.version, "number");
      assert.equal(typeof ch.document.updated_at, "string");
    }
    assert.equal(restaurant.at(-1).document.name, "Brigade (recovery)");
    assert.equal(restaurant.at(-1).document.version, c.version);
    client.close();
  });

  test("an unanswered order is rejected by the server; its customer and the admins hear it exactly once", async () => {
    const settings = await patch({ auto_reject_after_s: 60 });
    assert.equal(settings.auto_reject_after_s, 60);
    await untilVersion(all(), settings.version);

    const order = await placeOrder(server, people.c1.token, item);
    assert.equal(order.status, "pending");
    for (const c of [sockets.admin, sockets.c1]) {
      await c.until(() => orderEvents(c, order.id).length > 0, 5000, `order ${order.id} placed`);
    }

    await server.advanceClock(61_000);
    for (const c of [sockets.admin, sockets.c1]) {
      await c.until(
        () => orderEvents(c, order.id).some(isNotAnswered),
        10000,
        `order ${order.id} rejected as not answered`,
      );
    }
    const rest = await call(server, "GET", `/api/orders/${order.id}`, { token: admin() });
    assert.equal(rest.status, "rejected");
    assert.equal(rest.status_reason, "not_answered");
    assert.deepEqual(
      rest.history.map((h) => [h.status, h.by]),
      [
        ["pending", people.c1.user.id],
        ["rejected", null],
      ],
      "the server rejected it (by null)",
    );

    // Another pass falls due; then a round trip: a second order, seen by the admin
    // (and its customer) after anything the server might still send about the first.
    await server.advanceClock(61_000);
    const second = await placeOrder(server, people.c1.token, item);
    for (const c of [sockets.admin, sockets.c1]) {
      await c.until(() => orderEvents(c, second.id).length > 0, 5000, `order ${second.id} placed`);
    }
    await barrier();

    for (const c of [sockets.admin, sockets.c1]) {
      const events = orderEvents(c, order.id);
      assert.equal(events.filter(isNotAnswered).length, 1, `${c.label}: one rejection of order ${order.id}`);
      assert.deepEqual(
        events.map((e) => e.args[0].order.status),
        ["pending", "rejected"],
        `${c.label}: the order's events`,
      );
      const rejected = events[1].args[0];
      assert.equal(rejected.op, "update");
      assert.deepEqual(rejected.order, rest, `${c.label}: the live document is REST's`);
      // Afterwards, the second order arrived after the rejection.
      const changed = c.named("order:changed");
      assert.ok(
        changed.indexOf(events[1]) < changed.findIndex((e) => e.args[0].order.id === second.id),
        `${c.label}: the rejection came before the second order`,
      );
    }
    assert.equal(
      sockets.admin.named("alert").filter((e) => e.args[0].order_id === order.id).length,
      1,
      "one alert for the order (its placing), none for the rejection",
    );
    for (const name of ["c2", "rider"]) {
      const c = sockets[name];
      assert.equal(orderEvents(c, order.id).length, 0, `${name}: nothing about another customer's order`);
      assert.equal(orderEvents(c, second.id).length, 0, `${name}: nothing about another customer's order`);
    }

    // Left as it was: no automatic rejection for the tests after this one, and the
    // second order answered.
    const off = await patch({ auto_reject_after_s: null });
    assert.equal(off.auto_reject_after_s, null);
    await call(server, "POST", `/api/orders/${second.id}/status`, { token: people.c1.token, body: { status: "cancelled" } });
    await untilVersion(all(), off.version);
  });

  test("a 15-minute pause is ended by the server, and every socket hears it", async () => {
    const paused = await patch({ pause_minutes: 15 });
    assert.equal(paused.paused, true);
    assert.equal(typeof paused.paused_until, "string");
    assert.equal(paused.paused_now, true);
    assert.equal(paused.accepting_orders, false);
    const until = Date.parse(paused.paused_until);
    const at = Date.parse(paused.updated_at);
    assert.ok(Math.abs(until - at - 15 * 60_000) < 5000, `paused_until ${paused.paused_until} is 15 minutes on`);
    await untilVersion(all(), paused.version);
    for (const c of all()) {
      const got = restaurantEvents(c).at(-1).args[0].restaurant;
      assert.equal(got.paused_until, paused.paused_until, `${c.label}: paused_until`);
      assert.equal(got.paused_now, true, `${c.label}: paused_now`);
    }
    const before = new Map(all().map((c) => [c, restaurantEvents(c).length]));

    await server.advanceClock(15 * 60_000 + 1000);
    const resumedOn = (c) =>
      restaurantEvents(c)
        .slice(before.get(c))
        .filter((e) => e.args[0].restaurant.paused === false);
    await Promise.all(all().map((c) => c.until(() => resumedOn(c).length > 0, 10000, "the end of the pause")));
    const rest = await call(server, "GET", "/api/restaurant");
    assert.equal(rest.paused, false);
    assert.equal(rest.paused_until, null);
    assert.equal(rest.paused_now, false);
    assert.equal(rest.accepting_orders, true);
    await barrier();

    for (const [name, c] of Object.entries(sockets)) {
      const got = restaurantEvents(c).slice(before.get(c));
      assert.equal(got.length, 1, `${name}: one restaurant:changed for the end of the pause`);
      const [payload, offset] = got[0].args;
      assert.equal(payload.op, "update");
      assert.equal(offset, String(payload.seq));
      assert.ok(payload.restaurant.version > paused.version, `${name}: a new version`);
      assert.deepEqual(payload.restaurant, rest, `${name}: the document is GET /api/restaurant's`);
      assert.equal(payload.restaurant.paused_until, null);
      assert.equal(payload.restaurant.paused_now, false);
      assert.equal(payload.restaurant.accepting_orders, true);
    }

    // Ordering works again.
    const order = await placeOrder(server, people.c2.token, item);
    assert.equal(order.status, "pending");
  });

  test("restaurant:changed went to every role; alerts to the admin only", async () => {
    const stored = (await call(server, "GET", `/api/changes?after=${startSeq}&limit=1000`, { token: admin() })).changes
      .filter((c) => c.collection === "restaurant")
      .map((c) => c.seq);
    assert.ok(stored.length >= 7, `${stored.length} restaurant changes stored`);
    for (const [name, c] of Object.entries(sockets)) {
      assert.deepEqual(
        restaurantEvents(c).map((e) => e.args[0].seq),
        stored,
        `${name}: every restaurant change, once, in order`,
      );
      assert.equal(c.named("resync").length, 0, `${name}: no resync`);
      assert.equal(c.connections, 1, `${name}: stayed connected`);
      assert.equal(c.disconnects.length, 0, `${name}: stayed connected`);
    }
    // The last test's order was placed without waiting for its events: wait for its alert.
    await sockets.admin.until(() => sockets.admin.named("alert").length >= 3, 5000, "the admin got the new orders' alerts");
    for (const name of ["c1", "c2", "rider"]) {
      assert.equal(sockets[name].named("alert").length, 0, `${name}: alerts are for admins`);
    }
    // Every event a customer got was its own order's, the menu's or the restaurant's.
    for (const name of ["c1", "c2"]) {
      for (const e of sockets[name].events) {
        assert.ok(
          ["ready", "order:changed", "menu:changed", "restaurant:changed"].includes(e.name),
          `${name}: unexpected event ${e.name}`,
        );
        if (e.name === "order:changed") assert.equal(e.args[0].order.customer_id, people[name].user.id);
      }
    }
  });
});
