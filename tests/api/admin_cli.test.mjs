// `brigade admin create` and `brigade admin reset-password` (src/server/admin_command.hpp):
// the first admin of a restaurant started with --no-demo, and a way back in. The password
// comes from standard input (one line from a pipe); one line on stdout and exit 0, or one
// line on stderr and exit 1 (refused) or 2 (the database cannot be opened). They work on
// the data dir of a running server, and a reset signs the account's sessions out. With
// BRIGADE_TEST_PG_URL (CTest label `pg`) the same suite runs on a PostgreSQL database
// named with --db, as the nodes of a cluster share it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";

import { createTestDatabase, freshDataDir, sleep, within } from "../lib/server.mjs";
import { expectError, expectStatus, get, PWHASH_MEMLIMIT, post, serverBinary, startServer } from "./lib/server.mjs";

const CLI_TIMEOUT_MS = 30_000;

// Runs `brigade admin ...args` with `input` on standard input; resolves with
// { code, signal, stdout, stderr } (killed after CLI_TIMEOUT_MS).
function admin(args, input = "") {
  const env = { ...process.env, BRIGADE_PWHASH_MEMLIMIT: PWHASH_MEMLIMIT };
  delete env.BRIGADE_DB;
  delete env.BRIGADE_DATA_DIR;
  const child = spawn(serverBinary(), ["admin", ...args], { stdio: ["pipe", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  child.stdin.on("error", () => {}); // the command may exit before reading its input
  child.stdin.end(input);
  const exited = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return within(CLI_TIMEOUT_MS, exited, `brigade admin ${args.join(" ")}`).catch((error) => {
    child.kill("SIGKILL");
    throw error;
  });
}

const lines = (text) => text.split("\n").filter((l) => l.length > 0);

function expectRefused(result, pattern, code = 1) {
  assert.equal(result.code, code, `exit ${code}: ${JSON.stringify(result)}`);
  assert.equal(result.stdout, "", "nothing on stdout");
  const err = lines(result.stderr);
  assert.equal(err.length, 1, `one line on stderr: ${JSON.stringify(result.stderr)}`);
  if (pattern) assert.match(err[0], pattern);
  return err[0];
}

function expectDone(result, pattern) {
  assert.equal(result.code, 0, `exit 0: ${JSON.stringify(result)}`);
  assert.equal(result.stderr, "", "nothing on stderr");
  const out = lines(result.stdout);
  assert.equal(out.length, 1, `one line on stdout: ${JSON.stringify(result.stdout)}`);
  assert.ok(result.stdout.endsWith("\n"));
  if (pattern) assert.match(out[0], pattern);
  return out[0];
}

const BOSS = "boss@example.com";
const BOSS_PASSWORD = "twelve-chars"; // 12 characters
const NEW_BOSS_PASSWORD = "a brand new password";
const SECOND = "second.admin@example.com";
const SECOND_PASSWORD = "second admin pw";

// Polls `check` (an async predicate) until it holds; bounded by `ms`.
async function eventually(ms, what, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100); // polling interval, not a synchronisation
  }
}

describe("brigade admin", () => {
  const servers = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test("a server started with --no-demo on an empty data dir says there is no admin yet", async () => {
    const server = await startServer({ args: ["--no-demo"] });
    servers.push(server);
    const out = server.output();
    assert.match(out, /No admin account yet/);
    const where = server.db ? "--db ..." : `--data-dir ${server.dataDir}`;
    assert.ok(out.includes(`admin create --email you@example.com --name "Your Name" ${where}`), out);
    assert.ok(!out.includes("demo_accounts"), "no demo accounts");
    assert.deepEqual(server.accounts, {});
    const menu = await get(server, "/api/menu");
    expectStatus(menu, 200);
    assert.deepEqual(menu.body.categories, [], "no demo menu");
    await server.stop();
  });

  const dataDir = freshDataDir("brigade-admin-cli-");
  const db = process.env.BRIGADE_TEST_PG_URL ? createTestDatabase() : undefined;
  const dir = db ? ["--db", db] : ["--data-dir", dataDir];

  test("create: a password under 10 characters is refused (exit 1, one line on stderr)", async () => {
    const r = await admin(["create", "--email", BOSS, "--name", "Boss", ...dir], "123456789\n");
    expectRefused(r, /10 characters/);
  });

  test("create: no password on standard input, or one over 1024 bytes, is refused", async () => {
    expectRefused(await admin(["create", "--email", BOSS, "--name", "Boss", ...dir], ""), /password/);
    expectRefused(await admin(["create", "--email", BOSS, "--name", "Boss", ...dir], `${"p".repeat(1025)}\n`), /1024/);
  });

  test("create: a bad email or name is refused before anything is read", async () => {
    for (const email of ["bossexample.com", "boss @example.com", "@", ""]) {
      expectRefused(await admin(["create", "--email", email, "--name", "Boss", ...dir], `${BOSS_PASSWORD}\n`), /email/, 1);
    }
    expectRefused(await admin(["create", "--email", BOSS, "--name", "", ...dir], `${BOSS_PASSWORD}\n`), /name/);
    expectRefused(await admin(["create", "--email", BOSS, "--name", "n".repeat(201), ...dir], `${BOSS_PASSWORD}\n`), /name/);
    const missing = await admin(["create", "--email", BOSS, ...dir], `${BOSS_PASSWORD}\n`);
    assert.equal(missing.code, 1, `--name is required: ${JSON.stringify(missing)}`);
  });

  test("create: a 12-character password → exit 0, one line on stdout", async () => {
    const line = expectDone(await admin(["create", "--email", BOSS, "--name", "Boss", ...dir], `${BOSS_PASSWORD}\n`));
    assert.ok(line.includes(BOSS), line);
  });

  test("create: the same email again (any case) → exit 1, already exists", async () => {
    expectRefused(await admin(["create", "--email", BOSS, "--name", "Boss", ...dir], `${BOSS_PASSWORD}\n`), /already exists/);
    expectRefused(
      await admin(["create", "--email", "BOSS@Example.COM", "--name", "Boss 2", ...dir], "another password\n"),
      /already exists/,
    );
  });

  test("a database that cannot be opened → exit 2", async () => {
    const file = path.join(freshDataDir("brigade-admin-cli-file-"), "not-a-dir");
    writeFileSync(file, "x");
    expectRefused(await admin(["create", "--email", BOSS, "--name", "Boss", "--data-dir", file], `${BOSS_PASSWORD}\n`), /database/, 2);
    const nowhere = ["--db", "postgres://brigade@127.0.0.1:1/nowhere"];
    expectRefused(await admin(["create", "--email", BOSS, "--name", "Boss", ...nowhere], `${BOSS_PASSWORD}\n`), /database/, 2);
  });

  describe("on the data dir of a running server", () => {
    let server;
    let bossToken;
    test("the server does not ask for an admin; the created one signs in", async () => {
      server = await startServer({ args: ["--no-demo"], dataDir, db });
      servers.push(server);
      assert.doesNotMatch(server.output(), /No admin account yet/);
      const login = await post(server, "/api/auth/login", { email: BOSS, password: BOSS_PASSWORD });
      expectStatus(login, 200);
      assert.equal(login.body.user.role, "admin");
      assert.equal(login.body.user.name, "Boss");
      assert.equal(login.body.user.email, BOSS);
      bossToken = login.body.token;
      const me = await get(server, "/api/me", { token: bossToken });
      expectStatus(me, 200);
      assert.deepEqual(me.body, login.body.user);
    });

    let secondToken;
    test("create: a second admin while the server runs → exit 0, and it signs in over HTTP", async () => {
      expectDone(await admin(["create", "--email", SECOND, "--name", "Second", ...dir], `${SECOND_PASSWORD}\n`), /second\.admin@example\.com/);
      const login = await post(server, "/api/auth/login", { email: SECOND, password: SECOND_PASSWORD });
      expectStatus(login, 200);
      assert.equal(login.body.user.role, "admin");
      secondToken = login.body.token;
      expectStatus(await get(server, "/api/stats/today", { token: secondToken }), 200, "an admin's endpoint");
    });

    test("reset-password: exit 0; the old token stops working, the new password signs in, the old one does not", async () => {
      expectRefused(await admin(["reset-password", "--email", BOSS, ...dir], "short\n"), /10 characters/);
      expectStatus(await get(server, "/api/me", { token: bossToken }), 200, "a refused reset changes nothing");

      const line = expectDone(await admin(["reset-password", "--email", "Boss@Example.com", ...dir], `${NEW_BOSS_PASSWORD}\n`));
      assert.ok(line.includes(BOSS), line);
      // The server remembers signed-in callers for up to 5 s.
      await eventually(10_000, "the old token to be refused", async () => {
        const res = await get(server, "/api/me", { token: bossToken });
        if (res.status === 200) return false;
        expectError(res, 401, "unauthorized");
        return true;
      });
      expectError(await get(server, "/api/me", { token: bossToken }), 401, "unauthorized");
      const fresh = await post(server, "/api/auth/login", { email: BOSS, password: NEW_BOSS_PASSWORD });
      expectStatus(fresh, 200);
      expectStatus(await get(server, "/api/me", { token: fresh.body.token }), 200);
      expectError(await post(server, "/api/auth/login", { email: BOSS, password: BOSS_PASSWORD }), 401, "invalid_credentials");
      // Only that account was signed out.
      expectStatus(await get(server, "/api/me", { token: secondToken }), 200);
    });

    test("reset-password for an unknown email → exit 1", async () => {
      expectRefused(await admin(["reset-password", "--email", "nobody@example.com", ...dir], "whatever password\n"), /no account/);
      expectRefused(await admin(["reset-password", "--email", "not-an-email", ...dir], "whatever password\n"), /email/);
    });
  });
});
