// Fault drills on three nodes behind HAProxy (issue 11), each for several rounds under
// load: customers spread over the nodes place orders through HAProxy while the ops admin
// accepts, assigns and reassigns riders; admins, customers and riders listen on every
// node and through HAProxy, half of them long-polling, half of them with a watchdog that
// gives up on a silent node after 4 s (tests/cluster/lib/load.mjs). The faults:
//  - a node stopped (SIGSTOP) for 10 s, then continued; and, exactly, a node stopped
//    inside a write transaction while another node receives a retry of its request
//    (that retry waits for the stopped node's transaction only until PostgreSQL ends it);
//  - PostgreSQL restarted in fast mode (orders.test.mjs has the immediate one);
//  - every node's LISTEN connection terminated mid-burst (the stream thread polls every
//    100 ms, the listener reconnects), then a logout crossing nodes over the new ones;
//  - every PostgreSQL connection of one node terminated mid-burst;
//  - a long write transaction held open by psql while orders flow: orders are still
//    acknowledged (seqs are taken at commit), and after the COMMIT its change reaches
//    every socket once, in seq order, after the orders committed meanwhile.
// After each round the database is the oracle (checkAfterFault): seqs 1..head without a
// hole, one change per acknowledged write, every socket got exactly the changes it may
// see since it connected, in order, once, and none it may not see (customers only their
// orders, riders only the orders they were assigned, alerts only to admins).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { api, availableItemIds, call, connectReady, registerCustomer, sleep } from "../live/lib/harness.mjs";
import { startCluster } from "./lib/cluster.mjs";
import {
  backendsOf,
  checkAfterFault,
  createPeople,
  eventually,
  nodeOf,
  nodePids,
  openWorld,
  psqlSession,
  startLoad,
} from "./lib/load.mjs";

// The row the long transaction locks; no order names it.
const LOCKED_ITEM = 1;

// Nodes we stopped (SIGSTOP) and have not continued yet: continued on every way out.
const stopped = new Set();
process.prependListener("exit", () => {
  for (const pid of stopped) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // gone
    }
  }
});

describe("fault drills under load, three nodes behind HAProxy", () => {
  let cluster;
  let people;
  let items;
  const worlds = [];

  before(async () => {
    const started = Date.now();
    cluster = await startCluster({ nodes: 3 });
    people = await createPeople(cluster, { tag: `drill-${process.pid}` });
    items = (await availableItemIds(people.lb)).filter((id) => id !== LOCKED_ITEM);
    assert.ok(items.length >= 3);
    console.log(`cluster up and ${people.admins.length + people.customers.length + people.riders.length} people created in ${Date.now() - started} ms`);
  });

  after(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
    }
    for (const w of worlds) w.close();
    await cluster?.down();
  });

  // Opens a world, then per round: starts the load, waits for `warmup` acknowledged
  // orders, runs `fault(round, load, world)`, waits for `after` more orders once the
  // fault is over, stops the load and checks everything.
  async function drill(name, rounds, fault, { warmup = 40, afterwards = 40 } = {}) {
    const world = await openWorld(cluster, people);
    worlds.push(world);
    const slug = name.replace(/\W+/g, "-");
    try {
      for (let round = 1; round <= rounds; ++round) {
        const what = `${name}, round ${round}`;
        const load = startLoad(people, items, `${slug}-${round}-${process.pid}`);
        try {
          await load.until(warmup, 60000, `${warmup} orders before the fault`);
          await fault(round, load, world, what);
          const n = load.counter.count + afterwards;
          await load.until(n, 60000, `${afterwards} orders after the fault`);
        } finally {
          await load.stop();
        }
        await checkAfterFault(cluster, people, world, load, what);
      }
    } finally {
      world.close();
    }
  }

  const healthy = async (node) => {
    try {
      const res = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false;
    }
  };

  test("a node stopped (SIGSTOP) for 10 s and continued: nothing lost, its clients come back to it or elsewhere", { timeout: 150000 }, async () => {
    await drill("SIGSTOP 10 s", 2, async (round, load, world, what) => {
      const id = round === 1 ? "b" : "c";
      const node = cluster.node(id);
      const pid = (await nodePids(cluster))[id];
      const onIt = world.sockets.filter((s) => nodeOf(s) === id);
      const before = load.counter.count;
      process.kill(pid, "SIGSTOP");
      stopped.add(pid);
      const stoppedAt = Date.now();
      let duringStop = 0;
      try {
        // The fault lasts 10 s. (Whether the other nodes keep acknowledging orders
        // meanwhile: see the test below, made exact.)
        await sleep(10000);
        duringStop = load.counter.count - before;
      } finally {
        process.kill(pid, "SIGCONT");
        stopped.delete(pid);
      }
      const contAt = Date.now();
      await eventually(() => healthy(node), 20000, `node ${id} answers /healthz again`);
      // Every socket that was on it is connected again, caught up (its last `ready`).
      await Promise.all(
        onIt.map((s) => s.until(() => s.socket.connected && s.named("ready", s.connections).length > 0, 30000, "connected and caught up")),
      );
      console.log(
        `${what}: node ${id} (pid ${pid}) stopped for ${contAt - stoppedAt} ms, ${duringStop} orders acknowledged meanwhile; ` +
          `its ${onIt.length} sockets: ` +
          onIt
            .map((s) => {
              const lost = s.disconnects.filter((d) => d.at >= stoppedAt);
              if (!lost.length) return `${s.label} kept its connection`;
              const ready = s.named("ready", s.connections)[0];
              const when = ready.at < contAt ? `${ready.at - stoppedAt} ms into the stop` : `${ready.at - contAt} ms after SIGCONT`;
              return `${s.label} lost it (${lost[0].reason}) ${lost[0].at - stoppedAt} ms into the stop, caught up on ${nodeOf(s)} ${when}`;
            })
            .join("; "),
      );
      // The watchdogs gave up on it and their sockets came back (to it or elsewhere).
      for (const s of onIt.filter((x) => x.watchdog)) {
        assert.ok(s.timeouts.some((t) => t.at >= stoppedAt), `${s.label}: its watchdog noticed the stopped node`);
      }
    });
  });

  // The SIGSTOP drill, made exact: node c stops while its writer is inside a transaction
  // that claimed a customer's Idempotency-Key (the FK check of the order waits for a row
  // psql holds, so the claim is made; then node c stops and psql lets go). The customer
  // retries on node a, as told to (503/timeout: retry with the same key); that claim
  // waits for node c's transaction, which is expected — but not for as long as node c is
  // stopped: PostgreSQL ends a transaction idle for 5 s (idle_in_transaction_session_timeout,
  // set by every Brigade connection), which frees the key. Another customer's order on
  // node a is then acknowledged while node c is still stopped, and the key makes one order.
  test(
    "a node stopped inside a write transaction: another node still acknowledges other customers' orders",
    { timeout: 60000 },
    async () => {
      const [x, y] = people.customers;
      const a = cluster.node("a");
      const c = cluster.node("c");
      const pids = await nodePids(cluster);
      // A node has several writer connections: the write may be on any of them.
      const writers = async (id) => (await backendsOf(cluster, pids[id])).filter((b) => b.name === "brigade-writer");
      const key = `stall-${process.pid}`;
      const post = (node, customer, k, ms) =>
        fetch(`${node.url}/api/orders`, {
          method: "POST",
          headers: { authorization: `Bearer ${customer.token}`, "content-type": "application/json", "idempotency-key": k },
          body: JSON.stringify({ items: [{ item_id: items[0], quantity: 1 }], delivery: { address: k } }),
          signal: AbortSignal.timeout(ms),
        }).then(
          async (res) => ({ status: res.status, body: await res.json().catch(() => null) }),
          (error) => ({ status: 0, error: error.message }),
        );
      const holder = psqlSession(cluster, `brigade-test-holder-${process.pid}`);
      let first;
      let retry;
      let stoppedPid = null;
      try {
        // 1. Node c's writer claims the key, then waits at the order's FK check (x's row).
        holder.send(`BEGIN;\nSELECT id FROM users WHERE id = ${x.id} FOR UPDATE;\n\\echo locked\n`);
        await holder.marked("locked");
        first = post(c, x, key, 60000);
        await eventually(async () => (await writers("c")).some((w) => w.wait === "Lock"), 10000, "node c's writer waiting for x's row");
        // 2. Node c stops; psql lets go: c's transaction waits for c's next statement.
        process.kill(pids.c, "SIGSTOP");
        stopped.add(pids.c);
        stoppedPid = pids.c;
        assert.equal(await holder.end("COMMIT;\n"), 0, holder.err);
        await eventually(async () => (await writers("c")).some((w) => w.state === "idle in transaction"), 10000, "node c's writer idle in its transaction");
        // 3. The customer's retry on node a waits for node c's transaction (expected).
        retry = post(a, x, key, 60000);
        await eventually(async () => (await writers("a")).some((w) => w.wait === "Lock"), 10000, "node a's writer waiting for the key");
        // 4. Another customer's order on node a, while node c is still stopped.
        const started = Date.now();
        // Bounded by the idle-in-transaction timeout (5 s) plus a batch.
        const other = await post(a, y, `other-${process.pid}`, 10000);
        console.log(`node c stopped inside a transaction holding ${x.email}'s key; another customer's order on node a: ${other.status || other.error} after ${Date.now() - started} ms`);
        assert.equal(other.status, 201, `another customer's order on node a while node c is stopped: ${other.status} ${other.error ?? ""}`);
      } finally {
        if (stoppedPid) {
          process.kill(stoppedPid, "SIGCONT");
          stopped.delete(stoppedPid);
        }
        holder.kill();
        // Whatever happened, both requests end once node c goes on: one order for the key.
        const [r1, r2] = await Promise.all([first, retry].map((p) => p ?? Promise.resolve(null)));
        if (r1 && r2) {
          // The retry made the order; node c's own attempt either lost its transaction
          // (503: retry) or, had it committed first, is the same order.
          assert.ok([200, 201].includes(r2.status), JSON.stringify([r1, r2]));
          if (r1.status === 503) {
            assert.equal(r2.status, 201, JSON.stringify([r1, r2]));
          } else {
            assert.deepEqual([r1.status, r2.status].sort(), [200, 201], JSON.stringify([r1, r2]));
            assert.equal(r1.body.id, r2.body.id, "one order for the key");
          }
        }
      }
    },
  );

  test("PostgreSQL restarted in fast mode in the middle of a burst, twice", { timeout: 150000 }, async () => {
    await drill("PostgreSQL fast restart", 2, async (round, load, world, what) => {
      const at = Date.now();
      const count = load.counter.count;
      await cluster.pgRestart("fast");
      console.log(`${what}: PostgreSQL restarted (fast) after ${count} acknowledged orders; every node healthy again ${Date.now() - at} ms later`);
    });
  });

  // The nodes' PostgreSQL connections, by node.
  async function listenBackends() {
    const pids = await nodePids(cluster);
    const out = {};
    for (const [id, pid] of Object.entries(pids)) out[id] = (await backendsOf(cluster, pid)).filter((b) => b.name === "brigade-listen");
    return out;
  }

  test("every node's LISTEN connection terminated mid-burst, three times: admins still get every order; signals still cross nodes", { timeout: 150000 }, async () => {
    await drill("LISTEN connections terminated", 3, async (round, load, world, what) => {
      const old = await listenBackends();
      for (const [id, list] of Object.entries(old)) assert.equal(list.length, 1, `node ${id}: one LISTEN connection`);
      const rows = await cluster.psql(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'brigade-listen'",
      );
      assert.equal(rows.filter(([, ok]) => ok === "t").length, 3, `terminated: ${JSON.stringify(rows)}`);
      const at = Date.now();
      // Each node listens again, on a new connection.
      const back = await eventually(
        async () => {
          const now = await listenBackends();
          const ok = Object.entries(now).every(
            ([id, list]) => list.length === 1 && list[0].pid !== old[id][0].pid && list[0].state === "idle",
          );
          return ok && now;
        },
        15000,
        "a new LISTEN connection on every node",
      );
      console.log(
        `${what}: after ${load.counter.count} acknowledged orders; every node listened again within ${Date.now() - at} ms ` +
          `(${Object.entries(back).map(([id, l]) => `${id}: backend ${old[id][0].pid} -> ${l[0].pid}`).join(", ")})`,
      );
    });

    // A logout on node a still closes the token's socket on node c at once (a signal
    // over the new LISTEN connections), not at the 30 s recheck.
    const leaving = await registerCustomer(people.lb, "leaving");
    const onC = await connectReady(cluster.node("c"), { token: leaving.token }, { label: "leaving@c" });
    try {
      const at = Date.now();
      const out = await api(cluster.node("a"), "POST", "/api/auth/logout", { token: leaving.token });
      assert.equal(out.status, 204, out.text);
      await onC.until(() => onC.disconnects.length > 0, 5000, "disconnected on node c");
      console.log(`a logout on node a closed the socket on node c ${Date.now() - at} ms later`);
      assert.equal((await api(cluster.node("c"), "GET", "/api/me", { token: leaving.token })).status, 401);
    } finally {
      onC.close();
    }
  });

  test("every PostgreSQL connection of node b terminated mid-burst, twice", { timeout: 150000 }, async () => {
    await drill("node b's connections terminated", 2, async (round, load, world, what) => {
      const pid = (await nodePids(cluster)).b;
      const mine = await backendsOf(cluster, pid);
      // (brigade-signal connects on its first signal, so it may not be there.)
      const names = new Set(mine.map((b) => b.name));
      for (const name of ["brigade-listen", "brigade-reader", "brigade-stream", "brigade-writer"]) assert.ok(names.has(name), `node b has ${name}`);
      const rows = await cluster.psql(`SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[${mine.map((b) => b.pid).join(",")}]) AS pid`);
      console.log(`${what}: terminated ${rows.filter(([ok]) => ok === "t").length} of node b's ${mine.length} connections after ${load.counter.count} acknowledged orders`);
    });
  });

  test("a long write transaction held open by psql: orders are still acknowledged, and its change reaches every socket once, in seq order, after them", { timeout: 150000 }, async () => {
    const [category] = (await call(people.lb, "GET", "/api/menu")).categories;
    const statements = [
      { sql: `UPDATE menu_items SET description = description WHERE id = ${LOCKED_ITEM}`, collection: "menu_items", id: LOCKED_ITEM, event: "item" },
      { sql: `UPDATE menu_categories SET name = name WHERE id = ${category.id}`, collection: "menu_categories", id: category.id, event: "category" },
    ];
    await drill("long write transaction", 2, async (round, load, world, what) => {
      const { sql, collection, id, event } = statements[round - 1];
      const app = `brigade-test-longtx-${process.pid}`;
      const psql = psqlSession(cluster, app);
      try {
        psql.send(`BEGIN;\n${sql};\n\\echo locked\n`);
        await psql.marked("locked");
        const openedAt = Date.now();
        const before = load.counter.count;
        // Orders keep being acknowledged while the transaction is open...
        await load.until(before + 50, 5000, "orders acknowledged while the transaction is open");
        // ...for the ~5 s it stays open.
        await sleep(Math.max(0, openedAt + 5000 - Date.now()));
        const during = load.orders.filter((o) => o.at > openedAt);
        const [[state]] = await cluster.psql(`SELECT state FROM pg_stat_activity WHERE application_name = '${app}'`);
        assert.equal(state, "idle in transaction", "the transaction was still open");
        assert.equal(await psql.end("COMMIT;\n\\echo committed\n"), 0, `psql: ${psql.err}`);
        const committedAt = Date.now();
        assert.ok(psql.out.includes("committed"), `psql: ${psql.out} ${psql.err}`);

        // Its change was numbered at COMMIT: after every order acknowledged meanwhile.
        const [[seq, version]] = await cluster.psql(
          `SELECT seq, document::jsonb ->> 'version' FROM changes WHERE collection = '${collection}' AND record_id = ${id} ORDER BY seq DESC LIMIT 1`,
        );
        const S = Number(seq);
        const [[maxDuring]] = await cluster.psql(
          `SELECT coalesce(max(seq), 0) FROM changes WHERE collection = 'orders' AND op = 'insert' AND record_id IN (${during.map((o) => o.id).join(",")})`,
        );
        assert.ok(S > Number(maxDuring), `the transaction's change (seq ${S}) comes after the ${during.length} orders committed meanwhile (up to seq ${maxDuring})`);
        // Every socket (the menu is everyone's) receives it, once.
        await Promise.all(world.sockets.map((s) => s.untilSeq(S, 30000)));
        const lastAt = Math.max(...world.sockets.map((s) => s.stream().find((e) => e.args[0].seq === S).at));
        for (const s of world.sockets) {
          const got = s.named("menu:changed").filter((e) => e.args[0].seq === S);
          assert.equal(got.length, 1, `${s.label}: the transaction's change once`);
          assert.equal(got[0].args[0][event]?.id, id, `${s.label}: the ${event} changed`);
          assert.equal(String(got[0].args[0][event]?.version), version, `${s.label}: its version`);
        }
        console.log(
          `${what}: the transaction stayed open ${committedAt - openedAt} ms while ${during.length} orders were acknowledged ` +
            `(seqs up to ${maxDuring}); its change got seq ${S} at COMMIT and reached all ${world.sockets.length} sockets ${lastAt - committedAt} ms later`,
        );
      } finally {
        psql.kill();
      }
    });
  });
});
