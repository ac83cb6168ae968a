// Isolation and ordering of order:changed / menu:changed / alert across roles:
// two customers with 200 orders each, driven through every status move by an
// admin and riders (including a reassignment), watched by admins, both customers,
// three riders and a bystander customer. The expected deliveries are derived from
// the changes table read with the sqlite3 shell, not from the server's own filter.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assignRider,
  availableItemIds,
  call,
  changesInDb,
  connectReady,
  createUser,
  goOnline,
  headSeqInDb,
  isBarrier,
  loginDemo,
  menuBarrier,
  moveOrder,
  placeOrder,
  pool,
  registerCustomer,
  startBrigade,
  visibleTo,
} from "./lib/harness.mjs";

const ORDERS_PER_CUSTOMER = 200;

describe("live isolation", () => {
  let server;
  const people = {};
  const sockets = {};
  const orders = []; // {id, customer, scenario}
  let startSeq;
  let dbChanges;
  let menuSeq;

  before(async () => {
    server = await startBrigade();
    people.admin = await loginDemo(server, "admin");
    people.admin2 = await createUser(server, people.admin.token, "admin", "admin2");
    people.c1 = await registerCustomer(server, "c1");
    people.c2 = await registerCustomer(server, "c2");
    people.c3 = await registerCustomer(server, "bystander");
    people.r1 = await loginDemo(server, "rider");
    await goOnline(server, people.r1.token);
    people.r2 = await createUser(server, people.admin.token, "rider", "r2");
    people.r3 = await createUser(server, people.admin.token, "rider", "r3");
    for (const [name, p] of Object.entries(people)) {
      sockets[name] = await connectReady(server, { token: p.token }, { label: name });
    }
    startSeq = sockets.admin.named("ready")[0].args[0].last_seq;
    for (const s of Object.values(sockets)) {
      assert.equal(s.named("ready")[0].args[0].last_seq, startSeq, `${s.label}: ready.last_seq`);
    }

    const items = await availableItemIds(server);
    const admin = people.admin.token;
    const r1 = people.r1;
    const r2 = people.r2;
    // Scenario by index: 0 delivered by r1; 1 assigned to r1, reassigned to r2, delivered
    // by r2; 2 rejected; 3 cancelled by the customer; 4 cancelled by the admin when ready.
    const plan = [];
    for (let i = 0; i < ORDERS_PER_CUSTOMER; ++i) {
      plan.push({ customer: "c1", scenario: i % 5 }, { customer: "c2", scenario: (i + 2) % 5 });
    }
    await pool(plan.length, 12, async (i) => {
      const { customer, scenario } = plan[i];
      const order = await placeOrder(server, people[customer].token, items[i % items.length]);
      orders.push({ id: order.id, customer, scenario });
      const id = order.id;
      switch (scenario) {
        case 0:
          await moveOrder(server, admin, id, "accepted", { prep_minutes: 10 });
          await moveOrder(server, admin, id, "preparing");
          await assignRider(server, admin, id, r1.user.id);
          await moveOrder(server, admin, id, "ready");
          await moveOrder(server, r1.token, id, "picked_up");
          await moveOrder(server, r1.token, id, "delivered");
          break;
        case 1:
          await moveOrder(server, admin, id, "accepted");
          await assignRider(server, admin, id, r1.user.id);
          await moveOrder(server, admin, id, "preparing");
          await assignRider(server, admin, id, r2.user.id);
          await moveOrder(server, admin, id, "ready");
          await moveOrder(server, r2.token, id, "picked_up");
          await moveOrder(server, r2.token, id, "delivered");
          break;
        case 2:
          await moveOrder(server, admin, id, "rejected", { reason: "kitchen closed" });
          break;
        case 3:
          await moveOrder(server, people[customer].token, id, "cancelled");
          break;
        case 4:
          await moveOrder(server, admin, id, "accepted");
          await moveOrder(server, admin, id, "preparing");
          await moveOrder(server, admin, id, "ready");
          await moveOrder(server, admin, id, "cancelled", { reason: "no riders" });
          break;
      }
    });
    // One menu change at the end: everyone gets it.
    const item = await call(server, "PATCH", `/api/menu/items/${items[0]}`, {
      token: admin,
      body: { price_cents: 1234 },
    });
    assert.equal(item.price_cents, 1234);

    const head = await headSeqInDb(server.dbPath);
    dbChanges = await changesInDb(server.dbPath, startSeq);
    menuSeq = head;
    assert.equal(dbChanges[dbChanges.length - 1].collection, "menu_items");
    // Everyone has the last change; a stray or duplicate event would come before a
    // later change (the barrier), whose own events are then left out of the record.
    await Promise.all(Object.values(sockets).map((s) => s.untilSeq(head, 20000)));
    await menuBarrier(server, admin, Object.values(sockets), 20000);
    for (const s of Object.values(sockets)) s.events = s.events.filter((e) => !isBarrier(e));
  });

  after(async () => {
    for (const s of Object.values(sockets)) s.close();
    await server?.dispose();
  });

  const who = (name) => ({ id: people[name].user.id, role: people[name].user.role });

  function assertExactly(name) {
    const expected = visibleTo(dbChanges, who(name)).map((c) => c.seq);
    const got = sockets[name].streamSeqs();
    assert.equal(got.length, expected.length, `${name}: number of changes received`);
    assert.deepEqual(got, expected, `${name}: the seqs received`);
  }

  test("the scenario produced the expected changes", () => {
    assert.equal(orders.length, 2 * ORDERS_PER_CUSTOMER);
    const moves = { 0: 7, 1: 8, 2: 2, 3: 2, 4: 5 }; // insert + one update per move or assignment
    for (const o of orders) {
      const changes = dbChanges.filter((c) => c.collection === "orders" && c.record_id === o.id);
      assert.equal(changes.length, moves[o.scenario], `order ${o.id} (scenario ${o.scenario}) changes`);
    }
  });

  test("each customer receives exactly their own orders' changes", () => {
    for (const name of ["c1", "c2"]) {
      assertExactly(name);
      const mine = new Set(orders.filter((o) => o.customer === name).map((o) => o.id));
      assert.equal(mine.size, ORDERS_PER_CUSTOMER);
      const events = sockets[name].named("order:changed");
      const ids = new Set(events.map((e) => e.args[0].order.id));
      assert.deepEqual([...ids].sort((a, b) => a - b), [...mine].sort((a, b) => a - b), `${name}: order ids`);
      for (const e of events) {
        assert.equal(e.args[0].order.customer_id, people[name].user.id, `${name}: someone else's order`);
      }
      // The final state of every order is seen.
      const last = new Map(events.map((e) => [e.args[0].order.id, e.args[0].order.status]));
      const final = { 0: "delivered", 1: "delivered", 2: "rejected", 3: "cancelled", 4: "cancelled" };
      for (const o of orders.filter((x) => x.customer === name)) {
        assert.equal(last.get(o.id), final[o.scenario], `${name}: final status of order ${o.id}`);
      }
      assert.equal(sockets[name].named("alert").length, 0, `${name}: alerts are for admins`);
    }
  });

  test("a customer without orders receives only the menu change", () => {
    assertExactly("c3");
    assert.deepEqual(sockets.c3.streamSeqs(), [menuSeq]);
    assert.deepEqual(
      sockets.c3.events.filter((e) => e.name !== "ready").map((e) => e.name),
      ["menu:changed"],
    );
  });

  test("riders receive only their assigned orders' changes, plus the one that unassigns them", () => {
    for (const name of ["r1", "r2", "r3"]) {
      assertExactly(name);
      assert.equal(sockets[name].named("alert").length, 0, `${name}: alerts are for admins`);
    }
    const r1 = people.r1.user.id;
    const r2 = people.r2.user.id;
    const r1Events = sockets.r1.named("order:changed").map((e) => e.args[0]);
    const r2Events = sockets.r2.named("order:changed").map((e) => e.args[0]);
    for (const e of r1Events) {
      const o = orders.find((x) => x.id === e.order.id);
      assert.ok(o && (o.scenario === 0 || o.scenario === 1), `r1 got order ${e.order.id}`);
    }
    for (const o of orders.filter((x) => x.scenario === 1)) {
      // r1: assigned, preparing, then the reassignment to r2 (rider_id r2), nothing after.
      const seen = r1Events.filter((e) => e.order.id === o.id);
      assert.deepEqual(
        seen.map((e) => [e.order.status, e.order.rider_id]),
        [
          ["accepted", r1],
          ["preparing", r1],
          ["preparing", r2],
        ],
        `r1's view of reassigned order ${o.id}`,
      );
      // r2: from its assignment on, to delivery.
      const seen2 = r2Events.filter((e) => e.order.id === o.id);
      assert.deepEqual(
        seen2.map((e) => e.order.status),
        ["preparing", "ready", "picked_up", "delivered"],
        `r2's view of order ${o.id}`,
      );
      assert.ok(seen2.every((e) => e.order.rider_id === r2));
    }
    for (const e of r2Events) {
      const o = orders.find((x) => x.id === e.order.id);
      assert.equal(o?.scenario, 1, `r2 got order ${e.order.id}`);
    }
    assert.deepEqual(sockets.r3.streamSeqs(), [menuSeq], "r3 was never assigned");
  });

  test("admins receive every change in strictly increasing seq order", () => {
    for (const name of ["admin", "admin2"]) {
      const got = sockets[name].streamSeqs();
      assert.deepEqual(got, dbChanges.map((c) => c.seq), `${name}: every change`);
      for (let i = 1; i < got.length; ++i) assert.ok(got[i] > got[i - 1], `${name}: seq order at ${i}`);
      for (const e of sockets[name].stream()) {
        assert.equal(e.args[1], String(e.args[0].seq), `${name}: offset argument of ${e.name}`);
      }
    }
  });

  test("admins receive exactly one alert per new order", () => {
    const inserts = dbChanges.filter((c) => c.collection === "orders" && c.op === "insert");
    assert.equal(inserts.length, 2 * ORDERS_PER_CUSTOMER);
    for (const name of ["admin", "admin2"]) {
      const alerts = sockets[name].named("alert").map((e) => e.args);
      assert.equal(alerts.length, inserts.length, `${name}: number of alerts`);
      const byOrder = new Map();
      for (const [payload, offset] of alerts) {
        assert.equal(payload.kind, "order:new");
        assert.equal(typeof payload.message, "string");
        assert.ok(!byOrder.has(payload.order_id), `${name}: two alerts for order ${payload.order_id}`);
        byOrder.set(payload.order_id, offset);
      }
      for (const c of inserts) {
        // "S.1": all of change S seen, its alert included.
        assert.equal(byOrder.get(c.record_id), `${c.seq}.1`, `${name}: alert of order ${c.record_id}`);
      }
    }
  });

  test("every socket gets the menu change; nobody gets rider locations or resyncs", () => {
    for (const [name, s] of Object.entries(sockets)) {
      const menu = s.named("menu:changed");
      assert.equal(menu.length, 1, `${name}: menu changes`);
      assert.equal(menu[0].args[0].op, "update");
      assert.equal(menu[0].args[0].item.price_cents, 1234);
      assert.equal(s.named("rider:location").length, 0, name);
      assert.equal(s.named("resync").length, 0, name);
      assert.equal(s.named("ready").length, 1, `${name}: one ready`);
      assert.equal(s.disconnects.length, 0, `${name}: stayed connected`);
    }
  });
});
