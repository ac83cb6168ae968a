// --config FILE (docs/OPERATIONS.md, "Configuration"): a TOML file holds any flag under its
// name; flags beat the environment, which beats the file, which beats the defaults;
// `brigade config check FILE` prints the effective settings with their sources and the
// secrets masked; unknown keys, bad TOML and wrong types are refused with the key's name.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";

import { brigadeBinary, startBrigade } from "../live/lib/harness.mjs";

const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name, text) {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
const brigade = (args, env = {}) =>
  spawnSync(brigadeBinary(), args, { encoding: "utf8", timeout: 30000, env: { ...process.env, BRIGADE_LOG_LEVEL: "", ...env } });

// {key: {value, source}} from `config check`.
function settings(stdout) {
  const out = {};
  for (const line of stdout.split("\n")) {
    const m = line.match(/^([a-z-]+) = "(.*)"  # (flag|environment|file|default)$/);
    if (m) out[m[1]] = { value: m[2], source: m[3] };
  }
  return out;
}

test("config check: the effective settings, each with its source, secrets masked", () => {
  const f = file(
    "brigade.toml",
    [
      'listen = "127.0.0.1:18080"',
      `data-dir = "${path.join(dir, "data")}"`,
      'log-level = "warn"',
      'metrics-token = "very-secret"',
      'db = "postgres://brigade:pa55word@db.example:5432/brigade"',
      'trusted-proxy = ["10.0.0.1", "10.0.0.2"]',
      "no-demo = true",
      "max-send-queue = 1048576",
      "db-writers = 64",
    ].join("\n"),
  );
  const res = brigade(["config", "check", f, "--listen", "127.0.0.1:9999"], { BRIGADE_LOG_LEVEL: "error" });
  assert.equal(res.status, 0, res.stderr);
  const s = settings(res.stdout);
  assert.deepEqual(s.listen, { value: "127.0.0.1:9999", source: "flag" }, "a flag beats the file");
  assert.deepEqual(s["log-level"], { value: "error", source: "environment" }, "the environment beats the file");
  assert.deepEqual(s["data-dir"], { value: path.join(dir, "data"), source: "file" });
  assert.deepEqual(s["no-demo"], { value: "true", source: "file" });
  assert.deepEqual(s["max-send-queue"], { value: "1048576", source: "file" });
  assert.deepEqual(s["db-writers"], { value: "64", source: "file" });
  assert.deepEqual(s["trusted-proxy"], { value: "10.0.0.1,10.0.0.2", source: "file" });
  assert.deepEqual(s["idle-timeout"], { value: "30", source: "default" });
  assert.equal(s["metrics-token"].value, "****");
  assert.equal(s.db.value, "postgres://brigade:****@db.example:5432/brigade");
  assert.doesNotMatch(res.stdout, /very-secret|pa55word/);
});

test("refused with the key's name: unknown keys, bad TOML, wrong types, a bad value; usage", () => {
  const cases = [
    ["unknown.toml", "listen = \"127.0.0.1:1\"\nlisten-port = 80\n", /unknown key 'listen-port'/],
    ["syntax.toml", "listen = \n", /syntax\.toml:1:\d+: /],
    ["flagtype.toml", 'no-demo = "yes"\n', /'no-demo' is true or false/],
    ["valuetype.toml", "listen = true\n", /'listen' takes a value/],
    ["table.toml", "[tls]\ncert = \"x\"\n", /unknown key 'tls'/],
    ["range.toml", "max-send-queue = 10\n", /max-send-queue/],
    // kMaxDbWriters (64) and at least one.
    ["writers.toml", "db-writers = 65\n", /db-writers/],
    ["nowriters.toml", "db-writers = 0\n", /db-writers/],
  ];
  for (const [name, text, message] of cases) {
    const res = brigade(["config", "check", file(name, text)]);
    assert.equal(res.status, 2, `${name}: ${res.stdout}`);
    assert.match(res.stderr, message, name);
  }
  assert.equal(brigade(["config", "check", path.join(dir, "missing.toml")]).status, 2);
  assert.equal(brigade(["config"]).status, 1);
  // The server itself refuses it the same way, before listening.
  const start = brigade(["--config", path.join(dir, "unknown.toml")]);
  assert.equal(start.status, 2);
  assert.match(start.stderr, /unknown key 'listen-port'/);
});

test("a server started with --config (or BRIGADE_CONFIG) runs with the file's settings", async () => {
  const f = file("server.toml", `no-demo = true\nmetrics-token = "token-from-the-file"\n`);
  for (const how of ["flag", "env"]) {
    const server =
      how === "flag"
        ? await startBrigade({ args: ["--config", f] })
        : await (async () => {
            process.env.BRIGADE_CONFIG = f;
            try {
              return await startBrigade();
            } finally {
              delete process.env.BRIGADE_CONFIG;
            }
          })();
    try {
      assert.deepEqual(server.accounts, {}, `${how}: no demo accounts (no-demo from the file)`);
      const menu = await (await fetch(`${server.url}/api/menu`)).json();
      assert.deepEqual(menu.categories, [], `${how}: no demo menu`);
      const scrape = await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer token-from-the-file" } });
      assert.equal(scrape.status, 200, `${how}: the metrics token from the file`);
    } finally {
      await server.dispose();
    }
  }
});
