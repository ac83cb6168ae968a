// Three brigade nodes on one PostgreSQL behind HAProxy (scripts/cluster.sh). Customers
// place orders through HAProxy while admins listen on every node directly (over
// long-polling and over WebSocket) and through HAProxy (long-polling, which works only
// because HAProxy routes each request to the node named by its sid, and WebSocket):
// every admin must receive every order's insert exactly once, in seq order. Then node b
// is killed with SIGKILL in the middle of a burst and started again, then node c: no
// acknowledged order is lost, the change stream has no hole, and the admins that lost
// their node reconnect by themselves (socket.io-client's own reconnection, with the last
// offset in `auth`) and end with every change, once. The same across two immediate
// (crash) restarts of PostgreSQL. Last: a valid token a node has not seen yet is answered 503
// (not 401, which would sign a client out) while PostgreSQL is down.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  io,
  LiveClient,
  login,
  menuBarrier,
  pool,
  registerCustomer,
  sleep,
  within,
} from "../live/lib/harness.mjs";
import { nodeLog, startCluster } from "./lib/cluster.mjs";

const CUSTOMERS = 6;

// --- admin sockets ---------------------------------------------------------------------

// An admin socket on `target` (a node or HAProxy) over one transport, with the stock
// client's own reconnection. `auth` is a function, so every reconnection sends the
// offset of the last event seen (and the epoch): Brigade replays what was missed.
function openAdmin(target, transport, token, label) {
  let client = null;
  const socket = io(target.url, {
    auth: (cb) => {
      const offset = client?.lastOffset();
      const epoch = client?.named("ready")[0]?.args[0].epoch;
      cb(offset ? { token, offset, epoch } : { token });
    },
    transports: [transport],
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 1000,
    timeout: 5000,
  });
  client = new LiveClient(socket, label);
  return client;
}

// Two sockets per node (long-polling, WebSocket) and two through HAProxy; resolves
// once each received `ready`.
async function openAdmins(cluster, token) {
  const targets = [
    ...cluster.nodes.flatMap((n) => [
      [n, "polling", `node ${n.id}, polling`],
      [n, "websocket", `node ${n.id}, websocket`],
    ]),
    [{ url: cluster.url }, "polling", "HAProxy, polling"],
    [{ url: cluster.url }, "websocket", "HAProxy, websocket"],
  ];
  const clients = targets.map(([target, transport, label]) => openAdmin(target, transport, token, label));
  await Promise.all(clients.map((c) => c.ready(1, 15000)));
  return clients;
}

const engineSid = (client) => client.socket.io.engine?.id ?? "";

// The ids of the orders whose insert reached this client, in arrival order.
const insertedIds = (client) =>
  client.named("order:changed").filter((e) => e.args[0].op === "insert").map((e) => e.args[0].order.id);

// --- orders ----------------------------------------------------------------------------

// Counts acknowledged orders; until(n) resolves once n are.
class AckCounter {
  constructor() {
    this.count = 0;
    this.waiters = [];
  }
  add() {
    ++this.count;
    this.waiters = this.waiters.filter((w) => (this.count >= w.n ? (w.resolve(), false) : true));
  }
  until(n, ms, what) {
    if (this.count >= n) return Promise.resolve();
    return within(ms, new Promise((resolve) => this.waiters.push({ n, resolve })), what);
  }
}

// Places `count` orders through `lb`, `width` in flight, each with its own
// Idempotency-Key: an attempt that fails (a node killed under it: 502, a reset
// connection; 503 while PostgreSQL restarts) is sent again with the same key until it
// is acknowledged (201, or 200 for an order the lost attempt had committed), for at
// most a minute. Resolves with { acks: per order { id, status, at (the
// acknowledgement's time), attempts }, failures: the failed attempts }. Order i's
// delivery address is `${tag}-${first + i}`.
async function placeOrders(lb, customers, items, { count, first = 0, width = CUSTOMERS, tag, counter }) {
  const acks = new Array(count);
  const failures = [];
  await pool(count, width, async (n) => {
    const i = first + n;
    const customer = customers[i % customers.length];
    const body = JSON.stringify({
      items: [{ item_id: items[i % items.length], quantity: 1 + (i % 3) }],
      delivery: { address: `${tag}-${i}` },
    });
    const deadline = Date.now() + 60000;
    for (let attempt = 1; ; ++attempt) {
      let status = 0;
      let text = "";
      try {
        const res = await fetch(`${lb.url}/api/orders`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${customer.token}`,
            "content-type": "application/json",
            "idempotency-key": `${tag}-${i}`,
          },
          body,
          signal: AbortSignal.timeout(15000),
        });
        status = res.status;
        text = await res.text();
      } catch (error) {
        text = `${error.message}: ${error.cause?.message ?? ""}`;
      }
      if (status === 201 || status === 200) {
        acks[n] = { id: JSON.parse(text).id, status, at: Date.now(), attempts: attempt };
        counter?.add();
        return;
      }
      failures.push({ i, attempt, status, text: text.slice(0, 200) });
      if (Date.now() > deadline) throw new Error(`order ${i}: ${attempt} attempts failed, the last ${status} ${text}`);
      // 503 (a node's database is restarting, or no node is up) asks to come back later.
      // A short pause spares the CPU; it waits for nothing in particular.
      if (status === 503) await sleep(50);
    }
  });
  return { acks, failures };
}

// --- checks ----------------------------------------------------------------------------

async function dbHead(cluster) {
  const [[count, numbered, min, max]] = await cluster.psql(
    "SELECT count(*), count(seq), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM changes",
  );
  return { count: Number(count), numbered: Number(numbered), min: Number(min), max: Number(max) };
}

// Every seq recorded after `afterSeq`, in order.
async function dbSeqsAfter(cluster, afterSeq) {
  const rows = await cluster.psql(`SELECT seq FROM changes WHERE seq > ${Number(afterSeq)} ORDER BY seq`);
  return rows.map(([s]) => Number(s));
}

// An admin sees every change: from its first `ready` on, a client must have received
// exactly the database's seqs, in order, over all its connections, with one `ready`
// per connection (at most one on a connection lost before its replay ended) and no
// resync.
function assertGapFree(client, expected) {
  const got = client.streamSeqs();
  const dups = got.filter((s, i) => got.indexOf(s) !== i);
  assert.deepEqual(dups, [], `${client.label}: duplicated seqs`);
  const missing = expected.filter((s) => !got.includes(s));
  assert.deepEqual(missing, [], `${client.label}: seqs never received`);
  assert.deepEqual(got, expected, `${client.label}: the seqs, in order`);
  for (let conn = 1; conn <= client.connections; ++conn) {
    const readies = client.named("ready", conn).length;
    if (conn === client.connections) assert.equal(readies, 1, `${client.label}: one ready on connection ${conn}`);
    else assert.ok(readies <= 1, `${client.label}: ${readies} readies on connection ${conn}`);
  }
  assert.equal(client.named("resync").length, 0, `${client.label}: resync`);
}

// Each acknowledged order's insert reached the client exactly once.
function assertEveryOrderOnce(client, acks) {
  const counts = new Map();
  for (const id of insertedIds(client)) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const a of acks) assert.equal(counts.get(a.id), 1, `${client.label}: the insert of order ${a.id}`);
}

// Waits until every client has every acknowledged order, then reports how long after
// the last acknowledgement the last admin received that order (and everything).
async function awaitDelivery(clients, acks, ms, what) {
  const ids = acks.map((a) => a.id);
  await Promise.all(
    clients.map((c) =>
      c.until(
        () => {
          const got = new Set(insertedIds(c));
          return ids.every((id) => got.has(id));
        },
        ms,
        `every order (${what})`,
      ),
    ),
  );
  const last = acks.reduce((a, b) => (b.at > a.at ? b : a));
  const receivedAt = (c, id) =>
    c.named("order:changed").find((e) => e.args[0].op === "insert" && e.args[0].order.id === id).at;
  const lastOrder = Math.max(...clients.map((c) => receivedAt(c, last.id)));
  const everything = Math.max(...clients.flatMap((c) => ids.map((id) => receivedAt(c, id))));
  const slowest = clients.reduce((a, c) => (receivedAt(c, last.id) > receivedAt(a, last.id) ? c : a));
  console.log(
    `${what}: the last acknowledged order (${last.id}) reached the last admin (${slowest.label}) ` +
      `${lastOrder - last.at} ms after its acknowledgement; every order had reached every admin ` +
      `${everything - last.at} ms after it`,
  );
}

// --- the suite -------------------------------------------------------------------------

describe("three nodes behind HAProxy", () => {
  let cluster;
  let lb;
  let admin;
  let customers;
  let items;
  const open = [];

  before(async () => {
    const started = Date.now();
    cluster = await startCluster({ nodes: 3 });
    console.log(`cluster up in ${Date.now() - started} ms: ${cluster.url}, nodes ${cluster.nodes.map((n) => `${n.id}=${n.url}`).join(" ")}`);
    lb = { url: cluster.url };
    admin = await login(lb, cluster.accounts.admin.email, cluster.accounts.admin.password);
    customers = [];
    for (let i = 0; i < CUSTOMERS; ++i) customers.push(await registerCustomer(lb, `cluster-c${i}`));
    items = await availableItemIds(lb);
    assert.ok(items.length > 0);
  });

  after(async () => {
    for (const c of open) c.close();
    await cluster?.down();
  });

  test("long-polling through round-robin HAProxy stays on the node named by its sid", async () => {
    // New sessions rotate over the nodes...
    const prefixes = new Set();
    for (let i = 0; i < 6; ++i) {
      const res = await fetch(`${lb.url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      prefixes.add(JSON.parse(text.slice(1)).sid.split(".")[0]);
    }
    assert.deepEqual([...prefixes].sort(), ["a", "b", "c"]);
    // ...while every request of one session reaches its node (any other answers 400).
    const hs = await fetch(`${lb.url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    const { sid } = JSON.parse((await hs.text()).slice(1));
    const session = `${lb.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    const post = (body) => fetch(session, { method: "POST", body, signal: AbortSignal.timeout(5000) });
    const connect = await post(`40${JSON.stringify({ token: admin.token })}`);
    assert.equal(connect.status, 200, await connect.text());
    const answer = await fetch(session, { signal: AbortSignal.timeout(5000) });
    assert.equal(answer.status, 200);
    assert.match(await answer.text(), /^40\{"sid"/);
    // Four events asking for an acknowledgement, each POST a request of its own: a node
    // other than the owner would answer 400 "Session ID unknown".
    for (let i = 0; i < 4; ++i) {
      const res = await post(`42${i}["cluster:probe"]`);
      assert.equal(res.status, 200, `POST ${i}: ${await res.text()}`);
    }
    // The acknowledgements (beside `ready` and whatever else is queued), over as many
    // polls as it takes; each poll, too, must reach the owner.
    const ackIds = [];
    for (let poll = 0; poll < 10 && ackIds.length < 4; ++poll) {
      const res = await fetch(session, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      for (const packet of text.split("\x1e")) if (packet.startsWith("43")) ackIds.push(packet.slice(2, 3));
    }
    assert.deepEqual(ackIds, ["0", "1", "2", "3"]);
    assert.equal((await post("1")).status, 200); // close
  });

  test("every admin, on any node and through HAProxy, receives every order once and in seq order", { timeout: 120000 }, async () => {
    const clients = await openAdmins(cluster, admin.token);
    open.push(...clients);
    const lbPolling = clients.find((c) => c.label === "HAProxy, polling");
    console.log(`HAProxy sockets: polling on ${engineSid(lbPolling).split(".")[0]}, websocket on ${engineSid(clients.at(-1)).split(".")[0]}`);
    const startSeq = clients[0].named("ready")[0].args[0].last_seq;
    for (const c of clients) assert.equal(c.named("ready")[0].args[0].last_seq, startSeq, c.label);

    const started = Date.now();
    const { acks, failures } = await placeOrders(lb, customers, items, { count: 90, tag: `steady-${process.pid}` });
    console.log(`90 orders acknowledged in ${Date.now() - started} ms (${failures.length} failed attempts)`);
    assert.deepEqual(failures, [], "no attempt fails while every node is up");
    assert.ok(acks.every((a) => a.status === 201));

    await awaitDelivery(clients, acks, 30000, "steady state");
    // Anything still in flight (a duplicate) would come before a later change.
    await menuBarrier(lb, admin.token, clients, 20000);
    const expected = await dbSeqsAfter(cluster, startSeq);
    for (const c of clients) {
      assertEveryOrderOnce(c, acks);
      assertGapFree(c, expected);
      assert.equal(c.connections, 1, `${c.label}: connections`);
      assert.deepEqual(c.disconnects, [], `${c.label}: disconnections`);
    }
    assert.equal(lbPolling.socket.io.engine.transport.name, "polling");
    const head = await dbHead(cluster);
    assert.equal(head.count, head.numbered, "every change has a seq");
    assert.equal(head.min, 1);
    assert.equal(head.count, head.max, "seqs 1..head without a hole");
    for (const c of clients) c.close();
  });

  // Opens fresh admin sockets, runs `fault(place)` — which places orders with
  // place(count) (resolving with their acknowledgements) around a fault — then checks
  // the database and every socket.
  async function faultScenario(name, fault) {
    const clients = await openAdmins(cluster, admin.token);
    open.push(...clients);
    const startSeq = clients[0].named("ready")[0].args[0].last_seq;
    const tag = `${name.replace(/\W+/g, "-")}-${process.pid}`;
    let placed = 0;
    const allAcks = [];
    const allFailures = [];
    const place = async (count, counter) => {
      const first = placed;
      placed += count;
      const { acks, failures } = await placeOrders(lb, customers, items, { count, first, tag, counter });
      allAcks.push(...acks);
      allFailures.push(...failures);
      return acks;
    };
    const started = Date.now();
    await fault(place, clients);
    const statuses = [...new Set(allFailures.map((f) => f.status))];
    console.log(
      `${name}: ${placed} orders acknowledged in ${Date.now() - started} ms; ${allFailures.length} failed attempts` +
        (allFailures.length ? ` (statuses ${statuses.join(", ")}; e.g. ${allFailures[0].text.slice(0, 100)})` : "") +
        `; ${allAcks.filter((a) => a.status === 200).length} acknowledged by a retry of an attempt that had committed`,
    );

    // The database: every acknowledged order, once per Idempotency-Key.
    const rows = await cluster.psql(
      `SELECT id, delivery_address FROM orders WHERE delivery_address LIKE '${tag}-%' ORDER BY id`,
    );
    const inDb = new Set(rows.map(([id]) => Number(id)));
    const missing = allAcks.filter((a) => !inDb.has(a.id));
    assert.deepEqual(missing, [], "acknowledged orders missing from the database");
    assert.equal(rows.length, placed, "one order per Idempotency-Key");
    assert.equal(new Set(rows.map(([, address]) => address)).size, placed);

    try {
      await awaitDelivery(clients, allAcks, 60000, name);
    } catch (error) {
      const refused = clients
        .filter((c) => c.connectErrors.length)
        .map((c) => `${c.label}: ${c.connectErrors.map((e) => e.message).join(", ")}`);
      throw new Error(
        `${error.message}\nconnect errors: ${refused.join("; ") || "none"}\nnode b's log:\n${nodeLog(cluster, "b")}`,
      );
    }
    await menuBarrier(lb, admin.token, clients, 30000);
    // The stream: seqs 1..head, none missing.
    const head = await dbHead(cluster);
    console.log(`${name}: changes ${head.count} rows, seqs ${head.min}..${head.max}`);
    assert.equal(head.count, head.numbered, "every change has a seq");
    assert.equal(head.min, 1);
    assert.equal(head.count, head.max, "seqs 1..head without a hole");
    // Every admin socket: every change since it connected, once, in order.
    const expected = await dbSeqsAfter(cluster, startSeq);
    for (const c of clients) {
      assertEveryOrderOnce(c, allAcks);
      assertGapFree(c, expected);
    }
    console.log(
      `${name}: reconnections: ${clients.filter((c) => c.connections > 1).map((c) => `${c.label} x${c.connections - 1}`).join(", ") || "none"}`,
    );
    return { clients, failures: allFailures };
  }

  // Failed attempts other than those a crash explains (a cut connection, 502, 503).
  const unexplained = (failures) => failures.filter((f) => ![0, 502, 503].includes(f.status));

  test("kill -9 of a node in the middle of a burst, two rounds (b, then c): nothing acknowledged is lost, admins catch up once", { timeout: 240000 }, async () => {
    const rounds = [];
    const { clients, failures } = await faultScenario("kill -9 of a node, two rounds", async (place, sockets) => {
      for (const [round, id, size] of [[1, "b", 200], [2, "c", 120]]) {
        // The sockets on the node now (round 2: some came from b), with their connections.
        const on = sockets.filter((c) => engineSid(c).startsWith(`${id}.`)).map((c) => ({ c, before: c.connections }));
        console.log(`round ${round}: sockets on node ${id}: ${on.map((x) => x.c.label).join(", ")}`);
        // 1. A burst; the node dies when half of it is acknowledged, requests in flight.
        const counter = new AckCounter();
        const first = place(size, counter);
        const half = size / 2;
        await Promise.race([counter.until(half, 60000, `${half} acknowledged orders`), first.then(() => counter.until(half, 0))]);
        await cluster.kill(id);
        const killedAt = Date.now();
        console.log(`round ${round}: node ${id} killed after ${counter.count} acknowledged orders`);
        await first;
        // 2. More while it is down.
        await place(half);
        // 3. It starts again during a burst; 4. more once it is back.
        const third = place(size);
        await cluster.start(id);
        const backAt = Date.now();
        console.log(`round ${round}: node ${id} back ${backAt - killedAt} ms after the kill`);
        await third;
        await place(half);
        rounds.push({ round, id, on, killedAt, backAt });
      }
    });
    for (const { round, id, on, killedAt, backAt } of rounds) {
      // The sockets of the node lost it and came back by themselves.
      if (id === "b") assert.ok(on.length >= 2, "node b had sockets (at least its own two)");
      for (const { c, before } of on) {
        assert.ok(c.connections > before, `round ${round}: ${c.label} reconnected after node ${id} died`);
        const ready = c.named("ready", before + 1)[0] ?? { at: NaN };
        console.log(
          `round ${round}: ${c.label}: caught up (ready, after the replay) ${ready.at - killedAt} ms after the kill, ` +
            `${ready.at - backAt} ms after node ${id} answered /healthz again`,
        );
      }
    }
    assert.deepEqual(unexplained(failures), []);
    for (const c of clients) c.close();
  });

  test("PostgreSQL restarted (immediate: a crash) in the middle of a burst, two rounds: the same", { timeout: 240000 }, async () => {
    const { clients, failures } = await faultScenario("PostgreSQL immediate restart, two rounds", async (place) => {
      for (const round of [1, 2]) {
        const counter = new AckCounter();
        const first = place(200, counter);
        await Promise.race([counter.until(100, 60000, "100 acknowledged orders"), first.then(() => counter.until(100, 0))]);
        const at = Date.now();
        await cluster.pgRestart("immediate");
        console.log(`round ${round}: PostgreSQL restarted after ${counter.count} acknowledged orders, in ${Date.now() - at} ms`);
        await first;
        await place(100);
      }
    });
    for (const c of clients) c.close();
    assert.deepEqual(unexplained(failures), []);
  });

  // While PostgreSQL is away a node cannot check a token it has not cached: it answers
  // 503 database_unavailable, never 401 (a client would sign its user out). Behind a
  // balancer any request may reach such a node.
  test("a valid token that a node has not seen yet, while PostgreSQL is down: 503, not 401", async () => {
    const fresh = await login(cluster.node("a"), cluster.accounts.admin.email, cluster.accounts.admin.password);
    await cluster.pgStop();
    try {
      const res = await api(cluster.node("b"), "GET", "/api/me", { token: fresh.token });
      assert.equal(res.status, 503, res.text);
    } finally {
      await cluster.pgStart();
    }
  });
});
