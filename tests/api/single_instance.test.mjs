// One Brigade per data folder and per port: every loop binds with SO_REUSEPORT, so
// a second server on the same port would otherwise start silently and share the
// traffic. A second start is refused with one clear line and exit code 2.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { expectStatus, get, serverBinary, startServer } from "./lib/server.mjs";

// Runs brigade to its exit (bounded): { code, stderr, stdout }.
function runToExit(args, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBinary(), ["--pwhash-memlimit", "8388608", "--no-demo", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`brigade ${args.join(" ")} did not exit within ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("one Brigade per data folder and per port", () => {
  let first;
  const dirs = [];
  const freshDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-second-"));
    dirs.push(dir);
    return dir;
  };
  before(async () => {
    first = await startServer({ args: ["--no-demo"] });
  });
  after(async () => {
    await first?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("the same port with another data folder → exit 2, one line naming the port", async () => {
    const second = await runToExit(["--listen", `127.0.0.1:${first.port}`, "--data-dir", freshDir()]);
    assert.equal(second.code, 2, second.stderr);
    const lines = second.stderr.trim().split("\n");
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0], new RegExp(`^brigade: another process is listening on 127\\.0\\.0\\.1:${first.port}$`));
    assert.ok(!second.stdout.includes("listening"), second.stdout);
    expectStatus(await get(first, "/healthz"), 200, "the first server still serves");
  });

  test("the same data folder on another port → exit 2, one line naming the folder and the holder", async () => {
    const second = await runToExit(["--listen", "127.0.0.1:0", "--data-dir", first.dataDir]);
    assert.equal(second.code, 2, second.stderr);
    const lines = second.stderr.trim().split("\n");
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0], /^brigade: another Brigade \(pid \d+\) is using the data folder /);
    assert.ok(lines[0].endsWith(first.dataDir), lines[0]);
    expectStatus(await get(first, "/healthz"), 200);
  });

  test("once the first has stopped, the folder and the port can be used again", async () => {
    const port = first.port;
    const dataDir = first.dataDir;
    await first.stop({ keepDir: true });
    first = null;
    dirs.push(dataDir);
    const again = spawn(serverBinary(), ["--pwhash-memlimit", "8388608", "--no-demo", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise((resolve) => again.on("exit", resolve));
    try {
      await new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 15000);
        again.stdout.on("data", (d) => {
          out += d;
          if (out.includes('{"listening"')) {
            clearTimeout(timer);
            resolve();
          }
        });
        again.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      expectStatus(await get({ url: `http://127.0.0.1:${port}` }, "/healthz"), 200);
    } finally {
      again.kill("SIGTERM");
      await exited;
    }
  });
});
