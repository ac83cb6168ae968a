// Rooms and broadcasts, middleware refusal and server-side disconnects, seen
// from npm socket.io-client sockets on the /test and /private namespaces.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { client, connected, nextEvent, startServer, within } from "./lib/harness.mjs";

const T = { timeout: 20000 };
let server;
const sockets = [];

before(async () => {
  // A generous pong deadline: these tests are not about heartbeats, and with the
  // default 200 ms a client stalled by a loaded machine loses its session to a
  // ping timeout (seen as an ack timing out over polling).
  server = await startServer({ args: ["--ping-timeout", "5000"] });
});
after(async () => {
  for (const socket of sockets) socket.disconnect();
  await server?.stop();
});

async function open(nsp = "/test", options = {}) {
  const socket = client(server, nsp, { transports: ["websocket"], ...options });
  sockets.push(socket);
  return connected(socket);
}

// Connects `names` sockets to /test; each records the payloads of event `event`.
async function group(names, event) {
  const members = {};
  await Promise.all(
    names.map(async (name) => {
      const socket = await open("/test", { transports: name.startsWith("poll") ? ["polling"] : ["websocket"] });
      socket.got = [];
      socket.on(event, (payload) => socket.got.push(payload));
      members[name] = socket;
    }),
  );
  return members;
}

const join = (socket, rooms) => socket.timeout(3000).emitWithAck("join", rooms);
const leave = (socket, rooms) => socket.timeout(3000).emitWithAck("leave", rooms);
const broadcast = (socket, spec) => socket.timeout(3000).emitWithAck("broadcast-to", spec);

// Broadcasts, then a marker to everyone, so that once the marker arrives every
// earlier broadcast has arrived too (same sender, same loop order per receiver).
async function settle(members, sender) {
  const markers = Object.values(members).map((s) => nextEvent(s, "marker", 5000));
  await broadcast(sender, { event: "marker", payload: 0 });
  await Promise.all(markers);
}

function receivers(members) {
  return Object.fromEntries(Object.entries(members).map(([name, s]) => [name, s.got]));
}

describe("rooms", () => {
  it("join answers the rooms, the socket's own id first", T, async () => {
    const socket = await open();
    const rooms = await join(socket, ["a", "b"]);
    assert.deepEqual(rooms, [socket.id, "a", "b"]);
    assert.deepEqual(await join(socket, "a"), [socket.id, "a", "b"]);  // joining twice is a no-op
    assert.deepEqual(await leave(socket, "a"), [socket.id, "b"]);
    assert.deepEqual(await leave(socket, "not-a-member"), [socket.id, "b"]);
    socket.disconnect();
  });

  it("to(room) reaches the room's members only", T, async () => {
    const m = await group(["a1", "a2", "b1", "none", "poll-a3"], "news");
    await Promise.all([join(m.a1, "A"), join(m.a2, "A"), join(m["poll-a3"], "A"), join(m.b1, "B")]);
    await broadcast(m.none, { rooms: ["A"], event: "news", payload: "for A" });
    await settle(m, m.none);
    assert.deepEqual(receivers(m), { a1: ["for A"], a2: ["for A"], "poll-a3": ["for A"], b1: [], none: [] });
  });

  it("to(several rooms) reaches each socket once", T, async () => {
    const m = await group(["ab", "a", "b", "c", "abc"], "news");
    await Promise.all([
      join(m.ab, ["A", "B"]),
      join(m.a, "A"),
      join(m.b, "B"),
      join(m.c, "C"),
      join(m.abc, ["A", "B", "C"]),
    ]);
    await broadcast(m.c, { rooms: ["A", "B", "C"], event: "news", payload: 1 });
    await broadcast(m.c, { rooms: ["A", "B"], event: "news", payload: 2 });
    await settle(m, m.c);
    assert.deepEqual(receivers(m), { ab: [1, 2], a: [1, 2], b: [1, 2], c: [1], abc: [1, 2] });
  });

  it("except(room) skips that room's members, also with to()", T, async () => {
    const m = await group(["a", "ab", "b", "plain"], "news");
    await Promise.all([join(m.a, "A"), join(m.ab, ["A", "B"]), join(m.b, "B")]);
    await broadcast(m.plain, { except: ["B"], event: "news", payload: "not B" });
    await broadcast(m.plain, { rooms: ["A"], except: ["B"], event: "news", payload: "A not B" });
    await settle(m, m.plain);
    assert.deepEqual(receivers(m), {
      a: ["not B", "A not B"],
      ab: [],
      b: [],
      plain: ["not B"],
    });
  });

  it("a socket id is a room: except(id) and to(id)", T, async () => {
    const m = await group(["x", "y", "z"], "news");
    await broadcast(m.x, { except: [m.x.id], event: "news", payload: "others" });
    await broadcast(m.x, { rooms: [m.z.id], event: "news", payload: "direct" });
    await settle(m, m.x);
    assert.deepEqual(receivers(m), { x: [], y: ["others"], z: ["others", "direct"] });
  });

  it("leave(room) stops delivery; a disconnected socket leaves its rooms", T, async () => {
    const m = await group(["stay", "goes", "quits", "sender"], "news");
    await Promise.all([join(m.stay, "R"), join(m.goes, "R"), join(m.quits, "R")]);
    await leave(m.goes, "R");
    // The server has removed `quits` from its rooms when an observer hears it left.
    const observer = await open();
    await join(observer, "observers");
    const quitsId = m.quits.id;
    const gone = new Promise((resolve) => observer.on("left", (info) => info.id === quitsId && resolve()));
    m.quits.disconnect();
    await within(2000, gone, "the server to see `quits` leave");
    await broadcast(m.sender, { rooms: ["R"], event: "news", payload: "r" });
    delete m.quits;
    await settle(m, m.sender);
    assert.deepEqual(receivers(m), { stay: ["r"], goes: [], sender: [] });
  });

  it("a broadcast with binary attachments reaches the room", T, async () => {
    const m = await group(["a", "b", "out"], "blob");
    await Promise.all([join(m.a, "bin"), join(m.b, "bin")]);
    await broadcast(m.out, { rooms: ["bin"], event: "blob", payload: Buffer.from([5, 6, 7]) });
    await settle(m, m.out);
    for (const name of ["a", "b"]) {
      assert.equal(m[name].got.length, 1);
      assert.deepEqual([...new Uint8Array(m[name].got[0])], [5, 6, 7]);
    }
    assert.deepEqual(m.out.got, []);
  });

  it("rooms are per namespace", T, async () => {
    const other = await open("/", {});
    let leaked = 0;
    other.on("news", () => ++leaked);
    const m = await group(["a", "sender"], "news");
    await join(m.a, "shared-name");
    await broadcast(m.sender, { rooms: ["shared-name"], event: "news", payload: 1 });
    await settle(m, m.sender);
    assert.deepEqual(m.a.got, [1]);
    assert.equal(leaked, 0);
    other.disconnect();
  });
});

describe("middleware", () => {
  it("refuses a CONNECT without the token; connect_error carries message and data", T, async () => {
    const socket = client(server, "/private", { transports: ["websocket"], auth: { token: "wrong" } });
    sockets.push(socket);
    const [error] = await nextEvent(socket, "connect_error");
    assert.equal(error.message, "unauthorized");
    assert.deepEqual(error.data, { code: 401, hint: "auth.token is missing or wrong" });
    assert.equal(socket.connected, false);
    socket.disconnect();
  });

  it("refuses a CONNECT without auth at all", T, async () => {
    const socket = client(server, "/private", { transports: ["polling"] });
    sockets.push(socket);
    const [error] = await nextEvent(socket, "connect_error");
    assert.equal(error.message, "unauthorized");
    socket.disconnect();
  });

  it("accepts the right token", T, async () => {
    const socket = client(server, "/private", { transports: ["websocket"], auth: { token: "secret" } });
    sockets.push(socket);
    const welcome = nextEvent(socket, "welcome");
    await connected(socket);
    assert.deepEqual(await welcome, [socket.id]);
    socket.disconnect();
  });

  it("a refusal on /private leaves the connection's other namespaces alone", T, async () => {
    const main = await open("/", {});
    const refused = main.io.socket("/private", { auth: {} });
    sockets.push(refused);
    refused.connect();
    await nextEvent(refused, "connect_error");
    assert.equal(await main.timeout(3000).emitWithAck("message-with-ack", "fine"), "fine");
    // Retrying with the right token on the same manager works.
    refused.auth = { token: "secret" };
    refused.connect();
    await connected(refused);
    main.disconnect();
    refused.disconnect();
  });
});

describe("disconnects", () => {
  it("server-side disconnect: 'io server disconnect', no automatic reconnection", T, async () => {
    const socket = client(server, "/test", { transports: ["websocket"], reconnection: true });
    sockets.push(socket);
    await connected(socket);
    const reason = nextEvent(socket, "disconnect");
    socket.emit("disconnect-me");
    assert.equal((await reason)[0], "io server disconnect");
    // The client decides when the DISCONNECT arrives: no reconnection is scheduled.
    assert.equal(socket.active, false, "the socket would reconnect");
    assert.equal(socket.io._reconnecting, false, "the manager is reconnecting");
    socket.disconnect();
  });

  it("server-side disconnect of one namespace keeps the others", T, async () => {
    const main = await open("/", {});
    const test = main.io.socket("/test");
    sockets.push(test);
    test.connect();
    await connected(test);
    const reason = nextEvent(test, "disconnect");
    test.emit("disconnect-me", { close: false });
    assert.equal((await reason)[0], "io server disconnect");
    assert.equal(await main.timeout(3000).emitWithAck("message-with-ack", "still"), "still");
    main.disconnect();
  });

  it("server-side disconnect with close ends the connection", T, async () => {
    const main = await open("/", {});
    const test = main.io.socket("/test");
    sockets.push(test);
    test.connect();
    await connected(test);
    const mainGone = nextEvent(main, "disconnect");
    test.emit("disconnect-me", { close: true });
    const [why] = await mainGone;
    assert.ok(["transport close", "io server disconnect"].includes(why), why);
    main.disconnect();
  });

  it("the server is told why a socket left", T, async () => {
    const observer = await open();
    await join(observer, "observers");
    const left = [];
    let allLeft;
    const three = new Promise((resolve) => (allLeft = resolve));
    observer.on("left", (info) => left.push(info) === 3 && allLeft());

    const byClient = await open();
    const clientId = byClient.id;
    byClient.disconnect();

    const byTransport = await open();
    const transportId = byTransport.id;
    byTransport.io.engine.close();  // closes the transport without a DISCONNECT packet

    const byServer = await open();
    const serverId = byServer.id;
    byServer.emit("disconnect-me");

    await within(2000, three, `three departures (have ${JSON.stringify(left)})`).catch(() => {});
    const reasons = Object.fromEntries(left.map(({ id, reason }) => [id, reason]));
    assert.equal(reasons[clientId], "client namespace disconnect");
    assert.equal(reasons[serverId], "server namespace disconnect");
    assert.ok(
      ["transport close", "forced close"].includes(reasons[transportId]),
      `transport close reason: ${reasons[transportId]}`,
    );
    observer.disconnect();
  });
});
