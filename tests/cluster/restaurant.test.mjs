// The restaurant's rules across nodes (issue 12): three nodes on one PostgreSQL, each with
// its own test clock. A pause set through one node refuses orders on every node and reaches
// sockets on the others as restaurant:changed; orders left unanswered are rejected by the
// servers exactly once although every node's pass runs at the same moment (each rejection
// is a compare-and-set on the order's version); rider offers (auto_offer) are made,
// declined on another node and expired with every node's pass running together, and move
// on once each time.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  api,
  availableItemIds,
  call,
  connectReady,
  createUser,
  login,
  moveOrder,
  placeOrder,
  pool,
  registerCustomer,
} from "../live/lib/harness.mjs";
import { startCluster } from "./lib/cluster.mjs";

let cluster;
let admin;
let itemId;
const sockets = [];

before(async () => {
  cluster = await startCluster({ nodes: 3, nodeArgs: "--test-clock" });
  const a = cluster.node("a");
  admin = await login(a, cluster.accounts.admin.email, cluster.accounts.admin.password);
  [itemId] = await availableItemIds(a);
});

after(async () => {
  for (const s of sockets) s.socket.close();
  await cluster?.down();
});

const advance = (node, ms) => call(node, "POST", "/__test/clock", { body: { advance_ms: ms } });

test("a pause set on one node holds on every node and reaches sockets on the others", async () => {
  const [a, b, c] = ["a", "b", "c"].map((id) => cluster.node(id));
  const customer = await registerCustomer(a);
  const onC = await connectReady(c, { token: customer.token }, { label: "customer on c" });
  sockets.push(onC);
  const patched = await call(a, "PATCH", "/api/restaurant", { token: admin.token, body: { paused: true } });
  await onC.until(
    () => onC.named("restaurant:changed").some((e) => e.args[0].restaurant.version === patched.version),
    10000,
    "the pause on node c",
  );
  const seen = onC.named("restaurant:changed").filter((e) => e.args[0].restaurant.version === patched.version);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].args[0].restaurant.paused_now, true);
  // Checked in the order's own transaction: refused on every node at once.
  for (const node of [a, b, c]) {
    const res = await api(node, "POST", "/api/orders", {
      token: customer.token,
      body: { items: [{ item_id: itemId, quantity: 1 }], delivery: { address: "1 Test Street" } },
    });
    assert.equal(res.status, 409, `node ${node.id}`);
    assert.equal(res.body.error.code, "ordering_paused");
  }
  await call(b, "PATCH", "/api/restaurant", { token: admin.token, body: { paused: false } });
});

test("unanswered orders are rejected once, with every node's pass running together", async () => {
  const nodes = cluster.nodes.map((n) => cluster.node(n.id));
  const settings = await call(nodes[0], "PATCH", "/api/restaurant", { token: admin.token, body: { auto_reject_after_s: 60 } });
  // Every node follows the settings from the change stream: wait until each serves them.
  for (const node of nodes) {
    const r = await call(node, "GET", "/api/restaurant");
    assert.equal(r.version, settings.version);
  }
  const customers = await Promise.all([0, 1, 2].map(() => registerCustomer(nodes[0])));
  const orders = [];
  await pool(12, 4, async (i) => orders.push(await placeOrder(nodes[i % 3], customers[i % 3].token, itemId)));
  // Each node's clock: its own offset. All three move past the limit at once, and each
  // answers once its pass (reading the settings its stream delivered) has finished.
  await Promise.all(nodes.map((node) => advance(node, 61000)));
  // A node whose stream had not yet delivered the setting rejects nothing on this pass; the
  // next move of the clocks gives every node a pass with it.
  await Promise.all(nodes.map((node) => advance(node, 1000)));
  const ids = orders.map((o) => o.id).join(",");
  const rejected = await cluster.psql(
    `SELECT order_id, count(*) FROM order_history WHERE status = 'rejected' AND order_id IN (${ids}) GROUP BY order_id ORDER BY order_id`,
  );
  assert.deepEqual(
    rejected.map(([id, n]) => [Number(id), Number(n)]),
    orders.map((o) => [o.id, 1]).sort((x, y) => x[0] - y[0]),
    "one rejection per order",
  );
  for (const o of orders) {
    const doc = await call(nodes[1], "GET", `/api/orders/${o.id}`, { token: admin.token });
    assert.equal(doc.status, "rejected");
    assert.equal(doc.status_reason, "not_answered");
    assert.equal(doc.history.at(-1).by, null);
  }
  await call(nodes[0], "PATCH", "/api/restaurant", { token: admin.token, body: { auto_reject_after_s: null } });
});

test("rider offers move on once across nodes: offered by every node's pass, declined on another node, expired with every pass at once", async () => {
  const nodes = cluster.nodes.map((n) => cluster.node(n.id));
  const [a, b, c] = nodes;
  // Only this test's riders are online: the demo rider steps out.
  const demoRider = await login(a, cluster.accounts.rider.email, cluster.accounts.rider.password);
  await call(a, "POST", "/api/riders/me/online", { token: demoRider.token, body: { online: false } });
  const settings = await call(a, "PATCH", "/api/restaurant", { token: admin.token, body: { auto_offer: true } });
  for (const node of nodes) {
    const r = await call(node, "GET", "/api/restaurant");
    assert.equal(r.version, settings.version, `node ${node.id} serves auto_offer`);
  }
  // Two riders, online (created in this order: x has the lower id, so x is offered first).
  const x = await createUser(b, admin.token, "rider", "offer-x");
  const y = await createUser(c, admin.token, "rider", "offer-y");
  assert.ok(x.user.id < y.user.id);
  const adminOnC = await connectReady(c, { token: admin.token }, { label: "admin on c" });
  const xOnB = await connectReady(b, { token: x.token }, { label: "rider x on b" });
  const yOnA = await connectReady(a, { token: y.token }, { label: "rider y on a" });
  sockets.push(adminOnC, xOnB, yOnA);
  const customer = await registerCustomer(a);
  const order = await placeOrder(a, customer.token, itemId);
  await moveOrder(b, admin.token, order.id, "accepted", { prep_minutes: 10 });

  // Every node's pass looks for unassigned accepted orders when its clock moves: one offer.
  await Promise.all(nodes.map((node) => advance(node, 1000)));
  const changed = (client, test) => client.named("order:changed").some((e) => e.args[0].order.id === order.id && test(e.args[0].order));
  await xOnB.until(() => changed(xOnB, (o) => o.rider_id === x.user.id), 10000, "the offer reaching rider x on node b");
  const offersToX = await cluster.psql(
    `SELECT count(*) FROM changes WHERE collection = 'orders' AND record_id = ${order.id} AND rider_id = ${x.user.id} AND previous_rider_id IS NULL AND op = 'update'`,
  );
  assert.equal(Number(offersToX[0][0]), 1, "offered to x once, although three passes ran");

  // x declines on node c: the order goes to y at once (auto_offer), seen on node a.
  const declined = await call(c, "POST", `/api/orders/${order.id}/offer`, { token: x.token, body: { accept: false } });
  assert.notEqual(declined.rider_id, x.user.id, "no longer x's");
  assert.deepEqual(declined.declined_rider_ids, [x.user.id]);
  await yOnA.until(() => changed(yOnA, (o) => o.rider_id === y.user.id), 10000, "the offer reaching rider y on node a");

  // y does not answer: every node's clock past the offer's end at once.
  await Promise.all(nodes.map((node) => advance(node, 61000)));
  await Promise.all(nodes.map((node) => advance(node, 1000)));
  const final = await call(b, "GET", `/api/orders/${order.id}`, { token: admin.token });
  assert.equal(final.rider_id, null, "nobody left to offer it to: back on the board");
  assert.deepEqual([...final.declined_rider_ids].sort((p, q) => p - q), [x.user.id, y.user.id]);
  const fromY = await cluster.psql(
    `SELECT count(*) FROM changes WHERE collection = 'orders' AND record_id = ${order.id} AND previous_rider_id = ${y.user.id}`,
  );
  assert.equal(Number(fromY[0][0]), 1, "the expired offer moved on once, although three passes ran");
  // The admin on node c followed it to the end; the riders got the change that took it away.
  await adminOnC.until(() => changed(adminOnC, (o) => o.version === final.version), 10000, "the final version on node c");
  await yOnA.until(() => changed(yOnA, (o) => o.rider_id === null), 10000, "the change taking it from y");
  await call(a, "PATCH", "/api/restaurant", { token: admin.token, body: { auto_offer: false } });
});
