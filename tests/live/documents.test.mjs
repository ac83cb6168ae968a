// One order document (issue 11: "defined once"): for an order in every status,
// the document a socket receives in order:changed is the document REST returns,
// field for field, for the admin and for the order's customer alike.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assignRider,
  availableItemIds,
  call,
  connectReady,
  goOnline,
  loginDemo,
  moveOrder,
  placeOrder,
  registerCustomer,
  startBrigade,
} from "./lib/harness.mjs";

const PATHS = {
  pending: [],
  accepted: ["accepted"],
  preparing: ["accepted", "preparing"],
  ready: ["accepted", "preparing", "ready"],
  picked_up: ["accepted", "preparing", "ready", "picked_up"],
  delivered: ["accepted", "preparing", "ready", "picked_up", "delivered"],
  rejected: ["rejected"],
  cancelled: ["cancelled"],
};

describe("the live order document is the REST document", () => {
  let server;
  let admin;
  let rider;
  let customer;
  let adminSocket;
  let customerSocket;
  let item;

  before(async () => {
    server = await startBrigade();
    admin = await loginDemo(server, "admin");
    rider = await loginDemo(server, "rider");
    await goOnline(server, rider.token);
    customer = await registerCustomer(server, "documents");
    [item] = await availableItemIds(server);
    adminSocket = await connectReady(server, { token: admin.token }, { label: "admin" });
    customerSocket = await connectReady(server, { token: customer.token }, { label: "customer" });
  });
  after(async () => {
    adminSocket?.socket.disconnect();
    customerSocket?.socket.disconnect();
    await server?.dispose();
  });

  for (const [status, path] of Object.entries(PATHS)) {
    test(status, async () => {
      const order = await placeOrder(server, customer.token, item, 2);
      let version = order.version;
      for (const next of path) {
        const who = next === "picked_up" || next === "delivered" ? rider : next === "cancelled" ? customer : admin;
        const extra = next === "accepted" ? { prep_minutes: 12 } : next === "rejected" || next === "cancelled" ? { reason: "test" } : {};
        ({ version } = await moveOrder(server, who.token, order.id, next, extra));
        if (next === "accepted" && path.includes("picked_up")) {
          // assigned once accepted, so that the rider may pick it up
          ({ version } = await assignRider(server, admin.token, order.id, rider.user.id));
        }
      }
      const latest = (client) =>
        client
          .named("order:changed")
          .map((e) => e.args[0].order)
          .filter((doc) => doc.id === order.id && doc.version === version);
      await adminSocket.until(() => latest(adminSocket).length > 0, 5000, `order ${order.id} v${version}`);
      await customerSocket.until(() => latest(customerSocket).length > 0, 5000, `order ${order.id} v${version}`);
      const restAdmin = await call(server, "GET", `/api/orders/${order.id}`, { token: admin.token });
      const restCustomer = await call(server, "GET", `/api/orders/${order.id}`, { token: customer.token });
      assert.equal(restAdmin.status, status);
      assert.deepEqual(latest(adminSocket)[0], restAdmin, "admin: live = REST");
      assert.deepEqual(latest(customerSocket)[0], restCustomer, "customer: live = REST");
    });
  }
});
