// Live connections follow what happens to their token and user after the
// handshake: an expired token ends the socket, a role changed (here by another
// program, with the sqlite3 shell) moves the socket to the new role's rooms. The
// servers run on a test clock: token lifetimes, the caller cache and the recheck
// period pass by moving it, and POST /__test/clock answers once the recheck is done.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  connectReady,
  connectRefused,
  loginDemo,
  menuBarrier,
  moveOrder,
  placeOrder,
  registerCustomer,
  sqlite,
  startBrigade,
} from "./lib/harness.mjs";

describe("sockets are checked again after the handshake", () => {
  const servers = [];
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.dispose();
  });

  test("an expired token is refused over REST and its socket is disconnected", async () => {
    const server = await startBrigade({ args: ["--test-clock", "--token-ttl", "60", "--socket-recheck", "30"] });
    servers.push(server);
    const admin = await loginDemo(server, "admin");
    assert.equal((await api(server, "GET", "/api/me", { token: admin.token })).status, 200);
    const socket = await connectReady(server, { token: admin.token }, { label: "admin" });
    clients.push(socket);
    await server.advanceClock(30000); // a recheck, the token still valid
    const other = await loginDemo(server, "admin");
    await menuBarrier(server, other.token, [socket]);
    assert.equal(socket.disconnects.length, 0, "disconnected before the token expired");
    await server.advanceClock(30000); // the token's 60 s are over, and the next recheck is due
    await socket.until(() => socket.disconnects.length === 1, 5000, "the disconnection");
    assert.equal(socket.disconnects[0].reason, "io server disconnect");
    const me = await api(server, "GET", "/api/me", { token: admin.token });
    assert.equal(me.status, 401);
    const refused = await connectRefused(server, { token: admin.token });
    assert.equal(refused.message, "unauthorized");
    // A fresh sign-in works again.
    const again = await loginDemo(server, "admin");
    assert.equal((await api(server, "GET", "/api/me", { token: again.token })).status, 200);
  });

  test("a role changed in the database moves the socket out of its old rooms", async () => {
    const server = await startBrigade({ args: ["--test-clock", "--socket-recheck", "30"] });
    servers.push(server);
    const admin = await loginDemo(server, "admin");
    const customer = await registerCustomer(server, "turncoat");
    const [item] = await availableItemIds(server);
    const order = await placeOrder(server, customer.token, item);
    const socket = await connectReady(server, { token: customer.token }, { label: "customer" });
    clients.push(socket);
    await moveOrder(server, admin.token, order.id, "accepted");
    await socket.until(() => socket.named("order:changed").length === 1, 3000, "the first move");

    await sqlite(server.dbPath, `UPDATE users SET role = 'rider' WHERE id = ${customer.user.id};`);
    // Past the caller cache (5 s) and to the next recheck, which has moved the socket
    // when the clock's answer comes.
    await server.advanceClock(30000);
    await moveOrder(server, admin.token, order.id, "preparing");
    await menuBarrier(server, admin.token, [socket]);
    assert.equal(socket.named("order:changed").length, 1, "no change after leaving the customer room");
    assert.equal(socket.disconnects.length, 0, "the socket stays connected");
  });
});
