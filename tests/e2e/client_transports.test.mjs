// The npm socket.io-client 4.8 against the engine: each transport, the upgrade,
// namespaces, binary both ways, and the client bundle served by the engine.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  Manager,
  client,
  clientBundlePath,
  connected,
  httpRequest,
  nextEvent,
  sleep,
  startServer,
  within,
  TLS_CLIENT,
} from "./lib/harness.mjs";

const T = { timeout: 15000 };
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

function open(nsp, options) {
  const socket = client(server, nsp, options);
  sockets.push(socket);
  return socket;
}

async function echoRoundTrip(socket) {
  const back = nextEvent(socket, "message-back");
  socket.emit("message", "hello", 42, { nested: [true, null] });
  assert.deepEqual(await back, ["hello", 42, { nested: [true, null] }]);
  const acked = await socket.timeout(3000).emitWithAck("message-with-ack", { a: 1 });
  assert.deepEqual(acked, { a: 1 });
}

describe("transports", () => {
  it("WebSocket only", T, async () => {
    const socket = open("/", { transports: ["websocket"], auth: { who: "ws" } });
    const auth = nextEvent(socket, "auth");
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "websocket");
    assert.deepEqual(await auth, [{ who: "ws" }]);
    await echoRoundTrip(socket);
    socket.disconnect();
  });

  it("long-polling only, for longer than several heartbeats", T, async () => {
    const socket = open("/", { transports: ["polling"] });
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "polling");
    await echoRoundTrip(socket);
    // pingInterval is 300 ms: three PING/PONG rounds over polling.
    let closed = false;
    socket.io.engine.on("close", () => (closed = true));
    let pings = 0;
    await within(
      5000,
      new Promise((resolve) => socket.io.engine.on("ping", () => ++pings === 3 && resolve())),
      "three PINGs",
    );
    assert.equal(closed, false);
    assert.ok(socket.connected);
    await echoRoundTrip(socket);
    socket.disconnect();
  });

  it("long-polling upgrades to WebSocket, nothing lost on the way", T, async () => {
    const socket = open("/", { transports: ["polling", "websocket"] });
    // The manager opens the engine at once: watch the upgrade from the start.
    assert.equal(socket.io.engine.transport.name, "polling");
    const upgraded = nextEvent(socket.io.engine, "upgrade", 5000);
    const received = [];
    let allReceived;
    const sixty = new Promise((resolve) => (allReceived = resolve));
    socket.on("message-back", (n) => received.push(n) === 60 && allReceived());
    // Emit from the first moment on, while the upgrade runs: every message must
    // arrive once, in order, whichever transport carries it.
    let fifty;
    const sentFifty = new Promise((resolve) => (fifty = resolve));
    socket.on("connect", async () => {
      for (let sent = 0; sent < 50; ++sent) {
        socket.emit("message", sent);
        // Spread over time on purpose, so that emits fall before, during and after
        // the upgrade (the behaviour under test); nothing waits on these pauses.
        if (sent % 5 === 0) await sleep(2);
      }
      fifty();
    });
    await connected(socket);
    await upgraded;
    assert.equal(socket.io.engine.transport.name, "websocket");
    await within(5000, sentFifty, "the first 50 emits");
    for (let i = 50; i < 60; ++i) socket.emit("message", i);
    await within(5000, sixty, `60 messages back (have ${received.length})`).catch(() => {});
    assert.deepEqual(received, Array.from({ length: 60 }, (_, i) => i));
    await echoRoundTrip(socket);
    socket.disconnect();
  });

  it("the client's disconnect() leaves cleanly", T, async () => {
    const socket = open("/", { transports: ["websocket"] });
    await connected(socket);
    const reason = nextEvent(socket, "disconnect");
    socket.disconnect();
    assert.equal((await reason)[0], "io client disconnect");
  });
});

describe("namespaces", () => {
  it("/ and /custom over one connection", T, async () => {
    const manager = new Manager(server.url, { transports: ["websocket"], reconnection: false, ...TLS_CLIENT });
    const main = manager.socket("/", { auth: { n: "main" } });
    const custom = manager.socket("/custom", { auth: { n: "custom" } });
    sockets.push(main, custom);
    const authMain = nextEvent(main, "auth");
    const authCustom = nextEvent(custom, "auth");
    await Promise.all([connected(main), connected(custom)]);
    assert.deepEqual(await authMain, [{ n: "main" }]);
    assert.deepEqual(await authCustom, [{ n: "custom" }]);
    assert.notEqual(main.id, custom.id);
    assert.equal(manager.engine, main.io.engine);
    // Leaving /custom keeps / (and the connection) alive.
    custom.disconnect();
    await echoRoundTrip(main);
    main.disconnect();
  });

  it("an unknown namespace answers connect_error Invalid namespace", T, async () => {
    const socket = open("/does-not-exist", { transports: ["websocket"] });
    const [error] = await nextEvent(socket, "connect_error");
    assert.equal(error.message, "Invalid namespace");
    assert.equal(socket.connected, false);
    socket.disconnect();
  });

  it("/custom over long-polling", T, async () => {
    const socket = open("/custom", { transports: ["polling"], auth: { p: 1 } });
    const auth = nextEvent(socket, "auth");
    await connected(socket);
    assert.deepEqual(await auth, [{ p: 1 }]);
    socket.disconnect();
  });
});

describe("binary", () => {
  for (const transports of [["websocket"], ["polling"]]) {
    it(`client → server → client over ${transports[0]}`, T, async () => {
      const socket = open("/", { transports });
      await connected(socket);
      const blob = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const back = nextEvent(socket, "message-back");
      socket.emit("message", { file: blob, name: "bytes" }, Buffer.alloc(0), new Uint8Array([7, 8]));
      const [obj, empty, small] = await back;
      assert.equal(obj.name, "bytes");
      assert.deepEqual([...new Uint8Array(obj.file)], [...blob]);
      assert.equal(empty.byteLength, 0);
      assert.deepEqual([...new Uint8Array(small)], [7, 8]);

      const acked = await socket.timeout(3000).emitWithAck("message-with-ack", Buffer.from([1, 2, 3]));
      assert.deepEqual([...new Uint8Array(acked)], [1, 2, 3]);
      socket.disconnect();
    });

    it(`server-made attachments over ${transports[0]}`, T, async () => {
      const socket = open("/test", { transports });
      await connected(socket);
      const binary = nextEvent(socket, "binary");
      socket.emit("server-binary");
      const [first, text, third] = await binary;
      assert.deepEqual([...new Uint8Array(first)], Array.from({ length: 256 }, (_, i) => i));
      assert.equal(text, "text");
      assert.deepEqual([...new Uint8Array(third.nested)], [1, 2, 3]);
      socket.disconnect();
    });
  }

  it("a 512 KiB attachment over WebSocket", T, async () => {
    const socket = open("/", { transports: ["websocket"] });
    await connected(socket);
    const big = Buffer.alloc(512 * 1024, 0xab);
    const back = nextEvent(socket, "message-back", 10000);
    socket.emit("message", big);
    const [got] = await back;
    assert.equal(got.byteLength, big.length);
    assert.ok(Buffer.from(got).equals(big));
    socket.disconnect();
  });
});

describe("client bundle", () => {
  for (const [file, path] of [
    ["socket.io.js", clientBundlePath],
    ["socket.io.min.js", clientBundlePath.replace(/socket\.io\.js$/, "socket.io.min.js")],
  ]) {
    it(`/socket.io/${file} is the npm file`, T, async () => {
      const response = await httpRequest(`${server.url}/socket.io/${file}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^(application|text)\/javascript/);
      const body = Buffer.from(await response.arrayBuffer());
      const npm = readFileSync(path);
      assert.ok(body.length > 1000);
      assert.equal(body.subarray(0, 200).toString(), npm.subarray(0, 200).toString());
      assert.ok(body.equals(npm), "the whole file matches the npm dist");
    });
  }

  it("the bundle answers If-None-Match with 304 when it sends an ETag", T, async () => {
    const first = await httpRequest(`${server.url}/socket.io/socket.io.js`);
    await first.arrayBuffer();
    const etag = first.headers.get("etag");
    if (!etag) return;  // caching headers are optional
    const second = await httpRequest(`${server.url}/socket.io/socket.io.js`, {
      headers: { "If-None-Match": etag },
    });
    await second.arrayBuffer();
    assert.equal(second.status, 304);
  });
});
