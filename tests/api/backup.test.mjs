// `brigade backup` and `brigade restore` (docs/OPERATIONS.md, "Backup and restore"): a
// backup taken while orders flow holds every order acknowledged before it began; a restore
// (server stopped) installs it with a new epoch, and a client that saw later changes gets
// `resync`, never a reused seq. Bad input is refused and leaves the data as it was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import {
  api,
  availableItemIds,
  brigadeBinary,
  connectReady,
  loginDemo,
  placeOrder,
  registerCustomer,
  sqlite,
  startBrigade,
  within,
} from "../live/lib/harness.mjs";

// Runs `brigade <args>`; resolves with {code, stdout, stderr} (bounded in time).
function brigade(args) {
  const child = spawn(brigadeBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  return within(
    30000,
    new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr }))),
    `brigade ${args[0]}`,
  );
}

const jsonLine = (stdout) => JSON.parse(stdout.trim().split("\n").pop());

test("a backup under load holds every acknowledged order; restore gives a new epoch and clients resync", async () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "brigade-backup-"));
  let server = await startBrigade();
  const dataDir = server.dataDir;
  const clients = [];
  try {
    const admin = await loginDemo(server, "admin");
    const customer = await registerCustomer(server, "backup");
    const [item] = await availableItemIds(server);
    const watcher = await connectReady(server, { token: admin.token }, { label: "admin" });
    clients.push(watcher);
    const oldEpoch = watcher.named("ready")[0].args[0].epoch;

    // Orders flow from 4 writers until told to stop; each acknowledged one is recorded.
    const acknowledged = [];
    let flowing = true;
    const writers = Array.from({ length: 4 }, async () => {
      while (flowing) acknowledged.push((await placeOrder(server, customer.token, item)).id);
    });
    while (acknowledged.length < 40) await new Promise((r) => setImmediate(r));
    const before = [...acknowledged];
    const file = path.join(scratch, "brigade-backup.db");
    const backup = await brigade(["backup", "--data-dir", dataDir, "--to", file]);
    assert.equal(backup.code, 0, backup.stderr);
    const after = acknowledged.length;
    while (acknowledged.length < after + 20) await new Promise((r) => setImmediate(r));
    flowing = false;
    await Promise.all(writers);

    const taken = jsonLine(backup.stdout).backup;
    assert.equal(taken.file, file);
    assert.equal(taken.epoch, oldEpoch);
    assert.ok(taken.orders >= before.length, `backup holds ${taken.orders} orders, ${before.length} were acknowledged before it`);
    assert.ok(taken.orders < acknowledged.length, "orders placed after the backup are not in it");
    assert.ok(existsSync(file) && !existsSync(`${file}.partial`));

    // The admin saw every order, the later ones too: its offset is past the backup's head.
    await watcher.until(() => watcher.named("order:changed").length >= acknowledged.length, 10000, "every order live");
    const seen = watcher.named("order:changed").at(-1).args[0].seq;
    assert.ok(seen > taken.head_seq);

    // Not while the server runs: the data folder is locked, and left as it was.
    const busy = await brigade(["restore", "--data-dir", dataDir, "--from", file]);
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, /another Brigade .* is using the data folder/);
    assert.equal((await api(server, "GET", "/healthz")).body.epoch, oldEpoch);

    watcher.close();
    await server.stop();
    const restore = await brigade(["restore", "--data-dir", dataDir, "--from", file]);
    assert.equal(restore.code, 0, restore.stderr);
    const restored = jsonLine(restore.stdout).restore;
    assert.notEqual(restored.epoch, oldEpoch);
    assert.equal(restored.orders, taken.orders);
    assert.equal(restored.head_seq, taken.head_seq);
    assert.ok(existsSync(path.join(dataDir, "brigade.db.before-restore")), "the replaced database is kept");

    server = await server.restart();
    const health = (await api(server, "GET", "/healthz")).body;
    assert.equal(health.epoch, restored.epoch);
    for (const id of before) {
      const res = await api(server, "GET", `/api/orders/${id}`, { token: customer.token });
      assert.equal(res.status, 200, `order ${id}, acknowledged before the backup, is there`);
    }
    const list = await api(server, "GET", "/api/orders?limit=200", { token: admin.token });
    assert.equal(list.body.orders.length, taken.orders);

    // The admin comes back with its offset from the old stream: resync, then the new stream.
    const back = await connectReady(server, { token: admin.token, offset: seen, epoch: oldEpoch }, { label: "admin again" });
    clients.push(back);
    assert.deepEqual(back.events.map((e) => e.name).slice(0, 2), ["resync", "ready"]);
    assert.deepEqual(back.events[0].args[0], { reason: "epoch_mismatch" });
    assert.equal(back.named("ready")[0].args[0].epoch, restored.epoch);
    // And writes go on, numbered after the restored head.
    const next = await placeOrder(server, customer.token, item);
    await back.until(() => back.named("order:changed").some((e) => e.args[0].order.id === next.id), 5000, "the new order live");
    assert.ok(back.named("order:changed").at(-1).args[0].seq > restored.head_seq);
  } finally {
    for (const c of clients) c.close();
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("restore refuses what is not a whole Brigade backup and leaves the data as it was", async () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "brigade-backup-"));
  const server = await startBrigade();
  try {
    const admin = await loginDemo(server, "admin");
    const epoch = (await api(server, "GET", "/healthz")).body.epoch;
    const dataDir = server.dataDir;
    await server.stop();
    const before = readFileSync(path.join(dataDir, "brigade.db"));

    const garbage = path.join(scratch, "garbage.db");
    writeFileSync(garbage, "not a database at all ".repeat(200));
    const cases = [
      [["--from", garbage], /damaged or not a database|not a Brigade database/],
      [["--from", path.join(scratch, "missing.db")], /no file at/],
    ];
    // A SQLite database that is not Brigade's.
    const foreign = path.join(scratch, "foreign.db");
    await sqlite(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    cases.push([["--from", foreign], /not a Brigade database/]);
    // Nothing to back up in a folder without a database; no file is left behind.
    const empty = await brigade(["backup", "--data-dir", scratch, "--to", path.join(scratch, "out.db")]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no database at/);
    assert.ok(!existsSync(path.join(scratch, "out.db")));
    for (const [args, message] of cases) {
      const res = await brigade(["restore", "--data-dir", dataDir, ...args]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, message);
    }
    const usage = await brigade(["restore", "--data-dir", dataDir]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /--from/);
    const noFolder = await brigade(["restore", "--data-dir", path.join(scratch, "nowhere"), "--from", garbage]);
    assert.equal(noFolder.code, 2);

    assert.deepEqual(readFileSync(path.join(dataDir, "brigade.db")), before, "the database is untouched");
    const again = await server.restart();
    assert.equal((await api(again, "GET", "/healthz")).body.epoch, epoch);
    assert.equal((await api(again, "GET", "/api/me", { token: admin.token })).status, 200);
    await again.dispose();
  } finally {
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("on PostgreSQL, backup names pg_dump without the password", async () => {
  const res = await brigade(["backup", "--db", "postgres://brigade:s3cret@db.example:5432/brigade", "--to", "/tmp/x.dump"]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /pg_dump --format=custom --file '\/tmp\/x\.dump' 'postgres:\/\/brigade@db\.example:5432\/brigade'/);
  assert.doesNotMatch(res.stderr, /s3cret/);
});
