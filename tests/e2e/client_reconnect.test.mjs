// Reconnection after a server restart: the server is stopped and started again
// on the same port, and the npm socket.io-client comes back by itself.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { client, connected, nextEvent, startServer, startServerOnPort } from "./lib/harness.mjs";

const T = { timeout: 30000 };
const servers = [];
const sockets = [];

after(async () => {
  for (const socket of sockets) socket.disconnect();
  for (const server of servers) await server.stop("SIGKILL");
});

async function start(port) {
  const server = port ? await startServerOnPort(port) : await startServer();
  servers.push(server);
  return server;
}

function reconnecting(server, transports) {
  const socket = client(server, "/", {
    transports,
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 400,
    randomizationFactor: 0,
    auth: { who: "reconnecting" },
  });
  sockets.push(socket);
  return socket;
}

// Stops the server with `signal`, starts it again on the same port; the client
// must notice, reconnect on its own, and deliver what it emitted meanwhile.
async function restartCycle(transports, signal, waitMs = 20000) {
  const first = await start();
  const socket = reconnecting(first, transports);
  await connected(socket);
  const firstId = socket.id;
  assert.equal(await socket.timeout(3000).emitWithAck("message-with-ack", "before"), "before");

  const gone = nextEvent(socket, "disconnect", 5000);
  await first.stop(signal);
  const [reason] = await gone;

  // Emitted while the server is down: buffered by the client, sent after reconnecting.
  const back = nextEvent(socket, "message-back", waitMs);
  back.catch(() => {});  // awaited below; keeps an early failure from going unhandled
  socket.emit("message", "while down");

  const again = nextEvent(socket, "connect", waitMs);
  const second = await start(first.port);
  await again;
  assert.ok(socket.connected);
  assert.notEqual(socket.id, firstId, "a new session after the restart");
  assert.deepEqual(await back, ["while down"]);
  assert.equal(await socket.timeout(3000).emitWithAck("message-with-ack", "after"), "after");
  socket.disconnect();
  await second.stop();
  return reason;
}

describe("reconnection after a server restart", () => {
  it("WebSocket client, server killed (SIGKILL)", T, async () => {
    const reason = await restartCycle(["websocket"], "SIGKILL");
    assert.equal(reason, "transport close");
  });

  it("long-polling client, server killed (SIGKILL)", T, async () => {
    const reason = await restartCycle(["polling"], "SIGKILL");
    assert.ok(["transport close", "transport error"].includes(reason), reason);
  });

  it(
    "WebSocket client, server stopped gracefully (SIGTERM)",
    T,
    async () => {
      const reason = await restartCycle(["websocket"], "SIGTERM", 5000);
      assert.equal(reason, "transport close");
    },
  );

  it("the reconnected client receives broadcasts again", T, async () => {
    const first = await start();
    const socket = client(first, "/test", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 400,
    });
    sockets.push(socket);
    await connected(socket);
    const gone = nextEvent(socket, "disconnect", 5000);
    await first.stop("SIGKILL");
    await gone;
    const again = nextEvent(socket, "connect", 20000);
    const second = await start(first.port);
    await again;
    const news = nextEvent(socket, "news");
    await socket.timeout(3000).emitWithAck("broadcast-to", { event: "news", payload: "fresh" });
    assert.deepEqual(await news, ["fresh"]);
    socket.disconnect();
    await second.stop();
  });
});
