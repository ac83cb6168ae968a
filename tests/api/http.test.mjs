// HTTP-level behaviour: security headers on every kind of answer; CORS from
// --cors-origin (preflight, allowed and foreign origins; a foreign preflight gets
// no CORS headers); no CORS headers at all by default.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { demoSessions, expectError, expectStatus, get, post, request, startServer, uniqueEmail } from "./lib/server.mjs";

const ALLOWED = "http://allowed.example";
const FOREIGN = "http://evil.example";

let plain;
let cors;
before(async () => {
  [plain, cors] = await Promise.all([startServer(), startServer({ args: ["--cors-origin", `${ALLOWED},http://second.example`] })]);
});
after(async () => {
  await Promise.all([plain?.stop(), cors?.stop()]);
});

function corsHeaders(res) {
  return [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
}

describe("security headers", () => {
  test("on API answers (2xx, 4xx, 413), /healthz, /metrics and the panels", async () => {
    const { customer } = await demoSessions(plain);
    const answers = [
      await get(plain, "/api/menu"),
      await get(plain, "/api/me", { token: customer.token }),
      await get(plain, "/api/me"),
      await get(plain, "/api/nope"),
      await request(plain, "PUT", "/api/menu"),
      await post(plain, "/api/auth/login", "{"),
      await post(plain, "/api/auth/login", " ".repeat((1 << 20) + 10)),
      await get(plain, "/healthz"),
      await get(plain, "/metrics"),
      await get(plain, "/"),
    ];
    for (const res of answers) {
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${res.status} ${res.text.slice(0, 60)}`);
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      assert.ok(res.headers.get("cross-origin-opener-policy"));
    }
  });

  test("API answers are JSON and not cached", async () => {
    const { customer } = await demoSessions(plain);
    for (const res of [await get(plain, "/api/me", { token: customer.token }), await get(plain, "/api/orders", { token: customer.token })]) {
      expectStatus(res, 200);
      assert.match(res.headers.get("content-type"), /^application\/json/);
      assert.equal(res.headers.get("cache-control"), "no-store");
    }
  });

  test("without --cors-origin no origin gets CORS headers", async () => {
    const pre = await request(plain, "OPTIONS", "/api/orders", {
      headers: { origin: ALLOWED, "access-control-request-method": "POST" },
    });
    assert.deepEqual(corsHeaders(pre), []);
    const res = await get(plain, "/api/menu", { headers: { origin: ALLOWED } });
    expectStatus(res, 200);
    assert.deepEqual(corsHeaders(res), []);
  });
});

describe("CORS with --cors-origin", () => {
  test("a preflight from an allowed origin: methods, the three request headers, no credentials", async () => {
    for (const origin of [ALLOWED, "http://second.example"]) {
      const res = await request(cors, "OPTIONS", "/api/orders", {
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, idempotency-key",
        },
      });
      assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
      assert.equal(res.headers.get("access-control-allow-origin"), origin);
      assert.match(res.headers.get("vary") || "", /Origin/i);
      const methods = (res.headers.get("access-control-allow-methods") || "").toUpperCase();
      for (const m of ["GET", "POST", "PATCH", "DELETE"]) assert.ok(methods.includes(m), `allows ${m}: ${methods}`);
      const allowed = (res.headers.get("access-control-allow-headers") || "").toLowerCase();
      for (const h of ["authorization", "content-type", "idempotency-key"]) assert.ok(allowed.includes(h), `allows ${h}: ${allowed}`);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
    }
  });

  test("a preflight from a foreign origin gets no CORS headers", async () => {
    for (const origin of [FOREIGN, "http://allowed.example.evil.com", "https://allowed.example", "null"]) {
      const res = await request(cors, "OPTIONS", "/api/orders", {
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      assert.deepEqual(corsHeaders(res), [], origin);
    }
  });

  test("answers to an allowed origin carry Allow-Origin and expose Retry-After (also on errors); foreign ones nothing", async () => {
    const ok = await get(cors, "/api/menu", { headers: { origin: ALLOWED } });
    expectStatus(ok, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(ok.headers.get("access-control-expose-headers") || "", /Retry-After/i);
    const denied = await get(cors, "/api/me", { headers: { origin: ALLOWED } });
    expectError(denied, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), ALLOWED);
    const foreign = await get(cors, "/api/menu", { headers: { origin: FOREIGN } });
    expectStatus(foreign, 200);
    assert.deepEqual(corsHeaders(foreign), []);
  });

  test("the 429 of the login limit is readable cross-origin with its Retry-After", async () => {
    const email = uniqueEmail("cors");
    let res;
    for (let i = 0; i < 11; ++i) {
      res = await post(cors, "/api/auth/login", { email, password: "wrong pass" }, { headers: { origin: ALLOWED } });
    }
    expectError(res, 429, "rate_limited");
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(res.headers.get("access-control-expose-headers") || "", /Retry-After/i);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
  });
});
