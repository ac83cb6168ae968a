// Socket.IO v5 conformance against /socket.io/, after the official test suite
// (socketio/socket.io docs/socket.io-protocol/v5-test-suite), rewritten for
// node:test, with the long-polling variants and the connectTimeout timing added.
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
import { get, openPolling, pollingUrl, post, pullPackets } from "./lib/polling.mjs";

const PATH = "/socket.io/";
const CONNECT_TIMEOUT = 1000;
const T = { timeout: 10000 };
// Two servers: `reference` has the suite's 300/200 ms heartbeats, for the tests
// that measure them; `server` pings as often but waits 5 s for the PONG, so that
// a client process stalled by a loaded machine does not lose its session in the
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

async function status(url, init) {
  const response = await httpRequest(url, init);
  await response.arrayBuffer();
  return response.status;
}

// An Engine.IO WebSocket session on /socket.io/, not yet connected to a namespace.
async function engineSocket(options, s = server) {
  const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket", s), options);
  const { data } = await socket.next();
  assert.ok(data.startsWith("0"), `Engine.IO handshake: ${data}`);
  return socket;
}

// Connected to "/" (CONNECT answered, "auth" event received).
async function sioSocket(auth = "", options) {
  const socket = await engineSocket(options);
  socket.send(`40${auth}`);
  const connect = await socket.nextNonPing();
  assert.ok(connect.data.startsWith("40{"), `CONNECT answer: ${connect.data}`);
  const authEvent = await socket.nextNonPing();
  assert.ok(authEvent.data.startsWith('42["auth"'), `auth event: ${authEvent.data}`);
  return socket;
}

function assertConnectAnswer(data, prefix) {
  assert.ok(data.startsWith(prefix), `${JSON.stringify(data)} starts with ${prefix}`);
  const answer = JSON.parse(data.slice(prefix.length));
  assert.deepEqual(Object.keys(answer), ["sid"]);
  assert.equal(typeof answer.sid, "string");
  assert.ok(answer.sid.length > 0);
  return answer.sid;
}

describe("Engine.IO layer of /socket.io/", () => {
  it("polling handshake has exactly the spec's fields", T, async () => {
    const { handshake } = await openPolling(reference, PATH);
    assert.deepEqual(Object.keys(handshake).sort(), [
      "maxPayload",
      "pingInterval",
      "pingTimeout",
      "sid",
      "upgrades",
    ]);
    assert.deepEqual(handshake.upgrades, ["websocket"]);
    assert.equal(handshake.pingInterval, PING_INTERVAL);
    assert.equal(handshake.pingTimeout, PING_TIMEOUT);
    assert.equal(handshake.maxPayload, 1000000);
  });

  it("WebSocket handshake has no upgrades", T, async () => {
    const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket", reference));
    const { data } = await socket.next();
    const handshake = JSON.parse(data.slice(1));
    assert.deepEqual(handshake.upgrades, []);
    assert.equal(handshake.pingInterval, PING_INTERVAL);
    socket.close();
  });

  it("400 for a bad EIO, transport or method", T, async () => {
    assert.equal(await status(`${reference.url}${PATH}?transport=polling`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=abc&transport=polling`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=4`), 400);
    assert.equal(await status(`${reference.url}${PATH}?EIO=4&transport=abc`), 400);
    assert.equal(await status(pollingUrl(reference, PATH), { method: "POST" }), 400);
    assert.equal(await status(pollingUrl(reference, PATH), { method: "PUT" }), 400);
  });

  it("WebSocket refused for a bad EIO or transport", T, async () => {
    for (const query of [
      "?transport=websocket",
      "?EIO=abc&transport=websocket",
      "?EIO=4",
      "?EIO=4&transport=abc",
    ]) {
      await rawWebSocket(wsUrl(query)).closed();
    }
  });

  // The reference suite runs these without a CONNECT; three rounds then take
  // about 900 ms of the 1000 ms connectTimeout, too close on a loaded machine.
  // Connecting first keeps the check on the heartbeat alone.
  it("polling heartbeat: three PING/PONG rounds", T, async () => {
    const { sid } = await openPolling(reference, PATH);
    assert.equal((await post(reference, PATH, sid, "40")).status, 200);
    for (let pings = 0; pings < 3; ) {
      const polled = await get(reference, PATH, sid);
      assert.equal(polled.status, 200);
      const packets = polled.body.split("\x1e");
      assert.ok(packets.every((p) => p === "2" || p.startsWith("40") || p.startsWith("42")), polled.body);
      if (packets.includes("2")) {
        ++pings;
        assert.equal((await post(reference, PATH, sid, "3")).status, 200);
      }
    }
  });

  it("polling: the session ends upon ping timeout", T, async () => {
    const { sid } = await openPolling(reference, PATH);
    // Kept sleep: the real server's heartbeat timers must run out (no test clock in
    // protocol-test-server; the in-memory unit tests use a manual clock).
    await sleep(PING_INTERVAL + PING_TIMEOUT + 100);
    assert.equal((await get(reference, PATH, sid)).status, 400);
  });

  it("WebSocket heartbeat: three PING/PONG rounds", T, async () => {
    const socket = await engineSocket(undefined, reference);
    socket.send("40");
    for (let pings = 0; pings < 3; ) {
      const { data } = await socket.next();
      if (data === "2") {
        ++pings;
        socket.send("3");
      } else {
        assert.ok(data.startsWith("40") || data.startsWith("42"), data);
      }
    }
    socket.close();
  });

  it("WebSocket: closed upon ping timeout", T, async () => {
    await rawWebSocket(wsUrl("?EIO=4&transport=websocket", reference)).closed();
  });

  it("polling: CLOSE ends the session (one poll that may have raced it gets NOOP, later ones 400)", T, async () => {
    const { sid } = await openPolling(server, PATH);
    assert.equal((await post(server, PATH, sid, "1")).status, 200);
    const raced = await get(server, PATH, sid);
    assert.equal(raced.status, 200);
    assert.equal(raced.body, "6");
    assert.equal((await get(server, PATH, sid)).status, 400);
  });

  it("WebSocket: CLOSE ends the connection", T, async () => {
    const socket = await engineSocket();
    socket.send("1");
    await socket.closed();
  });

  it("upgrade, then HTTP is refused and a second WebSocket with the sid is opened and closed", T, async () => {
    const { sid } = await openPolling(server, PATH);
    const socket = rawWebSocket(wsUrl(`?EIO=4&transport=websocket&sid=${sid}`));
    await socket.next("open");
    socket.send("2probe");
    assert.equal((await socket.next()).data, "3probe");
    socket.send("5");
    // The upgraded session carries Socket.IO; its answer shows UPGRADE was read.
    socket.send("40");
    assertConnectAnswer((await socket.nextNonPing()).data, "40");
    assert.equal((await socket.nextNonPing()).data, '42["auth",{}]');
    assert.equal((await get(server, PATH, sid)).status, 400);
    const second = rawWebSocket(wsUrl(`?EIO=4&transport=websocket&sid=${sid}`));
    await second.next("open");
    assert.equal((await second.closed()).code, 1000);
    socket.send('42["message","still here"]');
    assert.equal((await socket.nextNonPing()).data, '42["message-back","still here"]');
    socket.close();
  });
});

describe("Socket.IO CONNECT", () => {
  it("to the main namespace", T, async () => {
    const socket = await engineSocket();
    socket.send("40");
    assertConnectAnswer((await socket.next()).data, "40");
    assert.equal((await socket.next()).data, '42["auth",{}]');
    socket.close();
  });

  it("to the main namespace with an auth payload", T, async () => {
    const socket = await engineSocket();
    socket.send('40{"token":"123"}');
    assertConnectAnswer((await socket.next()).data, "40");
    assert.equal((await socket.next()).data, '42["auth",{"token":"123"}]');
    socket.close();
  });

  it("to a custom namespace", T, async () => {
    const socket = await engineSocket();
    socket.send("40/custom,");
    assertConnectAnswer((await socket.next()).data, "40/custom,");
    assert.equal((await socket.next()).data, '42/custom,["auth",{}]');
    socket.close();
  });

  it("to a custom namespace with an auth payload", T, async () => {
    const socket = await engineSocket();
    socket.send('40/custom,{"token":"abc"}');
    assertConnectAnswer((await socket.next()).data, "40/custom,");
    assert.equal((await socket.next()).data, '42/custom,["auth",{"token":"abc"}]');
    socket.close();
  });

  it("to an unknown namespace: CONNECT_ERROR Invalid namespace", T, async () => {
    const socket = await engineSocket();
    socket.send("40/random");
    assert.equal((await socket.next()).data, '44/random,{"message":"Invalid namespace"}');
    socket.close();
  });

  it("to / and /custom over one connection, with distinct sids", T, async () => {
    const socket = await engineSocket();
    socket.send("40");
    const main = assertConnectAnswer((await socket.next()).data, "40");
    await socket.next();  // auth
    socket.send("40/custom,");
    const custom = assertConnectAnswer((await socket.nextNonPing()).data, "40/custom,");
    assert.notEqual(main, custom);
    socket.close();
  });

  it("over long-polling", T, async () => {
    const { sid } = await openPolling(server, PATH);
    assert.equal((await post(server, PATH, sid, '40{"via":"polling"}')).status, 200);
    const [connect, auth] = await pullPackets(server, PATH, sid, 2);
    assertConnectAnswer(connect, "40");
    assert.equal(auth, '42["auth",{"via":"polling"}]');
  });

  it("an invalid handshake closes the connection", T, async () => {
    const socket = await engineSocket();
    socket.send("4abc");
    await socket.closed();
  });

  it("a client that never sends CONNECT is closed after connectTimeout (WebSocket)", T, async () => {
    // PINGs are answered so that only connectTimeout can end the session.
    const socket = rawWebSocket(wsUrl("?EIO=4&transport=websocket"), { autoPong: true });
    const opened = Date.now();
    await socket.next();  // handshake
    await socket.next("close", 5000);
    const elapsed = Date.now() - opened;
    assert.ok(elapsed >= CONNECT_TIMEOUT - 100, `closed after ${elapsed} ms`);
    assert.ok(elapsed <= CONNECT_TIMEOUT + 1500, `closed after ${elapsed} ms`);
  });

  it("a client that never sends CONNECT is closed after connectTimeout (polling)", T, async () => {
    const opened = Date.now();
    const { sid } = await openPolling(server, PATH);
    let closedAt = 0;
    for (let i = 0; i < 20 && !closedAt; ++i) {
      const polled = await get(server, PATH, sid);
      if (polled.status !== 200 || polled.body.split("\x1e").includes("1")) {
        closedAt = Date.now();
        break;
      }
      if (polled.body === "2") await post(server, PATH, sid, "3");
    }
    assert.ok(closedAt, "the session was closed");
    const elapsed = closedAt - opened;
    assert.ok(elapsed >= CONNECT_TIMEOUT - 100, `closed after ${elapsed} ms`);
    assert.ok(elapsed <= CONNECT_TIMEOUT + 1500, `closed after ${elapsed} ms`);
  });

  it("a connected client is not closed by connectTimeout", T, async () => {
    const socket = await sioSocket("", { autoPong: true });
    // Kept sleep: the real connectTimeout timer must run out (no test clock here).
    await sleep(CONNECT_TIMEOUT + 300);
    socket.send('42["message","still here"]');
    assert.equal((await socket.nextNonPing()).data, '42["message-back","still here"]');
    socket.close();
  });
});

describe("Socket.IO DISCONNECT", () => {
  it("from the main namespace: nothing but PINGs follows", T, async () => {
    const socket = await sioSocket();
    socket.send("41");
    assert.equal((await socket.next()).data, "2");
    socket.close();
  });

  it("from a custom namespace, the main one goes on", T, async () => {
    const socket = await sioSocket();
    socket.send("40/custom");
    assert.ok((await socket.nextNonPing()).data.startsWith("40/custom,"));
    await socket.nextNonPing();  // auth
    socket.send("41/custom");
    socket.send('42["message","message to main namespace"]');
    assert.equal((await socket.nextNonPing()).data, '42["message-back","message to main namespace"]');
    socket.close();
  });

  it("an event to a namespace left is ignored", T, async () => {
    const socket = await sioSocket();
    socket.send("41");
    socket.send('42["message","nobody listens"]');
    socket.send("40");
    assertConnectAnswer((await socket.nextNonPing()).data, "40");
    assert.equal((await socket.nextNonPing()).data, '42["auth",{}]');
    socket.close();
  });
});

describe("Socket.IO events and acks over WebSocket", () => {
  it("a plain-text event", T, async () => {
    const socket = await sioSocket();
    socket.send('42["message",1,"2",{"3":[true]}]');
    assert.equal((await socket.nextNonPing()).data, '42["message-back",1,"2",{"3":[true]}]');
    socket.close();
  });

  it("an event with binary attachments", T, async () => {
    const socket = await sioSocket();
    socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    socket.send(Uint8Array.from([1, 2, 3]));
    socket.send(Uint8Array.from([4, 5, 6]));
    const header = await socket.nextNonPing();
    assert.equal(
      header.data,
      '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
    );
    assert.deepEqual(bytes((await socket.nextNonPing()).data), [1, 2, 3]);
    assert.deepEqual(bytes((await socket.nextNonPing()).data), [4, 5, 6]);
    socket.close();
  });

  it("a plain-text event with an ack", T, async () => {
    const socket = await sioSocket();
    socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal((await socket.nextNonPing()).data, '43456[1,"2",{"3":[false]}]');
    socket.close();
  });

  it("an event with binary attachments and an ack", T, async () => {
    const socket = await sioSocket();
    socket.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    socket.send(Uint8Array.from([1, 2, 3]));
    socket.send(Uint8Array.from([4, 5, 6]));
    assert.equal(
      (await socket.nextNonPing()).data,
      '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
    );
    assert.deepEqual(bytes((await socket.nextNonPing()).data), [1, 2, 3]);
    assert.deepEqual(bytes((await socket.nextNonPing()).data), [4, 5, 6]);
    socket.close();
  });

  it("events on a custom namespace carry its name", T, async () => {
    const socket = await sioSocket();
    socket.send("40/custom,");
    assert.ok((await socket.nextNonPing()).data.startsWith("40/custom,"));
    assert.equal((await socket.nextNonPing()).data, '42/custom,["auth",{}]');
    socket.close();
  });
});

describe("Socket.IO events and acks over long-polling", () => {
  async function connectPolling() {
    const { sid } = await openPolling(server, PATH);
    assert.equal((await post(server, PATH, sid, "40")).status, 200);
    await pullPackets(server, PATH, sid, 2);  // CONNECT answer, auth
    return sid;
  }

  it("a plain-text event", T, async () => {
    const sid = await connectPolling();
    assert.equal((await post(server, PATH, sid, '42["message","hi",{"n":1}]')).status, 200);
    assert.deepEqual(await pullPackets(server, PATH, sid, 1), ['42["message-back","hi",{"n":1}]']);
  });

  it("several events in one POST come back (possibly batched)", T, async () => {
    const sid = await connectPolling();
    const body = ['42["message",1]', '42["message",2]', '42["message",3]'].join("\x1e");
    assert.equal((await post(server, PATH, sid, body)).status, 200);
    assert.deepEqual(await pullPackets(server, PATH, sid, 3), [
      '42["message-back",1]',
      '42["message-back",2]',
      '42["message-back",3]',
    ]);
  });

  it("binary attachments as base64 records", T, async () => {
    const sid = await connectPolling();
    const body = '451-["message",{"_placeholder":true,"num":0}]\x1ebAQID';
    assert.equal((await post(server, PATH, sid, body)).status, 200);
    assert.deepEqual(await pullPackets(server, PATH, sid, 2), [
      '451-["message-back",{"_placeholder":true,"num":0}]',
      "bAQID",
    ]);
  });

  it("an ack, and a binary ack", T, async () => {
    const sid = await connectPolling();
    assert.equal((await post(server, PATH, sid, '4212["message-with-ack","x"]')).status, 200);
    assert.deepEqual(await pullPackets(server, PATH, sid, 1), ['4312["x"]']);
    const body = '451-13["message-with-ack",{"_placeholder":true,"num":0}]\x1ebBAUG';
    assert.equal((await post(server, PATH, sid, body)).status, 200);
    assert.deepEqual(await pullPackets(server, PATH, sid, 2), [
      '461-13[{"_placeholder":true,"num":0}]',
      "bBAUG",
    ]);
  });

  it("an invalid Socket.IO packet closes the session", T, async () => {
    const sid = await connectPolling();
    await post(server, PATH, sid, "42{}").catch(() => {});
    let gone = false;
    for (let i = 0; i < 5 && !gone; ++i) {
      const polled = await get(server, PATH, sid);
      gone = polled.status === 400 || polled.body.split("\x1e").includes("1");
    }
    assert.ok(gone, "the session was closed");
  });
});

describe("Socket.IO invalid packets close the connection", () => {
  for (const [what, packet] of [
    ["unknown packet type", "4abc"],
    ["payload not an array", "42{}"],
    ["invalid ack id", '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ["event name missing", "42[]"],
    ["truncated JSON", '42["message",'],
    ["attachment count not followed by -", '451["message",{"_placeholder":true,"num":0}]'],
    ["CONNECT_ERROR from a client", '44{"message":"nope"}'],
  ]) {
    it(what, T, async () => {
      const socket = await sioSocket();
      socket.send(packet);
      await socket.next("close", 3000);
    });
  }

  it("a binary frame nobody announced", T, async () => {
    const socket = await sioSocket();
    socket.send(Uint8Array.from([9, 9, 9]));
    await socket.next("close", 3000);
  });
});
