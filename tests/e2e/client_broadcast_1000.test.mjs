// 1000 npm socket.io-client sockets over WebSocket, each with its own
// connection, receive one broadcast (and then a burst, and a room subset):
// every one arrives, exactly once, in order.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { client, connected, startServer, within } from "./lib/harness.mjs";

const CLIENTS = 1000;
const BATCH = 50;
let server;
let sockets = [];

// The reference 300/200 ms heartbeats leave the client process 200 ms to answer
// each PING; with a thousand clients in it, on two shared cores next to other
// test files, that is not always the case. Longer heartbeats, still several per run.
before(async () => {
  server = await startServer({ args: ["--ping-interval", "1000", "--ping-timeout", "5000"] });
});
after(async () => {
  for (const socket of sockets) socket.disconnect();
  await server?.stop();
});

// Checks waiting predicates after each received event.
const checks = new Set();
const received = () => {
  for (const check of checks) check();
};
function waitUntil(predicate, ms, what) {
  let check;
  return within(
    ms,
    new Promise((resolve) => {
      check = () => {
        if (predicate()) resolve();
      };
      checks.add(check);
      check();
    }),
    what,
  ).finally(() => checks.delete(check));
}

// A barrier: one more broadcast to everyone. Each connection delivers in order, so a
// duplicate of an earlier broadcast would have arrived before it.
let markers = 0;
async function barrier() {
  const n = ++markers;
  await sockets[0].timeout(5000).emitWithAck("broadcast-to", { event: "marker", payload: n });
  await waitUntil(() => total("marker") >= n * CLIENTS, 30000, `marker ${n} (have ${total("marker")})`);
}

const total = (event) => sockets.reduce((sum, s) => sum + s.got[event].length, 0);

describe(`${CLIENTS} clients`, () => {
  before(async () => {
    // In batches, so that the client process keeps answering PINGs meanwhile.
    for (let i = 0; i < CLIENTS; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(i + BATCH, CLIENTS); ++j) {
        const socket = client(server, "/test", { transports: ["websocket"], timeout: 20000 });
        socket.index = j;
        socket.got = { tick: [], burst: [], even: [], marker: [] };
        for (const event of Object.keys(socket.got)) {
          socket.on(event, (p) => {
            socket.got[event].push(p);
            received();
          });
        }
        socket.lost = [];
        socket.on("disconnect", (reason) => socket.lost.push(reason));
        batch.push(socket);
      }
      sockets.push(...batch);
      await Promise.all(batch.map((socket) => connected(socket, 20000)));
    }
  });

  it("all are connected and counted by the server", { timeout: 60000 }, async () => {
    assert.equal(sockets.filter((s) => s.connected).length, CLIENTS);
    const count = await sockets[0].timeout(5000).emitWithAck("count");
    assert.equal(count, CLIENTS);
  });

  it("one broadcast reaches every client exactly once", { timeout: 60000 }, async () => {
    await sockets[0].timeout(5000).emitWithAck("broadcast-to", {
      event: "tick",
      payload: { seq: 1, text: "to everyone" },
    });
    await waitUntil(() => total("tick") >= CLIENTS, 30000, `${CLIENTS} ticks (have ${total("tick")})`);
    await barrier();
    const missing = sockets.filter((s) => s.got.tick.length !== 1).map((s) => s.index);
    assert.deepEqual(missing, [], "clients without exactly one tick");
    for (const socket of sockets) assert.deepEqual(socket.got.tick[0], { seq: 1, text: "to everyone" });
  });

  it("a burst of 20 broadcasts arrives complete everywhere, each once", { timeout: 60000 }, async () => {
    for (let seq = 0; seq < 20; ++seq) {
      sockets[seq % CLIENTS].emit("broadcast-to", { event: "burst", payload: seq });
    }
    await waitUntil(() => total("burst") >= 20 * CLIENTS, 30000, `burst (have ${total("burst")})`);
    await barrier();
    for (const socket of sockets) {
      assert.equal(socket.got.burst.length, 20, `client ${socket.index}`);
      // Broadcasts from different senders may interleave; each value once, nothing lost.
      assert.deepEqual([...socket.got.burst].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    }
  });

  it("a broadcast to a room of 500 reaches those only", { timeout: 60000 }, async () => {
    const evens = sockets.filter((s) => s.index % 2 === 0);
    for (let i = 0; i < evens.length; i += BATCH) {
      await Promise.all(evens.slice(i, i + BATCH).map((s) => s.timeout(10000).emitWithAck("join", "even")));
    }
    await sockets[1].timeout(5000).emitWithAck("broadcast-to", { rooms: ["even"], event: "even", payload: 2 });
    await waitUntil(() => total("even") >= evens.length, 30000, `room delivery (have ${total("even")})`);
    await barrier();
    for (const socket of sockets) {
      assert.equal(socket.got.even.length, socket.index % 2 === 0 ? 1 : 0, `client ${socket.index}`);
    }
  });

  it("no client was disconnected along the way", { timeout: 10000 }, async () => {
    const lost = sockets.filter((s) => s.lost.length > 0 || !s.connected);
    const reasons = {};
    for (const s of lost) for (const r of s.lost) reasons[r] = (reasons[r] ?? 0) + 1;
    assert.equal(lost.length, 0, `disconnected clients, by reason: ${JSON.stringify(reasons)}`);
  });
});
