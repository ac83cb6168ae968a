// Shared helpers of the live-events suite (tests/live): start and stop the real
// `brigade` server on 127.0.0.1 (port 0, fresh temporary data dir), a small REST
// client, the official npm socket.io-client resolved from the repository root,
// socket wrappers that record every event, and the sqlite3 shell on the data dir.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const requireFromRoot = createRequire(path.join(repoRoot, "package.json"));
export const { io } = requireFromRoot("socket.io-client");
// ws is a dependency of engine.io-client; used for raw (malformed) packets.
export const WebSocket = requireFromRoot("ws");

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function within(ms, promise, what = "operation") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function brigadeBinary() {
  return process.env.BRIGADE_BIN || path.join(repoRoot, "build/release/src/server/brigade");
}

// --- servers -----------------------------------------------------------------------

const running = new Set();
const tempDirs = new Set();
process.on("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function freshDataDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-live-"));
  tempDirs.add(dir);
  return dir;
}

function spawnOnce({ dataDir, port, args, timeoutMs }) {
  const binary = brigadeBinary();
  if (!existsSync(binary)) {
    throw new Error(`brigade binary not found: ${binary} (build the brigade target or set BRIGADE_BIN)`);
  }
  const child = spawn(
    binary,
    [
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      dataDir,
      "--pwhash-memlimit",
      "8388608",
      "--log-level",
      "warn",
      // Many accounts come from 127.0.0.1 here: past the per-address sign-up limit.
      ...(args.includes("--register-limit") ? [] : ["--register-limit", "100000"]),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  let log = "";
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > 128 * 1024) log = log.slice(-64 * 1024);
  };
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let accounts = null;
  const listening = new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      keep(chunk);
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        try {
          const parsed = JSON.parse(line);
          if (parsed.demo_accounts) {
            accounts = Object.fromEntries(parsed.demo_accounts.map((a) => [a.role, a]));
          }
          if (parsed.listening) resolve(parsed.listening);
        } catch {
          // not a line we wait for
        }
      }
    });
    child.on("error", reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`brigade exited before listening (code ${code}, signal ${signal}):\n${log}`)),
    );
  });
  return within(timeoutMs, listening, "brigade's listening line").then(
    (address) => ({ child, exited, address, accounts, output: () => log }),
    (error) => {
      child.kill("SIGKILL");
      throw error;
    },
  );
}

// Starts brigade; resolves once it prints {"listening": ...}. A restart passes the
// previous server's dataDir, port and accounts (demo accounts are printed only on the
// first start); binding the same port is retried while the old socket lingers.
export async function startBrigade({ dataDir, port = 0, args = [], accounts, timeoutMs = 15000 } = {}) {
  dataDir ??= freshDataDir();
  let started;
  let lastError;
  for (let attempt = 0; attempt < (port ? 30 : 1); ++attempt) {
    try {
      started = await spawnOnce({ dataDir, port, args, timeoutMs });
      break;
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  if (!started) throw lastError;
  const { child, exited } = started;
  const actualPort = Number(started.address.split(":").pop());
  const server = {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    wsUrl: `ws://127.0.0.1:${actualPort}`,
    dataDir,
    dbPath: path.join(dataDir, "brigade.db"),
    args,
    accounts: started.accounts ?? accounts,
    exited,
    output: started.output,
    alive: () => child.exitCode === null && child.signalCode === null,
    // SIGTERM, escalated to SIGKILL after 3 s; SIGKILL simulates a crash.
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    // The same data dir and port, as after a crash or an upgrade.
    restart(extraArgs = args) {
      return startBrigade({ dataDir, port: actualPort, args: extraArgs, accounts: server.accounts });
    },
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    },
  };
  return server;
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

// --- the sqlite3 shell -----------------------------------------------------------------

export function sqlite(dbPath, sql, { json = false, timeoutMs = 15000 } = {}) {
  const args = ["-cmd", ".timeout 10000"];
  if (json) args.push("-json");
  args.push(dbPath, sql);
  return new Promise((resolve, reject) => {
    execFile("sqlite3", args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`sqlite3 ${sql}: ${error.message} ${stderr}`));
      if (!json) return resolve(stdout);
      resolve(stdout.trim() ? JSON.parse(stdout) : []);
    });
  });
}

// Every change after `afterSeq` as recorded in the database, oldest first, with the
// fields that decide who may see it.
export function changesInDb(dbPath, afterSeq = 0) {
  return sqlite(
    dbPath,
    `SELECT seq, collection, op, record_id,
            json_extract(document, '$.customer_id') AS customer_id,
            json_extract(document, '$.rider_id') AS rider_id,
            json_extract(document, '$.status') AS status
       FROM changes WHERE seq > ${Number(afterSeq)} ORDER BY seq;`,
    { json: true },
  );
}

export async function headSeqInDb(dbPath) {
  const rows = await sqlite(dbPath, "SELECT coalesce(max(seq), 0) AS head FROM changes;", { json: true });
  return rows[0].head;
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
    this.socket.auth = auth;
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
    this.attach(io(server.url, { auth, transports: ["websocket"], reconnection: false, forceNew: true }));
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

// Opens a socket and waits for connect (or rejects with the connect_error).
// WebSocket only and no automatic reconnection unless the options say otherwise.
export async function connect(server, auth, { label = "socket", ms = 5000, ...options } = {}) {
  const socket = io(server.url, {
    auth,
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
