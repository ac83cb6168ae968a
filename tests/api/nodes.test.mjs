// Several nodes behind one load balancer (issue 11): every Engine.IO session id starts
// with the node's id, so a balancer can route long-polling to the node that owns the
// session; a sid of another node is an unknown session here. Bad --node-id and --db
// values are refused at start with one line and exit code 2.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { serverBinary, startServer } from "./lib/server.mjs";

function runToExit(args, timeoutMs = 15000) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-nodes-"));
  return new Promise((resolve, reject) => {
    const child = spawn(
      serverBinary(),
      ["--pwhash-memlimit", "8388608", "--no-demo", "--listen", "127.0.0.1:0", "--data-dir", dir, ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`brigade ${args.join(" ")} did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stderr });
    });
  });
}

async function handshake(server) {
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(text[0], "0", text);
  return JSON.parse(text.slice(1)).sid;
}

describe("node ids in session ids", () => {
  let server;
  before(async () => {
    server = await startServer({ args: ["--node-id", "kitchen2"] });
  });
  after(() => server?.dispose());

  test("every sid starts with the node id and a dot", async () => {
    for (let i = 0; i < 20; i++) {
      const sid = await handshake(server);
      assert.match(sid, /^kitchen2\.[A-Za-z][A-Za-z0-9_-]{20,}$/);
    }
  });

  test("the session answers under its sid; another node's sid is unknown here", async () => {
    const sid = await handshake(server);
    const own = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body: "40",
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(own.status, 200);
    const foreign = sid.replace(/^kitchen2\./, "kitchen3.");
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${foreign}`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Session ID unknown/);
  });
});

describe("start-up refusals", () => {
  for (const bad of ["Kitchen", "a.b", "x".repeat(17), "nœud"]) {
    test(`--node-id ${JSON.stringify(bad)} is refused with exit code 2`, async () => {
      const { code, stderr } = await runToExit(["--node-id", bad]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--node-id/);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });
  }

  for (const [url, why] of [
    ["mysql://u@h/db", /postgres:\/\//],
    ["postgres://u@127.0.0.1:notaport/db", /port/],
    ["postgres://u@127.0.0.1:1/db", /cannot connect/],
  ]) {
    test(`--db ${url} is refused with one line and exit code 2`, async () => {
      const { code, stderr } = await runToExit(["--db", url]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, why);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });
  }
});
