// The order life cycle, exhaustively: every status × every target status × every
// actor (admin, the owner, another customer, the assigned rider, another rider).
// Legal moves answer 200 and append to history; a wrong role is 403; an illegal
// move for the right role is 409 illegal_transition; an order the actor may not
// see is 404; refused moves change nothing (same version, status, history).
// Then reasons, prep minutes, if_version, assignment and reassignment.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assign,
  demoSessions,
  expectError,
  expectStatus,
  get,
  move,
  moveOk,
  newCustomer,
  newRider,
  orderAt,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

const STATUSES = ["pending", "accepted", "preparing", "ready", "picked_up", "delivered", "rejected", "cancelled"];

// The contract's life cycle (PRODUCT.md): [from, to, role].
const MOVES = [
  ["pending", "accepted", "admin"],
  ["pending", "rejected", "admin"],
  ["pending", "cancelled", "admin"],
  ["accepted", "cancelled", "admin"],
  ["preparing", "cancelled", "admin"],
  ["ready", "cancelled", "admin"],
  ["accepted", "preparing", "admin"],
  ["preparing", "ready", "admin"],
  ["pending", "cancelled", "customer"],
  ["ready", "picked_up", "rider"],
  ["picked_up", "delivered", "rider"],
  // An extension (docs/API.md, "Proof of delivery"): staff confirm a delivery, with a reason.
  ["picked_up", "delivered", "admin"],
];

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let server;
let admin;
let owner;
let other;
let rider;
let otherRider;
let actors;
before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  owner = await newCustomer(server, "Owner");
  other = await newCustomer(server, "Other");
  rider = await newRider(server, admin.token);
  otherRider = await newRider(server, admin.token);
  actors = {
    admin: { session: admin, role: "admin" },
    owner: { session: owner, role: "customer" },
    "other customer": { session: other, role: "customer" },
    "assigned rider": { session: rider, role: "rider" },
    "other rider": { session: otherRider, role: "rider" },
  };
});
after(async () => {
  await server?.stop();
});

// The order variants: a status, whether a rider is assigned, how it got there.
const VARIANTS = [
  { name: "pending", status: "pending", withRider: false },
  { name: "accepted", status: "accepted", withRider: false },
  { name: "accepted+rider", status: "accepted", withRider: true },
  { name: "preparing+rider", status: "preparing", withRider: true },
  { name: "ready", status: "ready", withRider: false },
  { name: "ready+rider", status: "ready", withRider: true },
  { name: "picked_up", status: "picked_up", withRider: true },
  { name: "delivered", status: "delivered", withRider: true },
  { name: "rejected", status: "rejected", withRider: false },
  { name: "cancelled (by customer while pending)", status: "cancelled", withRider: false, cancelledFrom: "pending" },
  { name: "cancelled (by admin when ready, rider assigned)", status: "cancelled", withRider: true, cancelledFrom: "ready" },
];

// The order as the staff see it (the last move may have been a rider's, whose answer has no
// delivery code).
async function build(variant) {
  const o = await orderAt(server, {
    admin,
    customer: owner,
    rider: variant.withRider ? rider : undefined,
    status: variant.status,
    cancelledFrom: variant.cancelledFrom,
  });
  return snapshot(o.id);
}

function expected(variant, actorName, target) {
  const actor = actors[actorName];
  const visible =
    actorName === "admin" || actorName === "owner" || (actorName === "assigned rider" && variant.withRider);
  if (!visible) return 404;
  if (!MOVES.some(([, to, role]) => to === target && role === actor.role)) return 403;
  if (MOVES.some(([from, to, role]) => from === variant.status && to === target && role === actor.role)) return 200;
  return 409;
}

function bodyFor(target) {
  const body = { status: target };
  if (target === "rejected") body.reason = "out of stock";
  if (target === "cancelled") body.reason = "no longer needed";
  if (target === "accepted") body.prep_minutes = 25;
  if (target === "delivered") body.reason = "the customer confirmed by phone"; // staff only
  return body;
}

async function snapshot(id) {
  const res = await get(server, `/api/orders/${id}`, { token: admin.token });
  expectStatus(res, 200);
  return res.body;
}

describe("every status × every target × every actor", () => {
  for (const variant of VARIANTS) {
    test(variant.name, async () => {
      const shared = await build(variant);
      assert.equal(shared.status, variant.status);
      assert.equal(shared.rider_id !== null, variant.withRider, "rider assigned as planned");
      const mismatches = [];
      let legal = 0;
      for (const target of STATUSES) {
        for (const actorName of Object.keys(actors)) {
          const want = expected(variant, actorName, target);
          const { session, role: actorRole } = actors[actorName];
          const actor = { role: actorRole };
          const label = `${variant.name} → ${target} by ${actorName}`;
          if (want === 200) {
            legal += 1;
            const fresh = await build(variant);
            const res = await move(server, session.token, fresh.id, target, bodyFor(target));
            if (res.status !== 200) {
              mismatches.push(`${label}: expected 200, got ${res.status} ${res.text}`);
              continue;
            }
            const o = res.body;
            assert.equal(o.id, fresh.id);
            assert.equal(o.status, target, label);
            assert.equal(o.version, fresh.version + 1, `${label}: version +1`);
            assert.equal(o.history.length, fresh.history.length + 1, `${label}: history grows by one`);
            assert.deepEqual(o.history.slice(0, -1), fresh.history, `${label}: history is appended to`);
            const last = o.history.at(-1);
            assert.deepEqual(Object.keys(last).sort(), ["at", "by", "status"]);
            assert.equal(last.status, target);
            assert.equal(last.by, session.user.id, `${label}: history names the actor`);
            assert.match(last.at, RFC3339_UTC);
            assert.ok(last.at >= fresh.history.at(-1).at, "history is in time order");
            assert.equal(o.updated_at >= fresh.updated_at, true);
            if (target === "rejected" || target === "cancelled") assert.equal(o.status_reason, bodyFor(target).reason);
            if (target === "accepted") assert.equal(o.prep_minutes, 25);
            if (target === "delivered") {
              assert.equal(o.status_reason, actor.role === "admin" ? bodyFor(target).reason : null);
            }
            // A rider's answer never holds the delivery code; the staff's GET does.
            const seen = await snapshot(fresh.id);
            if (actor.role === "rider") {
              assert.equal(o.delivery_code, null, `${label}: no code for the rider`);
              assert.match(seen.delivery_code, /^\d{4}$/);
              seen.delivery_code = null;
            }
            assert.deepEqual(seen, o, `${label}: GET shows the move`);
          } else {
            const res = await move(server, session.token, shared.id, target, bodyFor(target));
            if (res.status !== want) {
              mismatches.push(`${label}: expected ${want}, got ${res.status} ${res.text}`);
            } else {
              const code = { 403: "forbidden", 404: "not_found", 409: "illegal_transition" }[want];
              expectError(res, want, code);
            }
            assert.deepEqual(await snapshot(shared.id), shared, `${label}: the order is unchanged`);
          }
        }
      }
      assert.deepEqual(mismatches, []);
      // Every variant except the terminal ones allows at least one move to someone.
      if (!["delivered", "rejected", "cancelled"].includes(variant.status)) assert.ok(legal > 0);
    });
  }
});

describe("moves in detail", () => {
  test("the full happy path: history records every move {status, at, by} in order", async () => {
    const o = await placeOrder(server, owner.token);
    assert.equal(o.status, "pending");
    assert.equal(o.version, 1);
    assert.equal(o.history.length, 1);
    assert.equal(o.history[0].status, "pending");
    assert.equal(o.history[0].by, owner.user.id);
    assert.match(o.history[0].at, RFC3339_UTC);
    assert.match(o.created_at, RFC3339_UTC);
    await moveOk(server, admin.token, o.id, "accepted", { prep_minutes: 12 });
    expectStatus(await assign(server, admin.token, o.id, rider.user.id), 200);
    await moveOk(server, admin.token, o.id, "preparing");
    await moveOk(server, admin.token, o.id, "ready");
    await moveOk(server, rider.token, o.id, "picked_up");
    const done = await moveOk(server, rider.token, o.id, "delivered");
    assert.deepEqual(
      done.history.map((h) => [h.status, h.by]),
      [
        ["pending", owner.user.id],
        ["accepted", admin.user.id],
        ["preparing", admin.user.id],
        ["ready", admin.user.id],
        ["picked_up", rider.user.id],
        ["delivered", rider.user.id],
      ],
    );
    const times = done.history.map((h) => h.at);
    assert.deepEqual([...times].sort(), times, "history times never go back");
    assert.equal(done.prep_minutes, 12);
    assert.equal(done.rider_id, rider.user.id);
    assert.equal(done.status_reason, null);
    // version: insert 1, accept, assign, preparing, ready, picked_up, delivered.
    assert.equal(done.version, 7);
  });

  test("reject requires a reason (422 field reason); the reason becomes status_reason", async () => {
    const o = await placeOrder(server, owner.token);
    for (const extra of [{}, { reason: "" }, { reason: "   " }, { reason: null }]) {
      expectError(await move(server, admin.token, o.id, "rejected", extra), 422, "invalid", "reason");
    }
    assert.deepEqual(await snapshot(o.id), o);
    const rejected = await moveOk(server, admin.token, o.id, "rejected", { reason: "  kitchen closed " });
    assert.equal(rejected.status, "rejected");
    assert.equal(rejected.status_reason, "kitchen closed");
  });

  test("cancel takes an optional reason; without one status_reason stays null", async () => {
    const a = await placeOrder(server, owner.token);
    const cancelled = await moveOk(server, owner.token, a.id, "cancelled");
    assert.equal(cancelled.status_reason, null);
    assert.equal(cancelled.history.at(-1).by, owner.user.id);
    const b = await orderAt(server, { admin, customer: owner, status: "preparing" });
    const byAdmin = await moveOk(server, admin.token, b.id, "cancelled", { reason: "no driver" });
    assert.equal(byAdmin.status_reason, "no driver");
  });

  test("prep_minutes is set on accept and may be updated when preparing; ignored elsewhere", async () => {
    const o = await placeOrder(server, owner.token);
    assert.equal(o.prep_minutes, null);
    let m = await moveOk(server, admin.token, o.id, "accepted", { prep_minutes: 30 });
    assert.equal(m.prep_minutes, 30);
    m = await moveOk(server, admin.token, o.id, "preparing", { prep_minutes: 40 });
    assert.equal(m.prep_minutes, 40);
    m = await moveOk(server, admin.token, o.id, "ready", { prep_minutes: 50 });
    assert.equal(m.prep_minutes, 40);
  });

  test("if_version: a stale version → 409, unchanged; the current one succeeds", async () => {
    const o = await placeOrder(server, owner.token);
    for (const v of [0, o.version + 1, o.version + 100]) {
      expectError(await move(server, admin.token, o.id, "accepted", { if_version: v }), 409, "version_conflict");
    }
    assert.deepEqual(await snapshot(o.id), o);
    const m = await moveOk(server, admin.token, o.id, "accepted", { if_version: o.version });
    expectError(await move(server, admin.token, o.id, "preparing", { if_version: o.version }), 409, "version_conflict");
    await moveOk(server, admin.token, o.id, "preparing", { if_version: m.version });
  });

  test("if_version does not reveal orders: another customer with a stale version still gets 404", async () => {
    const o = await placeOrder(server, owner.token);
    expectError(await move(server, other.token, o.id, "cancelled", { if_version: 99 }), 404, "not_found");
    expectError(await move(server, otherRider.token, o.id, "picked_up", { if_version: 99 }), 404, "not_found");
    // The wrong role with a stale version is still 403.
    expectError(await move(server, owner.token, o.id, "accepted", { if_version: 99 }), 403, "forbidden");
    assert.deepEqual(await snapshot(o.id), o);
  });

  test("concurrent accepts with the same if_version: exactly one wins", async () => {
    const o = await placeOrder(server, owner.token);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => move(server, admin.token, o.id, "accepted", { if_version: o.version })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
    const now = await snapshot(o.id);
    assert.equal(now.version, o.version + 1);
    assert.equal(now.history.length, 2);
  });

  test("concurrent moves without if_version: the life cycle still holds (one accept)", async () => {
    const o = await placeOrder(server, owner.token);
    const results = await Promise.all(Array.from({ length: 6 }, () => move(server, admin.token, o.id, "accepted")));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    for (const r of results.filter((r) => r.status !== 200)) expectError(r, 409, "illegal_transition");
    assert.equal((await snapshot(o.id)).history.length, 2);
  });
});

describe("assign", () => {
  test("allowed from accepted, preparing and ready; 409 from every other status; unchanged when refused", async () => {
    for (const variant of VARIANTS) {
      const o = await build(variant);
      const res = await assign(server, admin.token, o.id, otherRider.user.id);
      if (["accepted", "preparing", "ready"].includes(variant.status)) {
        expectStatus(res, 200, variant.name);
        assert.equal(res.body.rider_id, otherRider.user.id);
        assert.equal(res.body.status, variant.status, "assigning does not move the status");
        assert.equal(res.body.version, o.version + 1);
        assert.deepEqual(res.body.history, o.history, "assigning is not a status move");
      } else {
        expectError(res, 409, undefined);
        assert.deepEqual(await snapshot(o.id), o, variant.name);
      }
    }
  });

  test("the rider must exist and be a rider (422 rider_id) and be online (409 rider_offline)", async () => {
    const o = await orderAt(server, { admin, customer: owner, status: "accepted" });
    expectError(await assign(server, admin.token, o.id, 987654), 422, "invalid", "rider_id");
    expectError(await assign(server, admin.token, o.id, owner.user.id), 422, "invalid", "rider_id");
    const offline = await newRider(server, admin.token, { online: false });
    expectError(await assign(server, admin.token, o.id, offline.user.id), 409, "rider_offline");
    expectStatus(await post(server, "/api/riders/me/online", { online: true }, { token: offline.token }), 200);
    expectStatus(await assign(server, admin.token, o.id, offline.user.id), 200);
    expectStatus(await post(server, "/api/riders/me/online", { online: false }, { token: offline.token }), 200);
    const o2 = await orderAt(server, { admin, customer: owner, status: "accepted" });
    expectError(await assign(server, admin.token, o2.id, offline.user.id), 409, "rider_offline");
    assert.equal((await snapshot(o2.id)).rider_id, null);
  });

  test("if_version is honoured on assign", async () => {
    const o = await orderAt(server, { admin, customer: owner, status: "accepted" });
    expectError(await assign(server, admin.token, o.id, rider.user.id, { if_version: o.version - 1 }), 409, "version_conflict");
    assert.deepEqual(await snapshot(o.id), o);
    expectStatus(await assign(server, admin.token, o.id, rider.user.id, { if_version: o.version }), 200);
  });

  test("reassigning until picked_up: the previous rider loses the order, only the new one picks up and delivers", async () => {
    const o = await orderAt(server, { admin, customer: owner, rider, status: "ready" });
    assert.equal(o.rider_id, rider.user.id);
    expectStatus(await get(server, `/api/orders/${o.id}`, { token: rider.token }), 200);
    const re = await assign(server, admin.token, o.id, otherRider.user.id);
    expectStatus(re, 200);
    assert.equal(re.body.rider_id, otherRider.user.id);
    expectError(await get(server, `/api/orders/${o.id}`, { token: rider.token }), 404);
    expectError(await move(server, rider.token, o.id, "picked_up"), 404);
    const mine = await get(server, "/api/orders", { token: rider.token });
    assert.ok(!mine.body.orders.some((x) => x.id === o.id), "gone from the old rider's list");
    await moveOk(server, otherRider.token, o.id, "picked_up");
    // After pick-up no more reassignment, and the old rider cannot deliver.
    expectError(await assign(server, admin.token, o.id, rider.user.id), 409);
    expectError(await move(server, rider.token, o.id, "delivered"), 404);
    // Staff confirm a delivery only with a reason (the customer's code was not used).
    expectError(await move(server, admin.token, o.id, "delivered"), 422, "invalid");
    const done = await moveOk(server, otherRider.token, o.id, "delivered");
    assert.equal(done.history.at(-1).by, otherRider.user.id);
  });

  test("customers and riders may not assign: 403 when they see the order, 404 otherwise", async () => {
    const o = await orderAt(server, { admin, customer: owner, rider, status: "accepted" });
    expectError(await assign(server, owner.token, o.id, rider.user.id), 403, "forbidden");
    expectError(await assign(server, rider.token, o.id, otherRider.user.id), 403, "forbidden");
    expectError(await assign(server, other.token, o.id, rider.user.id), 404, "not_found");
    expectError(await assign(server, otherRider.token, o.id, otherRider.user.id), 404, "not_found");
    assert.deepEqual(await snapshot(o.id), o);
  });
});
