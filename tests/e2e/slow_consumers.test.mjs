// Slow consumers: 50 sockets stop reading while 1000 healthy ones keep going. The
// stalled ones are bounded in memory (their send queue, --max-send-queue) and
// disconnected with a reason once over it; every healthy socket still gets every
// broadcast, in order, none disconnected. Latency figures are printed, not asserted
// (docs/BENCHMARKS.md has the measured ones).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { client, connected, startServer } from "./lib/harness.mjs";

const HEALTHY = 1000;
const STALLED = 50;
const BATCH = 50;
const MAX_SEND_QUEUE = 256 * 1024;
const BIG = "x".repeat(64 * 1024);
const BIG_BROADCASTS = 200; // 12.8 MB per stalled socket: past its queue and the kernel's buffers
const TICKS = 50;

let server;
const healthy = [];
const stalled = [];
let observer;

// Resolves when `predicate()` holds, re-checked whenever one of `sockets` gets `event`.
function whenAll(sockets, event, predicate, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      for (const s of sockets) s.off(event, check);
      resolve();
    };
    for (const s of sockets) s.on(event, check);
    check();
  });
}

before(async () => {
  // Heartbeats long enough that a stalled socket is cut for its queue, not a ping.
  server = await startServer({
    args: ["--ping-interval", "20000", "--ping-timeout", "20000", "--max-send-queue", String(MAX_SEND_QUEUE)],
  });
});
after(async () => {
  for (const s of [...healthy, ...stalled, observer]) s?.disconnect();
  await server?.stop();
});

describe(`${HEALTHY} healthy sockets and ${STALLED} that stop reading`, () => {
  before(async () => {
    for (let i = 0; i < HEALTHY; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(i + BATCH, HEALTHY); ++j) {
        const socket = client(server, "/test", { transports: ["websocket"], timeout: 20000 });
        socket.ticks = [];
        socket.lost = [];
        socket.on("tick", (p) => socket.ticks.push(p));
        socket.on("disconnect", (reason) => socket.lost.push(reason));
        batch.push(socket);
      }
      healthy.push(...batch);
      await Promise.all(batch.map((s) => connected(s, 20000)));
    }
    for (let i = 0; i < STALLED; ++i) {
      const socket = client(server, "/test", { transports: ["websocket"], timeout: 20000, reconnection: false });
      stalled.push(socket);
    }
    await Promise.all(stalled.map((s) => connected(s, 20000)));
    await Promise.all(stalled.map((s) => s.timeout(5000).emitWithAck("join", "stalled")));
    observer = client(server, "/test", { transports: ["websocket"], timeout: 20000 });
    await connected(observer, 20000);
    observer.left = [];
    observer.on("left", (p) => observer.left.push(p));
    await observer.timeout(5000).emitWithAck("join", "observers");
    // From now on the stalled sockets read nothing: the kernel buffers fill, then
    // the server's queue for each.
    for (const s of stalled) s.io.engine.transport.ws._socket.pause();
  });

  it("the stalled ones are cut with a reason; the healthy ones get every broadcast, in order", { timeout: 120000 }, async () => {
    const stalledIds = new Set(stalled.map((s) => s.id));
    const sent = new Map();
    const latencies = [];
    for (const s of healthy) {
      s.on("tick", (p) => {
        const at = sent.get(p.n);
        if (at !== undefined) latencies.push(performance.now() - at);
      });
    }
    for (let n = 0; n < BIG_BROADCASTS; ++n) {
      observer.emit("broadcast-to", { rooms: "stalled", event: "big", payload: BIG });
      if (n % (BIG_BROADCASTS / TICKS) === 0) {
        const tick = n / (BIG_BROADCASTS / TICKS);
        sent.set(tick, performance.now());
        // Everyone in /test but the stalled: the healthy sockets (and the observer).
        await observer.timeout(10000).emitWithAck("broadcast-to", { except: "stalled", event: "tick", payload: { n: tick } });
      }
    }
    await whenAll(
      [observer],
      "left",
      () => observer.left.filter((l) => stalledIds.has(l.id)).length >= STALLED,
      60000,
      `${STALLED} stalled sockets to be disconnected (have ${observer.left.length})`,
    );
    await whenAll(healthy, "tick", () => healthy.every((s) => s.ticks.length >= TICKS), 60000, "every tick everywhere");
    // A barrier for duplicates: one more tick, after which nothing of the earlier ones may come.
    await observer.timeout(10000).emitWithAck("broadcast-to", { except: "stalled", event: "tick", payload: { n: TICKS } });
    await whenAll(healthy, "tick", () => healthy.every((s) => s.ticks.length >= TICKS + 1), 60000, "the barrier tick");

    const reasons = new Set(observer.left.filter((l) => stalledIds.has(l.id)).map((l) => l.reason));
    assert.deepEqual([...reasons], ["send queue overflow"], "the stalled sockets' disconnect reason");
    for (const s of healthy) {
      assert.deepEqual(s.lost, [], "no healthy socket was disconnected");
      assert.deepEqual(
        s.ticks.map((t) => t.n),
        Array.from({ length: TICKS + 1 }, (_, i) => i),
        "every tick once, in order",
      );
    }
    assert.equal(observer.left.filter((l) => !stalledIds.has(l.id)).length, 0, "only stalled sockets left");
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
    console.log(
      `slow consumers: tick latency to ${HEALTHY} healthy sockets ` +
        `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms over ${latencies.length} deliveries`,
    );
  });
});
