// The tutorial's `statusChanged` (docs/FROM-THE-TUTORIAL.md, docs/API.md "statusChanged"):
// a client written for the MERN tutorial — io.connect(BASE_URL, {auth: {token}}), then
// socket.on('statusChanged', data => data.filter(o => o.status.includes("보류 중"))) — sees
// the restaurant's open orders of its local day, labelled in the restaurant's language
// (Korean and English), with the machine value in status_code; only admin sockets receive
// it; bursts are coalesced (at most one per 100 ms, the last one with the latest state).
// The server runs with --test-clock so that "the local day" can move on at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";

import {
  LiveClient,
  assignRider,
  call,
  availableItemIds,
  connectReady,
  createUser,
  goOnline,
  loginDemo,
  menuBarrier,
  moveOrder,
  placeOrder,
  registerCustomer,
  sqlite,
  startBrigade,
  within,
} from "./lib/harness.mjs";

const PENDING_KO = "보류 중";
const INTERVAL_MS = 100; // kStatusChangedIntervalMs

describe("statusChanged, as the tutorial's client uses it", () => {
  let server;
  const people = {};
  const sockets = {}; // recorded: admin, rider, customer
  let tutorial; // the tutorial's own socket, in its shape
  let tutorialData = []; // what its handler last set: the pending orders
  let tutorialCalls = 0;
  let item;

  before(async () => {
    server = await startBrigade({ args: ["--test-clock"] });
    people.admin = await loginDemo(server, "admin");
    people.rider = await loginDemo(server, "rider");
    people.customer = await registerCustomer(server, "status");
    people.other = await registerCustomer(server, "status-other");
    [item] = await availableItemIds(server);
    await call(server, "PATCH", "/api/restaurant", { token: people.admin.token, body: { language: "ko" } });
    for (const name of ["admin", "rider", "customer"]) {
      // statusChanged: true, as if absent (the harness makes its admins opt out).
      sockets[name] = await connectReady(server, { token: people[name].token, statusChanged: true }, { label: name });
    }
    // As the tutorial writes it (default transports: long-polling, then the upgrade).
    const token = people.admin.token;
    tutorial = io.connect(server.url, { auth: { token }, forceNew: true });
    tutorial.on("statusChanged", (data) => {
      const filtered = data.filter((item) => item.status.includes(PENDING_KO));
      tutorialData = filtered;
      ++tutorialCalls;
    });
    await within(5000, new Promise((resolve) => tutorial.once("connect", resolve)), "the tutorial's connect");
  });

  after(async () => {
    tutorial?.close();
    for (const s of Object.values(sockets)) s.close();
    await server?.dispose();
  });

  const admin = () => people.admin.token;
  const lists = () => sockets.admin.named("statusChanged").map((e) => e.args[0]);
  const lastList = () => lists().at(-1);
  const untilList = (predicate, what, client = sockets.admin) =>
    client.until(() => {
      const last = client.named("statusChanged").at(-1);
      return last !== undefined && predicate(last.args[0]);
    }, 5000, what);
  const entry = (list, id) => list.find((o) => o.id === id);

  test("an admin that connects gets the open orders as they are (none yet)", async () => {
    await untilList((list) => Array.isArray(list), "the first statusChanged");
    assert.deepEqual(lists()[0], []);
    const event = sockets.admin.named("statusChanged")[0];
    assert.equal(event.args.length, 1, "one argument: no offset (a snapshot is never replayed)");
  });

  test("a new order reaches the tutorial's handler, filtered by its Korean label", async () => {
    const order = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, order.id), "the new order in statusChanged");
    const doc = entry(lastList(), order.id);
    assert.equal(doc.status, PENDING_KO);
    assert.equal(doc.status_code, "pending");
    // Everything else is the REST document.
    const rest = await call(server, "GET", `/api/orders/${order.id}`, { token: admin() });
    const { status, status_code, ...fields } = doc;
    const { status: restStatus, ...restFields } = rest;
    assert.equal(restStatus, status_code);
    assert.deepEqual(fields, restFields);
    await within(
      5000,
      (async () => {
        while (!tutorialData.some((o) => o.id === order.id)) await new Promise((r) => setTimeout(r, 10));
      })(),
      "the tutorial's filtered list",
    );
    assert.ok(tutorialData.every((o) => o.status_code === "pending"));
  });

  test("every status has its Korean label; only open orders are listed", async () => {
    const accepted = await placeOrder(server, people.customer.token, item);
    const rejected = await placeOrder(server, people.other.token, item);
    const delivered = await placeOrder(server, people.customer.token, item);
    await moveOrder(server, admin(), accepted.id, "accepted", { prep_minutes: 10 });
    await moveOrder(server, admin(), rejected.id, "rejected", { reason: "out of buns" });
    await moveOrder(server, admin(), delivered.id, "accepted", { prep_minutes: 10 });
    await moveOrder(server, admin(), delivered.id, "preparing");
    await untilList(
      (list) => entry(list, accepted.id)?.status_code === "accepted" && entry(list, delivered.id)?.status_code === "preparing",
      "accepted and preparing",
    );
    let list = lastList();
    assert.equal(entry(list, accepted.id).status, "접수됨");
    assert.equal(entry(list, delivered.id).status, "준비 중");
    assert.equal(entry(list, rejected.id), undefined, "a rejected order is not open");
    await goOnline(server, people.rider.token);
    await assignRider(server, admin(), delivered.id, people.rider.user.id);
    await moveOrder(server, admin(), delivered.id, "ready");
    await untilList((list) => entry(list, delivered.id)?.status_code === "ready", "ready");
    assert.equal(entry(lastList(), delivered.id).status, "준비 완료");
    await moveOrder(server, people.rider.token, delivered.id, "picked_up");
    await untilList((list) => entry(list, delivered.id)?.status_code === "picked_up", "picked_up");
    assert.equal(entry(lastList(), delivered.id).status, "배달 중");
    await moveOrder(server, people.rider.token, delivered.id, "delivered");
    await untilList((list) => !entry(list, delivered.id), "delivered leaves the list");
    list = lastList();
    assert.ok(list.every((o) => ["pending", "accepted", "preparing", "ready", "picked_up"].includes(o.status_code)));
    // Newest first, like GET /api/orders.
    const ids = list.map((o) => o.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  });

  test("in English the labels are the panels' words", async () => {
    const patched = await call(server, "PATCH", "/api/restaurant", { token: admin(), body: { language: "en" } });
    assert.equal(patched.language, "en");
    // The language change alone sends the list again, now in English.
    await untilList((list) => list.length > 0 && list.every((o) => !/[가-힣]/.test(o.status)), "English labels");
    const list = lastList();
    const labels = new Map(list.map((o) => [o.status_code, o.status]));
    assert.equal(labels.get("pending"), "New");
    assert.equal(labels.get("accepted"), "Accepted");
    await call(server, "PATCH", "/api/restaurant", { token: admin(), body: { language: "ko" } });
    await untilList((list) => list.some((o) => o.status === PENDING_KO), "Korean again");
  });

  test("a burst is coalesced: at most one per 100 ms, the last one with every order", async () => {
    const before = lists().length;
    const started = Date.now();
    const placed = await Promise.all(
      Array.from({ length: 40 }, (_, i) => placeOrder(server, (i % 2 ? people.customer : people.other).token, item)),
    );
    const ids = placed.map((o) => o.id);
    await untilList((list) => ids.every((id) => entry(list, id)), "every order of the burst");
    const arrived = sockets.admin.named("statusChanged").slice(before);
    const span = arrived.at(-1).at - started;
    // Each send starts at least 100 ms after the one before, all within the span.
    assert.ok(arrived.length <= Math.floor(span / INTERVAL_MS) + 1, `${arrived.length} events in ${span} ms`);
    assert.ok(arrived.length < ids.length, `${arrived.length} events for ${ids.length} orders`);
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${admin()}` } });
    assert.match(await metrics.text(), /^brigade_status_changed_total [1-9]\d*$/m);
  });

  test("the open orders are those of the restaurant's local day", async () => {
    const old = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, old.id), "the order of today");
    await server.advanceClock(26 * 3600 * 1000); // tomorrow, wherever midnight falls
    const fresh = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, fresh.id), "the order of the next day");
    const list = lastList();
    assert.equal(entry(list, old.id), undefined, "yesterday's pending order is not listed");
    assert.deepEqual(list.map((o) => o.id), [fresh.id]);
  });

  test("an admin socket that says auth.statusChanged = false (as the panels do) gets none", async () => {
    const quiet = await connectReady(server, { token: admin(), statusChanged: false }, { label: "quiet admin" });
    const order = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, order.id), "the listening admin's statusChanged");
    await menuBarrier(server, admin(), [quiet, sockets.admin]);
    assert.ok(quiet.named("order:changed").some((e) => e.args[0].order.id === order.id));
    assert.equal(quiet.named("statusChanged").length, 0);
    quiet.close();
  });

  test("an admin made a customer (here by another program) stops receiving it", async () => {
    const staff = await createUser(server, admin(), "admin", "status-staff");
    const demoted = await connectReady(server, { token: staff.token, statusChanged: true }, { label: "demoted admin" });
    await untilList((list) => Array.isArray(list), "the new admin's first statusChanged", demoted);
    await sqlite(server.dbPath, `UPDATE users SET role = 'customer' WHERE id = ${staff.user.id};`);
    await server.advanceClock(30000); // the sockets' recheck (kSocketRecheckMs)
    const before = demoted.named("statusChanged").length;
    const order = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, order.id), "the admin's statusChanged");
    await menuBarrier(server, admin(), [demoted, sockets.admin]);
    assert.equal(demoted.named("statusChanged").length, before);
    assert.equal(demoted.socket.connected, true, "still connected, as a customer");
    demoted.close();
  });

  test("customer and rider sockets never receive statusChanged", async () => {
    await menuBarrier(server, admin(), Object.values(sockets));
    assert.equal(sockets.customer.named("statusChanged").length, 0);
    assert.equal(sockets.rider.named("statusChanged").length, 0);
    // A customer socket, in the tutorial's shape, waits in vain while orders change.
    const raw = io.connect(server.url, { auth: { token: people.customer.token }, forceNew: true });
    let got = 0;
    raw.on("statusChanged", () => ++got);
    const customer = new LiveClient(raw, "customer (tutorial's shape)");
    await customer.until(() => customer.connections > 0, 5000, "connect");
    const order = await placeOrder(server, people.customer.token, item);
    await untilList((list) => entry(list, order.id), "the admin's statusChanged");
    await menuBarrier(server, admin(), [...Object.values(sockets), customer]);
    customer.close();
    assert.equal(got, 0);
    assert.ok(customer.named("order:changed").some((e) => e.args[0].order.id === order.id));
    assert.equal(sockets.customer.named("statusChanged").length, 0);
    assert.ok(sockets.customer.named("order:changed").some((e) => e.args[0].order.id === order.id));
  });
});
