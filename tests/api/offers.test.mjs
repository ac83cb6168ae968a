// Rider offers (docs/API.md, "Rider offers"): an assignment is an offer open for
// kOfferSeconds that only its rider accepts or declines; picking up accepts it; a declined
// or expired offer goes to the next rider when the restaurant lets the server dispatch
// (auto_offer: fewest orders, then nearest to the restaurant, never one who declined), or
// back to the board; with auto_offer the server offers unassigned orders by itself,
// also to a rider who just came online. The server runs with --test-clock: the 60 s pass
// at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import {
  assign,
  demoSessions,
  expectError,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  newRider,
  patch,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

const kOfferSeconds = 60; // src/app/rider_offers.hpp
const HOME = { lat: 52.37, lng: 4.89 };

let server;
let admin;
let customer;
before(async () => {
  server = await startServer({ args: ["--test-clock"] });
  ({ admin } = await demoSessions(server));
  customer = await newCustomer(server, "Offers Customer");
  expectStatus(await patch(server, "/api/restaurant", { location: HOME }, { token: admin.token }), 200);
});
after(async () => {
  await server?.stop();
});

const offerAnswer = (rider, id, accept, extra = {}) => post(server, `/api/orders/${id}/offer`, { accept, ...extra }, { token: rider.token });
const asAdmin = async (id) => (await get(server, `/api/orders/${id}`, { token: admin.token })).body;
async function accepted() {
  const o = await placeOrder(server, customer.token);
  return moveOk(server, admin.token, o.id, "accepted", { prep_minutes: 10 });
}
const setAutoOffer = async (on) => expectStatus(await patch(server, "/api/restaurant", { auto_offer: on }, { token: admin.token }), 200);
const goOffline = (rider) => post(server, "/api/riders/me/online", { online: false }, { token: rider.token });

// Shares a rider's position over the real-time channel (stored as its last known one).
async function shareLocation(rider, at) {
  const socket = io(server.url, { auth: { token: rider.token }, transports: ["websocket"], forceNew: true, reconnection: false });
  try {
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const answer = await socket.timeout(5000).emitWithAck("rider:location", at);
    assert.equal(answer.ok, true, JSON.stringify(answer));
  } finally {
    socket.close();
  }
}

describe("offers made by the staff", () => {
  let rider;
  let other;
  before(async () => {
    rider = await newRider(server, admin.token);
    other = await newRider(server, admin.token);
  });

  test(`an assignment is an offer for ${kOfferSeconds} s; the rider accepts it once`, async () => {
    const o = await accepted();
    const offered = await assign(server, admin.token, o.id, rider.user.id);
    expectStatus(offered, 200);
    assert.equal(offered.body.rider_id, rider.user.id);
    assert.equal(offered.body.rider_accepted_at, null);
    const ends = Date.parse(offered.body.offer_expires_at) - Date.parse(offered.body.updated_at);
    assert.ok(Math.abs(ends - kOfferSeconds * 1000) <= 1000, `ends in ${ends} ms`);
    // Only the offered rider answers it.
    expectError(await offerAnswer(other, o.id, true), 404);
    expectError(await post(server, `/api/orders/${o.id}/offer`, { accept: true }, { token: customer.token }), 403);
    expectError(await post(server, `/api/orders/${o.id}/offer`, { accept: true }, { token: admin.token }), 403);
    expectError(await offerAnswer(rider, o.id, "yes"), 422, "invalid", "accept");
    expectError(await post(server, `/api/orders/${o.id}/offer`, {}, { token: rider.token }), 422, "invalid", "accept");
    expectError(await offerAnswer(rider, o.id, true, { if_version: offered.body.version - 1 }), 409, "version_conflict");
    const taken = await offerAnswer(rider, o.id, true);
    expectStatus(taken, 200);
    assert.equal(taken.body.offer_expires_at, null);
    assert.ok(taken.body.rider_accepted_at);
    assert.equal(taken.body.delivery_code, null, "a rider's answer never has the code");
    // Again: nothing changes. Declining now is the staff's to do.
    const again = await offerAnswer(rider, o.id, true);
    expectStatus(again, 200);
    assert.equal(again.body.version, taken.body.version);
    expectError(await offerAnswer(rider, o.id, false), 409, "offer_accepted");
    // Time passes: an accepted order stays with its rider.
    await server.advanceClock((kOfferSeconds + 5) * 1000);
    assert.equal((await asAdmin(o.id)).rider_id, rider.user.id);
  });

  test("a declined offer goes back to the board (no dispatch); the decliner no longer sees it", async () => {
    const o = await accepted();
    expectStatus(await assign(server, admin.token, o.id, rider.user.id), 200);
    const declined = await offerAnswer(rider, o.id, false);
    expectStatus(declined, 200);
    const now = await asAdmin(o.id);
    assert.equal(now.rider_id, null);
    assert.deepEqual(now.declined_rider_ids, [rider.user.id]);
    assert.equal(now.offer_expires_at, null);
    expectError(await get(server, `/api/orders/${o.id}`, { token: rider.token }), 404);
    expectError(await offerAnswer(rider, o.id, true), 404);
  });

  test(`an offer runs out after ${kOfferSeconds} s, not before`, async () => {
    const o = await accepted();
    expectStatus(await assign(server, admin.token, o.id, rider.user.id), 200);
    await server.advanceClock((kOfferSeconds - 1) * 1000);
    assert.equal((await asAdmin(o.id)).rider_id, rider.user.id, "still offered one second before its end");
    await server.advanceClock(2000);
    const now = await asAdmin(o.id);
    assert.equal(now.rider_id, null);
    assert.deepEqual(now.declined_rider_ids, [rider.user.id], "an offer let run out counts as declined");
    expectError(await offerAnswer(rider, o.id, true), 404);
  });

  test("picking up accepts an open offer", async () => {
    const o = await accepted();
    expectStatus(await assign(server, admin.token, o.id, rider.user.id), 200);
    await moveOk(server, admin.token, o.id, "preparing");
    await moveOk(server, admin.token, o.id, "ready");
    const carried = await moveOk(server, rider.token, o.id, "picked_up");
    assert.equal(carried.offer_expires_at, null);
    assert.ok(carried.rider_accepted_at);
    await server.advanceClock((kOfferSeconds + 5) * 1000);
    assert.equal((await asAdmin(o.id)).rider_id, rider.user.id);
    await moveOk(server, rider.token, o.id, "delivered");
  });

  after(async () => {
    await goOffline(rider);
    await goOffline(other);
  });
});

describe("offers made by the server (auto_offer)", () => {
  let near;
  let far;
  before(async () => {
    near = await newRider(server, admin.token);
    far = await newRider(server, admin.token);
    await shareLocation(near, { lat: HOME.lat + 0.005, lng: HOME.lng });
    await shareLocation(far, { lat: HOME.lat + 0.05, lng: HOME.lng });
    await setAutoOffer(true);
  });

  test("an unassigned order is offered to the nearest free rider, then the next, then nobody", async () => {
    const o = await accepted();
    await server.advanceClock(0); // the pass
    let now = await asAdmin(o.id);
    assert.equal(now.rider_id, near.user.id, "the nearest");
    assert.ok(now.offer_expires_at);
    expectStatus(await offerAnswer(near, o.id, false), 200);
    now = await asAdmin(o.id);
    assert.equal(now.rider_id, far.user.id, "declined: the next one at once");
    assert.ok(now.offer_expires_at);
    await server.advanceClock((kOfferSeconds + 1) * 1000);
    now = await asAdmin(o.id);
    assert.equal(now.rider_id, null, "everyone declined or let it run out");
    assert.deepEqual(now.declined_rider_ids.sort(), [near.user.id, far.user.id].sort());
    // A rider who comes online is offered what waits.
    const late = await newRider(server, admin.token);
    await server.advanceClock(0);
    now = await asAdmin(o.id);
    assert.equal(now.rider_id, late.user.id);
    expectStatus(await offerAnswer(late, o.id, true), 200);
    await goOffline(late);
  });

  test("the rider carrying fewer orders comes first, then the nearer", async () => {
    // near holds one accepted order (above, declined... so give it one now).
    const first = await accepted();
    await server.advanceClock(0);
    assert.equal((await asAdmin(first.id)).rider_id, near.user.id);
    expectStatus(await offerAnswer(near, first.id, true), 200);
    const second = await accepted();
    await server.advanceClock(0);
    assert.equal((await asAdmin(second.id)).rider_id, far.user.id, "near carries one already");
  });

  test("without auto_offer the server offers nothing", async () => {
    await setAutoOffer(false);
    const o = await accepted();
    await server.advanceClock(0);
    assert.equal((await asAdmin(o.id)).rider_id, null);
  });
});
