// The delivery code on the real-time channel (docs/API.md, "Proof of delivery"): the
// customer's and the staff's order:changed carry it, the rider's never does — live, in a
// replay after a reconnect, and in the change that takes the order from a rider.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assignRider,
  availableItemIds,
  connectReady,
  createUser,
  loginDemo,
  menuBarrier,
  moveOrder,
  placeOrder,
  registerCustomer,
  startBrigade,
} from "./lib/harness.mjs";

describe("the delivery code on sockets", () => {
  let server;
  const people = {};
  const sockets = {};
  let item;

  before(async () => {
    server = await startBrigade();
    people.admin = await loginDemo(server, "admin");
    people.customer = await registerCustomer(server, "code");
    people.rider = await createUser(server, people.admin.token, "rider", "code-rider");
    people.other = await createUser(server, people.admin.token, "rider", "code-other");
    [item] = await availableItemIds(server);
    for (const name of ["admin", "customer", "rider", "other"]) {
      sockets[name] = await connectReady(server, { token: people[name].token }, { label: name });
    }
  });

  after(async () => {
    for (const s of Object.values(sockets)) s.close();
    await server?.dispose();
  });

  const docsOf = (client, id) => client.named("order:changed").map((e) => e.args[0].order).filter((o) => o.id === id);

  test("live: the customer and the staff get the code, the riders (also the one it was taken from) never", async () => {
    const order = await placeOrder(server, people.customer.token, item);
    assert.match(order.delivery_code, /^\d{4}$/);
    await moveOrder(server, people.admin.token, order.id, "accepted", { prep_minutes: 5 });
    await assignRider(server, people.admin.token, order.id, people.rider.user.id);
    await assignRider(server, people.admin.token, order.id, people.other.user.id); // taken from rider
    await moveOrder(server, people.admin.token, order.id, "preparing");
    await menuBarrier(server, people.admin.token, Object.values(sockets));
    for (const name of ["admin", "customer"]) {
      const docs = docsOf(sockets[name], order.id);
      assert.ok(docs.length >= 4, `${name}: ${docs.length} changes`);
      assert.ok(docs.every((d) => d.delivery_code === order.delivery_code), name);
    }
    const riderDocs = docsOf(sockets.rider, order.id);
    const otherDocs = docsOf(sockets.other, order.id);
    assert.equal(riderDocs.length, 2, "assigned, then taken away");
    assert.ok(otherDocs.length >= 2);
    for (const d of [...riderDocs, ...otherDocs]) {
      assert.equal(d.delivery_code, null);
      assert.equal(d.id, order.id);
    }
  });

  test("a replay gives the rider the documents without the code too", async () => {
    const offset = sockets.other.lastOffset();
    sockets.other.close();
    const order = await placeOrder(server, people.customer.token, item);
    await moveOrder(server, people.admin.token, order.id, "accepted", { prep_minutes: 5 });
    await assignRider(server, people.admin.token, order.id, people.other.user.id);
    const back = await connectReady(server, { token: people.other.token, offset }, { label: "other again" });
    const docs = docsOf(back, order.id);
    assert.equal(docs.length, 1, "the assignment, replayed");
    assert.equal(docs[0].delivery_code, null);
    assert.equal(docs[0].rider_id, people.other.user.id);
    back.close();
  });
});
