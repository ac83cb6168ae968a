// The stock client's own connection state recovery: no auth.offset, a short
// transport drop, automatic reconnection with the pid/offset the client keeps;
// `socket.recovered` is true and what was emitted during the drop is delivered.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  availableItemIds,
  call,
  connect,
  loginDemo,
  placeOrder,
  registerCustomer,
  within,
  startBrigade,
} from "./lib/harness.mjs";

// Resolves once the client's Engine.IO connection runs on WebSocket.
function upgraded(socket, ms = 5000) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return within(ms, new Promise((resolve) => engine.once("upgrade", resolve)), "the upgrade to WebSocket");
}

describe("stock connection state recovery", () => {
  let server;
  let admin;
  let customer;
  let items;
  const clients = [];

  before(async () => {
    server = await startBrigade();
    admin = await loginDemo(server, "admin");
    customer = await registerCustomer(server, "c");
    items = await availableItemIds(server);
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  let price = 900;
  const touchMenu = () =>
    call(server, "PATCH", `/api/menu/items/${items[1]}`, { token: admin.token, body: { price_cents: ++price } });

  for (const transports of [["websocket"], ["polling", "websocket"]]) {
    test(`after engine.close() (${transports.join("+")}) the socket is recovered with what it missed`, async () => {
      const options = { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300, transports };
      const adminClient = await connect(server, { token: admin.token }, { label: "admin", ...options });
      const customerClient = await connect(server, { token: customer.token }, { label: "customer", ...options });
      clients.push(adminClient, customerClient);
      for (const c of [adminClient, customerClient]) {
        await c.ready(1);
        assert.equal(c.socket.recovered, false, `${c.label}: a first connection is not recovered`);
      }
      if (transports.length > 1) {
        // The drop below closes the WebSocket the client upgraded to.
        await Promise.all([adminClient, customerClient].map((c) => upgraded(c.socket)));
      }

      // Something before the drop, so the client has an offset.
      const before = await touchMenu();
      for (const c of [adminClient, customerClient]) {
        await c.until(
          () => c.named("menu:changed").some((e) => e.args[0].item.price_cents === before.price_cents),
          3000,
          "the change before the drop",
        );
      }
      const seenBefore = {
        admin: adminClient.streamSeqs(),
        customer: customerClient.streamSeqs(),
      };

      // The drop: the transport closes; the client reconnects on its own after ~300 ms.
      adminClient.socket.io.engine.close();
      customerClient.socket.io.engine.close();
      // Whether the server has seen the close before these changes or not, each must
      // arrive once (replayed, or sent before the drop and recovered from the offset).
      const during = [await touchMenu(), await placeOrder(server, customer.token, items[0])];
      const menuDuring = during[0];
      const orderDuring = during[1];

      for (const c of [adminClient, customerClient]) {
        await c.until(() => c.connections === 2, 5000, "the automatic reconnection");
        assert.equal(c.disconnects.length, 1);
        assert.equal(c.disconnects[0].reason, "forced close"); // the client closed its transport
        assert.equal(c.socket.recovered, true, `${c.label}: socket.recovered after a short drop`);
      }

      // What was emitted during the drop arrives, once, in order.
      await adminClient.until(
        () =>
          adminClient.named("order:changed").some((e) => e.args[0].order.id === orderDuring.id) &&
          adminClient.named("alert").some((e) => e.args[0].order_id === orderDuring.id),
        5000,
        "the order and alert emitted during the drop",
      );
      await customerClient.until(
        () => customerClient.named("order:changed").some((e) => e.args[0].order.id === orderDuring.id),
        5000,
        "the order emitted during the drop",
      );
      // And live events go on.
      const afterwards = await touchMenu();
      for (const c of [adminClient, customerClient]) {
        await c.until(
          () => c.named("menu:changed").some((e) => e.args[0].item.price_cents === afterwards.price_cents),
          3000,
          "a live change after recovery",
        );
      }
      // `afterwards` is the barrier: the replay comes before live events, so a duplicate
      // of anything earlier would have arrived before it.
      for (const c of [adminClient, customerClient]) {
        const seqs = c.streamSeqs();
        const prior = seenBefore[c === adminClient ? "admin" : "customer"];
        assert.deepEqual(seqs.slice(0, prior.length), prior);
        const later = seqs.slice(prior.length);
        const menu = c.named("menu:changed").map((e) => e.args[0].item.price_cents);
        assert.deepEqual(
          menu.slice(-2),
          [menuDuring.price_cents, afterwards.price_cents],
          `${c.label}: menu changes during and after the drop`,
        );
        assert.equal(new Set(seqs).size, seqs.length, `${c.label}: no duplicate`);
        for (let i = 1; i < later.length; ++i) assert.ok(later[i] > later[i - 1], `${c.label}: in order`);
        assert.equal(
          c.named("order:changed").filter((e) => e.args[0].order.id === orderDuring.id).length,
          1,
          `${c.label}: the order emitted during the drop, once`,
        );
        assert.equal(c.named("resync").length, 0);
      }
      assert.equal(adminClient.named("alert").filter((e) => e.args[0].order_id === orderDuring.id).length, 1);
      adminClient.close();
      customerClient.close();
    });
  }

  test("a pid from another user's socket is not recovered", async () => {
    const options = { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200 };
    const victim = await connect(server, { token: customer.token }, { label: "victim", ...options });
    clients.push(victim);
    await victim.ready(1);
    await touchMenu();
    await victim.until(() => victim.named("menu:changed").length > 0, 3000, "a change");
    const pid = victim.socket._pid;
    assert.equal(typeof pid, "string", "the server gave the client a pid (recovery on)");
    victim.socket.io.engine.close(); // the victim's session is now recoverable for a while
    const other = await registerCustomer(server, "thief");
    const thief = await connect(
      server,
      { token: other.token, pid, offset: "0" },
      { label: "thief" },
    );
    clients.push(thief);
    await thief.ready(1);
    assert.equal(thief.socket.recovered, false, "another user must not take over a session");
    await victim.until(() => victim.connections === 2, 5000, "the victim's reconnection");
  });
});
