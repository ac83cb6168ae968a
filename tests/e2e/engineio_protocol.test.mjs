// Engine.IO v4 conformance against the /engine.io/ echo endpoint, after the
// official test suite (socketio/socket.io docs/engine.io-protocol/v4-test-suite),
// rewritten for node:test with a few checks of our own (timings, CORS, limits,
// release of a pending poll during upgrade).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  PING_INTERVAL,
  PING_TIMEOUT,
  bytes,
  httpRequest,
  rawWebSocket,
  sleep,
  startServer,
} from "./lib/harness.mjs";
import { get, openPolling, pollingUrl, post } from "./lib/polling.mjs";

const PATH = "/engine.io/";
const T = { timeout: 10000 };

// Two servers: `reference` has the suite's 300/200 ms heartbeats, for the tests
// that check them; `server` pings as often but waits 5 s for the PONG, so that a
// client process stalled by a loaded machine does not lose its session in the
// middle of a test about something else.
let server;
let reference;

before(async () => {
  server = await startServer({ args: ["--ping-timeout", "5000"] });
  reference = await startServer();
});
after(async () => {
  await server?.stop();
  await reference?.stop();
});

const wsUrl = (query, s = server) => `${s.wsUrl}${PATH}${query}`;

function assertHandshake(handshake, upgrades) {
  assert.deepEqual(Object.keys(handshake).sort(), [
    "maxPayload",
    "pingInterval",
    "pingTimeout",
    "sid",
    "upgrades",
  ]);
  assert.equal(typeof handshake.sid, "string");
  assert.ok(handshake.sid.length > 0);
  assert.deepEqual(handshake.upgrades, upgrades);
  assert.equal(handshake.pingInterval, PING_INTERVAL);
  assert.equal(handshake.pingTimeout, PING_TIMEOUT);
  assert.equal(handshake.maxPayload, 1000000);
}

async function status(url, init) {
  const response = await httpRequest(url, init);
  await response.arrayBuffer();
  return response.status;
}

async function openWebSocket(s = server) {
  const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket", s));
  const { data } = await socket.next();
  assert.ok(data.startsWith("0"));
  return { socket, handshake: JSON.parse(data.slice(1)) };
}

describe("Engine.IO handshake", () => {
  it("polling: opens a session with exactly the spec's fields", T, async () => {
    const response = await httpRequest(`${reference.url}${PATH}?EIO=4&transport=polling`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type"), /^text\/plain/);
    const body = await response.text();
    assert.ok(body.startsWith("0"));
    assertHandshake(JSON.parse(body.slice(1)), ["websocket"]);
  });

  it("polling: sids are unique", T, async () => {
    const a = await openPolling(reference, PATH);
    const b = await openPolling(reference, PATH);
    assert.notEqual(a.sid, b.sid);
  });

  it("polling: 400 for a missing, invalid or unsupported EIO", T, async () => {
    assert.equal(await status(`${reference.url}${PATH}?transport=polling`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=abc&transport=polling`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=3&transport=polling`), 400);
  });

  it("polling: 400 for a missing or unknown transport", T, async () => {
    assert.equal(await status(`${reference.url}${PATH}?EIO=4`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=4&transport=abc`), 400);
  });

  it("polling: 400 for POST or PUT without a session", T, async () => {
    assert.equal(await status(pollingUrl(reference, PATH), { method: "POST" }), 400);
    assert.equal(await status(pollingUrl(reference, PATH), { method: "PUT" }), 400);
  });

  it("polling: 400 for an unknown sid (GET and POST)", T, async () => {
    assert.equal((await get(reference, PATH, "does-not-exist")).status, 400);
    assert.equal((await post(reference, PATH, "does-not-exist", "4x")).status, 400);
  });

  it("polling: 400 for a session's sid with the wrong transport", T, async () => {
    // A sid opened with polling, asked for over plain HTTP with transport=websocket.
    const { sid } = await openPolling(reference, PATH);
    assert.equal(
      await status(`${reference.url}${PATH}?EIO=4&transport=websocket&sid=${sid}`),
      400,
    );
  });

  it("websocket: opens a session without upgrades", T, async () => {
    const { socket, handshake } = await openWebSocket(reference);
    assertHandshake(handshake, []);
    socket.close();
  });

  it("websocket: refused for a missing or invalid EIO", T, async () => {
    for (const query of ["?transport=websocket", "?EIO=abc&transport=websocket"]) {
      const socket = rawWebSocket(wsUrl(query));
      await socket.closed();
    }
  });

  it("websocket: refused for a missing or unknown transport", T, async () => {
    for (const query of ["?EIO=4", "?EIO=4&transport=abc"]) {
      const socket = rawWebSocket(wsUrl(query));
      await socket.closed();
    }
  });

  it("websocket: refused for an unknown sid", T, async () => {
    const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket&sid=does-not-exist", reference));
    await socket.closed();
  });
});

describe("Engine.IO messages over long-polling", () => {
  it("echoes one text packet", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pushed = await post(server, PATH, sid, "4hello");
    assert.equal(pushed.status, 200);
    assert.equal(pushed.body, "ok");
    const polled = await get(server, PATH, sid);
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "4hello");
  });

  it("echoes several packets in one batch", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pushed = await post(server, PATH, sid, "4test1\x1e4test2\x1e4test3");
    assert.equal(pushed.status, 200);
    assert.equal(pushed.body, "ok");
    const polled = await get(server, PATH, sid);
    assert.equal(polled.body, "4test1\x1e4test2\x1e4test3");
  });

  it("echoes text and base64 binary packets", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pushed = await post(server, PATH, sid, "4hello\x1ebAQIDBA==");
    assert.equal(pushed.status, 200);
    const polled = await get(server, PATH, sid);
    assert.equal(polled.body, "4hello\x1ebAQIDBA==");
  });

  it("echoes non-ASCII text unchanged", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const text = "4héllo wörld ✓ 🍕";
    assert.equal((await post(server, PATH, sid, text)).status, 200);
    assert.equal((await get(server, PATH, sid)).body, text);
  });

  it("a pending GET is answered when a message arrives", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pending = get(server, PATH, sid);
    // Time for the GET to reach the server and be held as the pending poll: the server
    // shows no sign of it (kept sleep; the test still passes if it was not pending yet).
    await sleep(20);
    assert.equal((await post(server, PATH, sid, "4late")).status, 200);
    const polled = await pending;
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "4late");
  });

  it("closes the session upon an invalid packet", T, async () => {
    const { sid } = await openPolling(server, PATH);
    try {
      const pushed = await post(server, PATH, sid, "abc");
      assert.equal(pushed.status, 400);
    } catch {
      // the server may also drop the request
    }
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("closes the session upon two concurrent polls", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const first = get(server, PATH, sid);
    // Time for the first GET to be held as the pending poll before the second comes:
    // the server shows no sign of it (kept sleep).
    await sleep(10);
    const second = await httpRequest(pollingUrl(server, PATH, sid, "&t=burst"));
    await second.text();
    assert.ok([400, 500].includes(second.status), `second poll answered ${second.status}`);
    const firstResult = await first;
    assert.equal(firstResult.status, 200);
    assert.equal(firstResult.body, "1");
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("closes the session when a pending poll is cancelled", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const controller = new AbortController();
    httpRequest(pollingUrl(server, PATH, sid), { signal: controller.signal }).catch(() => {});
    // Kept sleeps: time for the poll to be held, then for the server to see the
    // aborted connection; neither shows to the client.
    await sleep(20);
    controller.abort();
    await sleep(20);
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("refuses a POST larger than maxPayload and closes the session", T, async () => {
    const { sid } = await openPolling(server, PATH);
    let refused = true;
    try {
      const pushed = await post(server, PATH, sid, "4" + "x".repeat(1000001));
      refused = pushed.status >= 400;
      assert.ok([400, 413].includes(pushed.status), `oversized POST answered ${pushed.status}`);
    } catch {
      // dropping the connection is a refusal too
    }
    assert.ok(refused);
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("answers CORS requests from any origin (preflight and actual)", T, async () => {
    const origin = "http://example.test:8080";
    const preflight = await httpRequest(pollingUrl(server, PATH), {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    await preflight.arrayBuffer();
    assert.ok([200, 204].includes(preflight.status), `preflight answered ${preflight.status}`);
    const allowOrigin = preflight.headers.get("access-control-allow-origin");
    assert.ok(allowOrigin === origin || allowOrigin === "*", `allow-origin: ${allowOrigin}`);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/i);

    const response = await httpRequest(pollingUrl(server, PATH), { headers: { Origin: origin } });
    await response.text();
    const actual = response.headers.get("access-control-allow-origin");
    assert.ok(actual === origin || actual === "*", `allow-origin: ${actual}`);
  });
});

describe("Engine.IO messages over WebSocket", () => {
  it("echoes a text packet", T, async () => {
    const { socket } = await openWebSocket();
    socket.send("4hello");
    assert.equal((await socket.next()).data, "4hello");
    socket.close();
  });

  it("echoes a binary packet", T, async () => {
    const { socket } = await openWebSocket();
    socket.send(Uint8Array.from([1, 2, 3, 4]));
    const { data } = await socket.next();
    assert.ok(data instanceof ArrayBuffer, "a binary frame");
    assert.deepEqual(bytes(data), [1, 2, 3, 4]);
    socket.close();
  });

  it("echoes a 64 KiB text packet (16-bit length frames and beyond)", T, async () => {
    const { socket } = await openWebSocket();
    const big = "4" + "y".repeat(65536);
    socket.send(big);
    assert.equal((await socket.next()).data, big);
    socket.close();
  });

  it("closes the session upon an invalid packet", T, async () => {
    const { socket } = await openWebSocket();
    socket.send("abc");
    await socket.closed();
  });

  it("closes the connection for a message larger than maxPayload", T, async () => {
    const { socket } = await openWebSocket();
    socket.send("4" + "z".repeat(1000001));
    await socket.closed();
  });
});

describe("Engine.IO heartbeat", () => {
  it("polling: a PING every pingInterval, answered by PONG", T, async () => {
    const { sid } = await openPolling(reference, PATH);
    let last = Date.now();
    for (let i = 0; i < 3; ++i) {
      const polled = await get(reference, PATH, sid);
      const elapsed = Date.now() - last;
      assert.equal(polled.status, 200);
      assert.equal(polled.body, "2");
      assert.ok(elapsed >= PING_INTERVAL - 50, `PING after ${elapsed} ms`);
      assert.ok(elapsed <= PING_INTERVAL + 250, `PING after ${elapsed} ms`);
      const pong = await post(reference, PATH, sid, "3");
      assert.equal(pong.status, 200);
      last = Date.now();
    }
  });

  it("polling: the session ends when no PONG comes", T, async () => {
    const { sid } = await openPolling(reference, PATH);
    // Kept sleep: the real server's heartbeat timers must run out (protocol-test-server
    // has no test clock; the in-memory unit tests check the same with a manual clock).
    await sleep(PING_INTERVAL + PING_TIMEOUT + 100);
    assert.equal((await get(reference, PATH, sid)).status, 400);
  });

  it("websocket: a PING every pingInterval, answered by PONG", T, async () => {
    const { socket } = await openWebSocket(reference);
    let last = Date.now();
    for (let i = 0; i < 3; ++i) {
      const { data } = await socket.next();
      const elapsed = Date.now() - last;
      assert.equal(data, "2");
      assert.ok(elapsed >= PING_INTERVAL - 50, `PING after ${elapsed} ms`);
      assert.ok(elapsed <= PING_INTERVAL + 250, `PING after ${elapsed} ms`);
      socket.send("3");
      last = Date.now();
    }
    socket.close();
  });

  it("websocket: the connection closes when no PONG comes", T, async () => {
    const opened = Date.now();
    const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket", reference));
    await socket.closed();
    const elapsed = Date.now() - opened;
    assert.ok(elapsed >= PING_INTERVAL + PING_TIMEOUT - 50, `closed after ${elapsed} ms`);
    assert.ok(elapsed <= PING_INTERVAL + PING_TIMEOUT + 1000, `closed after ${elapsed} ms`);
  });
});

describe("Engine.IO close", () => {
  // The official suite's "forcefully closes the session": the poll and the CLOSE go
  // out together on two connections, which may be served by two loops in either
  // order; the answer must not depend on which runs first.
  it("polling: a poll sent together with CLOSE gets NOOP, whatever runs first (50 rounds)", { timeout: 60000 }, async () => {
    for (let round = 0; round < 50; ++round) {
      const { sid } = await openPolling(server, PATH);
      const [polled, closing] = await Promise.all([get(server, PATH, sid), post(server, PATH, sid, "1")]);
      assert.equal(closing.status, 200, `round ${round}`);
      assert.equal(polled.status, 200, `round ${round}: ${polled.body}`);
      // NOOP — or, when the heartbeat (every 300 ms here) fell due between the open and the
      // poll, that PING, which was already waiting (seen once in 20 runs of the suite).
      assert.ok(polled.body === "6" || polled.body === "2", `round ${round}: ${polled.body}`);
      assert.equal((await get(server, PATH, sid)).status, 400, `round ${round}: only one poll is answered so`);
    }
  });

  it("polling: CLOSE ends the session and releases the pending poll with NOOP", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pending = get(server, PATH, sid);
    // Time for the GET to reach the server and be held as the pending poll: the server
    // shows no sign of it (kept sleep; the test still passes if it was not pending yet).
    await sleep(10);
    const closing = await post(server, PATH, sid, "1");
    assert.equal(closing.status, 200);
    const polled = await pending;
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "6");
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("websocket: CLOSE ends the connection", T, async () => {
    const { socket } = await openWebSocket();
    socket.send("1");
    await socket.closed();
  });
});

describe("Engine.IO upgrade", () => {
  async function probe(sid) {
    const socket = rawWebSocket(wsUrl(`?EIO=4&transport=websocket&sid=${sid}`));
    await socket.next("open");
    socket.send("2probe");
    assert.equal((await socket.next()).data, "3probe");
    return socket;
  }

  it("upgrades from polling to WebSocket (probe, NOOP for the next poll, UPGRADE)", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const socket = await probe(sid);
    const polled = await get(server, PATH, sid);
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "6");
    socket.send("5");
    socket.send("4hello");
    assert.equal((await socket.nextNonPing()).data, "4hello");
    socket.close();
  });

  it("a poll pending during the probe is released with NOOP", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const pending = get(server, PATH, sid);
    // Time for the GET to reach the server and be held as the pending poll: the server
    // shows no sign of it (kept sleep; the test still passes if it was not pending yet).
    await sleep(20);
    const socket = await probe(sid);
    const polled = await pending;
    assert.equal(polled.status, 200);
    assert.equal(polled.body, "6");
    socket.send("5");
    socket.send("4after");
    assert.equal((await socket.nextNonPing()).data, "4after");
    socket.close();
  });

  it("messages sent before UPGRADE are not lost", T, async () => {
    const { sid } = await openPolling(server, PATH);
    assert.equal((await post(server, PATH, sid, "4before")).status, 200);
    const socket = await probe(sid);
    // The echo of "4before" was buffered for polling: it arrives there, or over
    // WebSocket once upgraded, but exactly once.
    const polled = await get(server, PATH, sid);
    assert.equal(polled.status, 200);
    socket.send("5");
    const seen = polled.body.split("\x1e").filter((p) => p === "4before").length;
    if (seen === 0) assert.equal((await socket.nextNonPing()).data, "4before");
    else assert.equal(seen, 1);
    socket.close();
  });

  // Upgraded: UPGRADE, then a message whose echo proves the server has read both.
  async function upgraded(sid) {
    const socket = await probe(sid);
    socket.send("5");
    socket.send("4upgraded");
    assert.equal((await socket.nextNonPing()).data, "4upgraded");
    return socket;
  }

  // The official suite sends the poll right after UPGRADE, on another connection
  // that another loop may read first: the server reads the WebSocket's pending
  // bytes before answering a poll of an upgrading session.
  it("a poll sent right after UPGRADE is refused, whichever loop reads first (50 rounds)", { timeout: 60000 }, async () => {
    for (let round = 0; round < 50; ++round) {
      const { sid } = await openPolling(server, PATH);
      const socket = await probe(sid);
      socket.send("5");
      assert.equal((await get(server, PATH, sid)).status, 400, `round ${round}`);
      socket.send("4hello");
      assert.equal((await socket.nextNonPing()).data, "4hello", `round ${round}`);
      socket.close();
    }
  });

  it("ignores HTTP requests with the sid after the upgrade", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const socket = await upgraded(sid);
    assert.equal((await get(server, PATH, sid)).status, 400);
    socket.send("4hello");
    assert.equal((await socket.nextNonPing()).data, "4hello");
    socket.close();
  });

  // Like the reference server: the second WebSocket's handshake completes, then the
  // server closes it; the first goes on.
  it("ignores a second WebSocket with the sid after the upgrade (opened, then closed)", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const socket = await upgraded(sid);
    const second = rawWebSocket(wsUrl(`?EIO=4&transport=websocket&sid=${sid}`));
    await second.next("open");
    assert.equal((await second.closed()).code, 1000);
    socket.send("4hello");
    assert.equal((await socket.nextNonPing()).data, "4hello");
    socket.close();
  });

  it("a session opened over WebSocket cannot be joined by polling", T, async () => {
    const { socket, handshake } = await openWebSocket();
    assert.equal((await get(server, PATH, handshake.sid)).status, 400);
    socket.close();
  });
});
