// Bad events from clients — unknown names, wrong shapes, events a role may not send,
// malformed Socket.IO packets on a raw WebSocket — are answered {ok:false} (or
// ignored), never crash the server and never reach anyone else.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  WebSocket,
  api,
  availableItemIds,
  connectReady,
  isBarrier,
  loginDemo,
  menuBarrier,
  placeOrder,
  registerCustomer,
  startBrigade,
  within,
} from "./lib/harness.mjs";

describe("bad events", () => {
  let server;
  const people = {};
  const sockets = {};
  let items;

  before(async () => {
    server = await startBrigade();
    people.admin = await loginDemo(server, "admin");
    people.rider = await loginDemo(server, "rider");
    people.customer = await registerCustomer(server, "sender");
    people.bystander = await registerCustomer(server, "bystander");
    items = await availableItemIds(server);
    for (const [name, p] of Object.entries(people)) {
      sockets[name] = await connectReady(server, { token: p.token }, { label: name });
    }
  });

  after(async () => {
    for (const s of Object.values(sockets)) s.close();
    await server?.dispose();
  });

  // Events other than the initial ready and the barriers' menu changes.
  const received = (name) => sockets[name].events.filter((e) => e.name !== "ready" && !isBarrier(e));
  const everyone = () => Object.values(sockets);

  test("unknown event names are answered {ok:false, error:{code:'unknown_event'}}", async () => {
    const names = [
      "hello",
      "join",
      "leave",
      "subscribe",
      "order:changed",
      "menu:changed",
      "alert",
      "ready",
      "resync",
      "rider:location ",
      "RIDER:LOCATION",
      "x".repeat(2000),
      "",
    ];
    for (const who of ["customer", "rider", "admin"]) {
      for (const event of names) {
        const answer = await sockets[who].emitWithAck(event, { room: "admins" });
        assert.equal(answer?.ok, false, `${who} ${event.slice(0, 20)}: ${JSON.stringify(answer)}`);
        assert.equal(answer.error?.code, "unknown_event", `${who} ${event.slice(0, 20)}`);
      }
    }
  });

  test("events without an ack, odd payloads and binary payloads change nothing", async () => {
    const s = sockets.customer.socket;
    s.emit("join", "admins");
    s.emit("join", { room: "customer:1" });
    s.emit("rider:location", { lat: 1, lng: 1 }); // forbidden for a customer, no ack to answer
    s.emit("order:changed", { seq: 1, op: "insert", order: { id: 1 } });
    s.emit("hello", Buffer.from([1, 2, 3]), { nested: { deep: [1, [2, [3]]] } });
    const binary = await sockets.rider.emitWithAck("rider:location", Buffer.from([0, 1, 2]));
    assert.deepEqual([binary.ok, binary.error?.code], [false, "invalid"]);
    const forbidden = await sockets.customer.emitWithAck("rider:location", { lat: 1, lng: 1 });
    assert.deepEqual([forbidden.ok, forbidden.error?.code], [false, "forbidden"]);
    const unknownBinary = await sockets.customer.emitWithAck("upload", Buffer.alloc(1024));
    assert.deepEqual([unknownBinary.ok, unknownBinary.error?.code], [false, "unknown_event"]);
    await menuBarrier(server, people.admin.token, everyone());
    for (const name of Object.keys(sockets)) {
      assert.deepEqual(received(name).map((e) => e.name), [], `${name} received something`);
      assert.equal(sockets[name].socket.connected, true, `${name} was disconnected`);
    }
  });

  test("malformed packets on a raw WebSocket do not crash the server or reach anyone", async () => {
    const raw = new WebSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket`);
    const messages = [];
    let closed = false;
    let wake = () => {};
    raw.on("message", (data) => {
      const text = data.toString();
      if (text === "2") raw.send("3");
      messages.push(text);
      wake();
    });
    raw.on("close", () => {
      closed = true;
      wake();
    });
    raw.on("error", () => {});
    await within(3000, new Promise((resolve) => raw.once("open", resolve)), "the raw WebSocket");
    // Resolves when a message matches (or, with orClose, when the connection closed).
    const waitFor = (predicate, what, orClose = false) =>
      within(
        3000,
        new Promise((resolve) => {
          wake = () => {
            if (messages.some(predicate) || (orClose && closed)) resolve();
          };
          wake();
        }),
        `${what}; got ${JSON.stringify(messages).slice(0, 500)}`,
      );
    await waitFor((m) => m.startsWith("0{"), "Engine.IO open");
    raw.send(`40${JSON.stringify({ token: people.customer.token })}`);
    await waitFor((m) => m.startsWith("40{"), "Socket.IO connect");
    await waitFor((m) => m.startsWith('42["ready"'), "ready");
    const garbage = [
      "42[",
      "42{}",
      '42"rider:location"',
      "42[1,2,3]",
      "42[null]",
      "42[]",
      '42["rider:location",',
      '421["rider:location","nope"]',
      '4299999999999999999999["hello"]',
      '42/nowhere,["hello"]',
      "43",
      "431[]",
      "45",
      '451-["rider:location",{"_placeholder":true,"num":0}]',
      "4x",
      "4",
      "9",
      "",
      "\u0000\u0001",
      `42["${"a".repeat(100000)}"]`,
    ];
    for (const packet of garbage) {
      if (closed) break;
      raw.send(packet);
    }
    // A probe with an ack after the garbage: once it is answered (or the server closed
    // the connection), every packet before it was handled.
    if (!closed) raw.send('4277["probe"]');
    await waitFor((m) => m.startsWith("4377"), "the probe's answer or the close", true);
    raw.terminate();
    // Anything relayed to others was sent before a later change reaches them.
    await menuBarrier(server, people.admin.token, everyone());

    // The server still answers, and the bystanders received nothing.
    assert.equal((await api(server, "GET", "/healthz")).status, 200);
    for (const name of Object.keys(sockets)) {
      assert.deepEqual(received(name).map((e) => e.name), [], `${name} received something`);
      assert.equal(sockets[name].socket.connected, true, `${name} was disconnected`);
    }
    // Live events still flow, to the right people only.
    const order = await placeOrder(server, people.customer.token, items[0]);
    await sockets.admin.until(() => sockets.admin.named("alert").length === 1, 3000, "the alert");
    await sockets.customer.until(() => sockets.customer.named("order:changed").length === 1, 3000, "the order");
    await menuBarrier(server, people.admin.token, everyone());
    assert.equal(sockets.customer.named("order:changed")[0].args[0].order.id, order.id);
    assert.deepEqual(received("bystander"), [], "the bystander got the order");
    assert.deepEqual(received("rider"), [], "the rider got the order");
    assert.deepEqual(sockets.customer.named("alert"), [], "the customer joined the admins");
  });
});
