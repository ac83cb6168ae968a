// A client moved to a node that lags behind the one it came from (issue 11): an admin
// socket reads the stream on node a up to offset X, is closed, and is opened again on
// node c with `auth: {token, offset: X, epoch, pid}` right after more orders. Node c may
// not have seen X yet (its stream thread reads the head every 100 ms and on NOTIFY);
// docs/STORE.md ("Noticing commits") promises that such a client is caught up first,
// not told `offset_ahead`, and PRODUCT.md that it then receives every change after X
// once, in order.
//
// To make node c lag for certain, the PostgreSQL backends of its stream and LISTEN
// connections (`brigade-stream`, `brigade-listen`: notifications carry the changes) are
// stopped with SIGSTOP while the orders are written and the socket connects, and continued after;
// node c's /healthz shows the lag (its last_seq is the head its stream has reached).
// A second test moves sockets between nodes without any help, as fast as the client can.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { availableItemIds, io, LiveClient, menuBarrier, placeOrder } from "../live/lib/harness.mjs";
import { startCluster } from "./lib/cluster.mjs";
import { backendsOf, createPeople, dbHead, eventually, nodePids, openSocket } from "./lib/load.mjs";

// Backends we stopped: continued on every way out.
const frozen = new Set();
const thawAll = () => {
  for (const pid of frozen) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // gone
    }
  }
  frozen.clear();
};
// Before cluster.mjs brings the cluster down (a stopped backend would hold up the shutdown).
process.prependListener("exit", thawAll);

describe("a client moved to a lagging node", () => {
  let cluster;
  let people;
  let items;
  const open = [];

  before(async () => {
    cluster = await startCluster({ nodes: 3 });
    people = await createPeople(cluster, { admins: 4, customers: 4, riders: 1, tag: `moved-${process.pid}` });
    items = await availableItemIds(people.lb);
  });

  after(async () => {
    thawAll();
    for (const s of open) s.close();
    await cluster?.down();
  });

  const healthz = async (node) => (await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(5000) })).json();

  // Places `n` orders on `node` directly, one at a time; resolves with their ids.
  async function orders(node, n, k = 0) {
    const ids = [];
    for (let i = 0; i < n; ++i) {
      const customer = people.customers[(k + i) % people.customers.length];
      ids.push((await placeOrder(node, customer.token, items[i % items.length])).id);
    }
    return ids;
  }

  const hasInserts = (client, ids) => {
    const got = new Set(client.named("order:changed").filter((e) => e.args[0].op === "insert").map((e) => e.args[0].order.id));
    return ids.every((id) => got.has(id));
  };

  // A brand-new socket (as a reloaded page, or the stock client sent elsewhere) on `node`
  // with `auth`; no reconnection of its own.
  function reopen(node, auth, transport, label) {
    const client = new LiveClient(io(node.url, { auth, transports: [transport], forceNew: true, reconnection: false, timeout: 10000 }), label);
    open.push(client);
    return client;
  }

  // Every change after `afterSeq` reached `client` once, in order, without a resync.
  async function assertCaughtUp(client, afterSeq, what) {
    const rows = await cluster.psql(`SELECT seq FROM changes WHERE seq > ${afterSeq} ORDER BY seq`);
    const expected = rows.map(([s]) => Number(s));
    assert.deepEqual(client.named("resync").map((e) => e.args[0]), [], `${what}: resync`);
    assert.deepEqual(client.streamSeqs(), expected, `${what}: every change after ${afterSeq}, once, in order`);
    assert.equal(client.named("ready").length, 1, `${what}: one ready`);
  }

  for (const transport of ["websocket", "polling"]) {
    test(
      `${transport}: from node a to node c while c's stream is held back: caught up from offset X, no offset_ahead`,
      { timeout: 60000 },
      async () => {
        const admin = people.admins[transport === "websocket" ? 0 : 1];
        for (let round = 1; round <= 3; ++round) {
          const what = `${transport}, round ${round}`;
          const mover = openSocket(cluster.node("a"), admin, { transport, label: `mover on a (${what})` });
          open.push(mover);
          await mover.ready(1, 15000);

          // Hold node c's stream back: stop the backends of its stream and LISTEN connections
          // while idle (notifications carry the changes, so the stream alone no longer holds
          // a node back).
          const pids = await nodePids(cluster);
          const held = [];
          for (const name of ["brigade-stream", "brigade-listen"]) {
            const backend = await eventually(
              async () => (await backendsOf(cluster, pids.c)).find((b) => b.name === name && b.state === "idle"),
              10000,
              `node c's ${name} connection, idle`,
              5,
            );
            process.kill(backend.pid, "SIGSTOP");
            frozen.add(backend.pid);
            held.push(backend.pid);
          }
          let X;
          let seqX;
          let client;
          try {
            // Orders on node a; the socket there reads them: offset X.
            const first = await orders(cluster.node("a"), 3, round);
            await mover.until(() => hasInserts(mover, first) && mover.named("alert").length >= first.length, 10000, "the orders on node a");
            X = mover.lastOffset();
            seqX = parseInt(X, 10);
            const pid = mover.socket._pid;
            mover.close();
            // Node c has not seen X.
            const c = await healthz(cluster.node("c"));
            assert.ok(c.last_seq < seqX, `node c lags (its head ${c.last_seq}, X = ${X})`);
            // More orders, then the socket comes back on node c.
            await orders(cluster.node("a"), 3, round + 3);
            const epoch = mover.named("ready")[0].args[0].epoch;
            client = reopen(cluster.node("c"), { token: admin.token, offset: X, epoch, ...(pid ? { pid } : {}) }, transport, `moved to c (${what})`);
            await client.until(() => client.connections > 0 || client.connectErrors.length > 0, 10000, "connect on node c");
            assert.equal(client.connections, 1, `connect on node c: ${client.connectErrors.map((e) => e.message)}`);
            console.log(`${what}: X = ${X}; node c's head ${c.last_seq} when the socket connected there (database head ${(await dbHead(cluster)).max})`);
          } finally {
            for (const pid of held) {
              process.kill(pid, "SIGCONT");
              frozen.delete(pid);
            }
          }
          await client.ready(1, 15000);
          // Live after `ready`: one more change must follow the replay.
          await menuBarrier(people.lb, people.ops.token, [client], 15000);
          const resyncs = client.named("resync").map((e) => e.args[0].reason);
          console.log(`${what}: on node c: ${resyncs.length ? `resync ${resyncs.join(", ")}, ` : ""}${client.streamSeqs().length} changes, then ready`);
          assert.ok(!resyncs.includes("offset_ahead"), `${what}: resync offset_ahead from the lagging node`);
          await assertCaughtUp(client, seqX, what);
          client.close();
        }
      },
    );
  }

  test(
    "30 moves between nodes as fast as the client can, no help: caught up every time",
    { timeout: 90000 },
    async () => {
      const routes = [["a", "c"], ["b", "a"], ["c", "b"]];
      const admin = people.admins[2];
      const outcomes = [];
      for (let round = 0; round < 30; ++round) {
        const [from, to] = routes[round % routes.length];
        const what = `move ${round + 1} (${from} -> ${to})`;
        const mover = reopen(cluster.node(from), { token: admin.token }, "websocket", `on ${from} (${what})`);
        await mover.ready(1, 15000);
        const [id] = await orders(cluster.node(from), 1, round);
        // The very event that makes X: move on at once, before node `to` may have read it.
        await mover.until(() => hasInserts(mover, [id]), 10000, "its order");
        const X = mover.lastOffset();
        const pid = mover.socket._pid;
        mover.close();
        const client = reopen(cluster.node(to), { token: admin.token, offset: X, ...(pid ? { pid } : {}) }, "websocket", `on ${to} (${what})`);
        await client.ready(1, 15000);
        await menuBarrier(people.lb, people.ops.token, [client], 15000);
        const resyncs = client.named("resync").map((e) => e.args[0].reason);
        outcomes.push({ what, X, resyncs });
        // (After a resync the replay restarts from the node's own head: duplicates.)
        if (!resyncs.length) await assertCaughtUp(client, parseInt(X, 10), what);
        client.close();
      }
      const bad = outcomes.filter((o) => o.resyncs.length);
      console.log(`30 moves: ${30 - bad.length} caught up; ${bad.map((o) => `${o.what}, X = ${o.X}: resync ${o.resyncs.join(",")}`).join("; ") || "no resync"}`);
      assert.deepEqual(bad.map((o) => `${o.what}: ${o.resyncs.join(",")}`), [], "moves answered with a resync");
    },
  );
});
