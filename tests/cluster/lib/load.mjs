// Load and oracle for the cluster fault drills (tests/cluster/faults.test.mjs,
// moved.test.mjs): a "world" of sockets — admins, customers and riders on every node
// and through HAProxy, half of them long-polling — kept by the stock socket.io-client
// (its own reconnection, the last offset in `auth`), a load of orders placed through
// HAProxy by those customers with admin moves (accept, assign a rider, reassign, start
// preparing), and the checks that the database is the oracle for: seqs 1..head without
// a hole, one change per acknowledged write, every socket received exactly the changes
// it may see since its first `ready`, in seq order, once, across its reconnections.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

import {
  api,
  call,
  createUser,
  io,
  LiveClient,
  login,
  menuBarrier,
  registerCustomer,
  sleep,
  within,
} from "../../live/lib/harness.mjs";

export const LAYOUT = ["a", "b", "c", "lb"].flatMap((where) => ["polling", "websocket"].map((transport) => ({ where, transport })));

// --- sockets ---------------------------------------------------------------------------

const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 4000;

// A socket of `user` ({id, role, token}) on `target` ({url}) over one transport, with the
// stock client's reconnection; `auth` is a function, so every reconnection sends the
// offset of the last event seen and the epoch. Two things the stock client does not do
// by itself and the panels do: a refusal by the server (CONNECT_ERROR `unavailable`
// while the node cannot check a token, `rate_limited`) ends socket.io-client's
// reconnection, so it is retried after the server's hint; and with `watchdog`, the
// socket sends a probe (an unknown event, which Brigade acknowledges with
// `unknown_event`) every second and treats an answer missing for 4 s as a heartbeat
// timeout (engine.io-client's own "ping timeout" close): a client that notices a
// silent node long before the 45 s heartbeat would.
export function openSocket(target, user, { transport, label, watchdog = false }) {
  let client = null;
  const socket = io(target.url, {
    auth: (cb) => {
      const offset = client?.lastOffset();
      const epoch = client?.named("ready")[0]?.args[0].epoch;
      // Like the panels, these clients follow the stream events, not statusChanged.
      const auth = { token: user.token, statusChanged: false };
      cb(offset ? { ...auth, offset, epoch } : auth);
    },
    transports: [transport],
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 1000,
    timeout: 5000,
  });
  client = new LiveClient(socket, label);
  client.user = user;
  client.refusals = [];
  client.timeouts = [];
  client.closed = false;
  socket.on("connect_error", (error) => {
    if (socket.active || client.closed) return; // the manager retries by itself
    client.refusals.push({ message: error.message, at: Date.now() });
    if (error.message !== "unavailable" && error.message !== "rate_limited") return;
    const wait = Math.min(Math.max(Number(error.data?.retry_after_ms) || 1000, 100), 2000);
    setTimeout(() => {
      if (!client.closed && !socket.connected) socket.connect();
    }, wait);
  });
  // A `resync` asks the client to reload over REST: it reads the change stream it may
  // see (GET /api/changes) from the last seq it had, up to the head, as a panel
  // reloading its state would. The oracle counts those changes as received, and the
  // socket's events up to the reload's head as the expected duplicates of a resync.
  client.reloads = [];
  socket.on("resync", (info) => {
    const index = client.events.length - 1; // onAny recorded it already
    const before = client.events.slice(0, index).filter((e) => STREAM.has(e.name));
    const start = client.named("ready")[0]?.args[0].last_seq;
    const after = before.length ? before.at(-1).args[0].seq : start;
    const entry = { index, reason: info?.reason, after, result: null };
    entry.done =
      after === undefined
        ? Promise.resolve(null)
        : reload(target.url, user.token, after).then((result) => {
            entry.result = { ...result, at: Date.now() };
            client.wake(); // for until(): the reloaded orders count as received
            return entry.result;
          });
    client.reloads.push(entry);
  });
  if (watchdog) {
    let probing = false;
    client.watchdog = setInterval(() => {
      const engine = socket.io.engine;
      if (probing || !socket.connected || !engine) return;
      probing = true;
      const sentAt = Date.now();
      socket.timeout(PROBE_TIMEOUT_MS).emit("cluster:probe", (error) => {
        probing = false;
        if (!error || client.closed || socket.io.engine !== engine || engine.readyState !== "open") return;
        client.timeouts.push({ at: Date.now(), sentAt, on: engine.id });
        engine._onClose("ping timeout"); // as engine.io-client does when a heartbeat is missed
      });
    }, PROBE_EVERY_MS);
  }
  const close = client.close.bind(client);
  client.close = () => {
    client.closed = true;
    clearInterval(client.watchdog);
    close();
  };
  return client;
}

const STREAM = new Set(["order:changed", "menu:changed"]);

// GET /api/changes from `after` to the head, page by page: { seqs, head, inserted (the
// ids of the orders inserted) }.
async function reload(url, token, after) {
  const seqs = [];
  const inserted = [];
  let cursor = after;
  for (;;) {
    const r = await persist(url, "GET", `/api/changes?after=${cursor}&limit=1000`, { token, what: "reload after resync" });
    if (r.status !== 200) throw new Error(`reload after resync: ${r.status} ${r.text}`);
    for (const c of r.body.changes) {
      seqs.push(c.seq);
      if (c.collection === "orders" && c.op === "insert") inserted.push(c.id ?? c.document?.id);
    }
    cursor = r.body.last_seq;
    if (r.body.changes.length < 1000) return { seqs, head: cursor, inserted };
  }
}

export const engineSid = (client) => client.socket.io.engine?.id ?? "";
export const nodeOf = (client) => engineSid(client).split(".")[0] || "?";

// --- users and the world ---------------------------------------------------------------

// The people of a drill: `admins` admin accounts, `customers` customers and `riders`
// riders (online), each with a token, plus `ops` (the demo admin) that moves orders.
// Every socket has an account of its own: the connect limit (30 a minute) is per user.
export async function createPeople(cluster, { admins = LAYOUT.length, customers = LAYOUT.length, riders = 4, tag = "drill" } = {}) {
  const lb = { url: cluster.url };
  const ops = await login(lb, cluster.accounts.admin.email, cluster.accounts.admin.password);
  const person = (session, role) => ({ id: session.user.id, role, token: session.token, email: session.user.email });
  const people = { lb, ops: person(ops, "admin"), admins: [], customers: [], riders: [] };
  for (let i = 0; i < admins; ++i) people.admins.push(person(await createUser(lb, ops.token, "admin", `${tag}-admin${i}`), "admin"));
  for (let i = 0; i < customers; ++i) people.customers.push(person(await registerCustomer(lb, `${tag}-c${i}`), "customer"));
  for (let i = 0; i < riders; ++i) people.riders.push(person(await createUser(lb, ops.token, "rider", `${tag}-r${i}`), "rider"));
  return people;
}

const RIDER_LAYOUT = [
  { where: "a", transport: "polling" },
  { where: "b", transport: "websocket" },
  { where: "c", transport: "polling" },
  { where: "lb", transport: "websocket" },
];

// Opens every socket of a world: admin i and customer i at LAYOUT[i] (each node and
// HAProxy, over long-polling and WebSocket), riders at RIDER_LAYOUT; half of the
// sockets (alternately) have a watchdog. Resolves once each received `ready`.
export async function openWorld(cluster, people) {
  const target = (where) => (where === "lb" ? { url: cluster.url } : cluster.node(where));
  const name = (where) => (where === "lb" ? "HAProxy" : `node ${where}`);
  const sockets = [];
  people.admins.forEach((u, i) => {
    const { where, transport } = LAYOUT[i % LAYOUT.length];
    sockets.push(openSocket(target(where), u, { transport, label: `admin${i} (${name(where)}, ${transport})`, watchdog: i % 2 === 1 }));
  });
  people.customers.forEach((u, i) => {
    const { where, transport } = LAYOUT[i % LAYOUT.length];
    sockets.push(openSocket(target(where), u, { transport, label: `customer${i} (${name(where)}, ${transport})`, watchdog: i % 2 === 0 }));
  });
  people.riders.forEach((u, i) => {
    const { where, transport } = RIDER_LAYOUT[i % RIDER_LAYOUT.length];
    sockets.push(openSocket(target(where), u, { transport, label: `rider${i} (${name(where)}, ${transport})`, watchdog: i % 2 === 0 }));
  });
  await Promise.all(sockets.map((s) => s.ready(1, 20000)));
  return {
    sockets,
    admins: sockets.filter((s) => s.user.role === "admin"),
    customers: sockets.filter((s) => s.user.role === "customer"),
    riders: sockets.filter((s) => s.user.role === "rider"),
    close: () => sockets.forEach((s) => s.close()),
  };
}

// --- the load --------------------------------------------------------------------------

// Counts acknowledged orders; until(n) resolves once n are.
export class AckCounter {
  constructor() {
    this.count = 0;
    this.waiters = [];
  }
  add() {
    ++this.count;
    this.waiters = this.waiters.filter((w) => (this.count >= w.n ? (w.resolve(), false) : true));
  }
  until(n, ms, what = `${n} acknowledged orders`) {
    if (this.count >= n) return Promise.resolve();
    return within(ms, new Promise((resolve) => this.waiters.push({ n, resolve })), what);
  }
}

// A client gives up on a request after 4 s and sends it again (a node that stopped
// answering holds it otherwise until it comes back).
const REQUEST_TIMEOUT_MS = 4000;

// One request through `lb`, sent again (same body, same Idempotency-Key, same
// if_version) while it fails in a way a fault explains: no answer (a cut or timed-out
// connection: 0), 502, 503 (HAProxy with no node up, or a node whose database is
// away), 504. Resolves with { status, body, attempts, failures } of the first other
// answer, for at most a minute.
async function persist(url, method, path, { token, body, key, what }) {
  const failures = [];
  const deadline = Date.now() + 60000;
  for (let attempt = 1; ; ++attempt) {
    let status = 0;
    let text = "";
    try {
      const headers = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (key) headers["idempotency-key"] = key;
      const res = await fetch(url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      text = `${error.message}: ${error.cause?.message ?? ""}`;
    }
    if (![0, 502, 503, 504].includes(status)) {
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status, body: json, text, attempts: attempt, failures };
    }
    failures.push({ what, attempt, status, text: text.slice(0, 200) });
    if (Date.now() > deadline) throw new Error(`${what}: ${attempt} attempts failed, the last ${status} ${text}`);
    // Spares the CPU between attempts; waits for nothing in particular.
    await sleep(status === 503 ? 50 : 20);
  }
}

// Starts placing orders through HAProxy, one worker per customer, until stop(). Order i
// (delivery address and Idempotency-Key `${tag}-${i}`) orders one of `items`. After
// every third order the ops admin accepts it and assigns rider (i / 3) % riders; after
// every sixth it also reassigns it to the next rider and starts preparing it (the first
// rider then receives the reassignment and nothing after it). A move whose answer was
// lost is sent again with the same if_version; a 409 (version_conflict or
// illegal_transition) then means the lost attempt committed, which a GET confirms. Returns
//   { counter (acknowledged orders), orders: [{i, id, at, attempts, status}],
//     moves: [{id, version, what, at}], failures, stop() (resolves once every worker
//     finished its order), tag }.
export function startLoad(people, items, tag) {
  const url = people.lb.url;
  const load = { tag, counter: new AckCounter(), orders: [], moves: [], failures: [], stopped: false, next: 0 };
  const move = async (order, what, path, body, done) => {
    const r = await persist(url, "POST", path, { token: people.ops.token, body: { ...body, if_version: order.version }, what: `${what} of order ${order.id}` });
    load.failures.push(...r.failures);
    if (r.status === 200) {
      load.moves.push({ id: order.id, version: r.body.version, what, at: Date.now() });
      return r.body;
    }
    // A retry of a move that did commit meets the move already made: the server checks the
    // move before the version (docs/API.md), so that is illegal_transition or
    // version_conflict.
    if (r.status === 409 && ["version_conflict", "illegal_transition"].includes(r.body?.error?.code) && r.attempts > 1) {
      const now = await persist(url, "GET", `/api/orders/${order.id}`, { token: people.ops.token, what: `GET order ${order.id}` });
      if (now.status === 200 && now.body.version === order.version + 1 && done(now.body)) {
        load.moves.push({ id: order.id, version: now.body.version, what, at: Date.now(), byRetry: true });
        return now.body;
      }
    }
    throw new Error(`${what} of order ${order.id}: ${r.status} ${r.text}`);
  };
  const worker = async (w) => {
    const customer = people.customers[w];
    while (!load.stopped) {
      const i = load.next++;
      const body = {
        items: [{ item_id: items[i % items.length], quantity: 1 + (i % 3) }],
        delivery: { address: `${tag}-${i}` },
      };
      const r = await persist(url, "POST", "/api/orders", { token: customer.token, body, key: `${tag}-${i}`, what: `order ${i}` });
      load.failures.push(...r.failures);
      if (r.status !== 201 && r.status !== 200) throw new Error(`order ${i}: ${r.status} ${r.text}`);
      load.orders.push({ i, id: r.body.id, customer: customer.id, at: Date.now(), attempts: r.attempts, status: r.status });
      load.counter.add();
      if (i % 3 !== 0) continue;
      let order = r.body;
      order = await move(order, "accept", `/api/orders/${order.id}/status`, { status: "accepted" }, (o) => o.status === "accepted");
      const riders = people.riders;
      const first = riders[(i / 3) % riders.length];
      order = await move(order, "assign", `/api/orders/${order.id}/assign`, { rider_id: first.id }, (o) => o.rider_id === first.id);
      if (i % 6 !== 0) continue;
      const second = riders[(i / 3 + 1) % riders.length];
      order = await move(order, "reassign", `/api/orders/${order.id}/assign`, { rider_id: second.id }, (o) => o.rider_id === second.id);
      await move(order, "prepare", `/api/orders/${order.id}/status`, { status: "preparing" }, (o) => o.status === "preparing");
    }
  };
  const workers = people.customers.map((_, w) => worker(w));
  // A worker that throws ends the load; until() and stop() report it.
  const all = Promise.all(workers);
  all.catch(() => {
    load.stopped = true;
  });
  // Resolves once n orders are acknowledged; rejects at once if the load failed.
  load.until = (n, ms, what) =>
    Promise.race([load.counter.until(n, ms, what), all.then(() => load.counter.until(n, 0, `${what} (the load stopped at ${load.counter.count})`))]);
  load.stop = async () => {
    load.stopped = true;
    await all;
  };
  return load;
}

// Failed attempts that no fault explains (anything but 0, 502, 503, 504 is already an
// error of the request itself); kept for the log.
export function describeFailures(failures) {
  if (!failures.length) return "no failed attempt";
  const byStatus = new Map();
  for (const f of failures) byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + 1);
  return `${failures.length} failed attempts (${[...byStatus].map(([s, n]) => `${n}x ${s}`).join(", ")}; e.g. ${failures[0].text.slice(0, 90)})`;
}

// --- the oracle ------------------------------------------------------------------------

export async function dbHead(cluster) {
  const [[count, numbered, min, max]] = await cluster.psql(
    "SELECT count(*), count(seq), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM changes",
  );
  return { count: Number(count), numbered: Number(numbered), min: Number(min), max: Number(max) };
}

// The changes after `afterSeq`, with who may see them.
async function dbChanges(cluster, afterSeq) {
  const rows = await cluster.psql(
    `SELECT seq, collection, op, record_id, coalesce(customer_id, -1), coalesce(rider_id, -1), coalesce(previous_rider_id, -1)
       FROM changes WHERE seq > ${Number(afterSeq)} ORDER BY seq`,
  );
  return rows.map(([seq, collection, op, id, customer, rider, previous]) => ({
    seq: Number(seq),
    collection,
    op,
    id: Number(id),
    customer: Number(customer),
    rider: Number(rider),
    previous: Number(previous),
  }));
}

// PRODUCT.md, "Visibility of changes": admins all; a customer their orders' changes; a
// rider the changes that name them as rider_id, plus the one that took the order away
// (previous_rider_id); everyone the menu.
export function maySee(user, change) {
  if (user.role === "admin" || change.collection !== "orders") return true;
  if (user.role === "customer") return change.customer === user.id;
  return change.rider === user.id || change.previous === user.id;
}

// When each order's insert reached the client: its event, or a reload after a resync.
function insertTimes(client) {
  const at = new Map();
  for (const e of client.named("order:changed")) if (e.args[0].op === "insert" && !at.has(e.args[0].order.id)) at.set(e.args[0].order.id, e.at);
  for (const r of client.reloads) for (const id of r.result?.inserted ?? []) if (!at.has(id) || at.get(id) > r.result.at) at.set(id, r.result.at);
  return at;
}

// The seqs a client has, in the order it learnt them: its stream events, and at each
// `resync` the changes its reload read (`loaded[i]` for client.reloads[i]); the stream
// events up to that reload's head that follow a resync are its expected duplicates.
function received(client, loaded) {
  const out = [];
  let covered = -1;
  client.events.forEach((e, index) => {
    const r = client.reloads.findIndex((x) => x.index === index);
    if (r >= 0 && loaded[r]) {
      out.push(...loaded[r].seqs);
      covered = Math.max(covered, loaded[r].head);
    } else if (STREAM.has(e.name) && e.args[0].seq > covered) {
      out.push(e.args[0].seq);
    }
  });
  return out;
}

// Waits until every admin socket has every acknowledged order, then prints how long
// after the last acknowledgement the last admin had it (and had everything).
export async function awaitAdmins(admins, orders, ms, what) {
  const ids = orders.map((o) => o.id);
  await Promise.all(
    admins.map((c) =>
      c.until(
        () => {
          const got = insertTimes(c);
          return ids.every((id) => got.has(id));
        },
        ms,
        `every acknowledged order (${what})`,
      ),
    ),
  );
  const last = orders.reduce((a, b) => (b.at > a.at ? b : a));
  const times = new Map(admins.map((c) => [c, insertTimes(c)]));
  const receivedAt = (c, id) => times.get(c).get(id);
  const slowest = admins.reduce((a, c) => (receivedAt(c, last.id) > receivedAt(a, last.id) ? c : a));
  const everything = Math.max(...admins.flatMap((c) => ids.map((id) => receivedAt(c, id))));
  const lastOrderMs = receivedAt(slowest, last.id) - last.at;
  console.log(
    `${what}: the last acknowledged order (${last.id}) reached the last of ${admins.length} admins (${slowest.label}) ` +
      `${lastOrderMs} ms after its acknowledgement; every order had reached every admin ${everything - last.at} ms after it`,
  );
  return lastOrderMs;
}

// The checks after a fault, with the database as the oracle:
//  1. seqs in `changes` run 1..head without a hole;
//  2. every acknowledged order is in the database once per Idempotency-Key, and has
//     exactly one insert change; every acknowledged move has exactly one change of its
//     (order, version);
//  3. every admin has every acknowledged order (the time it took is printed);
//  4. after a menu barrier that every socket must receive, each socket received, over
//     all its connections since its first `ready`, exactly the changes it may see, in
//     seq order, once each, with one `ready` per connection and no `resync`; no order
//     event of another customer or of a rider's order it was never on, and no `alert`,
//     reached a customer or a rider.
export async function checkAfterFault(cluster, people, world, load, what) {
  // 2. The writes.
  const rows = await cluster.psql(`SELECT id, delivery_address FROM orders WHERE delivery_address LIKE '${load.tag}-%' ORDER BY id`);
  const inDb = new Set(rows.map(([id]) => Number(id)));
  assert.deepEqual(load.orders.filter((o) => !inDb.has(o.id)).map((o) => o.id), [], `${what}: acknowledged orders missing from the database`);
  assert.equal(rows.length, load.orders.length, `${what}: one order per Idempotency-Key`);
  assert.equal(new Set(rows.map(([, address]) => address)).size, rows.length, `${what}: distinct keys`);
  if (load.orders.length) {
    const ids = load.orders.map((o) => o.id).join(",");
    const inserts = await cluster.psql(
      `SELECT record_id, count(*) FROM changes WHERE collection = 'orders' AND op = 'insert' AND record_id IN (${ids}) GROUP BY record_id`,
    );
    const count = new Map(inserts.map(([id, n]) => [Number(id), Number(n)]));
    const wrong = load.orders.filter((o) => count.get(o.id) !== 1).map((o) => `${o.id}: ${count.get(o.id) ?? 0}`);
    assert.deepEqual(wrong, [], `${what}: acknowledged orders without exactly one insert change`);
  }
  if (load.moves.length) {
    const ids = [...new Set(load.moves.map((m) => m.id))].join(",");
    const updates = await cluster.psql(
      `SELECT record_id, (document::jsonb ->> 'version'), count(*) FROM changes
        WHERE collection = 'orders' AND op = 'update' AND record_id IN (${ids}) GROUP BY 1, 2`,
    );
    const count = new Map(updates.map(([id, v, n]) => [`${id}/${v}`, Number(n)]));
    const wrong = load.moves.filter((m) => count.get(`${m.id}/${m.version}`) !== 1).map((m) => `${m.what} ${m.id} v${m.version}: ${count.get(`${m.id}/${m.version}`) ?? 0}`);
    assert.deepEqual(wrong, [], `${what}: acknowledged moves without exactly one change`);
  }

  // 3. Every admin has every order; how long it took.
  const lastOrderMs = await awaitAdmins(world.admins, load.orders, 60000, what);
  // 4. A barrier every socket must receive: nothing sent before it is still on its way.
  // What was committed after it (an offer the rider-offer pass expired meanwhile, on any
  // node) may be, so the sockets are held to the barrier.
  const barrierSeq = await menuBarrier(people.lb, people.ops.token, world.sockets, 60000);

  // 1. The stream.
  const head = await dbHead(cluster);
  assert.equal(head.count, head.numbered, `${what}: every change has a seq`);
  assert.equal(head.min, 1, `${what}: the first seq`);
  assert.equal(head.count, head.max, `${what}: seqs 1..head without a hole`);

  // 4. Every socket, against the database.
  const reloads = await Promise.all(world.sockets.map((c) => Promise.all(c.reloads.map((r) => r.done))));
  const starts = world.sockets.map((c) => c.named("ready")[0].args[0].last_seq);
  // What each socket had before the table is read: all of it is in the table (a change
  // committed after the read may reach a socket while the read is on its way).
  const had = world.sockets.map((c) => c.events.length);
  const changes = await dbChanges(cluster, Math.min(...starts));
  const bySeq = new Map(changes.map((c) => [c.seq, c]));
  world.sockets.forEach((client, k) => {
    const user = client.user;
    // Authorisation first, for a clear message.
    if (user.role !== "admin") {
      assert.deepEqual(client.named("alert").map((e) => e.args[0]), [], `${client.label}: alerts reach admins only`);
      const foreign = client.events
        .slice(0, had[k])
        .filter((e) => e.name === "order:changed")
        .filter((e) => {
          const change = bySeq.get(e.args[0].seq);
          return !change || !maySee(user, change) || (user.role === "customer" && e.args[0].order.customer_id !== user.id);
        })
        .map((e) => `seq ${e.args[0].seq} order ${e.args[0].order.id} (customer ${e.args[0].order.customer_id}, rider ${e.args[0].order.rider_id})`);
      assert.deepEqual(foreign, [], `${client.label} (user ${user.id}): order events it may not see`);
    }
    const expected = changes.filter((c) => c.seq > starts[k] && c.seq <= barrierSeq && maySee(user, c)).map((c) => c.seq);
    const got = received(client, reloads[k]).filter((s) => s > starts[k] && s <= barrierSeq);
    const dups = got.filter((s, i) => got.indexOf(s) !== i);
    assert.deepEqual(dups, [], `${client.label}: duplicated seqs`);
    const gotSet = new Set(got);
    const missing = expected.filter((s) => !gotSet.has(s));
    const describe = (s) => `${s} ${bySeq.get(s).collection} ${bySeq.get(s).op} ${bySeq.get(s).record_id}`;
    assert.deepEqual(missing, [], `${client.label}: seqs it may see but never received (${missing.map(describe).join("; ")}; its last: ${got.slice(-3).join(", ")})`);
    assert.deepEqual(got, expected, `${client.label}: exactly the seqs it may see, in order`);
    for (let conn = 1; conn <= client.connections; ++conn) {
      const readies = client.named("ready", conn).length;
      if (conn === client.connections) assert.equal(readies, 1, `${client.label}: one ready on connection ${conn}`);
      else assert.ok(readies <= 1, `${client.label}: ${readies} readies on connection ${conn}`);
    }
  });
  // Not vacuous: every customer and rider had order events of their own.
  for (const c of [...world.customers, ...world.riders]) {
    assert.ok(c.named("order:changed").length > 0, `${c.label}: received order events of its own`);
  }
  const resynced = world.sockets.filter((c) => c.reloads.length);
  if (resynced.length) {
    console.log(
      `${what}: resync (then a reload over REST): ${resynced.map((c) => `${c.label}: ${c.reloads.map((r) => `${r.reason} after seq ${r.after}`).join(", ")}`).join("; ")}` +
        (resynced.some((c) => c.reloads.some((r) => r.reason === "offset_ahead")) ? " (offset_ahead: a node behind the one the client came from, see moved.test.mjs)" : ""),
    );
  }
  const moved = world.sockets.filter((c) => c.connections > 1);
  console.log(
    `${what}: ${load.orders.length} orders (${load.orders.filter((o) => o.status === 200).length} answered 200: a retry of an attempt that had committed) ` +
      `and ${load.moves.length} moves (${load.moves.filter((m) => m.byRetry).length} confirmed by a GET after a lost answer) acknowledged, ${describeFailures(load.failures)}; ` +
      `changes 1..${head.max}; reconnected: ${moved.map((c) => `${c.label} x${c.connections - 1} (now on ${nodeOf(c)}${c.timeouts.length ? `, ${c.timeouts.length} watchdog timeouts` : ""})`).join("; ") || "none"}`,
  );
  return { lastOrderMs, head };
}

// --- PostgreSQL backends of a node -------------------------------------------------------

// The local TCP ports of a process's sockets (from /proc: its descriptors' inodes, looked
// up in /proc/net/tcp{,6}).
function localPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9])) ports.add(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports;
}

// The PostgreSQL backends serving the node of pid `nodePid`: [{pid, name
// (application_name), state, wait (wait_event_type)}], matched by the client port
// pg_stat_activity shows.
export async function backendsOf(cluster, nodePid) {
  const ports = localPorts(nodePid);
  const rows = await cluster.psql(
    "SELECT pid, application_name, client_port, state, coalesce(wait_event_type, '') FROM pg_stat_activity WHERE application_name LIKE 'brigade-%'",
  );
  return rows.filter(([, , port]) => ports.has(Number(port))).map(([pid, name, , state, wait]) => ({ pid: Number(pid), name, state, wait }));
}

// The pid of each node now (from cluster.sh status).
export async function nodePids(cluster) {
  const status = await cluster.status();
  return Object.fromEntries(status.nodes.map((n) => [n.id, n.pid]));
}

// Polls `check()` (a pause between attempts) until it returns a truthy value.
export async function eventually(check, ms, what, pauseMs = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(pauseMs);
  }
}

export { api, call };

// A psql session of its own (application_name `app`), fed through stdin: send(sql)
// writes, marked(text) waits until psql printed that text (send `\echo text`), end(sql)
// sends the last statements and resolves with psql's exit code; kill() if still running.
export function psqlSession(cluster, app) {
  const child = spawn("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.postgres], {
    env: { ...process.env, PGAPPNAME: app },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const session = { out: "", err: "", code: null };
  child.stdout.on("data", (d) => (session.out += d));
  child.stderr.on("data", (d) => (session.err += d));
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve((session.code = code))));
  session.send = (sql) => child.stdin.write(sql);
  session.marked = async (text, ms = 10000) => {
    await eventually(() => session.out.includes(text) || session.code !== null, ms, `psql to print ${text}`, 20);
    if (!session.out.includes(text)) throw new Error(`psql exited (${session.code}): ${session.err}`);
  };
  session.end = (sql) => {
    child.stdin.end(sql);
    return within(10000, exited, "psql to exit");
  };
  session.kill = () => {
    if (session.code === null && child.exitCode === null) child.kill("SIGKILL");
  };
  return session;
}
