// Shared helpers of the REST API suite: the real `brigade` server started by
// tests/lib/server.mjs, and small fetch helpers that return
// { status, headers, body, text }.
import assert from "node:assert/strict";
import http from "node:http";

import { startBrigade } from "../../lib/server.mjs";

export { brigadeBinary as serverBinary, PWHASH_MEMLIMIT, repoRoot, sleep } from "../../lib/server.mjs";

// Starts brigade (tests/lib/server.mjs: a small Argon2id memory, a sign-up limit no
// test reaches unless it passes --register-limit). Returns { url, port, dataDir,
// accounts: {admin, customer, rider} (each {email, password}), stop(), kill9(),
// restart(), dispose(), advanceClock(ms) (with --test-clock), output() }.
// `dataDir`: reuse a data dir (restart); otherwise a fresh one, removed on exit. `db`: the
// PostgreSQL database of an earlier start (server.db) when the suite runs on PostgreSQL.
export function startServer({ args = [], dataDir, db, timeoutMs = 15000 } = {}) {
  return startBrigade({ args, dataDir, db, timeoutMs });
}

// One HTTP request. `body`: an object (sent as JSON) or a string/Buffer (sent as is).
// Returns { status, headers, text, body } where body is the parsed JSON or null.
export async function request(server, method, urlPath, { token, body, headers = {}, timeoutMs = 15000 } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (token !== undefined && token !== null) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof Uint8Array) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
    }
    if (!Object.keys(init.headers).some((h) => h.toLowerCase() === "content-type")) {
      init.headers["content-type"] = "application/json";
    }
  }
  const response = await fetch(server.url + urlPath, init);
  const text = await response.text();
  let parsed = null;
  if (text.length && (response.headers.get("content-type") || "").includes("json")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

// One HTTP request on a fresh connection from a chosen local address (any of
// 127.0.0.0/8 reaches a server listening on 127.0.0.1), so that tests can be two
// clients. Same answer shape as request(); `headers` of the answer is a Headers.
export function requestFrom(server, from, method, urlPath, { token, body, headers = {}, timeoutMs = 15000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["content-type"] ??= "application/json";
    h["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, localAddress: from, method, path: urlPath, headers: h, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) out.set(k, Array.isArray(v) ? v.join(", ") : String(v));
          let parsed = null;
          if (text.length && (res.headers["content-type"] || "").includes("json")) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
          }
          resolve({ status: res.statusCode, headers: out, text, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath} from ${from} timed out`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const get = (server, p, opts) => request(server, "GET", p, opts);
export const post = (server, p, body, opts = {}) => request(server, "POST", p, { ...opts, body });
export const patch = (server, p, body, opts = {}) => request(server, "PATCH", p, { ...opts, body });
export const del = (server, p, opts) => request(server, "DELETE", p, opts);

// Asserts an answer's status (with the body in the message on failure).
export function expectStatus(res, status, what = "") {
  assert.equal(res.status, status, `${what} expected ${status}, got ${res.status}: ${res.text}`);
}

// Asserts the contract's error shape {"error":{"code","message","field?"}}.
export function expectError(res, status, code, field) {
  expectStatus(res, status);
  assert.ok(res.headers.get("content-type")?.includes("application/json"), "error is JSON");
  assert.ok(res.body && typeof res.body === "object", `error body is JSON: ${res.text}`);
  const keys = Object.keys(res.body);
  assert.deepEqual(keys, ["error"], `only "error" at the top: ${res.text}`);
  const error = res.body.error;
  assert.equal(typeof error.code, "string");
  assert.match(error.code, /^[a-z][a-z0-9_]*$/, "code is snake_case");
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0, "message is not empty");
  for (const key of Object.keys(error)) assert.ok(["code", "message", "field"].includes(key), `key ${key}`);
  if (code !== undefined) assert.equal(error.code, code, `error code: ${res.text}`);
  if (field !== undefined) assert.equal(error.field, field, `error field: ${res.text}`);
  if (status === 422 && field === undefined) {
    // 422 names the field, except for body-level problems (depth, string length, not an object).
  }
  return error;
}

let counter = 0;
export function uniqueEmail(prefix = "user") {
  counter += 1;
  return `${prefix}.${process.pid}.${Date.now()}.${counter}@test.example`;
}

// Signs in; returns { token, user }.
export async function login(server, email, password) {
  const res = await post(server, "/api/auth/login", { email, password });
  expectStatus(res, 200, `login ${email}`);
  return res.body;
}

// Registers a new customer; returns { token, user, email, password }.
export async function newCustomer(server, name = "Test Customer") {
  const email = uniqueEmail("customer");
  const password = "correct horse battery";
  const res = await post(server, "/api/auth/register", { email, password, name });
  expectStatus(res, 201, "register");
  return { ...res.body, email, password };
}

// Creates a staff account (admin or rider) as the given admin and signs it in.
export async function newStaff(server, adminToken, role, name = `Test ${role}`) {
  const email = uniqueEmail(role);
  const password = "staff password 1";
  const res = await post(server, "/api/users", { email, password, name, role }, { token: adminToken });
  expectStatus(res, 201, `create ${role}`);
  const signedIn = await login(server, email, password);
  return { ...signedIn, email, password };
}

export async function newRider(server, adminToken, { online = true } = {}) {
  const rider = await newStaff(server, adminToken, "rider");
  if (online) expectStatus(await post(server, "/api/riders/me/online", { online: true }, { token: rider.token }), 200);
  return rider;
}

// Signs in the demo accounts: { admin, customer, rider } each { token, user }.
export async function demoSessions(server) {
  const out = {};
  for (const role of ["admin", "customer", "rider"]) {
    const account = server.accounts[role];
    assert.ok(account, `demo account for ${role}`);
    out[role] = { ...(await login(server, account.email, account.password)), ...account };
  }
  return out;
}

export async function menu(server) {
  const res = await get(server, "/api/menu");
  expectStatus(res, 200, "menu");
  return res.body;
}

export async function availableItems(server) {
  const m = await menu(server);
  return m.categories.flatMap((c) => c.items).filter((i) => i.available);
}

// Places an order as `token`; returns the created order.
export async function placeOrder(server, token, { items, delivery, notes, headers } = {}) {
  if (!items) {
    const all = await availableItems(server);
    items = [{ item_id: all[0].id, quantity: 2 }];
  }
  const body = { items, delivery: delivery || { address: "1 Test Street", lat: 51.5, lng: -0.12 } };
  if (notes !== undefined) body.notes = notes;
  const res = await post(server, "/api/orders", body, { token, headers });
  expectStatus(res, 201, "place order");
  return res.body;
}

export async function move(server, token, orderId, status, extra = {}) {
  return post(server, `/api/orders/${orderId}/status`, { status, ...extra }, { token });
}

export async function moveOk(server, token, orderId, status, extra = {}) {
  const res = await move(server, token, orderId, status, extra);
  expectStatus(res, 200, `move ${orderId} to ${status}`);
  return res.body;
}

export async function assign(server, token, orderId, riderId, extra = {}) {
  return post(server, `/api/orders/${orderId}/assign`, { rider_id: riderId, ...extra }, { token });
}

// Drives a new order of `customer` to `status`, assigning `rider` when it is given
// and the status allows one (accepted onwards). Returns the order.
// status: pending, accepted, preparing, ready, picked_up, delivered, rejected, cancelled
// (`cancelledFrom` picks where a cancelled order was cancelled: "pending" by the
// customer, or "accepted"/"preparing"/"ready" by the admin).
export async function orderAt(server, { admin, customer, rider, status, cancelledFrom = "pending" }) {
  let order = await placeOrder(server, customer.token);
  const id = order.id;
  if (status === "pending") return order;
  if (status === "rejected") return moveOk(server, admin.token, id, "rejected", { reason: "closed" });
  if (status === "cancelled" && cancelledFrom === "pending") {
    return moveOk(server, customer.token, id, "cancelled", { reason: "changed my mind" });
  }
  const path = ["accepted", "preparing", "ready", "picked_up", "delivered"];
  const stop = status === "cancelled" ? cancelledFrom : status;
  order = await moveOk(server, admin.token, id, "accepted", { prep_minutes: 15 });
  if (rider) {
    const res = await assign(server, admin.token, id, rider.user.id);
    expectStatus(res, 200, "assign");
    order = res.body;
  }
  for (const next of path.slice(1, path.indexOf(stop) + 1)) {
    const who = next === "picked_up" || next === "delivered" ? rider : admin;
    assert.ok(who, `a rider is needed to reach ${next}`);
    order = await moveOk(server, who.token, id, next);
  }
  if (status === "cancelled") order = await moveOk(server, admin.token, id, "cancelled", { reason: "kitchen fire" });
  return order;
}

// Runs `fn` over `items` with at most `limit` in flight.
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}
