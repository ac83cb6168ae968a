// Socket authentication: refused handshakes, and logout disconnecting exactly the
// sockets opened with the revoked token.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  call,
  connectReady,
  connectRefused,
  login,
  loginDemo,
  registerCustomer,
  menuBarrier,
  startBrigade,
} from "./lib/harness.mjs";

describe("socket authentication", () => {
  let server;
  let admin;
  let items;
  const clients = [];

  before(async () => {
    server = await startBrigade();
    admin = await loginDemo(server, "admin");
    items = await availableItemIds(server);
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  for (const [what, auth] of [
    ["no auth", undefined],
    ["no token", {}],
    ["an empty token", { token: "" }],
    ["an unknown token", { token: "not-a-real-token" }],
    ["a token that is not a string", { token: 12345 }],
    ["a very long token", { token: "x".repeat(10000) }],
  ]) {
    test(`${what} is refused with connect_error "unauthorized"`, async () => {
      const error = await connectRefused(server, auth);
      assert.equal(error.message, "unauthorized");
    });
  }

  test("logout disconnects the sockets of that token, and only those", async () => {
    const customer = await registerCustomer(server, "leaving");
    const second = await login(server, customer.user.email, "password-123"); // another session
    const bystander = await registerCustomer(server, "staying");
    const sockets = {
      a: await connectReady(server, { token: customer.token }, { label: "logged-out token #1" }),
      b: await connectReady(server, { token: customer.token }, { label: "logged-out token #2" }),
      sameUser: await connectReady(server, { token: second.token }, { label: "same user, other token" }),
      other: await connectReady(server, { token: bystander.token }, { label: "other customer" }),
      admin: await connectReady(server, { token: admin.token }, { label: "admin" }),
    };
    clients.push(...Object.values(sockets));

    const res = await api(server, "POST", "/api/auth/logout", { token: customer.token });
    assert.equal(res.status, 204);
    for (const s of [sockets.a, sockets.b]) {
      await s.until(() => s.disconnects.length === 1, 2000, "the disconnection");
      assert.equal(s.disconnects[0].reason, "io server disconnect");
      assert.equal(s.socket.connected, false);
    }
    // The others stay connected and keep receiving events.
    const item = await call(server, "PATCH", `/api/menu/items/${items[0]}`, {
      token: admin.token,
      body: { price_cents: 4321 },
    });
    for (const s of [sockets.sameUser, sockets.other, sockets.admin]) {
      await s.until(
        () => s.named("menu:changed").some((e) => e.args[0].item.price_cents === item.price_cents),
        3000,
        "a change after the logout",
      );
      assert.equal(s.disconnects.length, 0, `${s.label} was disconnected`);
      assert.equal(s.socket.connected, true);
    }
    // a and b were disconnected before the change (asserted above): nothing can follow.
    for (const s of [sockets.a, sockets.b]) {
      assert.equal(s.named("menu:changed").length, 0, `${s.label} got an event after the logout`);
    }
    // The revoked token no longer opens a socket.
    const error = await connectRefused(server, { token: customer.token });
    assert.equal(error.message, "unauthorized");
  });

  test("an admin's logout disconnects the admin socket; a customer's socket stays", async () => {
    const staff = await login(server, server.accounts.admin.email, server.accounts.admin.password);
    const customer = await registerCustomer(server, "c");
    const adminSocket = await connectReady(server, { token: staff.token }, { label: "admin" });
    const customerSocket = await connectReady(server, { token: customer.token }, { label: "customer" });
    clients.push(adminSocket, customerSocket);
    assert.equal((await api(server, "POST", "/api/auth/logout", { token: staff.token })).status, 204);
    await adminSocket.until(() => adminSocket.disconnects.length === 1, 2000, "the disconnection");
    assert.equal(adminSocket.disconnects[0].reason, "io server disconnect");
    // A change after the logout reaches the customer: a disconnection would have come first.
    await menuBarrier(server, admin.token, [customerSocket]);
    assert.equal(customerSocket.disconnects.length, 0);
    assert.equal(customerSocket.socket.connected, true);
  });
});
