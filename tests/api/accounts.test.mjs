// Accounts: register, login, logout, /api/me, admins creating staff and riders,
// and the login rate limits (per email, per address).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  demoSessions,
  expectError,
  expectStatus,
  get,
  login,
  newCustomer,
  post,
  startServer,
  uniqueEmail,
} from "./lib/server.mjs";

let server;
let demo;
before(async () => {
  server = await startServer();
  demo = await demoSessions(server);
});
after(async () => {
  await server?.stop();
});

function expectUser(user, { email, name, role }) {
  assert.deepEqual(Object.keys(user).sort(), ["email", "id", "name", "role"]);
  assert.ok(Number.isInteger(user.id) || typeof user.id === "string", "id is an integer or a string");
  if (email !== undefined) assert.equal(user.email, email);
  if (name !== undefined) assert.equal(user.name, name);
  if (role !== undefined) assert.equal(user.role, role);
}

describe("register", () => {
  test("201 {user, token}; the token signs in; /api/me is the bare user", async () => {
    const email = uniqueEmail("reg");
    const res = await post(server, "/api/auth/register", { email, password: "12345678", name: "Ada" });
    expectStatus(res, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ["token", "user"]);
    expectUser(res.body.user, { email, name: "Ada", role: "customer" });
    assert.equal(typeof res.body.token, "string");
    assert.ok(res.body.token.length >= 22, "token carries at least 128 bits");
    const me = await get(server, "/api/me", { token: res.body.token });
    expectStatus(me, 200);
    assert.deepEqual(me.body, res.body.user);
  });

  test("emails are unique case-insensitively (409 email_taken), also against demo accounts", async () => {
    const email = uniqueEmail("dup");
    expectStatus(await post(server, "/api/auth/register", { email, password: "12345678", name: "A" }), 201);
    for (const variant of [email, email.toUpperCase(), email[0].toUpperCase() + email.slice(1)]) {
      const res = await post(server, "/api/auth/register", { email: variant, password: "12345678", name: "B" });
      expectError(res, 409, "email_taken");
    }
    const res = await post(server, "/api/auth/register", {
      email: server.accounts.admin.email.toUpperCase(),
      password: "12345678",
      name: "Mallory",
    });
    expectError(res, 409, "email_taken");
  });

  test("an email registered in mixed case is stored lower-case and signs in in any case", async () => {
    const email = uniqueEmail("Mixed.Case");
    const res = await post(server, "/api/auth/register", { email, password: "12345678", name: "M" });
    expectStatus(res, 201);
    assert.equal(res.body.user.email, email.toLowerCase());
    const signedIn = await login(server, email.toUpperCase(), "12345678");
    assert.equal(signedIn.user.id, res.body.user.id);
  });

  test("password shorter than 8 characters → 422 password; exactly 8 is fine", async () => {
    expectError(
      await post(server, "/api/auth/register", { email: uniqueEmail(), password: "1234567", name: "A" }),
      422,
      "invalid",
      "password",
    );
    expectStatus(await post(server, "/api/auth/register", { email: uniqueEmail(), password: "abcdefgh", name: "A" }), 201);
  });

  const bad = [
    [{ password: "12345678", name: "A" }, "email"],
    [{ email: "EMAIL", name: "A" }, "password"],
    [{ email: "EMAIL", password: "12345678" }, "name"],
    [{ email: 42, password: "12345678", name: "A" }, "email"],
    [{ email: "not-an-email", password: "12345678", name: "A" }, "email"],
    [{ email: "a@b@c", password: "12345678", name: "A" }, "email"],
    [{ email: "EMAIL", password: 12345678, name: "A" }, "password"],
    [{ email: "EMAIL", password: "12345678", name: "" }, "name"],
    [{ email: "EMAIL", password: "12345678", name: "   " }, "name"],
    [{ email: "EMAIL", password: "12345678", name: ["A"] }, "name"],
    [{ email: "EMAIL", password: "12345678", name: "x".repeat(201) }, "name"],
    [{ email: `${"x".repeat(250)}@example.com`, password: "12345678", name: "A" }, "email"],
  ];
  for (const [body, field] of bad) {
    test(`bad register body → 422 ${field}: ${JSON.stringify(body).slice(0, 80)}`, async () => {
      const b = { ...body };
      if (b.email === "EMAIL") b.email = uniqueEmail();
      expectError(await post(server, "/api/auth/register", b), 422, "invalid", field);
    });
  }

  test("malformed JSON → 400; not an object → 422", async () => {
    expectError(await post(server, "/api/auth/register", '{"email": "a@b.c",'), 400, "malformed_request");
    expectError(await post(server, "/api/auth/register", "[]"), 422);
    expectError(await post(server, "/api/auth/register", '"x"'), 422);
  });
});

describe("login", () => {
  test("200 {user, token}; each login is a new token", async () => {
    const c = await newCustomer(server, "Lou");
    const a = await post(server, "/api/auth/login", { email: c.email, password: c.password });
    expectStatus(a, 200);
    assert.deepEqual(Object.keys(a.body).sort(), ["token", "user"]);
    expectUser(a.body.user, { email: c.email, name: "Lou", role: "customer" });
    const b = await login(server, c.email, c.password);
    assert.notEqual(a.body.token, b.token);
    assert.notEqual(a.body.token, c.token);
  });

  test("demo accounts sign in with their roles", async () => {
    for (const role of ["admin", "customer", "rider"]) {
      assert.equal(demo[role].user.role, role);
      const me = await get(server, "/api/me", { token: demo[role].token });
      expectStatus(me, 200);
      assert.equal(me.body.role, role);
    }
  });

  test("wrong password and unknown email give the same 401", async () => {
    const c = await newCustomer(server);
    const wrong = await post(server, "/api/auth/login", { email: c.email, password: "wrong password" });
    const unknown = await post(server, "/api/auth/login", { email: uniqueEmail("ghost"), password: "wrong password" });
    expectError(wrong, 401);
    expectError(unknown, 401);
    assert.deepEqual(wrong.body, unknown.body);
  });

  const bad = [
    [{ password: "12345678" }, "email"],
    [{ email: "a@b.c" }, "password"],
    [{ email: 1, password: "12345678" }, "email"],
    [{ email: "a@b.c", password: false }, "password"],
  ];
  for (const [body, field] of bad) {
    test(`bad login body → 422 ${field}`, async () => {
      expectError(await post(server, "/api/auth/login", body), 422, "invalid", field);
    });
  }
});

describe("logout and tokens", () => {
  test("logout → 204, the token stops working at once; other tokens of the user keep working", async () => {
    const c = await newCustomer(server);
    const second = await login(server, c.email, c.password);
    const res = await post(server, "/api/auth/logout", undefined, { token: c.token });
    expectStatus(res, 204);
    assert.equal(res.text, "");
    expectError(await get(server, "/api/me", { token: c.token }), 401, "unauthorized");
    expectError(await get(server, "/api/orders", { token: c.token }), 401, "unauthorized");
    expectError(await post(server, "/api/auth/logout", undefined, { token: c.token }), 401);
    expectStatus(await get(server, "/api/me", { token: second.token }), 200);
  });

  test("/api/me without a token, with garbage, with another scheme → 401 with WWW-Authenticate", async () => {
    for (const headers of [
      {},
      { authorization: "Bearer garbage" },
      { authorization: "Bearer " + "A".repeat(43) },
      { authorization: "Bearer " + "x".repeat(5000) },
      { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
      { authorization: "Bearer" },
      { authorization: demo.customer.token },
    ]) {
      const res = await get(server, "/api/me", { headers });
      const error = expectError(res, 401, "unauthorized");
      assert.ok(error);
      assert.match(res.headers.get("www-authenticate") || "", /Bearer/);
    }
  });
});

describe("POST /api/users", () => {
  test("admin creates a rider: 201 {user}; the rider signs in", async () => {
    const email = uniqueEmail("rider");
    const res = await post(
      server,
      "/api/users",
      { email, password: "rider pass", name: "Rita", role: "rider" },
      { token: demo.admin.token },
    );
    expectStatus(res, 201);
    assert.deepEqual(Object.keys(res.body), ["user"]);
    expectUser(res.body.user, { email, name: "Rita", role: "rider" });
    const signedIn = await login(server, email, "rider pass");
    assert.equal(signedIn.user.role, "rider");
  });

  test("admin creates an admin who can use admin endpoints", async () => {
    const email = uniqueEmail("admin");
    const res = await post(
      server,
      "/api/users",
      { email, password: "admin pass", name: "Ana", role: "admin" },
      { token: demo.admin.token },
    );
    expectStatus(res, 201);
    assert.equal(res.body.user.role, "admin");
    const signedIn = await login(server, email, "admin pass");
    expectStatus(await get(server, "/api/riders", { token: signedIn.token }), 200);
  });

  test("duplicate email (any case) → 409 email_taken", async () => {
    const res = await post(
      server,
      "/api/users",
      { email: server.accounts.customer.email.toUpperCase(), password: "whatever1", name: "X", role: "rider" },
      { token: demo.admin.token },
    );
    expectError(res, 409, "email_taken");
  });

  const bad = [
    [{ role: "customer" }, "role"],
    [{ role: "chef" }, "role"],
    [{ role: 1 }, "role"],
    [{ role: undefined }, "role"],
    [{ password: "short" }, "password"],
    [{ email: "nope" }, "email"],
    [{ name: "" }, "name"],
  ];
  for (const [override, field] of bad) {
    test(`bad body → 422 ${field}: ${JSON.stringify(override)}`, async () => {
      const body = { email: uniqueEmail(), password: "long enough", name: "N", role: "rider", ...override };
      expectError(await post(server, "/api/users", body, { token: demo.admin.token }), 422, "invalid", field);
    });
  }

  test("customers and riders → 403, nobody created; anonymous → 401", async () => {
    const email = uniqueEmail("sneaky");
    const body = { email, password: "long enough", name: "N", role: "admin" };
    expectError(await post(server, "/api/users", body, { token: demo.customer.token }), 403, "forbidden");
    expectError(await post(server, "/api/users", body, { token: demo.rider.token }), 403, "forbidden");
    expectError(await post(server, "/api/users", body), 401, "unauthorized");
    expectError(await post(server, "/api/auth/login", { email, password: "long enough" }), 401);
  });
});

// Limits keyed by account and address; tests/api/security.test.mjs has the cases
// with several addresses (the owner elsewhere is never locked out).
describe("login rate limit", () => {
  test("5 failures for one email (any case) from one address → 429 with Retry-After, the right password too; other emails unaffected", async () => {
    const c = await newCustomer(server);
    for (let i = 0; i < 5; ++i) {
      const email = i % 2 ? c.email.toUpperCase() : c.email;
      expectError(await post(server, "/api/auth/login", { email, password: `wrong ${i}` }), 401);
    }
    const limited = await post(server, "/api/auth/login", { email: c.email, password: "wrong again" });
    expectError(limited, 429, "rate_limited");
    const retry = Number(limited.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 900, `Retry-After ${limited.headers.get("retry-after")}`);
    const right = await post(server, "/api/auth/login", { email: c.email, password: c.password });
    expectError(right, 429, "rate_limited");
    assert.ok(Number(right.headers.get("retry-after")) >= 1);
    // Existing tokens keep working; other accounts still sign in.
    expectStatus(await get(server, "/api/me", { token: c.token }), 200);
    const other = await newCustomer(server);
    await login(server, other.email, other.password);
  });

  test("unknown emails are limited the same way (no account enumeration)", async () => {
    const ghost = uniqueEmail("ghost");
    for (let i = 0; i < 5; ++i) {
      expectError(await post(server, "/api/auth/login", { email: ghost, password: "nope nope" }), 401);
    }
    expectError(await post(server, "/api/auth/login", { email: ghost, password: "nope nope" }), 429, "rate_limited");
  });

  test("a success before the limit resets the count for that email", async () => {
    const c = await newCustomer(server);
    for (let i = 0; i < 4; ++i) {
      expectError(await post(server, "/api/auth/login", { email: c.email, password: "wrong" }), 401);
    }
    await login(server, c.email, c.password);
    for (let i = 0; i < 4; ++i) {
      expectError(await post(server, "/api/auth/login", { email: c.email, password: "wrong" }), 401);
    }
    await login(server, c.email, c.password);
  });
});

describe("login rate limit per address (own server)", () => {
  let s;
  before(async () => {
    s = await startServer({ args: ["--no-demo"] });
  });
  after(async () => {
    await s?.stop();
  });

  test("100 failures from one address → 429 for every email from it", async () => {
    const c = await newCustomer(s);
    // 25 emails × 4 failures: never 10 for one email.
    const emails = Array.from({ length: 25 }, () => uniqueEmail("addr"));
    for (const email of emails) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          expectError(await post(s, "/api/auth/login", { email, password: "wrong pass" }), 401);
        }),
      );
    }
    const res = await post(s, "/api/auth/login", { email: c.email, password: c.password });
    expectError(res, 429, "rate_limited");
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
  });

  test("--no-demo: no demo accounts, an empty menu", async () => {
    assert.deepEqual(s.accounts, {});
    const res = await get(s, "/api/menu");
    expectStatus(res, 200);
    assert.deepEqual(res.body, { categories: [] });
  });
});
