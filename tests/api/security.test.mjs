// Regression tests for the penetration test's findings (issue 9, docs/SECURITY.md):
// connection caps per client address and in all, trusted proxies, sign-in limits
// that a stranger cannot turn against an account's owner, the sign-up limit, and
// the small ones (HEAD, the Bearer scheme, Vary: Origin, duplicate JSON keys,
// same-origin by scheme/host/port, Engine.IO session id entropy).
// Several clients are told apart by their source address: any of 127.0.0.0/8
// reaches a server listening on 127.0.0.1.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";

import {
  expectError,
  expectStatus,
  get,
  login,
  newCustomer,
  post,
  request,
  requestFrom,
  startServer,
  uniqueEmail,
} from "./lib/server.mjs";

// A raw TCP connection from `from` that can send bytes and wait for answers.
function connectFrom(server, from) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port: server.port, localAddress: from });
    let received = "";
    const waiters = [];
    const check = () => {
      for (let i = waiters.length - 1; i >= 0; --i) {
        if (waiters[i].test(received)) waiters.splice(i, 1)[0].resolve(received);
      }
    };
    socket.on("data", (d) => {
      received += d.toString("latin1");
      check();
    });
    socket.on("close", () => {
      for (const w of waiters.splice(0)) w.resolve(received);
    });
    socket.on("error", () => {});
    socket.once("connect", () =>
      resolve({
        socket,
        send: (bytes) => socket.write(bytes),
        // Resolves with everything received once `test` holds (or the peer closed).
        until: (testFn, timeoutMs = 10000) =>
          new Promise((res, rej) => {
            if (testFn(received) || socket.destroyed) return res(received);
            const timer = setTimeout(() => rej(new Error(`no answer in ${timeoutMs} ms; got ${JSON.stringify(received)}`)), timeoutMs);
            waiters.push({ test: testFn, resolve: (r) => (clearTimeout(timer), res(r)) });
          }),
        closed: () => new Promise((res) => (socket.destroyed ? res() : socket.once("close", res))),
        close: () => socket.destroy(),
      }),
    );
    socket.once("error", reject);
  });
}

const statusOf = (raw) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
const answered = (raw) => /\r\n\r\n/.test(raw);
const health = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// A connection that has completed one request and stays open (keep-alive).
async function busyConnection(server, from, extraHeaders = "") {
  const c = await connectFrom(server, from);
  c.send(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`);
  const raw = await c.until(answered);
  return { c, status: statusOf(raw), raw };
}

// The answer to a connection refused at accept: it comes without any request.
async function refusedAtAccept(server, from) {
  const c = await connectFrom(server, from);
  const raw = await c.until(answered);
  await c.closed();
  return raw;
}

describe("connection caps per address (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: ["--no-demo", "--max-connections-per-address", "20", "--max-pending-per-address", "8"] });
  });
  after(async () => {
    await s?.stop();
  });

  test("one address cannot hold more than its cap; another address is still served; closing frees it", async () => {
    const held = [];
    for (let i = 0; i < 20; ++i) {
      const b = await busyConnection(s, "127.0.0.1");
      assert.equal(b.status, 200, b.raw);
      held.push(b.c);
    }
    const raw = await refusedAtAccept(s, "127.0.0.1");
    assert.equal(statusOf(raw), 429, raw);
    assert.match(raw, /"code":"too_many_connections"/);
    assert.match(raw, /Retry-After: \d+/);
    // Someone else is not kept out.
    expectStatus(await requestFrom(s, "127.0.0.2", "GET", "/healthz"), 200, "127.0.0.2");
    for (const c of held) c.close();
    await Promise.all(held.map((c) => c.closed()));
    // The server counts the closes on its loops; a new connection gets in once it has.
    let status;
    for (let i = 0; i < 50 && status !== 200; ++i) {
      status = (await requestFrom(s, "127.0.0.1", "GET", "/healthz").catch(() => ({ status: 0 }))).status;
    }
    assert.equal(status, 200, "127.0.0.1 served again after its connections closed");
  });

  test("connections that never send a request have a smaller cap of their own", async () => {
    // Nine idle connections: the loops may accept them in any order, but exactly
    // one of them is over the cap and answered 429 without having asked anything.
    const nine = [];
    for (let i = 0; i < 9; ++i) nine.push(await connectFrom(s, "127.0.0.3"));
    const refused = await Promise.any(nine.map((c) => c.until(answered, 30000).then((raw) => ({ c, raw }))));
    assert.equal(statusOf(refused.raw), 429, refused.raw);
    const idle = nine.filter((c) => c !== refused.c);
    // Another address is not affected.
    expectStatus(await requestFrom(s, "127.0.0.4", "GET", "/healthz"), 200);
    // One of them sends its request: it is no longer pending, so one more fits.
    idle[0].send(health);
    assert.equal(statusOf(await idle[0].until(answered)), 200);
    const more = await connectFrom(s, "127.0.0.3");
    more.send(health);
    assert.equal(statusOf(await more.until(answered)), 200);
    // The other seven were admitted, not refused: they are answered too.
    for (const c of idle.slice(1)) {
      c.send(health);
      assert.equal(statusOf(await c.until(answered)), 200);
    }
    for (const c of [...nine, more]) c.close();
  });
});

describe("global connection cap (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: ["--no-demo", "--max-connections", "30", "--max-connections-per-address", "10"] });
  });
  after(async () => {
    await s?.stop();
  });

  test("over the cap a new connection is answered 503 at once, not queued; it serves again when some close", async () => {
    const held = [];
    for (let a = 0; a < 3; ++a) {
      for (let i = 0; i < 10; ++i) {
        const b = await busyConnection(s, `127.0.1.${a + 1}`);
        assert.equal(b.status, 200, b.raw);
        held.push(b.c);
      }
    }
    const raw = await refusedAtAccept(s, "127.0.1.9");
    assert.equal(statusOf(raw), 503, raw);
    assert.match(raw, /"code":"server_full"/);
    assert.match(raw, /Retry-After: \d+/);
    held.pop().close();
    let status;
    for (let i = 0; i < 50 && status !== 200; ++i) {
      status = (await requestFrom(s, "127.0.1.9", "GET", "/healthz").catch(() => ({ status: 0 }))).status;
    }
    assert.equal(status, 200);
    for (const c of held) c.close();
  });
});

describe("real-time handshakes that never connect (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: ["--no-demo", "--max-handshakes-per-address", "5"] });
  });
  after(async () => {
    await s?.stop();
  });

  const handshake = (from) => requestFrom(s, from, "GET", "/socket.io/?EIO=4&transport=polling");

  test("an address may hold 5 sessions that have not connected; the 6th is 429; a CONNECT frees a place", async () => {
    const sids = [];
    for (let i = 0; i < 5; ++i) {
      const res = await handshake("127.0.0.1");
      expectStatus(res, 200, `handshake ${i}`);
      sids.push(JSON.parse(res.text.slice(1)).sid);
    }
    const over = await handshake("127.0.0.1");
    assert.equal(over.status, 429, over.text);
    // Over WebSocket too.
    const c = await connectFrom(s, "127.0.0.1");
    c.send(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.equal(statusOf(await c.until(answered)), 429);
    c.close();
    // Another address is not affected.
    expectStatus(await handshake("127.0.0.2"), 200);
    // One session sends its CONNECT (refused without a token, but it is a message):
    // no longer waiting, so one more handshake fits.
    const posted = await requestFrom(s, "127.0.0.1", "POST", `/socket.io/?EIO=4&transport=polling&sid=${sids[0]}`, {
      body: "40",
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    expectStatus(posted, 200);
    expectStatus(await handshake("127.0.0.1"), 200);
    assert.equal((await handshake("127.0.0.1")).status, 429);
  });
});

describe("trusted proxy (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({
      args: ["--no-demo", "--trusted-proxy", "127.0.0.1", "--max-connections-per-address", "3", "--max-pending-per-address", "3"],
    });
  });
  after(async () => {
    await s?.stop();
  });

  test("the proxy's connections count by the forwarded client, not by the proxy", async () => {
    const held = [];
    for (let i = 0; i < 3; ++i) {
      const b = await busyConnection(s, "127.0.0.1", "X-Forwarded-For: 203.0.113.1\r\n");
      assert.equal(b.status, 200, b.raw);
      held.push(b.c);
    }
    const over = await busyConnection(s, "127.0.0.1", "X-Forwarded-For: 203.0.113.1\r\n");
    assert.equal(over.status, 429, over.raw);
    // The proxy itself is not capped: other clients come through it.
    for (let i = 0; i < 3; ++i) {
      const b = await busyConnection(s, "127.0.0.1", "X-Forwarded-For: 203.0.113.2\r\n");
      assert.equal(b.status, 200, b.raw);
      held.push(b.c);
    }
    // A client that is not a trusted proxy cannot move its count with the header.
    for (let i = 0; i < 3; ++i) {
      const b = await busyConnection(s, "127.0.0.5", `X-Forwarded-For: 198.51.100.${i}\r\n`);
      assert.equal(b.status, 200, b.raw);
      held.push(b.c);
    }
    const raw = await refusedAtAccept(s, "127.0.0.5");
    assert.equal(statusOf(raw), 429, raw);
    for (const c of held) c.close();
  });

  test("sign-in limits key on the forwarded client", async () => {
    const c = await newCustomer(s);
    const from = (client) => ({ headers: { "x-forwarded-for": client } });
    for (let i = 0; i < 5; ++i) {
      expectError(await post(s, "/api/auth/login", { email: c.email, password: `wrong ${i}` }, from("198.51.100.7")), 401);
    }
    expectError(await post(s, "/api/auth/login", { email: c.email, password: c.password }, from("198.51.100.7")), 429, "rate_limited");
    const ok = await post(s, "/api/auth/login", { email: c.email, password: c.password }, from("198.51.100.8"));
    expectStatus(ok, 200, "another client behind the same proxy");
  });
});

describe("sign-in limits (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: [] });
  });
  after(async () => {
    await s?.stop();
  });

  const attempt = (from, email, password) => requestFrom(s, from, "POST", "/api/auth/login", { body: { email, password } });

  test("a stranger's wrong passwords do not lock the admin out", async () => {
    const admin = s.accounts.admin;
    for (let i = 0; i < 12; ++i) {
      const res = await attempt("127.0.0.2", admin.email, `guess ${i}`);
      assert.ok([401, 429].includes(res.status), `guess ${i}: ${res.status}`);
    }
    const res = await attempt("127.0.0.1", admin.email, admin.password);
    expectStatus(res, 200, "the admin from their own address");
  });

  test("after 5 failures from one address that address backs off for that account, right password included", async () => {
    const c = await newCustomer(s);
    for (let i = 0; i < 5; ++i) expectError(await attempt("127.0.0.3", c.email, `wrong ${i}`), 401);
    const limited = await attempt("127.0.0.3", c.email, c.password);
    expectError(limited, 429, "rate_limited");
    const retry = Number(limited.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 900, `Retry-After ${retry}`);
    // The same address may still sign in to other accounts; the owner elsewhere too.
    const other = await newCustomer(s);
    expectStatus(await attempt("127.0.0.3", other.email, other.password), 200);
    expectStatus(await attempt("127.0.0.4", c.email, c.password), 200);
  });

  test("X-Forwarded-For is ignored without --trusted-proxy", async () => {
    const c = await newCustomer(s);
    for (let i = 0; i < 5; ++i) {
      const res = await requestFrom(s, "127.0.0.6", "POST", "/api/auth/login", {
        body: { email: c.email, password: "wrong" },
        headers: { "x-forwarded-for": `192.0.2.${i}` },
      });
      expectError(res, 401);
    }
    const res = await requestFrom(s, "127.0.0.6", "POST", "/api/auth/login", {
      body: { email: c.email, password: c.password },
      headers: { "x-forwarded-for": "192.0.2.200" },
    });
    expectError(res, 429, "rate_limited");
  });

  test("a guess spread over many addresses meets the per-account ceiling (50 in 15 minutes)", async () => {
    const c = await newCustomer(s);
    for (let a = 0; a < 10; ++a) {
      for (let i = 0; i < 5; ++i) expectError(await attempt(`127.0.2.${a + 1}`, c.email, `spread ${a}.${i}`), 401);
    }
    expectError(await attempt("127.0.2.99", c.email, c.password), 429, "rate_limited");
  });
});

describe("sign-up limit per address (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: ["--no-demo", "--register-limit", "3"] });
  });
  after(async () => {
    await s?.stop();
  });

  test("the 4th account from one address in an hour → 429; another address still registers", async () => {
    const register = (from) =>
      requestFrom(s, from, "POST", "/api/auth/register", { body: { email: uniqueEmail("signup"), password: "long enough pw", name: "N" } });
    for (let i = 0; i < 3; ++i) expectStatus(await register("127.0.0.1"), 201, `sign-up ${i}`);
    const limited = await register("127.0.0.1");
    expectError(limited, 429, "rate_limited");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    expectStatus(await register("127.0.0.2"), 201, "another address");
  });
});

describe("protocol details", () => {
  let s;
  let token;
  before(async () => {
    s = await startServer({ args: [] });
    token = (await login(s, s.accounts.customer.email, s.accounts.customer.password)).token;
  });
  after(async () => {
    await s?.stop();
  });

  test("HEAD works wherever GET does: same status and headers, no body", async () => {
    for (const [path, auth, status] of [
      ["/api/menu", false, 200],
      ["/api/me", true, 200],
      ["/api/orders", true, 200],
      ["/api/orders", false, 401],
      ["/api/nope", false, 404],
      ["/healthz", false, 200],
    ]) {
      const c = await connectFrom(s, "127.0.0.1");
      const authLine = auth ? `Authorization: Bearer ${token}\r\n` : "";
      // HEAD then GET on one connection: the GET's answer must follow the HEAD's
      // headers directly, so no body was sent for the HEAD.
      c.send(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n${authLine}\r\nGET ${path} HTTP/1.1\r\nHost: x\r\n${authLine}Connection: close\r\n\r\n`);
      await c.closed();
      const raw = await c.until(() => true);
      const second = raw.indexOf("HTTP/1.1 ", 1);
      assert.ok(second > 0, `two answers for ${path}: ${raw}`);
      const head = raw.slice(0, second);
      const getAnswer = raw.slice(second);
      assert.equal(statusOf(head), status, `HEAD ${path}: ${head}`);
      assert.equal(statusOf(getAnswer), status, `GET ${path}`);
      assert.ok(head.endsWith("\r\n\r\n"), `HEAD ${path} has no body: ${JSON.stringify(head)}`);
      const length = (h) => Number(/Content-Length: (\d+)/i.exec(h)?.[1]);
      const getBody = getAnswer.slice(getAnswer.indexOf("\r\n\r\n") + 4);
      assert.equal(length(head), Buffer.byteLength(getBody, "latin1"), `HEAD ${path} Content-Length`);
    }
  });

  test("the Bearer scheme is case-insensitive", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
      const res = await request(s, "GET", "/api/me", { headers: { authorization: `${scheme} ${token}` } });
      expectStatus(res, 200, scheme);
    }
    expectError(await request(s, "GET", "/api/me", { headers: { authorization: `Basic ${token}` } }), 401);
  });

  test("answers that depend on Origin say Vary: Origin", async () => {
    for (const headers of [{}, { origin: s.url }, { origin: "http://evil.example" }]) {
      const res = await request(s, "GET", "/api/menu", { headers });
      assert.match(res.headers.get("vary") ?? "", /Origin/, JSON.stringify(headers));
    }
    const missing = await request(s, "GET", "/api/nope", {});
    assert.match(missing.headers.get("vary") ?? "", /Origin/);
    const polling = await request(s, "GET", "/socket.io/?EIO=4&transport=polling", {});
    assert.match(polling.headers.get("vary") ?? "", /Origin/);
  });

  test("a JSON object with a duplicate key is refused with 400", async () => {
    const dup = '{"email":"a@b.example","email":"admin@brigade.local","password":"x"}';
    expectError(await post(s, "/api/auth/login", dup), 400, "malformed_request");
    const order = '{"items":[{"item_id":1,"quantity":1,"quantity":99}],"delivery":{"address":"x"}}';
    expectError(await post(s, "/api/orders", order, { token }), 400, "malformed_request");
  });

  test("same origin means the same scheme, host and port", async () => {
    const host = `127.0.0.1:${s.port}`;
    const allowed = (res) => res.headers.get("access-control-allow-origin");
    assert.equal(allowed(await request(s, "GET", "/api/menu", { headers: { origin: `http://${host}` } })), `http://${host}`);
    const same = await connectFrom(s, "127.0.0.1");
    same.send(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.equal(statusOf(await same.until(answered)), 101);
    same.close();
    for (const origin of [`https://${host}`, `http://127.0.0.1:${s.port + 1}`, "http://127.0.0.1", `http://127.0.0.2:${s.port}`]) {
      const res = await request(s, "GET", "/api/menu", { headers: { origin } });
      assert.equal(allowed(res), null, origin);
      // The real-time channel refuses such a browser's WebSocket outright.
      const c = await connectFrom(s, "127.0.0.1");
      c.send(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      const raw = await c.until(answered);
      assert.equal(statusOf(raw), 403, `${origin}: ${raw}`);
      c.close();
    }
    // The default port written or not is the same origin.
    const viaDefault = await requestFrom(s, "127.0.0.1", "GET", "/api/menu", { headers: { host: "shop.example", origin: "http://shop.example:80" } });
    assert.equal(viaDefault.headers.get("access-control-allow-origin"), "http://shop.example:80");
  });

  test("Engine.IO session ids carry at least 120 random bits, and differ", async () => {
    const seen = new Set();
    for (let i = 0; i < 20; ++i) {
      const res = await request(s, "GET", "/socket.io/?EIO=4&transport=polling", {});
      expectStatus(res, 200);
      const open = JSON.parse(res.text.slice(1));
      // "<node id>.", then one letter names the event loop; the rest is URL-safe base64 of
      // random bytes.
      const [node, rest] = open.sid.split(".");
      assert.match(node, /^[a-z0-9]{1,16}$/);
      const random = rest.slice(1);
      assert.match(random, /^[A-Za-z0-9_-]+$/);
      assert.ok(random.length * 6 >= 120, `${random.length} characters: ${random.length * 6} bits`);
      assert.ok(!seen.has(open.sid));
      seen.add(open.sid);
    }
  });
});
