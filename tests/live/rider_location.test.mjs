// rider:location: validated, rate limited, relayed only for picked-up orders to
// admins and that order's customer, and stored (GET /api/riders).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assignRider,
  availableItemIds,
  call,
  connectReady,
  createUser,
  goOnline,
  loginDemo,
  menuBarrier,
  moveOrder,
  placeOrder,
  registerCustomer,
  startBrigade,
} from "./lib/harness.mjs";

describe("rider:location", () => {
  let server;
  const people = {};
  const sockets = {};
  let carried; // picked up by the rider, ordered by customer a
  let waiting; // assigned to the rider, not picked up, ordered by customer b

  before(async () => {
    // The location throttle (one a second) is crossed by moving the server's clock.
    server = await startBrigade({ args: ["--test-clock"] });
    people.admin = await loginDemo(server, "admin");
    people.rider = await loginDemo(server, "rider");
    await goOnline(server, people.rider.token);
    people.idle = await createUser(server, people.admin.token, "rider", "idle");
    people.a = await registerCustomer(server, "a");
    people.b = await registerCustomer(server, "b");
    people.c = await registerCustomer(server, "c");
    const [item] = await availableItemIds(server);
    const admin = people.admin.token;
    carried = await placeOrder(server, people.a.token, item);
    await moveOrder(server, admin, carried.id, "accepted");
    await assignRider(server, admin, carried.id, people.rider.user.id);
    await moveOrder(server, admin, carried.id, "preparing");
    await moveOrder(server, admin, carried.id, "ready");
    await moveOrder(server, people.rider.token, carried.id, "picked_up");
    waiting = await placeOrder(server, people.b.token, item);
    await moveOrder(server, admin, waiting.id, "accepted");
    await assignRider(server, admin, waiting.id, people.rider.user.id);
    for (const [name, p] of Object.entries(people)) {
      sockets[name] = await connectReady(server, { token: p.token }, { label: name });
    }
  });

  after(async () => {
    for (const s of Object.values(sockets)) s.close();
    await server?.dispose();
  });

  const locations = (name) => sockets[name].named("rider:location").map((e) => e.args[0]);

  test("invalid values are answered {ok:false, error:{code:'invalid'}} and relayed to nobody", async () => {
    const cases = [
      [],
      [null],
      ["51.5,-0.1"],
      [42],
      [[51.5, -0.1]],
      [{}],
      [{ lat: 51.5 }],
      [{ lng: -0.1 }],
      [{ lat: "51.5", lng: "-0.1" }],
      [{ lat: true, lng: 0 }],
      [{ lat: null, lng: 0 }],
      [{ lat: 90.0001, lng: 0 }],
      [{ lat: -90.5, lng: 0 }],
      [{ lat: 0, lng: 180.01 }],
      [{ lat: 0, lng: -181 }],
      [{ lat: 0, lng: 0, heading: 360.5 }],
      [{ lat: 0, lng: 0, heading: -1 }],
      [{ lat: 0, lng: 0, heading: "north" }],
      [{ lat: 0, lng: 0, speed: -0.1 }],
      [{ lat: 0, lng: 0, speed: "fast" }],
      [{ lat: { deg: 1 }, lng: 0 }],
    ];
    for (const args of cases) {
      const answer = await sockets.rider.emitWithAck("rider:location", ...args);
      assert.equal(answer?.ok, false, `${JSON.stringify(args)} was accepted: ${JSON.stringify(answer)}`);
      assert.equal(answer.error?.code, "invalid", `${JSON.stringify(args)}: ${JSON.stringify(answer)}`);
      assert.equal(typeof answer.error.message, "string");
    }
    await menuBarrier(server, people.admin.token, Object.values(sockets));
    for (const name of Object.keys(sockets)) assert.deepEqual(locations(name), [], `${name} got a location`);
    const { riders } = await call(server, "GET", "/api/riders", { token: people.admin.token });
    assert.equal(riders.find((r) => r.id === people.rider.user.id).last_location, null, "nothing stored");
  });

  test("admins and customers may not send rider:location", async () => {
    for (const name of ["admin", "a", "c"]) {
      const answer = await sockets[name].emitWithAck("rider:location", { lat: 1, lng: 1 });
      assert.deepEqual([answer.ok, answer.error?.code], [false, "forbidden"], `${name}: ${JSON.stringify(answer)}`);
    }
    await menuBarrier(server, people.admin.token, Object.values(sockets));
    for (const name of Object.keys(sockets)) assert.deepEqual(locations(name), [], `${name} got a location`);
  });

  test("a valid location is relayed to admins and the carried order's customer only, and stored", async () => {
    const answer = await sockets.rider.emitWithAck("rider:location", { lat: 51.5, lng: -0.12, heading: 90, speed: 5 });
    assert.deepEqual(answer, { ok: true, relayed: 1 });
    for (const name of ["admin", "a"]) {
      await sockets[name].until(() => locations(name).length === 1, 2000, "the location");
      const got = locations(name)[0];
      assert.equal(got.rider_id, people.rider.user.id);
      assert.equal(got.order_id, carried.id);
      assert.equal(got.lat, 51.5);
      assert.equal(got.lng, -0.12);
      assert.ok(!Number.isNaN(Date.parse(got.at)), `at: ${got.at}`);
    }
    await menuBarrier(server, people.admin.token, ["b", "c", "rider", "idle"].map((name) => sockets[name]));
    for (const name of ["b", "c", "rider", "idle"]) {
      assert.deepEqual(locations(name), [], `${name} got the location`);
    }
    const { riders } = await call(server, "GET", "/api/riders", { token: people.admin.token });
    const rider = riders.find((r) => r.id === people.rider.user.id);
    assert.equal(rider.last_location?.lat, 51.5);
    assert.equal(rider.last_location?.lng, -0.12);
    assert.equal(rider.last_location.at, locations("admin")[0].at);
  });

  test("a customer connecting while their order is carried gets the stored position at once", async () => {
    // Another customer connects first: their connection's position lookup was asked
    // for before a's, which is answered below, and a menu change comes after both.
    const other = await connectReady(server, { token: people.b.token }, { label: "b-late" });
    const late = await connectReady(server, { token: people.a.token }, { label: "a-late" });
    try {
      await late.until(() => late.named("rider:location").length === 1, 2000, "the stored position");
      const ready = late.events.findIndex((e) => e.name === "ready");
      const got = late.events.findIndex((e) => e.name === "rider:location");
      assert.ok(got > ready, "after ready");
      const position = late.named("rider:location")[0].args[0];
      assert.deepEqual([position.rider_id, position.order_id, position.lat, position.lng],
        [people.rider.user.id, carried.id, 51.5, -0.12]);
      // The rider reads its own record too (GET /api/riders/me).
      const me = await call(server, "GET", "/api/riders/me", { token: people.rider.token });
      assert.equal(me.online, true);
      assert.equal(me.last_location?.lat, 51.5);
      // The other customer got nothing.
      await menuBarrier(server, people.admin.token, [other]);
      assert.equal(other.named("rider:location").length, 0);
    } finally {
      late.close();
      other.close();
    }
  });

  test("a second location within a second is rate limited, then accepted again", async () => {
    const limited = await sockets.rider.emitWithAck("rider:location", { lat: 10, lng: 10 });
    assert.deepEqual([limited.ok, limited.error?.code], [false, "rate_limited"], JSON.stringify(limited));
    await server.advanceClock(1000); // a second after the accepted one
    // Bounds are inclusive.
    const answer = await sockets.rider.emitWithAck("rider:location", { lat: -90, lng: 180, heading: 360, speed: 0 });
    assert.deepEqual(answer, { ok: true, relayed: 1 });
    await sockets.a.until(() => locations("a").length === 2, 2000, "the second location");
    assert.deepEqual(
      locations("a").map((l) => [l.lat, l.lng]),
      [
        [51.5, -0.12],
        [-90, 180],
      ],
      "the rate-limited location was not relayed",
    );
    const { riders } = await call(server, "GET", "/api/riders", { token: people.admin.token });
    const rider = riders.find((r) => r.id === people.rider.user.id);
    assert.deepEqual([rider.last_location.lat, rider.last_location.lng], [-90, 180]);
  });

  test("a rider carrying nothing is stored but relayed to nobody", async () => {
    const answer = await sockets.idle.emitWithAck("rider:location", { lat: 48.85, lng: 2.35 });
    assert.deepEqual(answer, { ok: true, relayed: 0 });
    await menuBarrier(server, people.admin.token, [sockets.admin]);
    assert.equal(locations("admin").length, 2);
    const { riders } = await call(server, "GET", "/api/riders", { token: people.admin.token });
    const idle = riders.find((r) => r.id === people.idle.user.id);
    assert.deepEqual([idle.last_location?.lat, idle.last_location?.lng], [48.85, 2.35]);
  });

  test("after delivery the location is no longer relayed to the customer", async () => {
    await moveOrder(server, people.rider.token, carried.id, "delivered");
    await server.advanceClock(1000); // past the throttle of the previous location
    const answer = await sockets.rider.emitWithAck("rider:location", { lat: 1, lng: 2 });
    assert.deepEqual(answer, { ok: true, relayed: 0 });
    await menuBarrier(server, people.admin.token, [sockets.a, sockets.admin]);
    assert.equal(locations("a").length, 2);
    assert.equal(locations("admin").length, 2);
  });
});
