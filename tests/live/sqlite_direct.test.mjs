// Changes written by another program — the sqlite3 shell on the database file —
// while the server runs reach the connected panels within a second, to exactly the
// audience the contract names.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  availableItemIds,
  connectReady,
  loginDemo,
  placeOrder,
  menuBarrier,
  registerCustomer,
  sqlite,
  startBrigade,
} from "./lib/harness.mjs";

describe("changes written with the sqlite3 shell", () => {
  let server;
  let admin;
  let customer;
  let other;
  let rider;
  let people;
  let order;

  before(async () => {
    server = await startBrigade();
    people = {
      admin: await loginDemo(server, "admin"),
      customer: await registerCustomer(server, "owner"),
      other: await registerCustomer(server, "other"),
      rider: await loginDemo(server, "rider"),
    };
    const items = await availableItemIds(server);
    order = await placeOrder(server, people.customer.token, items[0]);
    admin = await connectReady(server, { token: people.admin.token }, { label: "admin" });
    customer = await connectReady(server, { token: people.customer.token }, { label: "customer" });
    other = await connectReady(server, { token: people.other.token }, { label: "other" });
    rider = await connectReady(server, { token: people.rider.token }, { label: "rider" });
  });

  after(async () => {
    for (const s of [admin, customer, other, rider]) s?.close();
    await server?.dispose();
  });

  // Runs the statement with the sqlite3 shell; resolves with the time it committed.
  async function write(sql) {
    await sqlite(server.dbPath, sql);
    return Date.now();
  }

  test("an UPDATE of an order reaches the admin and the order's customer within one second", async () => {
    const committed = await write(`UPDATE orders SET notes = 'written by sqlite3' WHERE id = ${order.id};`);
    const match = (e) => e.name === "order:changed" && e.args[0].order.notes === "written by sqlite3";
    await admin.until(() => admin.events.some(match), 1000, "the order change");
    const got = admin.events.find(match);
    assert.ok(got.at - committed <= 1000, `admin got it ${got.at - committed} ms after the commit`);
    assert.equal(got.args[0].op, "update");
    assert.equal(got.args[0].order.id, order.id);
    assert.equal(got.args[0].order.version, order.version + 1, "the version trigger ran");
    assert.equal(got.args[1], String(got.args[0].seq));
    await customer.until(() => customer.events.some(match), 1000, "the order change");
    // A later change reaches other and rider: the order change, earlier in the stream, would have too.
    await menuBarrier(server, people.admin.token, [other, rider]);
    assert.equal(other.named("order:changed").length, 0, "another customer got the order change");
    assert.equal(rider.named("order:changed").length, 0, "an unassigned rider got the order change");
    assert.equal(admin.named("alert").length, 0, "an update is no new order");
  });

  test("an INSERT into orders reaches the admin with one alert", async () => {
    const committed = await write(
      `INSERT INTO orders(customer_id, subtotal_cents, delivery_fee_cents, total_cents, delivery_address)
         VALUES (${people.customer.user.id}, 100, 299, 399, '2 Shell Road');`,
    );
    const match = (e) => e.name === "order:changed" && e.args[0].op === "insert";
    await admin.until(() => admin.events.some(match), 1000, "the inserted order");
    const got = admin.events.find(match);
    assert.ok(got.at - committed <= 1000, `admin got it ${got.at - committed} ms after the commit`);
    assert.equal(got.args[0].order.delivery.address, "2 Shell Road");
    await admin.until(() => admin.named("alert").length === 1, 1000, "the alert");
    assert.equal(admin.named("alert")[0].args[0].order_id, got.args[0].order.id);
    await customer.until(() => customer.events.some(match), 1000, "the inserted order");
    await menuBarrier(server, people.admin.token, [admin, other]);
    assert.equal(admin.named("alert").length, 1, "one alert");
    assert.equal(other.named("order:changed").length, 0);
  });

  test("menu item insert, update and delete reach everybody within one second", async () => {
    const committed = await write(
      "INSERT INTO menu_items(category_id, name, price_cents) VALUES (1, 'Shell special', 777);",
    );
    const inserted = (e) => e.name === "menu:changed" && e.args[0].item?.name === "Shell special";
    for (const s of [admin, customer, other, rider]) {
      await s.until(() => s.events.some(inserted), 1000, "the new menu item");
      const got = s.events.find(inserted);
      assert.ok(got.at - committed <= 1000, `${s.label} got it ${got.at - committed} ms after the commit`);
      assert.equal(got.args[0].op, "insert");
      assert.equal(got.args[0].item.price_cents, 777);
    }
    const id = admin.events.find(inserted).args[0].item.id;
    await write(`UPDATE menu_items SET price_cents = 778 WHERE id = ${id};`);
    await write(`DELETE FROM menu_items WHERE id = ${id};`);
    for (const s of [admin, customer, other, rider]) {
      const mine = () => s.named("menu:changed").filter((e) => e.args[0].item?.id === id);
      await s.until(() => mine().length === 3, 1000, "update and delete of the menu item");
      assert.deepEqual(
        mine().map((e) => [e.args[0].op, e.args[0].item.price_cents]),
        [
          ["insert", 777],
          ["update", 778],
          ["delete", 778],
        ],
        `${s.label}: the item's changes`,
      );
    }
  });

  test("a category inserted with the shell reaches a customer as menu:changed {category}", async () => {
    await write("INSERT INTO menu_categories(name, position) VALUES ('Shell category', 9);");
    const match = (e) => e.name === "menu:changed" && e.args[0].category?.name === "Shell category";
    await customer.until(() => customer.events.some(match), 1000, "the new category");
    assert.equal(customer.events.find(match).args[0].op, "insert");
  });
});
