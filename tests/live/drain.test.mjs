// SIGTERM drains a node (issue 11, a rolling restart loses nothing): it stops
// accepting, closes its sessions so that clients reconnect (to another node behind a
// balancer: "transport close", never "io server disconnect", after which the stock
// client would not reconnect), answers the writes it has queued and exits 0 within
// 10 s. Every order answered 201 is there after the restart.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { api, availableItemIds, connectReady, loginDemo, registerCustomer, startBrigade } from "./lib/harness.mjs";

describe("SIGTERM drains", () => {
  let server;
  before(async () => {
    server = await startBrigade();
  });
  after(() => server?.dispose());

  test("in-flight orders are answered, sockets are told to reconnect, exit 0 within 10 s", async () => {
    const admin = await loginDemo(server, "admin");
    const socket = await connectReady(server, { token: admin.token }, { label: "admin" });
    const customers = await Promise.all(Array.from({ length: 8 }, (_, i) => registerCustomer(server, `drain${i}`)));
    const [item] = await availableItemIds(server);
    const acknowledged = [];
    const failures = [];
    let stopping = false;
    let sent = 0;
    // 8 customers keep placing orders until the server is gone.
    const workers = customers.map(async (customer) => {
      for (;;) {
        const n = ++sent;
        if (n === 200) stopping = true;
        try {
          const res = await api(server, "POST", "/api/orders", {
            token: customer.token,
            body: { items: [{ item_id: item, quantity: 1 }], delivery: { address: `${n} Drain St` } },
            timeoutMs: 10000,
          });
          if (res.status === 201) acknowledged.push(res.body.id);
          else failures.push(res.status);
        } catch {
          return; // refused or reset: the server has stopped accepting
        }
        if (!server.alive()) return;
      }
    });
    await socket.until(() => stopping, 30000, "200 orders sent");
    const began = Date.now();
    const exit = await server.stop({ signal: "SIGTERM", graceMs: 15000 });
    const took = Date.now() - began;
    await Promise.all(workers);
    console.log(`drained in ${took} ms; ${acknowledged.length} orders acknowledged`);
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}`);
    assert.ok(took < 10000, `took ${took} ms`);
    assert.ok(failures.every((s) => s === 503), `answers other than 201/503: ${failures}`);
    await socket.until(() => socket.disconnects.length > 0, 5000, "the socket's disconnect");
    assert.equal(socket.disconnects[0].reason, "transport close");
    socket.close();

    const again = await server.restart();
    server = again;
    const adminAgain = await loginDemo(again, "admin");
    for (const id of acknowledged) {
      const res = await api(again, "GET", `/api/orders/${id}`, { token: adminAgain.token });
      assert.equal(res.status, 200, `acknowledged order ${id} is missing`);
    }
  });
});
