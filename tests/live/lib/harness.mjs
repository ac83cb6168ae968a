// Shared helpers of the live-events suite (tests/live): start and stop the real
// `brigade` server on 127.0.0.1 (tests/lib/server.mjs), a small REST
// client, the official npm socket.io-client resolved from the repository root,
// socket wrappers that record every event, and the sqlite3 shell on the data dir.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

import { repoRoot, startBrigade as startShared, within } from "../../lib/server.mjs";

const requireFromRoot = createRequire(path.join(repoRoot, "package.json"));
export const { io } = requireFromRoot("socket.io-client");
// ws is a dependency of engine.io-client; used for raw (malformed) packets.
export const WebSocket = requireFromRoot("ws");

export { brigadeBinary, freshDataDir, repoRoot, sleep, within } from "../../lib/server.mjs";

// --- servers -----------------------------------------------------------------------

// Starts brigade (tests/lib/server.mjs) with this suite's defaults: warnings only in
// the log, besides the shared small Argon2id memory and high sign-up limit. A restart
// passes the previous server's dataDir, port and accounts (demo accounts are printed
// only on the first start); server.restart() does that.
// Returns { port, url, wsUrl, dataDir, dbPath, args, accounts, exited, output(), alive(),
// stop(signal), kill9(), restart(args), dispose(), advanceClock(ms) (with --test-clock) }.
export function startBrigade({ dataDir, port = 0, args = [], accounts, timeoutMs = 15000 } = {}) {
  return startShared({ dataDir, port, args, accounts, timeoutMs, logLevel: "warn" });
}

// --- REST ----------------------------------------------------------------------------

export async function api(server, method, urlPath, { token, body, timeoutMs = 15000 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(server.url + urlPath, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: json, text };
}

// The same, failing with the whole answer unless the status is a success.
export async function call(server, method, urlPath, options = {}) {
  const res = await api(server, method, urlPath, options);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${method} ${urlPath} -> ${res.status} ${res.text}`);
  }
  return res.body;
}

let uniq = 0;
const unique = (tag) => `${tag}-${process.pid}-${Date.now()}-${++uniq}`;

export const login = (server, email, password) =>
  call(server, "POST", "/api/auth/login", { body: { email, password } });

export const loginDemo = (server, role) =>
  login(server, server.accounts[role].email, server.accounts[role].password);

export function registerCustomer(server, tag = "customer") {
  const name = unique(tag);
  return call(server, "POST", "/api/auth/register", {
    body: { email: `${name}@test.local`, password: "password-123", name },
  });
}

// Creates a staff member or rider as admin and signs them in; riders go online.
export async function createUser(server, adminToken, role, tag = role) {
  const name = unique(tag);
  const email = `${name}@test.local`;
  await call(server, "POST", "/api/users", {
    token: adminToken,
    body: { email, password: "password-123", name, role },
  });
  const session = await login(server, email, "password-123");
  if (role === "rider") await goOnline(server, session.token);
  return session;
}

export const goOnline = (server, token) =>
  call(server, "POST", "/api/riders/me/online", { token, body: { online: true } });

export async function availableItemIds(server) {
  const menu = await call(server, "GET", "/api/menu");
  return menu.categories.flatMap((c) => c.items.filter((i) => i.available).map((i) => i.id));
}

export const placeOrder = (server, token, itemId, quantity = 1) =>
  call(server, "POST", "/api/orders", {
    token,
    body: { items: [{ item_id: itemId, quantity }], delivery: { address: "1 Test Street" } },
  });

export const moveOrder = (server, token, id, status, extra = {}) =>
  call(server, "POST", `/api/orders/${id}/status`, { token, body: { status, ...extra } });

export const assignRider = (server, token, id, riderId) =>
  call(server, "POST", `/api/orders/${id}/assign`, { token, body: { rider_id: riderId } });

// Runs `task(i)` for i in [0, count) with at most `width` in flight.
export async function pool(count, width, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

// --- the database, as another program sees it --------------------------------------
// `db` is server.dbPath: the SQLite file, or (a server started with BRIGADE_TEST_PG_URL)
// the PostgreSQL URL, run through psql. The SQL must be common to both.

const isPostgres = (db) => /^postgres(ql)?:\/\//.test(db);

export function sqlite(db, sql, { json = false, timeoutMs = 15000 } = {}) {
  let program;
  let args;
  if (isPostgres(db)) {
    program = "psql";
    const query = json ? `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql.trim().replace(/;$/, "")}) AS t` : sql;
    args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", db, "-c", query];
  } else {
    program = "sqlite3";
    args = ["-cmd", ".timeout 10000"];
    if (json) args.push("-json");
    args.push(db, sql);
  }
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${program} ${sql}: ${error.message} ${stderr}`));
      if (!json) return resolve(stdout);
      resolve(stdout.trim() ? JSON.parse(stdout) : []);
    });
  });
}

// Every change after `afterSeq` as recorded in the database, oldest first, with the
// fields that decide who may see it.
export function changesInDb(db, afterSeq = 0) {
  const field = (key, cast) =>
    isPostgres(db) ? `(document::json->>'${key}')${cast ? `::${cast}` : ""}` : `json_extract(document, '$.${key}')`;
  return sqlite(
    db,
    `SELECT seq, collection, op, record_id,
            ${field("customer_id", "bigint")} AS customer_id,
            ${field("rider_id", "bigint")} AS rider_id,
            ${field("status")} AS status
       FROM changes WHERE seq > ${Number(afterSeq)} ORDER BY seq;`,
    { json: true },
  );
}

export async function headSeqInDb(db) {
  const rows = await sqlite(db, "SELECT coalesce(max(seq), 0) AS head FROM changes;", { json: true });
  return Number(rows[0].head);
}

// Who may see each change, derived from the documents alone (PRODUCT.md, "Visibility
// of changes"): admins all; a customer their orders; a rider the changes whose
// document names them, plus the one that took the order away from them; the menu all.
export function visibleTo(changes, who) {
  const lastRider = new Map();
  const out = [];
  for (const c of changes) {
    let visible;
    if (who.role === "admin" || c.collection !== "orders") visible = true;
    else if (who.role === "customer") visible = c.customer_id === who.id;
    else {
      const before = lastRider.get(c.record_id) ?? null;
      visible = c.rider_id === who.id || (before === who.id && c.rider_id !== who.id);
    }
    if (c.collection === "orders") lastRider.set(c.record_id, c.rider_id ?? null);
    if (visible) out.push(c);
  }
  return out;
}

// --- sockets -----------------------------------------------------------------------

// Like the panels, the suite's clients follow the stream events: an admin's auth says
// statusChanged: false unless the test gives statusChanged itself (tests/live/status_changed).
export function panelAuth(auth) {
  const plain = auth !== null && typeof auth === "object" && !Array.isArray(auth);
  return plain && !("statusChanged" in auth) ? { statusChanged: false, ...auth } : auth;
}

export const STREAM_EVENTS = new Set(["order:changed", "menu:changed"]);

// A socket.io-client socket whose events are all recorded, in arrival order, with
// the number of the connection they arrived on.
export class LiveClient {
  constructor(socket, label) {
    this.label = label;
    this.events = [];
    this.connections = 0;
    this.disconnects = [];
    this.connectErrors = [];
    this.waiters = [];
    this.attach(socket);
  }

  attach(socket) {
    this.socket = socket;
    socket.onAny((name, ...args) => {
      this.events.push({ name, args, conn: this.connections, at: Date.now() });
      this.wake();
    });
    socket.on("connect", () => {
      ++this.connections;
      this.wake();
    });
    socket.on("disconnect", (reason) => {
      this.disconnects.push({ reason, conn: this.connections, at: Date.now() });
      this.wake();
    });
    socket.on("connect_error", (error) => {
      this.connectErrors.push(error);
      this.wake();
    });
  }

  wake() {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.action?.();
      w.resolve();
      return false;
    });
  }

  // Resolves when predicate() holds (checked now and after each event). `action`
  // runs synchronously at that moment, before any further event is processed.
  until(predicate, ms = 5000, what = "a condition", action = undefined) {
    if (predicate()) {
      action?.();
      return Promise.resolve();
    }
    let waiter;
    const done = new Promise((resolve) => {
      waiter = { predicate, resolve, action };
      this.waiters.push(waiter);
    });
    return within(ms, done, `${this.label}: ${what}`).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  named(name, conn) {
    return this.events.filter((e) => e.name === name && (conn === undefined || e.conn === conn));
  }

  // order:changed and menu:changed events, in arrival order.
  stream(conn) {
    return this.events.filter((e) => STREAM_EVENTS.has(e.name) && (conn === undefined || e.conn === conn));
  }

  streamSeqs(conn) {
    return this.stream(conn).map((e) => e.args[0].seq);
  }

  lastSeq() {
    const s = this.stream();
    return s.length ? s[s.length - 1].args[0].seq : null;
  }

  // The `ready` payload of a connection (the current one by default), waiting for it.
  async ready(conn = this.connections, ms = 10000) {
    await this.until(() => this.named("ready", conn).length > 0, ms, `ready on connection ${conn}`);
    return this.named("ready", conn)[0].args[0];
  }

  // Waits until an order:changed/menu:changed with this seq arrived.
  untilSeq(seq, ms = 10000) {
    return this.until(() => this.stream().some((e) => e.args[0].seq === seq), ms, `seq ${seq}`);
  }

  emitWithAck(name, ...args) {
    return within(5000, this.socket.timeout(4000).emitWithAck(name, ...args), `${this.label}: ack of ${name}`);
  }

  // Reconnects the same socket (after disconnect()) with a new auth, waits for connect.
  async reconnect(auth, ms = 5000) {
    const before = this.connections;
    this.socket.auth = panelAuth(auth);
    this.socket.connect();
    await this.until(
      () => this.connections > before || this.connectErrors.length > 0,
      ms,
      "reconnection",
    );
    if (this.connections === before) throw this.connectErrors[this.connectErrors.length - 1];
  }

  // Drops this socket and opens a brand-new one (as a reloaded page would) with
  // `auth`, recording into the same event list; waits for connect.
  async replaceSocket(server, auth, ms = 5000) {
    this.socket.disconnect();
    const before = this.connections;
    const errors = this.connectErrors.length;
    this.attach(io(server.url, { auth: panelAuth(auth), transports: ["websocket"], reconnection: false, forceNew: true }));
    await this.until(
      () => this.connections > before || this.connectErrors.length > errors,
      ms,
      "connection of the new socket",
    );
    if (this.connections === before) throw this.connectErrors[this.connectErrors.length - 1];
  }

  // The offset the stock client would send: the trailing string argument of the
  // last event that had one (stream events carry "<seq>", alerts and ready "<seq>.1").
  lastOffset() {
    for (let i = this.events.length - 1; i >= 0; --i) {
      const args = this.events[i].args;
      if (args.length > 1 && typeof args[args.length - 1] === "string") return args[args.length - 1];
    }
    return null;
  }

  close() {
    this.socket.disconnect();
  }
}

// A barrier for "nothing else arrived": an admin changes a menu item's price (every
// socket receives menu:changed) and this waits until each of `clients` got that
// change. What the server sent a socket before the change comes before it on that
// socket's connection, so once the barrier is in, an unwanted event would be too.
// isBarrier(event) tells the barrier's own menu:changed events apart (their prices).
let barriers = 0;
const BARRIER_PRICES = [900000, 1000000];
export const isBarrier = (e) =>
  e.name === "menu:changed" &&
  e.args[0]?.item?.price_cents >= BARRIER_PRICES[0] &&
  e.args[0].item.price_cents < BARRIER_PRICES[1];
export async function menuBarrier(server, adminToken, clients, ms = 5000) {
  const [itemId] = await availableItemIds(server);
  const price = BARRIER_PRICES[0] + (process.pid % 1000) * 100 + (++barriers % 100);
  await call(server, "PATCH", `/api/menu/items/${itemId}`, { token: adminToken, body: { price_cents: price } });
  const barrier = (c) => c.named("menu:changed").find((e) => e.args[0].item?.id === itemId && e.args[0].item.price_cents === price);
  await Promise.all(clients.map((c) => c.until(() => barrier(c) !== undefined, ms, "the menu barrier")));
  // The barrier's seq: every change up to it has reached every client (later ones may still
  // be on their way: a node's timers write too).
  return clients.length ? barrier(clients[0]).args[0].seq : null;
}

// Opens a socket and waits for connect (or rejects with the connect_error).
// WebSocket only and no automatic reconnection unless the options say otherwise.
export async function connect(server, auth, { label = "socket", ms = 5000, ...options } = {}) {
  const socket = io(server.url, {
    auth: panelAuth(auth),
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  const client = new LiveClient(socket, label);
  try {
    await client.until(() => client.connections > 0 || client.connectErrors.length > 0, ms, "connect");
  } catch (error) {
    socket.close();
    throw error;
  }
  if (client.connections === 0) {
    socket.close();
    throw client.connectErrors[0];
  }
  return client;
}

// Connects and waits for `ready`.
export async function connectReady(server, auth, options = {}) {
  const client = await connect(server, auth, options);
  await client.ready();
  return client;
}

// Expects the handshake to be refused; resolves with the connect_error.
export async function connectRefused(server, auth, options = {}) {
  try {
    const client = await connect(server, auth, options);
    client.close();
  } catch (error) {
    return error;
  }
  throw new Error("the connection was accepted");
}
