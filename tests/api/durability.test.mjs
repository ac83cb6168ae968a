// Durability: what was answered 201/200 survives kill -9 of the server and a
// restart on the same data dir (orders, moves, accounts, tokens, idempotency keys,
// the change stream and its epoch); demo data is not created twice.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import {
  demoSessions,
  expectStatus,
  get,
  login,
  moveOk,
  newCustomer,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

test("orders answered 201 survive kill -9 and restart", async () => {
  let server = await startServer();
  const dataDir = server.dataDir;
  try {
    const demo = await demoSessions(server);
    const c = await newCustomer(server);
    const keyed = await post(
      server,
      "/api/orders",
      { items: [{ item_id: 1, quantity: 1 }], delivery: { address: "Key Rd" } },
      { token: c.token, headers: { "Idempotency-Key": "durable-key" } },
    );
    expectStatus(keyed, 201);
    const accepted = await moveOk(server, demo.admin.token, (await placeOrder(server, c.token)).id, "accepted", { prep_minutes: 9 });
    // A burst of orders, the server killed right after the last answer.
    const burst = await Promise.all(Array.from({ length: 20 }, () => placeOrder(server, c.token)));
    const headBefore = (await get(server, "/healthz")).body;
    await server.kill9();

    server = await startServer({ dataDir, db: server.db });
    assert.deepEqual(server.accounts, {}, "no demo accounts on a database that has data");
    const health = (await get(server, "/healthz")).body;
    assert.equal(health.epoch, headBefore.epoch, "same change stream");
    assert.ok(health.last_seq >= headBefore.last_seq);

    // The old token still works (tokens are stored, not in memory).
    for (const o of [keyed.body, accepted, ...burst]) {
      const res = await get(server, `/api/orders/${o.id}`, { token: c.token });
      expectStatus(res, 200);
      assert.deepEqual(res.body, o);
    }
    const list = await get(server, "/api/orders?limit=200", { token: c.token });
    assert.equal(list.body.orders.length, 22);
    // The idempotency key is remembered across the restart.
    const again = await post(
      server,
      "/api/orders",
      { items: [{ item_id: 1, quantity: 1 }], delivery: { address: "Key Rd" } },
      { token: c.token, headers: { "Idempotency-Key": "durable-key" } },
    );
    expectStatus(again, 200);
    assert.equal(again.body.id, keyed.body.id);
    // Accounts and the menu are still there; demo passwords still sign in.
    await login(server, c.email, c.password);
    await login(server, demo.admin.email, demo.admin.password);
    const menu = (await get(server, "/api/menu")).body;
    assert.equal(menu.categories.length, 5);
    // The change stream holds every order insert.
    const changes = (await get(server, "/api/changes?after=0&limit=1000", { token: demo.admin.token })).body;
    const inserted = new Set(changes.changes.filter((x) => x.collection === "orders" && x.op === "insert").map((x) => x.id));
    for (const o of burst) assert.ok(inserted.has(o.id));
    // And it goes on working.
    const next = await placeOrder(server, c.token);
    assert.ok(next.id > Math.max(...burst.map((o) => o.id)));
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
