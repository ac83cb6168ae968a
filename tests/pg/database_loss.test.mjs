// A node that loses PostgreSQL (issue 11): it keeps its sockets, answers writes 503
// database_unavailable with Retry-After, reports itself unhealthy on /healthz, and
// recovers by itself when the database returns — the order written after it comes
// back reaches the admin socket that stayed connected all along. Runs its own
// PostgreSQL (scripts/pg.sh) because it stops it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  connect,
  connectReady,
  loginDemo,
  placeOrder,
  registerCustomer,
  repoRoot,
  startBrigade,
  within,
} from "../live/lib/harness.mjs";

const pgScript = path.join(repoRoot, "scripts/pg.sh");
const pg = (...args) => execFileSync("bash", [pgScript, ...args], { encoding: "utf8", timeout: 90000 }).trim();

// Polls `probe` until it returns true, for at most `ms` (a state to reach, not a delay).
async function eventually(probe, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a node that loses PostgreSQL", () => {
  let dir;
  let url;
  let server;
  let admin;
  let customer;
  let itemId;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "brigade-pgloss-"));
    url = pg("start", "--dir", dir).split("\n").pop();
    server = await startBrigade({ args: ["--db", url] });
    const adminSession = await loginDemo(server, "admin");
    admin = await connectReady(server, { token: adminSession.token }, { label: "admin" });
    customer = await registerCustomer(server);
    [itemId] = await availableItemIds(server);
  });

  after(() => {
    admin?.close();
    server?.dispose();
    try {
      pg("stop", "--dir", dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("writes get 503 with Retry-After, /healthz says so, sockets stay, and it all comes back", async () => {
    const before = await placeOrder(server, customer.token, itemId);
    await admin.until(() => admin.named("order:changed").some((e) => e.args[0].order?.id === before.id), 5000, "the first order");

    // A token this node has not seen yet (signed in, never used here).
    const fresh = await registerCustomer(server, "fresh");

    pg("stop", "--dir", dir);
    // The node cannot tell whether the token is valid: 503, never 401 (a client would
    // sign its user out), and a socket is told to come back, not "unauthorized".
    const me = await api(server, "GET", "/api/me", { token: fresh.token });
    assert.equal(me.status, 503, me.text);
    assert.equal(me.body.error.code, "database_unavailable");
    const refused = await connect(server, { token: fresh.token }).then(
      (client) => {
        client.close();
        return null;
      },
      (error) => error,
    );
    assert.equal(refused?.message, "unavailable");
    assert.ok(refused.data?.retry_after_ms > 0);
    const down = await api(server, "POST", "/api/orders", {
      token: customer.token,
      body: { items: [{ item_id: itemId, quantity: 1 }], delivery: { address: "1 Test Street" } },
    });
    assert.equal(down.status, 503, down.text);
    assert.equal(down.body.error.code, "database_unavailable");
    await eventually(async () => (await fetch(`${server.url}/healthz`)).status === 503, 5000, "/healthz 503");
    const health = await fetch(`${server.url}/healthz`);
    assert.ok(Number(health.headers.get("retry-after")) > 0);
    assert.equal((await health.json()).status, "database_unavailable");
    assert.equal(admin.disconnects.length, 0, "the admin socket must stay connected");

    pg("start", "--dir", dir);
    await eventually(async () => (await fetch(`${server.url}/healthz`)).status === 200, 15000, "/healthz 200 again");
    let after;
    await eventually(
      async () => {
        const res = await api(server, "POST", "/api/orders", {
          token: customer.token,
          body: { items: [{ item_id: itemId, quantity: 1 }], delivery: { address: "1 Test Street" } },
        });
        if (res.status === 201) after = res.body;
        else assert.equal(res.status, 503, res.text);
        return res.status === 201;
      },
      10000,
      "an order accepted again",
    );
    await within(
      10000,
      admin.until(() => admin.named("order:changed").some((e) => e.args[0].order?.id === after.id), 10000, "the order after"),
      "the admin receives the order written after the database came back",
    );
    assert.equal(admin.disconnects.length, 0, "the admin socket stayed connected throughout");
  });
});
