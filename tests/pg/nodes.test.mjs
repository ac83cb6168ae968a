// Two nodes on one PostgreSQL (issue 11): what is not a database change still crosses
// nodes — a rider on node A shares a position that the customer and the admin on node B
// receive; a logout on node B closes that token's socket on node A at once (not at the
// next 30 s recheck) and node A refuses the token over REST — and one Idempotency-Key sent
// to both nodes at once makes one order; failed sign-ins on one node count on the other. Every order change reaches the admin on the
// other node, in seq order.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  api,
  assignRider,
  availableItemIds,
  connectReady,
  goOnline,
  loginDemo,
  moveOrder,
  placeOrder,
  registerCustomer,
  brigadeBinary,
  repoRoot,
  startBrigade,
} from "../live/lib/harness.mjs";

const pgScript = path.join(repoRoot, "scripts/pg.sh");
const pg = (...args) => execFileSync("bash", [pgScript, ...args], { encoding: "utf8", timeout: 90000 }).trim();

describe("two nodes on one PostgreSQL", () => {
  let dir;
  let url;
  let a;
  let b;
  const sockets = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "brigade-pgnodes-"));
    url = pg("start", "--dir", dir).split("\n").pop();
    a = await startBrigade({ args: ["--db", url, "--node-id", "a"] });
    b = await startBrigade({ args: ["--db", url, "--node-id", "b", "--no-demo"], accounts: a.accounts });
  });

  after(() => {
    for (const s of sockets) s.close();
    a?.dispose();
    b?.dispose();
    try {
      pg("stop", "--dir", dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const open = async (server, token, label) => {
    const s = await connectReady(server, { token }, { label });
    sockets.push(s);
    return s;
  };

  test("a rider's position on node A reaches the customer and the admin on node B", async () => {
    const admin = await loginDemo(a, "admin");
    const rider = await loginDemo(a, "rider");
    await goOnline(a, rider.token);
    const customer = await registerCustomer(b, "far");
    const [item] = await availableItemIds(a);
    const order = await placeOrder(b, customer.token, item);
    await moveOrder(a, admin.token, order.id, "accepted");
    await assignRider(a, admin.token, order.id, rider.user.id);
    await moveOrder(b, admin.token, order.id, "preparing");
    await moveOrder(a, admin.token, order.id, "ready");
    await moveOrder(a, rider.token, order.id, "picked_up");
    const adminOnB = await open(b, admin.token, "admin@b");
    const customerOnB = await open(b, customer.token, "customer@b");
    const riderOnA = await open(a, rider.token, "rider@a");
    const ack = await riderOnA.emitWithAck("rider:location", { lat: 37.5665, lng: 126.978 });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    for (const s of [adminOnB, customerOnB]) {
      await s.until(
        () => s.named("rider:location").some((e) => e.args[0].order_id === order.id && e.args[0].lat === 37.5665),
        5000,
        "the rider's position from node A",
      );
    }
    const seen = customerOnB.named("rider:location").find((e) => e.args[0].order_id === order.id).args[0];
    assert.deepEqual(
      { rider_id: seen.rider_id, lat: seen.lat, lng: seen.lng },
      { rider_id: rider.user.id, lat: 37.5665, lng: 126.978 },
    );
    // Exactly once on node B (relayed there from the signal, not also from anywhere else).
    assert.equal(customerOnB.named("rider:location").filter((e) => e.args[0].lat === 37.5665).length, 1);
  });

  test("a logout on node B closes the token's socket on node A and node A refuses the token", async () => {
    const customer = await registerCustomer(a, "leaving");
    const onA = await open(a, customer.token, "leaving@a");
    assert.equal((await api(a, "GET", "/api/me", { token: customer.token })).status, 200); // cached on A
    const out = await api(b, "POST", "/api/auth/logout", { token: customer.token });
    assert.equal(out.status, 204, out.text);
    await onA.until(() => onA.disconnects.length > 0, 5000, "disconnected on node A");
    assert.equal((await api(a, "GET", "/api/me", { token: customer.token })).status, 401);
  });

  test("failed sign-ins on node B count on node A", async () => {
    const victim = await registerCustomer(a, "victim");
    const email = victim.user.email;
    // A barrier: a socket on A whose token B revokes after the failures. Signals from one
    // node arrive in the order it sent them, so once A has closed it, A has counted them.
    const marker = await registerCustomer(a, "marker");
    const markerOnA = await open(a, marker.token, "marker@a");
    for (let i = 0; i < 5; i++) {
      const res = await api(b, "POST", "/api/auth/login", { body: { email, password: "wrong-password-1" } });
      assert.equal(res.status, 401, res.text);
    }
    assert.equal((await api(b, "POST", "/api/auth/logout", { token: marker.token })).status, 204);
    await markerOnA.until(() => markerOnA.disconnects.length > 0, 5000, "node A has B's signals");
    const res = await api(a, "POST", "/api/auth/login", { body: { email, password: "password-123" } });
    assert.equal(res.status, 429, `node A let a sixth attempt through: ${res.text}`);
  });

  test("sign-ups on node D count on node C: --register-limit holds across nodes", async () => {
    // Registered before C and D exist, so it counts on neither (A's limit is not reached).
    const marker = await registerCustomer(a, "signup-marker");
    const limited = ["--db", url, "--no-demo", "--register-limit", "3"];
    const c = await startBrigade({ args: [...limited, "--node-id", "c"], accounts: a.accounts });
    const d = await startBrigade({ args: [...limited, "--node-id", "d"], accounts: a.accounts });
    try {
      const markerOnC = await open(c, marker.token, "marker@c");
      await registerCustomer(c, "signup-c1");
      await registerCustomer(c, "signup-c2");
      await registerCustomer(d, "signup-d1");
      // The barrier of the test above: once C has closed the socket D signed out, C has
      // every signal D sent before.
      assert.equal((await api(d, "POST", "/api/auth/logout", { token: marker.token })).status, 204);
      await markerOnC.until(() => markerOnC.disconnects.length > 0, 5000, "node C has D's signals");
      const res = await api(c, "POST", "/api/auth/register", {
        body: { email: "signup-fourth@test.local", password: "password-123", name: "Fourth" },
      });
      assert.equal(res.status, 429, `node C let a fourth sign-up from one address through: ${res.text}`);
    } finally {
      c.dispose();
      d.dispose();
    }
  });

  test("one Idempotency-Key sent to both nodes at once makes one order", async () => {
    const customer = await registerCustomer(a, "twice");
    const [item] = await availableItemIds(a);
    for (let round = 0; round < 5; round++) {
      const send = (server) =>
        fetch(`${server.url}/api/orders`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${customer.token}`,
            "content-type": "application/json",
            "idempotency-key": `same-${round}`,
          },
          body: JSON.stringify({ items: [{ item_id: item, quantity: 1 }], delivery: { address: "1 Test Street" } }),
          signal: AbortSignal.timeout(10000),
        }).then(async (res) => ({ status: res.status, body: await res.json() }));
      const answers = await Promise.all([send(a), send(b), send(a), send(b)]);
      for (const r of answers) assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r));
      assert.equal(new Set(answers.map((r) => r.body.id)).size, 1, JSON.stringify(answers));
    }
    const mine = await api(b, "GET", "/api/orders", { token: customer.token });
    assert.equal(mine.body.orders?.length ?? mine.body.length, 5);
  });

  // Last: it changes the stream every later test would read.
  test("`brigade restore --db URL --new-epoch` (after pg_restore): both nodes switch, their sockets resync", async () => {
    const admin = await loginDemo(a, "admin");
    const onA = await open(a, admin.token, "admin on A");
    const onB = await open(b, admin.token, "admin on B");
    const old = (await api(a, "GET", "/healthz")).body.epoch;
    const refused = (() => {
      try {
        execFileSync(brigadeBinary(), ["restore", "--db", url], { encoding: "utf8", stdio: "pipe", timeout: 30000 });
        return null;
      } catch (e) {
        return e;
      }
    })();
    assert.equal(refused?.status, 2, "without --new-epoch it says what to do");
    assert.match(refused.stderr, /pg_restore/);
    const out = execFileSync(brigadeBinary(), ["restore", "--db", url, "--new-epoch"], { encoding: "utf8", timeout: 30000 });
    const epoch = JSON.parse(out.trim()).restore.epoch;
    assert.ok(epoch && epoch !== old);
    for (const s of [onA, onB]) await s.until(() => s.named("resync").length > 0, 10000, `${s.label} resyncs`);
    for (const node of [a, b]) assert.equal((await api(node, "GET", "/healthz")).body.epoch, epoch);
  });
});
